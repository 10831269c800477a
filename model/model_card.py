"""What a weights file's model card says a person needs to know: what the model reproduces, what it was trained on,
and its validation table. Read without loading the tensors, never raising (a missing card only says so)."""

from __future__ import annotations

import math
import re
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import json_input
from .methods import LABELS
from .weights import card_path
from .wording import count_of

OWN_CAMERA = ("Photos from another camera differ in blur and colour: Quick calibrate or fine-tune on pairs of "
              "your own (Train tab).")


@dataclass(frozen=True)
class ScoreRow:
    """One method's mean validation scores, as the card records them."""

    method: str
    label: str
    psnr: float | None
    psnr_y: float | None
    ssim: float | None


@dataclass(frozen=True)
class CardSummary:
    """The parts of a model card shown in the GUI (side panel, tooltips, About, the model card window)."""

    path: Path
    name: str
    arch: str | None = None
    scale: int | None = None
    reproduces: str = ""                 # one sentence: what the model's output looks like
    trained_on: list[str] = field(default_factory=list)   # lines: folder, pairs, iterations, hardware
    note: str = ""
    scores_title: str = ""               # where the validation table comes from
    scores: list[ScoreRow] = field(default_factory=list)
    problem: str | None = None           # why there is no card (missing, unreadable)
    iterations: int | None = None        # training iterations (0: calibrated only; None: not recorded)
    train_pairs: tuple[str, ...] = ()    # the pairs it has seen (its start's too): their scores are not test scores
    own_pairs: int = 0                   # how many of them its own run trained on (the label's count)
    exported_iteration: int | None = None  # the iteration these weights are from (a run's best may be an early one)
    exported_halfway: bool = False       # halfway between the start and that iteration (adk_model.export_choice)

    def method_label(self, own_name: str | None = None) -> str:
        """ADK-Net as a method beside others: the name the person gave it (else the card's), then the card's name,
        iterations and training pairs; a fine-tune's card often keeps the shipped model's name."""
        lead = own_name if own_name and own_name != self.name else self.name
        it = self.exported_iteration
        half = "halfway to " if self.exported_halfway else ""
        runs = ([f"{half}it {it} of {self.iterations}"] if it is not None and self.iterations and
                (it != self.iterations or half)
                else [f"{self.iterations} it"] if self.iterations else [])
        own = self.name if lead != self.name else ""
        if lead != self.name and f" of {lead} (" in self.name:  # "best of RUN (it 40, 31.0 dB)" beside RUN
            own = re.sub(r"^(.*?) \((.*)\)$", r"\1 at \2", own.replace(f" of {lead}", ""))  # "best at it 40, …"
        bits = ([own] if own else []) + runs + (
            [count_of(self.own_pairs, "train pair")] if self.own_pairs else [])
        return f"ADK-Net · {lead}" + (f" ({', '.join(bits)})" if bits else "")


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _pairs_name(pairs: Any) -> str:
    return Path(str(pairs)).name or str(pairs)


