"""Scoring a model on validation pairs: the numbers behind the Train tab's curve, early stopping and best weights."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .adknet import ADKNet
from .metrics import psnr, ssim

def to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0).float()


def to_image(t: torch.Tensor) -> np.ndarray:
    return t[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


@torch.no_grad()
def predict(model: ADKNet, hr: np.ndarray, device: torch.device) -> np.ndarray:
    was = model.training
    model.eval()
    y = to_image(model(to_tensor(hr).to(device)).lr)
    model.train(was)
    return y


def validate(model: ADKNet, val: list[tuple[np.ndarray, np.ndarray]], device: torch.device,
             cancelled: Callable[[], bool] | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, float], np.ndarray | None]:
    """Mean RGB PSNR / SSIM over the validation pairs, plus the first pair's output as a preview; `cancelled` is
    asked before each pair (InterruptedError), `progress(done, total)` told after it."""
    if not val:
        return {}, None
    ps, ss, preview = [], [], None
    for n, (hr, lr) in enumerate(val):
        if cancelled is not None and cancelled():
            raise InterruptedError("validation was cancelled")
        out = predict(model, hr, device)
        preview = out if n == 0 else preview
        ps.append(psnr(out, lr))
        ss.append(ssim(out, lr))
        if progress is not None:
            progress(n + 1, len(val))
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}, preview
