"""Quick calibrate: re-fit, in closed form, everything of ADK-Net that a global linear downscaler can express.

For an adknet-v2 model that is the global linear kernel (every HR channel into every LR channel), the 3x3 mix
that weighs the adaptive per-channel output, and the bias: one least-squares problem whose solution set holds
the plain least-squares kernel (mix = 0). How far the fit may leave the model's own terms is chosen by
cross-validation over the pairs (folds of whole pairs), and where no fit scores better on the held-out folds than
the model as it is, the model is kept: the same check decides with or without validation pairs. An adknet-v1 model
(no linear part) gets its colour mix and bias re-fitted, as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .adknet import ADKNet
from .baselines import accumulate_normal_equations
from .errors import UserError
from .validation import to_tensor

MAX_ROWS = 160_000  # pixels of the fit: beyond this every n-th pixel is used (40 pairs of 128x128 -> every 5th)
FOLDS = 5           # cross-validation folds (pairs i, i+5, ...) that choose how far the fit may leave the model
# Weights of the pull towards the model's current terms, relative to trace(X'X) / features: 1e-6 is the plain
# least-squares ridge, the largest keeps the model nearly as it is.
CV_ROWS_PER_FEATURE = 4  # below this many pixels per unknown a fold's fit is noise: plain ridge instead
PRIOR_WEIGHTS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


KEEP = math.inf  # the pull that keeps the model as it is: a candidate beside PRIOR_WEIGHTS


@dataclass(frozen=True)
class Calibration:
    """What one quick calibrate did: pixels fitted, the chosen pull towards the model (PRIOR_WEIGHTS, or KEEP when
    cross-validation said no fit beats the model as it is) and the cross-validated PSNR of both (None: no CV)."""

    pairs: int
    rows: int
    prior_weight: float
    cv_before: float | None = None  # dB, pooled MSE of the model as it was on the held-out folds
    cv_after: float | None = None   # dB, of the chosen fit (equal to cv_before when KEEP won)
    folds: int = 0

    @property
    def kept(self) -> bool:
        """Cross-validation kept the model's terms as they were: the calibration changed nothing."""
        return self.prior_weight == KEEP


@dataclass
class _Fold:
    """Normal equations of one cross-validation fold (a few pairs), plus Y'Y to score a solution on them."""

    n: int
    rows: int = 0
    xtx: np.ndarray = field(init=False)
    xty: np.ndarray = field(init=False)
    yty: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.xtx, self.xty, self.yty = np.zeros((self.n, self.n)), np.zeros((self.n, 3)), np.zeros(3)

    def sse(self, w: np.ndarray) -> float:
        """Sum of squared errors of the solution w (features x 3) on this fold's rows."""
        return float(np.einsum("fc,fg,gc->", w, self.xtx, w) - 2 * np.sum(w * self.xty) + self.yty.sum())


@dataclass(frozen=True)
class _Choice:
    """The solution, its pull towards the model, and the cross-validated SSE of the model as it was and of the fit."""

    w: np.ndarray
    weight: float
    cv: tuple[float, float, int] | None  # (SSE as it was, SSE of the fit, rows scored); None: too few to tell


def solve_toward(folds: list[_Fold], w0: np.ndarray) -> _Choice:
    """min |Y - XW|^2 + lam |W - W0|^2, with lam chosen by cross-validation over the folds (pairs held out).

    On a handful of pairs of a new camera the model's own terms can generalise better than a fit to those
    pairs (a pull towards them wins, up to keeping them: KEEP); with many pairs the data decide. One fold, or too
    few pixels to tell: the plain ridge, unchecked.
    """
    xtx, xty = sum(f.xtx for f in folds), sum(f.xty for f in folds)
    n = xtx.shape[0]
    unit = np.trace(xtx) / n
    eye = torch.eye(n, dtype=torch.float64)

    def fit(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
        lam = weight * unit  # a + lam I is positive definite: Cholesky, about twice as fast as a general solve
        chol, info = torch.linalg.cholesky_ex(torch.from_numpy(a) + lam * eye)
        rhs = torch.from_numpy(b + lam * w0)
        if int(info):
            return torch.linalg.solve(torch.from_numpy(a) + lam * eye, rhs).numpy()
        return torch.cholesky_solve(rhs, chol).numpy()

    held_in = min(sum(f.rows for f in folds) - f.rows for f in folds)
    if len(folds) < 2 or held_in < CV_ROWS_PER_FEATURE * n:  # fewer rows: the folds' fits say nothing
        return _Choice(fit(xtx, xty, PRIOR_WEIGHTS[0]), PRIOR_WEIGHTS[0], None)
    errors = [sum(f.sse(fit(xtx - f.xtx, xty - f.xty, wt)) for f in folds) for wt in PRIOR_WEIGHTS]
    as_was = sum(f.sse(w0) for f in folds)
    rows = sum(f.rows for f in folds)
    i = int(np.argmin(errors))
    if as_was <= errors[i]:  # no fit generalises better than the model's own terms
        return _Choice(w0.copy(), KEEP, (as_was, as_was, rows))
    return _Choice(fit(xtx, xty, PRIOR_WEIGHTS[i]), PRIOR_WEIGHTS[i], (as_was, errors[i], rows))


def _psnr_of(sse: float, rows: int) -> float:
    """PSNR (dB) of a pooled squared error over rows x 3 channels, images in [0, 1]."""
    return 10 * math.log10(rows * 3 / max(sse, 1e-20))


def _current(model: ADKNet, taps: int, fit_mix: bool) -> np.ndarray:
    """The model's present values of what the fit solves for, in its layout [linear taps, mix columns, bias]."""
    parts = [_host(model.linear.weight).reshape(3, -1).T] if taps else []
    if fit_mix:
        parts.append(_host(model.mix).T)
    parts.append(_host(model.mix_bias)[None])
    return np.concatenate(parts, axis=0)


def _host(t: torch.Tensor) -> np.ndarray:
    """Any tensor on any device -> float64 numpy on the CPU, converted there (MPS has no float64)."""
    return t.detach().to("cpu", torch.float32).numpy().astype(np.float64)


def _set(param: torch.Tensor, value: np.ndarray) -> None:
    """Write a float64 solution into a parameter: converted to its dtype on the CPU, then sent (MPS has no float64)."""
    param.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(param.dtype).to(param.device))