def reproduces(card: dict[str, Any]) -> str:
    """What the model reproduces: the card's own sentence, else the pairs it was fitted to and the model it started
    from."""
    said = card.get("reproduces")
    if isinstance(said, str) and said.strip():
        return said.strip()
    t = card.get("training") if isinstance(card.get("training"), dict) else {}
    if not t.get("pairs"):
        return "not recorded (the model card does not say what it was trained on)"
    n = len(t.get("train_pairs") or [])
    count = f" ({count_of(n, 'train pair')})" if n else ""
    pairs = f"the LR images of the pairs in '{_pairs_name(t['pairs'])}'{count}"
    start = t.get("start_model") if isinstance(t.get("start_model"), dict) else {}
    name = str(start.get("name") or "")
    if not name:  # trained from scratch, or a card from before the start model was recorded
        return f"{pairs}: their blur and colour"
    cal = card.get("calibration") if isinstance(card.get("calibration"), dict) else {}
    camera = card.get("camera") if isinstance(card.get("camera"), dict) else {}
    if camera.get("name"):  # one model per camera (adk_model.camera_models): the camera's own pairs calibrated it
        n_cam = len(camera.get("train_pairs") or [])
        cam_pairs = f"the {camera['name']} pairs in '{_pairs_name(t['pairs'])}' ({count_of(n_cam, 'train pair')})"
        fitted = "calibrated to" if cal.get("adopted") is not False else "not calibrated (no fit beat it on held-out pairs) to"
        tuned = f"{name} fine-tuned on {pairs}, then " if t.get("iterations") else f"{name} "
        return f"{tuned}{fitted} {cam_pairs}: that camera's colour and blur as far as a global linear part holds them"
    if t.get("iterations") == 0:  # quick calibrate only
        if cal.get("adopted") is False:
            return (f"{name}, unchanged (quick calibrate on '{_pairs_name(t['pairs'])}' did not beat it on held-out "
                    f"pairs, so it was not adopted): {start.get('reproduces') or 'what the model it started from reproduces'}")
        return f"{name} calibrated to {pairs}: their colour and blur as far as a global linear part holds them"
    exported = t.get("exported") if isinstance(t.get("exported"), dict) else {}
    if exported.get("iteration") == 0 and exported.get("which") != "last":  # no iteration beat the start
        if cal.get("adopted") is False or not cal:
            return (f"{name}, unchanged (neither quick calibrate nor fine-tuning on '{_pairs_name(t['pairs'])}' beat "
                    f"it on held-out pairs): {start.get('reproduces') or 'what the model it started from reproduces'}")
        return (f"{name} calibrated to {pairs} (no fine-tuning iteration beat that on held-out pairs): their colour "
                f"and blur as far as a global linear part holds them")
    return f"{name} fine-tuned on {pairs}: their blur and colour"


def _trained_on(card: dict[str, Any]) -> list[str]:
    t = card.get("training") if isinstance(card.get("training"), dict) else {}
    lines = []
    if t.get("pairs"):
        n_tr, n_val = len(t.get("train_pairs") or []), len(t.get("val_pairs") or [])
        lines.append(f"pairs: {t['pairs']} ({n_tr} train, {n_val} validation, split {t.get('split', '?')})")
    settings = t.get("settings") if isinstance(t.get("settings"), dict) else {}
    if settings.get("init"):
        lines.append(f"started from: {settings['init']}")
    if isinstance(t.get("iterations"), int):
        secs = _num(t.get("seconds"))
        lines.append(f"iterations: {t['iterations']}" + (f" in {secs:.0f} s" if secs else ""))
    exported = t.get("exported") if isinstance(t.get("exported"), dict) else {}
    if exported.get("which") and t.get("iterations"):  # a calibration only (0 iterations) has no best/last
        it = exported.get("iteration", "?")
        lines.append(f"exported: halfway between the start and iteration {it}" if exported["which"] == "halfway"
                     else f"exported: {exported['which']} (iteration {it})")
    if t.get("hardware"):
        lines.append(f"hardware: {t['hardware']}")
    if t.get("command"):
        lines.append(f"command: {t['command']}")
    if isinstance(card.get("calibration"), dict):
        c = card["calibration"]
        lines.extend(_calibration_line(c))
    return lines


def calibration_scores(c: dict[str, Any], after: bool = True, pairs: bool = False) -> str:
    """A calibration record's scores in words ("cross-validated PSNR 30.60 → 31.23 dB"; '' without any): one
    wording for the card summary and the runs list. `after`: also the fit's score, when there is one."""
    before, fitted = _num(c.get("before")), _num(c.get("after")) if after else None
    if before is None:
        return ""
    cv = c.get("judged_by") == "cv"
    n = c.get("cv_pairs" if cv else "val_pairs")
    on = (f" over {n} pairs" if cv else f" on {n} val pairs") if pairs and isinstance(n, int) else ""
    return (f"{'cross-validated' if cv else 'val'} PSNR {before:.2f}" + ("" if fitted is None else f" → {fitted:.2f}")
            + f" dB{on}")


