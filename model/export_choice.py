"""Which weights a fine-tune hands back. By default the halfway point between its start and its best validated
iteration (a weight-space average, as in WiSE-FT, Wortsman et al. 2022): on bench/transfer.py's new-camera runs the
best validated iteration was picked on a few held-out pairs that flattered it, and the halfway point was never below
it on the camera's test pairs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import torch

# The best validated iteration is kept instead when it beats the halfway point by more than this on the held-out
# pairs: a margin that size says the fine-tune learned the camera. On bench/transfer.py the held-out pairs preferred
# the best by up to 0.13 dB where the test pairs preferred the halfway point.
HALFWAY_MARGIN_DB = 0.3

State = dict[str, torch.Tensor]


@dataclass(frozen=True)
class ExportChoice:
    """What an export holds (`state` None: the model as it is) and, for the card, why."""
    which: str                     # "halfway", "best validated", "last", or "start" (no training step yet)
    iteration: int | None
    state: State | None = None
    val_psnr: float | None = None
    note: str = ""

    def sentence(self) -> str:
        if self.which == "start":
            return "the model before any training step"
        if self.which == "last":
            return f"the last iteration's model (iteration {self.iteration})"
        if self.which == "halfway":
            return f"{self.note}, val PSNR {self.val_psnr:.3f} dB"
        said = ("the model it started from (no later iteration beat it on validation" if self.iteration == 0 else
                f"the best validated model (iteration {self.iteration}")
        return said + (f"; {self.note})" if self.note else ")")

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"which": self.which, "iteration": self.iteration}
        if self.val_psnr is not None:
            out["val_psnr"] = self.val_psnr
        if self.note:
            out["note"] = self.note
        return out


def halfway(start: State, end: State) -> State:
    """The average of two states of one architecture (integer buffers are taken from `end`)."""
    return {k: (start[k] + v) / 2 if v.is_floating_point() else v.clone() for k, v in end.items()}


def choose_export(asked: str, model_iteration: int, best: dict[str, Any], best_state: State | None,
                  start: tuple[State, float] | None, score: Callable[[State], float]) -> ExportChoice:
    """`asked` is one of train_config.EXPORTS; `start` the starting weights and their val PSNR (None from scratch or when
    unknown); `score` validates a state. The halfway point is scored once here, never on every call's behalf."""
    if model_iteration == 0:  # nothing trained yet (Quick calibrate alone): whatever was asked, it is the start
        return ExportChoice("start", 0)
    if asked == "last" or not best_state:
        return ExportChoice("last", model_iteration)
    best_choice = ExportChoice("best validated", best.get("it"), best_state, best.get("psnr"))
    if asked == "best" or start is None or best.get("it") == 0:
        return best_choice
    start_state, start_psnr = start
    mid = halfway(start_state, best_state)
    mid_psnr = score(mid)
    if mid_psnr < start_psnr:
        return replace(best_choice, note=f"halfway to it scored {mid_psnr:.3f} dB, below the start's {start_psnr:.3f}")
    if best.get("psnr", mid_psnr) - mid_psnr > HALFWAY_MARGIN_DB:
        return replace(best_choice, note=f"it beat halfway to it ({mid_psnr:.3f} dB) by more than {HALFWAY_MARGIN_DB} dB")
    return ExportChoice("halfway", best.get("it"), mid, mid_psnr,
                        f"halfway between the start (val {start_psnr:.3f} dB) and iteration {best.get('it')}, "
                        f"the best validated (val {best.get('psnr', float('nan')):.3f} dB)")
