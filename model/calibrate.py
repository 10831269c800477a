"""Quick calibrate: re-fit, in closed form, everything of ADK-Net that a global linear downscaler can express.

For an adknet-v2 model that is the global linear kernel (every HR channel into every LR channel), the 3x3 mix
that weighs the adaptive per-channel output, and the bias: one least-squares problem whose solution set holds
the plain least-squares kernel (mix = 0), so on the pairs it is fitted on the calibrated model is never worse
than `lstsq`. An adknet-v1 model (no linear part) gets its colour mix and bias re-fitted, as before.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .adknet import ADKNet
from .baselines import accumulate_normal_equations, solve_ridge
from .errors import UserError

MAX_ROWS = 300_000  # pixels of the fit: beyond this every n-th pixel is used (40 pairs of 128x128 -> every 3rd)


def _host(t: torch.Tensor) -> np.ndarray:
    """(3, h, w) on any device -> (h, w, 3) float64 on the CPU, converted there (MPS has no float64)."""
    return t.permute(1, 2, 0).to("cpu", torch.float32).numpy().astype(np.float64)


@torch.no_grad()
def model_terms(model: ADKNet, hr: np.ndarray, device: torch.device) -> tuple[np.ndarray, np.ndarray | None]:
    """ADK-Net's adaptive part before the colour mix (`premix`) and its linear part, each (h, w, 3) float64."""
    x = torch.from_numpy(np.ascontiguousarray(hr)).permute(2, 0, 1).unsqueeze(0).float().to(device)
    terms = model(x, return_terms=True)
    return _host(terms.premix[0]), None if terms.linear is None else _host(terms.linear[0])


@torch.no_grad()
def calibrate(model: ADKNet, pairs: list[tuple[np.ndarray, np.ndarray]], device: torch.device | str = "cpu",
              fit_mix: bool = True, fit_linear: bool = True, max_rows: int = MAX_ROWS,
              cancelled: Callable[[], bool] | None = None,
              progress: Callable[[int, int], None] | None = None) -> int:
    """Fit the linear part, mix and bias on the pairs (the adaptive kernels stay); returns the pixels used.

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
    mix = model.mix.detach().to("cpu", torch.float32).numpy().astype(np.float64)
    n_feat = 3 * taps * taps + (3 if fit_mix else 0) + 1
    xtx = np.zeros((n_feat, n_feat), np.float64)
    xty = np.zeros((n_feat, 3), np.float64)
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
        if fit_mix:
            rows += accumulate_normal_equations(hr, target, s, taps, xtx, xty, extra=premix, stride=stride)
        else:  # the target is what the adaptive part, through the kept mix, leaves to explain
            rows += accumulate_normal_equations(hr, target - premix @ mix.T, s, taps, xtx, xty, stride=stride)
        if progress is not None:
            progress(n + 1, len(pairs))
    sol = solve_ridge(xtx, xty)  # (n_feat, 3): [linear taps, mix columns, bias] per output channel
    if not np.isfinite(sol).all():
        model.train(was)
        raise UserError("Quick calibrate found no finite solution on these pairs (are the LR images blank?).")
    n_lin = 3 * taps * taps
    dtype, dev = model.mix.dtype, model.mix.device
    if taps:
        model.linear.weight.copy_(torch.from_numpy(sol[:n_lin].T.reshape(3, 3, taps, taps)).to(dev, dtype))
    if fit_mix:
        model.mix.copy_(torch.from_numpy(sol[n_lin : n_lin + 3].T).to(dev, dtype))
    model.mix_bias.copy_(torch.from_numpy(sol[-1]).to(dev, dtype))
    model.train(was)
    return rows
