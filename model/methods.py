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
from .external import load_external
from .inference import AdkRunner, ProgressFn
from .method_registry import (ALL_METHODS, LABELS, METHODS, RUN_ORDER, SHORT_LABELS, TITLES, ExtraMethod,  # noqa: F401
                              MethodInfo, method_info)
from .weights import RESOURCES, LoadedWeights, default_weights, load_weights



def shipped_lstsq(scale: int) -> Path | None:
    p = RESOURCES / f"lstsq_x{scale}.safetensors"
    return p if p.is_file() else None


@dataclass
class MethodSet:
    """The methods available at one scale: ADK-Net weights and the least-squares fit are loaded lazily.

    `extras` are the methods a person added (more ADK-Net weights, their own results), by key."""

    scale: int
    device: torch.device | str = "cpu"
    weights_path: str | Path | None = None
    lstsq_path: str | Path | None = None
    lstsq_fit: LstsqFit | None = None
    budget_bytes: int | None = None
    amp: bool = False  # ADK-Net under bf16 autocast (devices.amp_enabled: CUDA only)
    weights: LoadedWeights | None = field(default=None, repr=False)
    extras: dict[str, ExtraMethod] = field(default_factory=dict)
    _runners: dict[str, AdkRunner] = field(default_factory=dict, repr=False)
    _extra_weights: dict[str, LoadedWeights] = field(default_factory=dict, repr=False)
    # Several worker threads (Compare's, Inspect's two) may ask for the runner or the fit first at once: one loads.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def is_adknet(self, method: str) -> bool:
        return method == "adknet" or (method in self.extras and self.extras[method].is_adknet)

    def loaded(self, method: str = "adknet") -> LoadedWeights:
        """The weights of an ADK-Net method (the main one, or added weights), loaded on first use."""
        with self._lock:
            if method != "adknet":
                if method not in self._extra_weights:
                    self._extra_weights[method] = load_weights(self.extras[method].path, expect_scale=self.scale)
                return self._extra_weights[method]
            if self.weights is None:
                path = self.weights_path or default_weights(self.scale)
                if path is None:
                    raise UserError(f"No ADK-Net weights for x{self.scale}: train some in the Train tab "
                                    f"or with 'adkviewer train', or pass --weights.")
                self.weights = load_weights(path, expect_scale=self.scale)
            return self.weights

    def runner(self, method: str = "adknet") -> AdkRunner:
        with self._lock:
            if method not in self._runners:
                self._runners[method] = AdkRunner(self.loaded(method).model, self.device, self.budget_bytes,
                                                  amp=self.amp)
            return self._runners[method]

    def set_weights(self, weights: LoadedWeights) -> None:
        """Swap in another model (e.g. a fine-tuned one) for all later runs of the main ADK-Net."""
        if weights.scale != self.scale:
            raise UserError(f"{weights.name} is for x{weights.scale}, not x{self.scale}.")
        with self._lock:
            self.weights = weights
            self._runners.pop("adknet", None)

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

    def prepare(self, method: str) -> None:
        """Load what a method needs (weights, fit) before it is timed, failing early with a clear message."""
        if self.is_adknet(method):
            self.runner(method)
        elif method == "lstsq":
            self.fit()

    def run(self, method: str, hr: np.ndarray, progress: ProgressFn | None = None,
            cancelled: Callable[[], bool] | None = None, names: tuple[str, ...] = ()) -> np.ndarray:
        """HR (H, W, 3) with H, W multiples of the scale -> LR float32 in [0, 1]; a NaN or infinite output is
        refused here, so no black image is ever shown, scored or written as a result. `names`: the pair's
        name (and its HR file's stem), by which external results are found."""
        if self.is_adknet(method):
            out = self.runner(method).downscale(hr, progress=progress, cancelled=cancelled)
        elif method == "lstsq":
            out = apply_lstsq(self.fit(), _float(hr))
        elif method in CLASSICAL:
            out = classical_downscale(_float(hr), self.scale, method)
        elif method in self.extras:
            out = load_external(self.extras[method], names, (hr.shape[0] // self.scale, hr.shape[1] // self.scale))
        else:
            method_info(method, self.extras)  # the unknown-method sentence
            raise UserError(f"{method!r} cannot run here.")
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
        return method_info(method, self.extras).label


def _float(hr: np.ndarray) -> np.ndarray:
    if hr.dtype == np.uint8:
        return hr.astype(np.float32) / 255.0
    return hr.astype(np.float32, copy=False)
