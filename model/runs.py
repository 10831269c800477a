"""The runs in an output folder (~/adkviewer-runs by default), read back for a table and curve overlays. Qt-free.

Each run folder holds what the engine wrote: checkpoint_last.pt (or checkpoint_crash.pt) with the settings and
the history (loss per iteration, validation metrics), best_xS.safetensors + .json, and exports (.safetensors +
card). Older versions wrote less; what a run lacks is named in `RunInfo.missing`, never guessed:

- before 2026-11-27 (f2ad091) the history kept the loss of every 10th iteration only;
- before 2026-11-27 (5517bde) there was no best_xS.safetensors, and until 2026-12-02 (6933ed1) its card had no
  training record (pairs, iterations);
- before the runs list, checkpoints held no pair names and export cards no validation history (`val_history`).
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import json_input
from .errors import UserError
from .model_card import calibration_scores
from .train_config import CKPT_FORMAT, default_runs_root
from .weights import card_path, safe_torch_load

STAMP = re.compile(r"-(\d{8}-\d{6})$")  # new_run_dir's PAIRS-xS-YYYYmmdd-HHMMSS
CALIBRATED = "calibrated_"  # the Train tab's Quick calibrate saves CALIBRATED + "xS" (or "itN_xS") in its run folder
MAX_CARD_BYTES = 4_000_000               # a model card is a few kB; a huge .json beside weights is not one
OLD_LOSS = "loss of every 10th iteration only (written before 2026-11-27)"
NO_PAIR_NAMES = "pair counts: not in the checkpoint (written before the runs list) and no card names them"
NO_VAL_HISTORY = "val curve and last val PSNR: the card has no val history (written before the runs list)"


@dataclass
class RunInfo:
    """One run as the table shows it, with its curves; `problem` is one sentence when nothing could be read."""

    folder: Path
    name: str
    date: str = ""
    scale: int | None = None
    init: str = ""                    # "shipped", "scratch" or a weights file name
    pairs: str = ""                   # the pairs folder's name
    n_train: int | None = None
    n_val: int | None = None
    iterations: int | None = None     # done
    planned: int | None = None        # the run's budget (a stopped run is below it)
    best_psnr: float | None = None
    best_it: int | None = None
    last_psnr: float | None = None
    last_it: int | None = None
    loss_it: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_it: list[int] = field(default_factory=list)
    val_psnr: list[float] = field(default_factory=list)
    weights: Path | None = None       # what Compare opens: the newest export, else best_xS
    exported: str = ""                # which model that export holds: "best (it 0)", "last (it 40)"
    missing: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def pairs_text(self) -> str:
        counts = (f"{self.n_train} train / {self.n_val} val" if self.n_train is not None and self.n_val is not None
                  else "")
        return f"{self.pairs} ({counts})" if self.pairs and counts else self.pairs or counts

    @property
    def iterations_text(self) -> str:
        if self.iterations is None:
            return ""
        if self.planned and self.iterations < self.planned:
            return f"{self.iterations} / {self.planned}"
        return str(self.iterations)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["folder"], d["weights"] = str(self.folder), str(self.weights) if self.weights else None
        d["pairs_text"] = self.pairs_text
        return d


def list_runs(root: str | os.PathLike | None = None) -> list[RunInfo]:
    """Every run folder in `root` (or `root` itself when it is one), newest first; other folders are left out."""
    root = Path(root).expanduser() if root else default_runs_root()
    if not root.is_dir():
        raise UserError(f"{root} is not a folder of training runs." if root.exists() else
                        f"Folder '{root}' does not exist.")
    if _is_run(root):
        return [read_run(root)]
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and _is_run(p)]
    except OSError as e:
        raise UserError(f"{root} cannot be read ({e.strerror or e}).") from None
    runs = [read_run(p) for p in folders]
    return sorted(runs, key=lambda r: (r.date, r.name), reverse=True)


def _is_run(folder: Path) -> bool:
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return False
    return any(n.startswith("checkpoint_") and n.endswith(".pt") or
               n.endswith(".safetensors") and n.startswith(("adknet_", "best_x", CALIBRATED)) for n in names)


def read_run(folder: str | os.PathLike) -> RunInfo:
    """One run folder: the checkpoint's settings and history first, the cards for what it lacks."""
    folder = Path(folder)
    run = RunInfo(folder=folder, name=folder.name)
    ckpt, ckpt_note = _newest_checkpoint(folder)
    export, best = _cards(folder)
    if ckpt is None and export is None and best is None:
        run.problem = ckpt_note or "no readable checkpoint or model card in the folder"
        return run
    if ckpt_note:
        run.missing.append(ckpt_note)
    cards = [c[0] for c in (export, best) if c]
    run.date = _date(folder, ckpt[1] if ckpt else (export or best)[1], [ckpt[0]] if ckpt else [], cards)
    if ckpt is not None:
        _from_checkpoint(run, ckpt[0])
    _from_cards(run, export[0] if export else None, best[0] if best else None, have_ckpt=ckpt is not None,
                damaged=bool(ckpt_note))
    run.weights = export[1] if export else best[1] if best else None
    run.exported = _exported(export[0]) if export else ""
    if run.weights is None:
        run.missing.append("no weights file yet: Export… or “Use in Compare” writes one into the folder")
    return run