@torch.no_grad()
def model_terms(model: ADKNet, hr: np.ndarray, device: torch.device) -> tuple[np.ndarray, np.ndarray | None]:
    """ADK-Net's adaptive part before the colour mix (`premix`) and its linear part, each (h, w, 3) float64."""
    terms = model(to_tensor(hr).to(device))  # without return_terms: the k*k kernels of the whole image are never materialised
    hwc = lambda t: _host(t[0].permute(1, 2, 0))  # noqa: E731 - (1, 3, h, w) -> (h, w, 3)
    return hwc(terms.premix), None if terms.linear is None else hwc(terms.linear)


@torch.no_grad()
def calibrate(model: ADKNet, pairs: list[tuple[np.ndarray, np.ndarray]], device: torch.device | str = "cpu",
              fit_mix: bool = True, fit_linear: bool = True, max_rows: int = MAX_ROWS,
              cancelled: Callable[[], bool] | None = None,
              progress: Callable[[int, int], None] | None = None) -> "Calibration":
    """Fit the linear part, mix and bias on the pairs (the adaptive kernels stay), held towards the model's own
    values as far as cross-validation over the pairs says they generalise.

    fit_mix=False keeps the mix and fits only the linear part and bias to what the adaptive part leaves: how a
    model trained from scratch starts, so that its kernels still receive gradients. fit_linear=False keeps the
    linear part and fits the mix and bias alone (the colour-only calibration of adknet-v1, for comparison).
    """
    if model.mix is None:
        raise UserError("This model has no colour-response head to calibrate (colour_mix is off).")
    if not pairs:
        raise UserError("Quick calibrate needs at least one training pair.")
    device = torch.device(device)
    was = model.training
    model.eval().to(device)
    s = model.cfg.scale
    taps = model.cfg.linear_taps if fit_linear else 0
    mix = _host(model.mix)
    n_feat = 3 * taps * taps + (3 if fit_mix else 0) + 1
    folds = [_Fold(n_feat) for _ in range(min(FOLDS, len(pairs)))]
    total = sum((hr.shape[0] // s) * (hr.shape[1] // s) for hr, _ in pairs)
    stride = max(1, math.ceil(total / max_rows))
    rows = 0
    for n, (hr, lr) in enumerate(pairs):
        if cancelled is not None and cancelled():
            model.train(was)
            raise InterruptedError("quick calibrate was cancelled")
        premix, linear = model_terms(model, hr, device)
        target = np.asarray(lr, np.float64)
        if linear is not None and not fit_linear:  # the kept linear part is part of what is already explained
            target = target - linear
        f = folds[n % len(folds)]
        if fit_mix:
            added = accumulate_normal_equations(hr, target, s, taps, f.xtx, f.xty, extra=premix, stride=stride,
                                                yty=f.yty)
        else:  # the target is what the adaptive part, through the kept mix, leaves to explain
            added = accumulate_normal_equations(hr, target - premix @ mix.T, s, taps, f.xtx, f.xty, stride=stride,
                                                yty=f.yty)
        f.rows += added
        rows += added
        if progress is not None:
            progress(n + 1, len(pairs))
    choice = solve_toward(folds, _current(model, taps, fit_mix))
    sol = choice.w
    if not np.isfinite(sol).all():
        model.train(was)
        raise UserError("Quick calibrate found no finite solution on these pairs (are the LR images blank?).")
    n_lin = 3 * taps * taps
    if taps:
        _set(model.linear.weight, sol[:n_lin].T.reshape(3, 3, taps, taps))
    if fit_mix:
        _set(model.mix, sol[n_lin : n_lin + 3].T)
    _set(model.mix_bias, sol[-1])
    model.train(was)
    cv = {} if choice.cv is None else {"cv_before": _psnr_of(choice.cv[0], choice.cv[2]),
                                       "cv_after": _psnr_of(choice.cv[1], choice.cv[2]), "folds": len(folds)}
    return Calibration(pairs=len(pairs), rows=rows, prior_weight=choice.weight, **cv)
