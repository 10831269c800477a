"""Quick calibrate that never leaves a model worse than where it started. With validation pairs of the person's
own (a split file) the calibrated model is scored beside the model it started from on them and adopted only if it
is not worse there. Without (no split, or a seeded fraction held out of the same pairs) every pair joins the fit,
and cross-validation over the pairs decides (adk_model.calibrate): on 5 or 20 pairs, holding a fifth out of the fit
costs more than its noisy verdict is worth. One rule, Qt-free, for `adkviewer train` (--calibrate-only and
calibrate-first fine-tuning) and the Train tab's Quick calibrate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .adknet import ADKNet
from .calibrate import Calibration, calibrate
from .validation import validate
from .wording import count_of

Pairs = list[tuple[np.ndarray, np.ndarray]]
Report = Callable[[str, int, int], None]  # stage, pairs done, pairs in the stage

# Below this many pairs (train and val together), fine-tuning is unreliable: in bench/RESULTS.md's transfer table, at
# N = 5 and 10 pairs of a new camera the default fine-tune never beat Quick calibrate alone (tests check it).
FEW_PAIRS = 20


@dataclass(frozen=True)
class CalibrationCheck:
    """What one checked quick calibrate did: the validation scores before and after, and whether it was kept."""

    adopted: bool
    before: dict[str, float]      # metrics of the model it started from ({}: it could not be checked)
    after: dict[str, float]       # of the calibrated model ({}: it could not be checked)
    val_pairs: int                # how many pairs judged it: validation pairs, or all pairs by cross-validation
    train_pairs: int              # how many pairs it was fitted on
    part: str                     # what was fitted, in words
    preview: np.ndarray | None    # the kept model's output on the first validation pair (None: not scored here)
    fit: Calibration | None = None
    judged_by: str = "val"        # "val": the validation pairs; "cv": cross-validation over the fitted pairs

    @property
    def checked(self) -> bool:
        return self.val_pairs > 0

    @property
    def by_val(self) -> bool:
        """The scores are validation scores (not cross-validated ones): iteration 0 of a run may reuse them."""
        return self.checked and self.judged_by == "val"

    @property
    def kept_scores(self) -> dict[str, float]:
        """Validation metrics of the model that is kept (the calibrated one, or the start)."""
        return self.after if self.adopted else self.before

    def sentence(self) -> str:
        """The one sentence the GUI log and CLI stderr show, with both numbers."""
        if self.judged_by == "cv":
            fitted = f"({self.part}, fitted on all {count_of(self.train_pairs, 'pair')})"
        else:
            fitted = f"({self.part}, fitted on {count_of(self.train_pairs, 'train pair')})"
        if not self.checked:
            return (f"Quick calibrate {fitted} could not be checked: there are too few pairs, or too few pixels, "
                    f"to cross-validate it, so it is adopted unchecked.")
        b, a = _both(self.before["psnr"], self.after["psnr"])
        if self.judged_by == "cv":
            folds = self.fit.folds if self.fit else 0
            what, on = "cross-validated PSNR", f"over {count_of(self.val_pairs, 'pair')} in {folds} folds"
        else:
            what, on = "val PSNR", f"on {count_of(self.val_pairs, 'val pair')}"
        if not self.adopted:
            if self.judged_by == "cv":
                return (f"Quick calibrate {fitted} found no fit that beats the model as it is on held-out pairs "
                        f"({what} {b} dB {on}), so the model it started from is kept.")
            if self.fit is not None and self.fit.kept:
                return (f"Quick calibrate {fitted} found no fit that beats the model as it is when cross-validated "
                        f"over its train pairs, so the model it started from is kept ({what} {b} dB {on}).")
            return (f"Quick calibrate lowered {what} from {b} to {a} dB {on} {fitted}, so it is not adopted: "
                    f"the model it started from is kept.")
        moved = f"left {what} at" if a == b else f"raised {what} from"
        value = b if a == b else f"{b} to {a}"
        return f"Quick calibrate {moved} {value} dB {on} {fitted}: the calibrated model is adopted."

    def record(self) -> dict[str, Any]:
        """For the model card ("calibration"): the verdict, both scores and the sentence."""
        judged = "cv_pairs" if self.judged_by == "cv" else "val_pairs"  # cross-validated pairs are not val pairs
        r: dict[str, Any] = {"adopted": self.adopted, "checked": self.checked, "judged_by": self.judged_by,
                             judged: self.val_pairs, "train_pairs": self.train_pairs, "fitted": self.part,
                             "sentence": self.sentence()}
        if self.checked:  # cross-validation that kept the model made no fit: it has no "after" to record
            r["before"] = round(self.before["psnr"], 4)
            if not (self.fit is not None and self.fit.kept):
                r["after"] = round(self.after["psnr"], 4)
        return r


def _both(before: float, after: float) -> tuple[str, str]:
    """Both PSNRs at 3 decimals, more where 3 would show a change as no change."""
    for digits in (3, 4, 5):
        b, a = f"{before:.{digits}f}", f"{after:.{digits}f}"
        if (a == b) == (after == before):
            break
    return b, a


def fitted_part(model: ADKNet) -> str:
    return "the linear part, colour mix and bias" if model.linear is not None else "the colour head"


@torch.no_grad()
def calibrate_checked(model: ADKNet, train: Pairs, val: Pairs, device: torch.device | str,
                      before: dict[str, float] | None = None, cancelled: Callable[[], bool] | None = None,
                      report: Report | None = None, log: Callable[[str], None] | None = None,
                      held_out: bool = False) -> CalibrationCheck:
    """Quick calibrate `model`, keeping the fit only where it is not worse than the model it started from.

    `val` from a split file (held_out False): fitted on `train`, judged by val PSNR. `held_out` (val is a seeded
    part of the same pairs) or no `val`: fitted on all the pairs and judged by cross-validation over them.
    `before`: the start's validation metrics when just measured (not scored again). Cancelled at any stage, it
    raises InterruptedError with the model's tensors as they were.
    """
    device = torch.device(device)
    say = log or (lambda m: None)

    def stage(name: str, total: int) -> Callable[[int, int], None] | None:
        if report is None:
            return None
        report(name, 0, total)  # the stage shows as it starts
        return lambda done, n: report(name, done, n)

    part = fitted_part(model)
    by_cv = held_out or not val
    fitted = train + val if held_out else train
    start_preview = None
    if val and not by_cv and before is None:
        say(f"quick calibrate: scoring the model on {count_of(len(val), 'val pair')}…")
        before, start_preview = validate(model, val, device, cancelled, stage("scoring the model", len(val)))
    say(f"quick calibrate: fitting {part} on {count_of(len(fitted), 'pair' if by_cv else 'train pair')}…")
    kept = {k: v.detach().clone() for k, v in model.state_dict().items()}  # small: the model, not the data
    try:
        fit = calibrate(model, fitted, device, cancelled=cancelled, progress=stage("fitting", len(fitted)))
        if by_cv:
            preview = validate(model, val[:1], device, cancelled)[1] if val else None  # what the GUI shows
        else:
            after, preview = validate(model, val, device, cancelled, stage("scoring the calibrated model", len(val)))
    except InterruptedError:
        model.load_state_dict(kept)
        raise
    if by_cv:
        checked = fit.cv_before is not None
        scores = ({"psnr": fit.cv_before}, {"psnr": fit.cv_after}) if checked else ({}, {})
        return CalibrationCheck(not fit.kept, *scores, len(fitted) if checked else 0, len(fitted), part, preview,
                                fit, judged_by="cv")
    adopted = after["psnr"] >= before["psnr"] and not fit.kept  # kept: the fit changed nothing
    if not adopted:
        model.load_state_dict(kept)
        preview = start_preview
    return CalibrationCheck(adopted, dict(before), after, len(val), len(train), part, preview, fit)


def calibrate_start(model: ADKNet, init: str, train: Pairs, val: Pairs, device: torch.device,
                    log: Callable[[str], None], held_out: bool = False) -> CalibrationCheck | None:
    """Before a run's first step: trained weights are quick-calibrated (kept only where validation or
    cross-validation allows); a new model gets its linear part fitted, so its kernels start from a least-squares
    output."""
    if model.mix is None:
        return None
    if init != "scratch":
        check = calibrate_checked(model, train, val, device, log=log, held_out=held_out)
        log(check.sentence())
        if held_out and val and check.adopted:
            log("the held-out val pairs were part of that fit, so the start's val PSNR is optimistic: a fine-tuned "
                "model is exported only if it beats it there")
        return check
    if model.linear is not None:
        calibrate(model, train, device, fit_mix=False)  # the kernels start from a least-squares output
        log("fitted the linear part on the train pairs (closed form) before training")
    return None


def few_pairs_note(pairs: int, init: str) -> str | None:
    """Said once before fine-tuning a small folder (`pairs`: train and val): the run goes on, but the person
    should know."""
    if init == "scratch" or pairs >= FEW_PAIRS:
        return None
    return (f"Only {count_of(pairs, 'pair')}: fine-tuning on fewer than {FEW_PAIRS} is unreliable, and Quick "
            f"calibrate alone is usually the better choice (in the project's transfer benchmark, on 5 and 10 pairs "
            f"of a new camera the fine-tune never beat it).")