def _calibration_line(c: dict[str, Any]) -> list[str]:
    """Quick calibrate's verdict in one line: what judged it, the scores, and whether the fit was adopted."""
    if c.get("checked") is False:
        return ["quick calibrate: not checked (too few pairs to judge it), adopted"]
    scores = calibration_scores(c, pairs=True)
    if not scores:
        return []
    if _num(c.get("after")) is None:  # cross-validation kept the model: no fit was made
        return [f"quick calibrate: {scores}; no fit beat the model, so it was kept unchanged"]
    verdict = "adopted" if c.get("adopted") is not False else "not adopted (the model it started from was kept)"
    return [f"quick calibrate: {scores}, {verdict}"]


def _scores(card: dict[str, Any]) -> tuple[str, list[ScoreRow]]:
    for key, what in (("evaluation", "measured by adkviewer eval"), ("validation", "scored when exported")):
        block = card.get(key)
        if isinstance(block, dict) and isinstance(block.get("methods"), dict):
            rows = [ScoreRow(m, LABELS.get(m, m), _num(v.get("psnr")), _num(v.get("psnr_y")), _num(v.get("ssim")))
                    for m, v in block["methods"].items() if isinstance(v, dict)]
            rows.sort(key=lambda r: -(r.psnr if r.psnr is not None else -1e9))
            n = block.get("pairs")
            return f"Validation ({n} pairs, {what})" if isinstance(n, int) else f"Validation ({what})", rows
    best = card.get("best_val")
    if isinstance(best, dict) and _num(best.get("psnr")) is not None:
        return (f"Best validation of its run (iteration {best.get('it', '?')})",
                [ScoreRow("adknet", LABELS["adknet"], _num(best.get("psnr")), None, _num(best.get("ssim")))])
    return "", []


def summarize_card(path: str | os.PathLike) -> CardSummary:
    """The card beside a weights file, reduced to what the GUI shows; a missing or unreadable card says so."""
    path = Path(path)
    try:
        card = json_input.loads(card_path(path).read_text())
        if not isinstance(card, dict):
            raise ValueError("not a JSON object")
    except OSError:
        return CardSummary(path, path.stem, reproduces=reproduces({}), problem=f"no model card {card_path(path).name}")
    except ValueError as e:
        return CardSummary(path, path.stem, reproduces=reproduces({}), problem=f"unreadable model card ({e})")
    title, rows = _scores(card)
    scale = card.get("scale")
    t = card.get("training") if isinstance(card.get("training"), dict) else {}
    exported = t.get("exported") if isinstance(t.get("exported"), dict) else {}
    it = exported.get("iteration")
    return CardSummary(path, str(card.get("name") or path.stem),
                       arch=str(card["arch"]) if card.get("arch") else None,
                       scale=scale if isinstance(scale, int) and not isinstance(scale, bool) else None,
                       reproduces=reproduces(card), trained_on=_trained_on(card),
                       note=str(card.get("note") or ""), scores_title=title, scores=rows,
                       iterations=t["iterations"] if isinstance(t.get("iterations"), int) else None,
                       train_pairs=card_train_pairs(card),
                       own_pairs=len(t["train_pairs"]) if isinstance(t.get("train_pairs"), list) else 0,
                       exported_iteration=it if isinstance(it, int) and not isinstance(it, bool) else None,
                       exported_halfway=exported.get("which") == "halfway")


def card_train_pairs(card: Any) -> tuple[str, ...]:
    """The pair names a card says its model was trained or fitted on (nothing for a card without them or malformed):
    its train pairs, the val pairs an adopted Quick calibrate over every pair fitted too ("fitted_pairs"), and the
    pairs of the model it was fine-tuned from ("start_model")."""
    t = card.get("training") if isinstance(card, dict) and isinstance(card.get("training"), dict) else {}
    start = t.get("start_model") if isinstance(t.get("start_model"), dict) else {}
    names: list[str] = []
    for pairs in (t.get("train_pairs"), t.get("fitted_pairs"), start.get("train_pairs")):
        names += [n for n in pairs if isinstance(n, str) and n not in names] if isinstance(pairs, (list, tuple)) else []
    return tuple(names)
