"""Baseline downscalers ADK-Net is measured against: classical PIL filters and a global least-squares kernel.

Classical methods go through Pillow's ``Image.resize`` on float ("F") images, so they equal PIL's RGB
output up to its 8-bit rounding (PIL antialiases when downscaling).

The least-squares baseline ("lstsq") is one linear kernel for the whole image: each LR channel is a
weighted sum of a ``taps`` x ``taps`` HR patch of all three HR channels, plus a bias. The patch of LR
pixel (i, j) is centred on its HR cell (rows ``s*i .. s*i+s-1``), reading ``(taps - s) / 2`` extra HR
pixels each side, with the HR reflect-padded. It is fitted in closed form (ridge-regularised normal
equations accumulated in float64) and is the best a non-adaptive linear downscaler can do on the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from adk_model.errors import WeightsError

CLASSICAL = ("nearest", "box", "bilinear", "bicubic", "lanczos")

_PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

_LSTSQ_FORMAT = "adkviewer-lstsq"
_LSTSQ_VERSION = "1"
# Feature rows per band when fitting / applying, chosen so one band stays well under ~100 MB.
_BAND_BYTES = 32 * 1024 * 1024


def _check_image(img: np.ndarray, scale: int) -> np.ndarray:
    """Validate an (H, W, 3) image and crop it (top-left kept) to a multiple of ``scale``."""
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {img.shape}")
    h, w = img.shape[0] // scale * scale, img.shape[1] // scale * scale
    if h == 0 or w == 0:
        raise ValueError(f"image {img.shape[:2]} is smaller than the scale {scale}")
    return img[:h, :w]


def classical_downscale(img: np.ndarray, scale: int, method: str) -> np.ndarray:
    """Downscale with one of PIL's antialiasing filters (exactly PIL's float result, clipped to [0, 1])."""
    if method not in _PIL_FILTERS:
        raise ValueError(f"unknown classical method {method!r}; valid: {', '.join(CLASSICAL)}")
    img = _check_image(img, scale).astype(np.float32, copy=False)
    h, w = img.shape[0] // scale, img.shape[1] // scale
    f = _PIL_FILTERS[method]
    out = np.empty((h, w, 3), np.float32)
    for c in range(3):
        ch = Image.fromarray(np.ascontiguousarray(img[:, :, c]))  # 2-D float32 -> mode "F"
        # PIL resamples horizontally, then vertically, and in 8-bit modes clips between the passes.
        # Doing the passes separately with that clip makes bicubic/Lanczos overshoot on sharp content
        # match PIL's RGB output (within 1/255) instead of differing by several levels.
        mid = np.asarray(ch.resize((w, img.shape[0]), f), dtype=np.float32)
        mid = Image.fromarray(np.clip(mid, 0.0, 1.0))
        out[:, :, c] = np.asarray(mid.resize((w, h), f), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


# ----------------------------------------------------------------------------- least squares


@dataclass
class LstsqFit:
    """A fitted global linear kernel: ``lr[c] = weight[c] . unfold(hr) + bias[c]``.

    ``weight`` is (3, 3*taps*taps), ordered like ``torch.nn.functional.unfold``: HR channel, then kernel
    row, then kernel column.
    """

    scale: int
    taps: int
    weight: np.ndarray
    bias: np.ndarray
    fitted_on: str = ""

    def kernel(self) -> np.ndarray:
        """The weights as (out_channel, in_channel, taps, taps), for display."""
        return self.weight.reshape(3, 3, self.taps, self.taps)


def _check_taps(scale: int, taps: int) -> int:
    if not isinstance(taps, (int, np.integer)) or taps < scale or (taps - scale) % 2:
        raise ValueError(f"taps must be >= scale with taps - scale even; got taps={taps}, scale={scale}")
    return (taps - scale) // 2


def _reflect_index(idx: np.ndarray, n: int) -> np.ndarray:
    """Map indices outside [0, n) back inside by reflection without repeating the edge (torch 'reflect')."""
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * (n - 1)
    idx = np.abs(idx) % period
    return np.where(idx >= n, period - idx, idx)


def _hr_bands(hr: np.ndarray, scale: int, taps: int, max_bytes: int) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield (i0, i1, band) where band is the reflect-padded HR rows feeding LR rows i0..i1-1, (1, 3, rows, cols)."""
    pad = _check_taps(scale, taps)
    h_lr, w_lr = hr.shape[0] // scale, hr.shape[1] // scale
    cols = _reflect_index(np.arange(-pad, w_lr * scale + pad), hr.shape[1])
    per_row = w_lr * 3 * taps * taps * 8  # bytes of float64 features (or conv work) per LR row
    rows = max(1, min(h_lr, max_bytes // max(per_row, 1)))
    for i0 in range(0, h_lr, rows):
        i1 = min(h_lr, i0 + rows)
        r = _reflect_index(np.arange(scale * i0 - pad, scale * i1 + pad), hr.shape[0])
        band = hr[r][:, cols]  # (rows, cols, 3); only this band is copied
        yield i0, i1, torch.from_numpy(np.ascontiguousarray(band.transpose(2, 0, 1)))[None]


def _features(band: torch.Tensor, scale: int, taps: int) -> torch.Tensor:
    """(1, 3, rows, cols) padded HR band -> (n_lr_pixels, 3*taps*taps) patches, one row per LR pixel."""
    return F.unfold(band, kernel_size=taps, stride=scale)[0].T


def accumulate_normal_equations(hr: np.ndarray, lr: np.ndarray, scale: int, taps: int, xtx: np.ndarray,
                                xty: np.ndarray, extra: np.ndarray | None = None, stride: int = 1,
                                yty: np.ndarray | None = None) -> int:
    """Add one pair's rows [HR patch taps (taps > 0), extra per-pixel features, 1] -> LR to X'X and X'Y (float64).

    ``extra`` is (h, w, e), e.g. ADK-Net's adaptive output for quick calibrate; ``stride`` keeps every n-th LR
    pixel, to bound the cost on many pairs; ``yty`` (3,), if given, gains Y'Y (to score a solution on these rows).
    Returns the number of rows added.
    """
    h, w = hr.shape[0] // scale, hr.shape[1] // scale
    y_all = np.asarray(lr, dtype=np.float64).reshape(-1, 3)
    e_all = None if extra is None else np.asarray(extra, dtype=np.float64).reshape(h * w, -1)
    bands = (_hr_bands(hr, scale, taps, _BAND_BYTES) if taps else ((0, h, None),))
    rows = 0
    for i0, i1, band in bands:
        cols = [_features(band.double(), scale, taps)] if taps else []
        if e_all is not None:
            cols.append(torch.from_numpy(e_all[i0 * w : i1 * w]))
        n = (i1 - i0) * w
        cols.append(torch.ones(n, 1, dtype=torch.float64))
        keep = slice(None) if stride <= 1 else torch.arange((-i0 * w) % stride, n, stride)
        x = torch.cat(cols, dim=1)[keep]
        y = torch.from_numpy(np.ascontiguousarray(y_all[i0 * w : i1 * w]))[keep]
        xtx += (x.T @ x).numpy()
        xty += (x.T @ y).numpy()
        if yty is not None:
            yty += (y * y).sum(dim=0).numpy()
        rows += x.shape[0]
    return rows


def solve_ridge(xtx: np.ndarray, xty: np.ndarray) -> np.ndarray:
    """The normal equations' solution with a tiny ridge (1e-6 * trace / n), stable when features are collinear."""
    n = xtx.shape[0]
    return np.linalg.solve(xtx + 1e-6 * np.trace(xtx) / n * np.eye(n), xty)


def fit_lstsq(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]], scale: int, taps: int = 16, fitted_on: str = ""
) -> LstsqFit:
    """Fit the global kernel in closed form on (hr, lr) pairs, streamed one at a time (ridge 1e-6 * trace / n)."""
    _check_taps(scale, taps)
    n_feat = 3 * taps * taps + 1
    xtx = np.zeros((n_feat, n_feat), np.float64)
    xty = np.zeros((n_feat, 3), np.float64)
    n_pairs = 0
    for hr, lr in pairs:
        hr = _check_image(hr, scale)
        if np.shape(lr) != (hr.shape[0] // scale, hr.shape[1] // scale, 3):
            raise ValueError(f"LR shape {np.shape(lr)} does not match HR shape {hr.shape} at scale {scale}")
        accumulate_normal_equations(hr, lr, scale, taps, xtx, xty)
        n_pairs += 1
    if n_pairs == 0:
        raise ValueError("fit_lstsq needs at least one (hr, lr) pair")
    sol = solve_ridge(xtx, xty)  # (n_feat, 3)
    return LstsqFit(
        scale=int(scale),
        taps=int(taps),
        weight=np.ascontiguousarray(sol[:-1].T, dtype=np.float32),
        bias=np.ascontiguousarray(sol[-1], dtype=np.float32),
        fitted_on=fitted_on,
    )


def apply_lstsq(fit: LstsqFit, hr: np.ndarray) -> np.ndarray:
    """Downscale ``hr`` with a fitted kernel, in row bands so big photos stay within a few hundred MB."""
    s, k = fit.scale, fit.taps
    hr = _check_image(hr, s).astype(np.float32, copy=False)
    weight = torch.from_numpy(np.asarray(fit.weight, np.float32).reshape(3, 3, k, k))
    bias = torch.from_numpy(np.asarray(fit.bias, np.float32))
    out = np.empty((hr.shape[0] // s, hr.shape[1] // s, 3), np.float32)
    with torch.no_grad():
        for i0, i1, band in _hr_bands(hr, s, k, _BAND_BYTES):
            # conv2d with stride s == unfold(stride s) @ weight.T, without materialising the patches.
            out[i0:i1] = F.conv2d(band, weight, bias, stride=s)[0].permute(1, 2, 0).numpy()
    return np.clip(out, 0.0, 1.0)


def save_lstsq(fit: LstsqFit, path: str | Path, overwrite: bool = True) -> None:
    """Write a fit as safetensors, with scale, taps and provenance in the metadata."""
    from safetensors.numpy import save

    from .atomic import atomic_write_bytes

    meta = {
        "format": _LSTSQ_FORMAT,
        "version": _LSTSQ_VERSION,
        "scale": str(int(fit.scale)),
        "taps": str(int(fit.taps)),
        "fitted_on": fit.fitted_on,
    }
    tensors = {
        "weight": np.ascontiguousarray(fit.weight, dtype=np.float32),
        "bias": np.ascontiguousarray(fit.bias, dtype=np.float32),
    }
    atomic_write_bytes(path, save(tensors, metadata=meta), overwrite)


def load_lstsq(path: str | Path) -> LstsqFit:
    """Read a fit written by ``save_lstsq``; anything else raises ``WeightsError``."""
    from safetensors import safe_open

    name = Path(path).name
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            keys = set(f.keys())
            tensors = {key: f.get_tensor(key) for key in keys & {"weight", "bias"}}
    except FileNotFoundError:
        raise WeightsError(f"Least-squares kernel file {name} does not exist.") from None
    except Exception as exc:  # safetensors raises several types for corrupt headers
        raise WeightsError(f"{name} is not a readable safetensors file ({exc}).") from None
    if meta.get("format") != _LSTSQ_FORMAT:
        raise WeightsError(f"{name} is not a least-squares kernel file (format {meta.get('format')!r}).")
    try:
        scale, taps = int(meta["scale"]), int(meta["taps"])
        _check_taps(scale, taps)
    except (KeyError, ValueError):
        raise WeightsError(f"{name} has missing or invalid scale/taps metadata.") from None
    weight, bias = tensors.get("weight"), tensors.get("bias")
    if weight is None or bias is None or weight.shape != (3, 3 * taps * taps) or bias.shape != (3,):
        raise WeightsError(f"{name} has tensors that do not match its {taps}x{taps}-tap metadata.")
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
        raise WeightsError(f"{name} contains non-finite weights.")
    return LstsqFit(
        scale=scale,
        taps=taps,
        weight=weight.astype(np.float32),
        bias=bias.astype(np.float32),
        fitted_on=meta.get("fitted_on", ""),
    )