def _newest_checkpoint(folder: Path) -> tuple[tuple[dict, Path] | None, str]:
    """The readable checkpoint with the most iterations; a note naming any that could not be read."""
    good, bad = [], []
    for path in sorted(folder.glob("checkpoint_*.pt")):
        try:
            ckpt = safe_torch_load(path, UserError, "ADK Viewer checkpoint")
            if not isinstance(ckpt, dict) or ckpt.get("format") != CKPT_FORMAT:
                raise UserError(f"{path.name} is not an ADK Viewer checkpoint.")
            good.append((_int(ckpt.get("iteration")) or 0, path.stat().st_mtime, ckpt, path))
        except UserError as e:  # a pickle's refusal says so; anything else torch cannot open is damaged
            bad.append(str(e).rstrip(".") if "refused" in str(e) or "is not an ADK" in str(e) else
                       f"{path.name} cannot be read: it is truncated or damaged")
        except OSError as e:
            bad.append(f"{path.name} cannot be read ({e.strerror or e})")
    note = "; ".join(bad) + (" (its curves are not shown)" if bad and good else "") if bad else ""
    if not good:
        return None, note
    _, _, ckpt, path = max(good, key=lambda g: (g[0], g[1]))
    return (ckpt, path), note


def _cards(folder: Path) -> tuple[tuple[dict, Path] | None, tuple[dict, Path] | None]:
    """(the newest export's card and weights, best_xS's card and weights), each None when absent or unreadable."""
    exports, best = [], None
    for weights in folder.glob("*.safetensors"):
        card = _read_card(weights)
        if card is None:
            continue
        if weights.name.startswith("best_x"):
            best = (card, weights)
        elif weights.name.startswith(("adknet_", CALIBRATED)):  # CALIBRATED: the Train tab's Quick calibrate
            exports.append((weights.stat().st_mtime, card, weights))
    newest = max(exports, key=lambda e: e[0]) if exports else None
    return ((newest[1], newest[2]) if newest else None), best


def _read_card(weights: Path) -> dict | None:
    try:
        path = card_path(weights)
        if path.stat().st_size > MAX_CARD_BYTES:
            return None
        card = json_input.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return card if isinstance(card, dict) else None


def _date(folder: Path, source: Path, ckpts: list[dict], cards: list[dict]) -> str:
    """When the run started: as the checkpoint or a card records it, else the folder name's stamp, else the
    file's time (which a copy changes)."""
    for record in [*ckpts, *(c.get("training") for c in cards)]:
        started = record.get("started") if isinstance(record, dict) else None
        if isinstance(started, str):
            try:
                return time.strftime("%Y-%m-%d %H:%M", time.strptime(started, "%Y-%m-%d %H:%M"))
            except ValueError:
                pass
    m = STAMP.search(folder.name)
    if m:
        try:
            return time.strftime("%Y-%m-%d %H:%M", time.strptime(m.group(1), "%Y%m%d-%H%M%S"))
        except ValueError:
            pass
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(source.stat().st_mtime))
    except OSError:
        return ""


def _exported(card: dict) -> str:
    """Which model an export card says its weights are: "best (it 0)", "last (it 40)", "halfway to it 100" (between
    the start and that iteration), or "" when it does not say."""
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    exported = training.get("exported") if isinstance(training.get("exported"), dict) else {}
    which = exported.get("which")
    if not isinstance(which, str) or not which:
        return ""
    it = _int(exported.get("iteration"))
    if which == "halfway":
        return f"halfway to it {it}" if it is not None else "halfway"
    if which == "start":  # no training step: Quick calibrate alone, or an export before the first step
        calibration = card.get("calibration") if isinstance(card.get("calibration"), dict) else {}
        if "adopted" not in calibration:
            return "the start (no training step)"
        adopted = calibration["adopted"] is True
        scores = calibration_scores(calibration, after=adopted)
        return "Quick calibrate: " + ("the calibrated model" if adopted else "the start, kept unchanged") + (
            f" ({scores})" if scores else "")
    return ("best" if which.startswith("best") else which) + (f" (it {it})" if it is not None else "")


