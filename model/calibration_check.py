"""Quick calibrate that never leaves a model worse than where it started: the calibrated model is scored beside the
model it started from on the validation pairs and adopted only if it is not worse there. One rule, Qt-free, for
`adkviewer train` (--calibrate-only and calibrate-first fine-tuning) and the Train tab's Quick calibrate."""

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

# Below this many train pairs, fine-tuning is unreliable: in bench/RESULTS.md's "fine-tuning variants" table, at
# N = 10 Nikon pairs no variant beat Quick calibrate (best 32.72 dB against 32.76).
FEW_PAIRS = 10


@dataclass(frozen=True)
class CalibrationCheck:
    """What one checked quick calibrate did: the validation scores before and after, and whether it was kept."""

    adopted: bool
    before: dict[str, float]      # validation metrics of the model it started from ({}: no validation pairs)
    after: dict[str, float]       # of the calibrated model ({}: no validation pairs)
    val_pairs: int                # how many validation pairs judged it (0: it could not be checked)
    train_pairs: int              # how many train pairs it was fitted on
    part: str                     # what was fitted, in words
    preview: np.ndarray | None    # the kept model's output on the first validation pair (None: not scored here)
    fit: Calibration | None = None

    @property
    def checked(self) -> bool:
        return self.val_pairs > 0

    @property
    def kept_scores(self) -> dict[str, float]:
        """Validation metrics of the model that is kept (the calibrated one, or the start)."""
        return self.after if self.adopted else self.before

    def sentence(self) -> str:
        """The one sentence the GUI log and CLI stderr show, with both numbers."""
        fitted = f"({self.part}, fitted on {count_of(self.train_pairs, 'train pair')})"
        if not self.checked:
            return (f"Quick calibrate {fitted} could not be checked: there are no validation pairs, so it is "
                    f"adopted unchecked.")
        b, a = _both(self.before["psnr"], self.after["psnr"])
        on = f"on {count_of(self.val_pairs, 'val pair')}"
        if not self.adopted:
            return (f"Quick calibrate lowered val PSNR from {b} to {a} dB {on} {fitted}, so it is not adopted: "
                    f"the model it started from is kept.")
        moved = "left val PSNR at" if a == b else "raised val PSNR from"
        value = b if a == b else f"{b} to {a}"
        return f"Quick calibrate {moved} {value} dB {on} {fitted}: the calibrated model is adopted."

    def record(self) -> dict[str, Any]:
        """For the model card ("calibration"): the verdict, both scores and the sentence."""
        r: dict[str, Any] = {"adopted": self.adopted, "checked": self.checked, "val_pairs": self.val_pairs,
                             "train_pairs": self.train_pairs, "fitted": self.part, "sentence": self.sentence()}
        if self.checked:
            r.update(before=round(self.before["psnr"], 4), after=round(self.after["psnr"], 4))
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
                      report: Report | None = None, log: Callable[[str], None] | None = None) -> CalibrationCheck:
    """Quick calibrate `model` on `train`, keeping the fit only if val PSNR is not lower than before it.

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
    start_preview = None
    if val and before is None:
        say(f"quick calibrate: scoring the model on {count_of(len(val), 'val pair')}…")
        before, start_preview = validate(model, val, device, cancelled, stage("scoring the model", len(val)))
    say(f"quick calibrate: fitting {part} on {count_of(len(train), 'train pair')}…")
    kept = {k: v.detach().clone() for k, v in model.state_dict().items()}  # small: the model, not the data
    try:
        fit = calibrate(model, train, device, cancelled=cancelled, progress=stage("fitting", len(train)))
        after, preview = (validate(model, val, device, cancelled, stage("scoring the calibrated model", len(val)))
                          if val else ({}, None))
    except InterruptedError:
        model.load_state_dict(kept)
        raise
    adopted = not val or after["psnr"] >= before["psnr"]
    if not adopted:
        model.load_state_dict(kept)
        preview = start_preview
    return CalibrationCheck(adopted, dict(before or {}), after, len(val), len(train), part, preview, fit)


def calibrate_start(model: ADKNet, init: str, train: Pairs, val: Pairs, device: torch.device,
                    log: Callable[[str], None]) -> CalibrationCheck | None:
    """Before a run's first step: trained weights are quick-calibrated (kept only where validation allows); a new
    model gets its linear part fitted, so its kernels start from a least-squares output."""
    if model.mix is None:
        return None
    if init != "scratch":
        check = calibrate_checked(model, train, val, device, log=log)
        log(check.sentence())
        return check
    if model.linear is not None:
        calibrate(model, train, device, fit_mix=False)  # the kernels start from a least-squares output
        log("fitted the linear part on the train pairs (closed form) before training")
    return None


def few_pairs_note(train_pairs: int, init: str) -> str | None:
    """Said once before fine-tuning on a small folder: the run goes on, but the person should know."""
    if init == "scratch" or train_pairs >= FEW_PAIRS:
        return None
    return (f"Only {count_of(train_pairs, 'train pair')}: fine-tuning on fewer than {FEW_PAIRS} is unreliable, and "
            f"Quick calibrate alone is usually the better choice (bench/RESULTS.md: on {FEW_PAIRS} pairs of a new "
            f"camera no fine-tuning variant beat it, 32.72 dB at best against 32.76).")
