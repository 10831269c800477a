"""Statistics of ADK-Net's per-pixel kernels, the bicubic reference kernel, and whole-image kernel field maps.

Geometry (docs/CONVENTIONS.md, shared/docs/adknet.md): the k x k kernel of LR pixel (i, j) is centred on its
s x s HR cell, so tap (r, c) reads HR pixel (s*i - p + r, s*j - p + c) with p = (k - s) / 2, and the cell
centre is the kernel centre ((k-1)/2, (k-1)/2). Offsets are in HR pixels, x to the right, y down.

Definitions (per channel, w = the k x k weights):
- sum: sum(w) (1 for softmax kernels);
- centroid dx, dy: sum(w * offset) / sum(w): where the kernel samples a linear ramp (NaN if sum(w) == 0);
- spread: sqrt(sum(p * |offset - m|^2)) with p = |w| / sum|w| and m its centroid (radial std. deviation);
- negative mass: sum(min(w, 0)) (0 for softmax kernels);
- entropy: -sum(p * log2 p) in bits with p = |w| / sum|w| (log2(k*k) for a flat kernel, 0 for one tap).

Kernel field maps never hold the kernel field: each tile's kernels are reduced to a few numbers per pixel
as soon as the tile is computed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .resample import Tile, tile_for_budget

STATS = ("sum", "dx", "dy", "spread", "neg_mass", "entropy")
STAT_LABELS = {
    "sum": "sum", "dx": "centroid dx (HR px)", "dy": "centroid dy (HR px)", "spread": "spread (HR px)",
    "neg_mass": "negative mass", "entropy": "entropy (bits)",
}
CHANNELS = ("R", "G", "B")

# Field-map statistics: key -> (label, unit). Per-channel ones end in _r/_g/_b.
FIELD_STATS: dict[str, tuple[str, str]] = {}
for _s, _name in (("dx", "centroid dx"), ("dy", "centroid dy"), ("spread", "spread")):
    for _c in CHANNELS:
        FIELD_STATS[f"{_s}_{_c.lower()}"] = (f"{_name} {_c}", "HR px")
FIELD_STATS["rb_diff"] = ("R-vs-B kernel difference Σ|K_R − K_B|", "Σ|ΔK| (0 = same kernel, 2 = disjoint)")
FIELD_DIVERGING = {k for k in FIELD_STATS if k.startswith(("dx", "dy"))}  # signed: centred on 0


def _offsets(k: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """Tap offsets from the kernel (= HR cell) centre, in HR pixels: (k,)."""
    return torch.arange(k, dtype=dtype, device=device) - (k - 1) / 2.0


def kernel_stats_field(kernels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every statistic for kernels shaped (..., k, k, h, w) (e.g. (3, k, k, h, w)): each -> (..., h, w)."""
    kern = kernels.to(torch.float64) if kernels.dtype == torch.float64 else kernels.float()
    k = kern.shape[-4]
    off = _offsets(k, kern.dtype, kern.device)
    oy = off.view(k, 1, 1, 1)   # rows
    ox = off.view(1, k, 1, 1)   # cols
    red = (-4, -3)
    total = kern.sum(dim=red)
    safe = torch.where(total == 0, torch.ones_like(total), total)
    nan = torch.full_like(total, float("nan"))
    dx = torch.where(total == 0, nan, (kern * ox).sum(dim=red) / safe)
    dy = torch.where(total == 0, nan, (kern * oy).sum(dim=red) / safe)
    a = kern.abs()
    asum = a.sum(dim=red)
    p = a / torch.where(asum == 0, torch.ones_like(asum), asum).unsqueeze(-3).unsqueeze(-3)
    mx = (p * ox).sum(dim=red)
    my = (p * oy).sum(dim=red)
    ddx = ox - mx.unsqueeze(-3).unsqueeze(-3)
    ddy = oy - my.unsqueeze(-3).unsqueeze(-3)
    spread = (p * (ddx * ddx + ddy * ddy)).sum(dim=red).sqrt()
    del ddx, ddy
    neg = kern.clamp_max(0).sum(dim=red)
    plogp = torch.where(p > 0, p * torch.log2(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    entropy = -plogp.sum(dim=red)
    return {"sum": total, "dx": dx, "dy": dy, "spread": spread, "neg_mass": neg, "entropy": entropy}


def kernel_stats(kernels: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
    """Every statistic of one pixel's kernel set (3, k, k) (or any (..., k, k)): each -> (3,) float64."""
    t = torch.as_tensor(np.asarray(kernels, dtype=np.float64))
    out = kernel_stats_field(t[..., None, None])
    return {name: v[..., 0, 0].numpy() for name, v in out.items()}


def field_values(kernels: torch.Tensor, keys: tuple[str, ...] | list[str]) -> torch.Tensor:
    """Field statistics `keys` (see FIELD_STATS) for kernels (3, k, k, h, w) -> (len(keys), h, w)."""
    st = kernel_stats_field(kernels)
    out = []
    for key in keys:
        if key == "rb_diff":
            out.append((kernels[0] - kernels[2]).abs().sum(dim=(0, 1)))
            continue
        name, _, ch = key.rpartition("_")
        if name not in ("dx", "dy", "spread") or ch.upper() not in CHANNELS:
            raise ValueError(f"unknown field statistic {key!r}; choose from {', '.join(FIELD_STATS)}")
        out.append(st[name][CHANNELS.index(ch.upper())])
    return torch.stack(out).float()


def parse_field_stat(text: str) -> str:
    """A field statistic named on the command line ('dx_r', 'spread_g', 'rb_diff', ...) -> its key."""
    key = text.strip().lower().replace("-", "_").replace(":", "_")
    key = {"rb": "rb_diff", "r_vs_b": "rb_diff", "rbdiff": "rb_diff"}.get(key, key)
    if key not in FIELD_STATS:
        raise ValueError(f"unknown kernel statistic {text!r}; choose from {', '.join(FIELD_STATS)}")
    return key


# --------------------------------------------------------------------------- the bicubic reference


def pil_bicubic(x: np.ndarray) -> np.ndarray:
    """PIL's bicubic filter (a = -0.5, support 2)."""
    a = -0.5
    x = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                    np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))


def bicubic_kernel(scale: int, k: int, phase: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The (k, k) kernel PIL's antialiased bicubic applies for one LR pixel when downscaling by `scale`.

    PIL stretches the cubic over support 2*scale around the LR pixel's centre, i.e. tap offset u (HR px from
    the cell centre) gets cubic(u / scale), normalised per axis. Laid on the k x k grid centred on the cell;
    `phase` (dy, dx) shifts the sampling centre in HR pixels. When k < 4*scale, the taps outside the grid are
    dropped and the rest renormalised to sum 1 (so it is then a truncated bicubic, not exactly PIL's).
    """
    off = np.arange(k, dtype=np.float64) - (k - 1) / 2.0
    wy = pil_bicubic((off - phase[0]) / scale)
    wx = pil_bicubic((off - phase[1]) / scale)
    wy /= wy.sum()
    wx /= wx.sum()
    return np.outer(wy, wx)


def bicubic_is_truncated(scale: int, k: int) -> bool:
    """True when the k x k grid cannot hold PIL's whole bicubic support (k < 4*scale)."""
    return k < 4 * scale


# --------------------------------------------------------------------------- field maps

ProgressFn = Callable[[int, int, Tile], None]


def _stats_bytes_per_lr_pixel(runner) -> float:
    from .inference import bytes_per_lr_pixel

    k = runner.model.cfg.k
    return bytes_per_lr_pixel(runner.model) + 4.0 * 3 * k * k * 8  # the reductions' temporaries


def field_maps(runner, hr: np.ndarray, keys: tuple[str, ...] | list[str] | None = None,
               progress: ProgressFn | None = None, cancelled: Callable[[], bool] | None = None,
               tile: int | None = None) -> dict[str, np.ndarray]:
    """Kernel statistics per LR pixel for the whole image, tile by tile (one model forward per tile).

    runner: a `adk_model.inference.AdkRunner`; hr: (H, W, 3) with H, W multiples of the scale.
    Returns key -> float32 (h, w). The tiles are those of `AdkRunner.tiled` (the loop that makes the LR image,
    halving the tile on out-of-memory): each reads `halo` extra LR pixels, so the maps equal those of an untiled
    forward, and its kernels are reduced at once and dropped. Raises InterruptedError if `cancelled()` turns true.
    """
    keys = list(keys or FIELD_STATS)
    for key in keys:
        if key not in FIELD_STATS:
            raise ValueError(f"unknown field statistic {key!r}; choose from {', '.join(FIELD_STATS)}")
    tile = tile or tile_for_budget(_stats_bytes_per_lr_pixel(runner), runner.model.cfg.halo, runner.budget_bytes)

    def kernels(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return runner.model(x, return_terms=True).kernels  # (1, 3, k, k, h, w)

    def reduce(kern: torch.Tensor) -> torch.Tensor:  # the tile's kernels, cut to its region -> statistics
        with torch.inference_mode():
            return field_values(kern[0], keys)[None]

    cb = None if progress is None else (lambda done, total, t, _y: progress(done, total, t))
    out = runner.tiled(kernels, hr, tile, out_channels=len(keys), reduce=reduce, progress=cb,
                       cancelled=cancelled)[0].numpy()
    return {key: out[i] for i, key in enumerate(keys)}


def field_levels(key: str, values: np.ndarray) -> tuple[float, float]:
    """Colour levels for a field map: symmetric about 0 for signed statistics (dx, dy), else min..max, both
    over the 0.5-99.5 percentiles so a few outliers do not wash the map out."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return (-1.0, 1.0) if key in FIELD_DIVERGING else (0.0, 1.0)
    if key in FIELD_DIVERGING:
        m = float(np.percentile(np.abs(v), 99.5)) or float(np.abs(v).max()) or 1e-6
        return -m, m
    lo, hi = (float(x) for x in np.percentile(v, [0.5, 99.5]))
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-3, 1e-6)
    return lo, hi


__all__ = ["STATS", "STAT_LABELS", "FIELD_STATS", "kernel_stats", "kernel_stats_field", "field_values",
           "bicubic_kernel", "bicubic_is_truncated", "pil_bicubic", "field_maps", "field_levels",
           "parse_field_stat"]
