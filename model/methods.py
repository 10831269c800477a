"""Every downscaling method behind one call, so the CLI, the evaluator and the GUI run them the same way."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .baselines import CLASSICAL, LstsqFit, apply_lstsq, classical_downscale, load_lstsq
from .errors import UserError
from .inference import AdkRunner, ProgressFn
from .weights import RESOURCES, LoadedWeights, default_weights, load_weights



@dataclass(frozen=True)
class MethodInfo:
    """One method in the registry: its key, names on screen, what it needs, and when the GUI computes it."""

    key: str
    label: str            # tables, lists, the CLI's eval table
    short: str            # view titles, readouts, combos, where space is short
    title: str            # the Compare panel's title
    needs: str = ""       # "weights" (ADK-Net), "fit" (least-squares), "" (classical)
    run_rank: int = 0     # the order of the GUI's method worker: the headline method first
    beside: bool = False  # cheap and single-threaded (Pillow): the GUI runs it beside the others when cores allow


# The one method registry, in display order: the CLI's choices, the tabs' lists and labels, and the order in
# which the GUI computes all come from here. ADK-Net, the headline, runs first; the classical filters (about
# 3 s together at 12 MP) run beside it on a second thread, and the least-squares kernel (5 s at 12 MP, torch on
# every core) after it. With one core everything runs in rank order on one thread.
METHODS: dict[str, MethodInfo] = {m.key: m for m in (
    MethodInfo("adknet", "ADK-Net", "ADK-Net", "ADK-Net", needs="weights", run_rank=0),
    MethodInfo("nearest", "Nearest", "Nearest", "Nearest", run_rank=1, beside=True),
    MethodInfo("box", "Box (area)", "Box", "Box (area)", run_rank=2, beside=True),
    MethodInfo("bilinear", "Bilinear", "Bilinear", "Bilinear", run_rank=3, beside=True),
    MethodInfo("bicubic", "Bicubic", "Bicubic", "Bicubic", run_rank=4, beside=True),
    MethodInfo("lanczos", "Lanczos-3", "Lanczos-3", "Lanczos-3", run_rank=5, beside=True),
    MethodInfo("lstsq", "Least-squares kernel", "Least-squares", "Least-squares", needs="fit", run_rank=6),
)}
ALL_METHODS = tuple(METHODS)
LABELS = {m.key: m.label for m in METHODS.values()}
# Where space is short (view titles, readouts, combos); "gt" is the ground truth.
SHORT_LABELS = {"gt": "GT", **{m.key: m.short for m in METHODS.values()}}
TITLES = {m.key: m.title for m in METHODS.values()}
RUN_ORDER = tuple(sorted(METHODS, key=lambda k: METHODS[k].run_rank))


def shipped_lstsq(scale: int) -> Path | None:
    p = RESOURCES / f"lstsq_x{scale}.safetensors"
    return p if p.is_file() else None


@dataclass
class MethodSet:
    """The methods available at one scale: the ADK-Net weights and the least-squares fit are loaded lazily."""

    scale: int
    device: torch.device | str = "cpu"
    weights_path: str | Path | None = None
    lstsq_path: str | Path | None = None
    lstsq_fit: LstsqFit | None = None
    budget_bytes: int | None = None
    weights: LoadedWeights | None = field(default=None, repr=False)
    _runner: AdkRunner | None = field(default=None, repr=False)
    # Several worker threads (Compare's, Inspect's two) may ask for the runner or the fit first at once: one loads.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def runner(self) -> AdkRunner:
        with self._lock:
            if self._runner is None:
                if self.weights is None:
                    path = self.weights_path or default_weights(self.scale)
                    if path is None:
                        raise UserError(f"No ADK-Net weights for x{self.scale}: train some in the Train tab "
                                        f"or with 'adkviewer train', or pass --weights.")
                    self.weights = load_weights(path, expect_scale=self.scale)
                self._runner = AdkRunner(self.weights.model, self.device, self.budget_bytes)
            return self._runner

    def set_weights(self, weights: LoadedWeights) -> None:
        """Swap in another model (e.g. a fine-tuned one) for all later ADK-Net runs."""
        if weights.scale != self.scale:
            raise UserError(f"{weights.name} is for x{weights.scale}, not x{self.scale}.")
        with self._lock:
            self.weights, self._runner = weights, None

    def fit(self) -> LstsqFit:
        with self._lock:
            if self.lstsq_fit is None:
                path = self.lstsq_path or shipped_lstsq(self.scale)
                if path is None:
                    raise UserError(f"No least-squares fit for x{self.scale}: make one from x{self.scale} pairs with "
                                    f"'adkviewer fit-lstsq' and pass it with --lstsq-fit.")
                self.lstsq_fit = load_lstsq(path)
                if self.lstsq_fit.scale != self.scale:
                    raise UserError(f"The least-squares fit {Path(path).name} is for x{self.lstsq_fit.scale}, "
                                    f"not x{self.scale}.")
            return self.lstsq_fit

    def run(self, method: str, hr: np.ndarray, progress: ProgressFn | None = None,
            cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        """HR (H, W, 3) with H, W multiples of the scale -> LR float32 in [0, 1]; a NaN or infinite output is
        refused here, so no black image is ever shown, scored or written as a result."""
        if method == "adknet":
            out = self.runner().downscale(hr, progress=progress, cancelled=cancelled)
        elif method == "lstsq":
            out = apply_lstsq(self.fit(), _float(hr))
        elif method in CLASSICAL:
            out = classical_downscale(_float(hr), self.scale, method)
        else:
            raise UserError(f"Unknown method {method!r}; choose from {', '.join(ALL_METHODS)}.")
        if not np.isfinite(out).all():
            raise UserError(f"{self.label(method)} gave NaN or infinite values for this image (its weights overflow), "
                            f"so there is no result.")
        return out

    def timed(self, method: str, hr: np.ndarray, **kw) -> tuple[np.ndarray, float]:
        t = time.perf_counter()
        out = self.run(method, hr, **kw)
        return out, time.perf_counter() - t

    def label(self, method: str) -> str:
        if method == "adknet" and self.weights is not None:
            return f"ADK-Net ({self.weights.name})"
        return LABELS.get(method, method)


def _float(hr: np.ndarray) -> np.ndarray:
    if hr.dtype == np.uint8:
        return hr.astype(np.float32) / 255.0
    return hr.astype(np.float32, copy=False)