def _from_checkpoint(run: RunInfo, ckpt: dict) -> None:
    cfg = ckpt.get("train_config") if isinstance(ckpt.get("train_config"), dict) else {}
    run.scale = _int(cfg.get("scale"))
    run.init = _init_text(cfg.get("init"))
    run.pairs = Path(cfg["pairs"]).name if isinstance(cfg.get("pairs"), str) and cfg["pairs"] else ""
    run.iterations = _int(ckpt.get("iteration"))
    run.planned = _int(cfg.get("iterations"))
    names = ckpt.get("pairs")
    if isinstance(names, dict) and isinstance(names.get("train"), list) and isinstance(names.get("val"), list):
        run.n_train, run.n_val = len(names["train"]), len(names["val"])
    history = ckpt.get("history")
    if not isinstance(history, list):
        run.missing.append("no curves: the checkpoint's history is not a list")
        history = []
    skipped = 0
    for h in history:
        it = _int(h.get("it")) if isinstance(h, dict) else None
        if it is None:
            skipped += 1
            continue
        for key, its, values in (("loss", run.loss_it, run.loss), ("val_psnr", run.val_it, run.val_psnr)):
            if key in h:
                v = _num(h[key])
                if v is None:
                    skipped += 1
                else:
                    its.append(it)
                    values.append(v)
    if skipped:
        run.missing.append(f"{skipped} history entries are not numbers and are left out")
    if len(run.loss_it) > 2 and all(b - a == 10 for a, b in zip(run.loss_it[1:], run.loss_it[2:])):
        run.missing.append(OLD_LOSS)
    if run.val_psnr:
        run.last_psnr, run.last_it = run.val_psnr[-1], run.val_it[-1]
    best = ckpt.get("best") if isinstance(ckpt.get("best"), dict) else {}
    run.best_psnr, run.best_it = _num(best.get("psnr")), _int(best.get("it"))
    if run.best_psnr is None and run.val_psnr:
        i = max(range(len(run.val_psnr)), key=run.val_psnr.__getitem__)
        run.best_psnr, run.best_it = run.val_psnr[i], run.val_it[i]


def _from_cards(run: RunInfo, export: dict | None, best: dict | None, have_ckpt: bool, damaged: bool = False) -> None:
    """Fill what the checkpoint did not hold (or all of it, for a run without a readable one) from the cards;
    `damaged`: the folder has checkpoints that could not be read (named already, not called absent again)."""
    for card in (export, best):
        training = card.get("training") if card and isinstance(card.get("training"), dict) else {}
        settings = training.get("settings") if isinstance(training.get("settings"), dict) else {}
        if run.n_train is None and isinstance(training.get("train_pairs"), list) and \
                isinstance(training.get("val_pairs"), list):
            run.n_train, run.n_val = len(training["train_pairs"]), len(training["val_pairs"])
        if not run.pairs and isinstance(training.get("pairs"), str):
            run.pairs = Path(training["pairs"]).name
        run.init = run.init or _init_text(settings.get("init"))
        run.scale = run.scale or _int(card.get("scale") if card else None)
        if card is export and run.iterations is None:
            run.iterations = _int(training.get("iterations"))
        run.planned = run.planned or _int(settings.get("iterations"))
        if run.best_psnr is None:
            best_val = training.get("best_val") if card is export else card.get("best_val") if card else None
            if isinstance(best_val, dict):
                run.best_psnr, run.best_it = _num(best_val.get("psnr")), _int(best_val.get("it"))
    if run.n_train is None:
        run.missing.append(NO_PAIR_NAMES)
    if have_ckpt:
        if not run.loss and "no curves" not in " ".join(run.missing):
            run.missing.append("no loss curve: the checkpoint holds no loss history")
        return
    if run.iterations is None and not damaged:
        run.missing.append("iterations: no checkpoint and no export card in the folder")
    training = export.get("training") if export else None
    history = training.get("val_history") if isinstance(training, dict) else None
    for h in history if isinstance(history, list) else []:
        it, psnr = (_int(h.get("it")), _num(h.get("psnr"))) if isinstance(h, dict) else (None, None)
        if it is not None and psnr is not None:
            run.val_it.append(it)
            run.val_psnr.append(psnr)
    if run.val_psnr:
        run.last_psnr, run.last_it = run.val_psnr[-1], run.val_it[-1]
        if not damaged:
            run.missing.append("no loss curve: no checkpoint in the folder (the card holds the val curve only)")
    elif run.iterations == 0 and not damaged:  # no training step (Quick calibrate alone): no curves to miss
        return
    else:
        if not damaged:
            run.missing.append("no loss curve: no checkpoint in the folder")
        run.missing.append(NO_VAL_HISTORY if not isinstance(history, list) else
                           "val curve and last val PSNR: the card's val history holds no usable entry")


def _init_text(init: Any) -> str:
    if not isinstance(init, str) or not init:
        return ""
    if init in ("shipped", "scratch"):
        return init
    path = Path(init)  # with its folder: exports of different runs share a name (adknet_x4_lite.safetensors)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def format_table(runs: list[RunInfo]) -> str:
    """The runs as a text table (the CLI's), each run's missing fields and problem on indented lines under it."""
    head = ("run", "date", "init", "pairs", "iterations", "best val PSNR", "last val PSNR")
    rows = [(r.name, r.date, r.init, r.pairs_text, r.iterations_text,
             _psnr_text(r.best_psnr, r.best_it), _psnr_text(r.last_psnr, r.last_it)) for r in runs]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    for r, row in zip(runs, rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if r.exported and not r.problem:
            lines.append(f"    exported: {r.exported}")
        for note in ([r.problem] if r.problem else r.missing):
            lines.append(f"    {'unreadable' if r.problem else 'missing'}: {note}")
    return "\n".join(lines)


def _psnr_text(psnr: float | None, it: int | None) -> str:
    if psnr is None:
        return "-"
    return f"{psnr:.2f} dB" + (f" (it {it})" if it is not None else "")
