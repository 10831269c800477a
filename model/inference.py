"""Running ADK-Net on whole photos (tiled, under a memory budget) and on one pixel's neighbourhood."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .adknet import ADKNet, ADKOutput
from .devices import autocast, default_budget_bytes
from .resample import (Tile, count_tiles, numpy_reader, pad_amount, run_tiled, tile_for_budget,
                       unfold_patches)

ProgressFn = Callable[[int, int, Tile, np.ndarray], None]


def bytes_per_lr_pixel(model: ADKNet) -> float:
    """Float32 working set of one LR pixel in a forward pass, with ~1.4x headroom over the measured 2.7 KB (lite).

    HR copies, head output, trunk and branch activations; the k*k-per-pixel kernel stage runs in row bands
    of a fixed size (adknet.BAND_PIXELS_CPU), so it adds a constant ~40 MB rather than a cost per pixel.
    """
    c = model.cfg
    s2, g = c.scale**2, c.generators
    floats = 3 * s2 * 3 + c.hr_features * s2 + c.width * 3 + g * c.gen_width * 3 + g * c.branch_width
    return 4.0 * floats


def is_out_of_memory(e: BaseException) -> bool:
    """CUDA/MPS OOM, Python's MemoryError, or the CPU allocator's RuntimeError all mean 'use smaller tiles'."""
    if isinstance(e, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text
                                            or "not enough memory" in text)


@dataclass
class Neighbourhood:
    """Kernels and colour-response terms of a small LR window, computed on demand for the inspector."""

    y0: int
    x0: int
    terms: ADKOutput          # kernels (1, 3, k, k, h, w), gain/bias (1, 3, h, w), mix, linear part
    patches: torch.Tensor     # (3, k*k, h, w): the HR pixels each kernel reads
    hr_origin: tuple[int, int]  # HR (row, col) of the top-left tap of the window's top-left pixel (may be < 0)
    linear_patches: torch.Tensor | None = None  # (3, T*T, h, w): the HR pixels the global linear kernel reads

    def at(self, i: int, j: int) -> dict[str, torch.Tensor | None]:
        """Everything that produced LR pixel (i, j) (absolute LR coordinates)."""
        li, lj = i - self.y0, j - self.x0
        t = self.terms
        k = t.kernels.shape[2]
        lin = {}
        if t.linear_kernel is not None:
            taps = t.linear_kernel.shape[-1]
            lin = {"linear": t.linear[0, :, li, lj], "linear_kernel": t.linear_kernel,
                   "linear_patch": self.linear_patches[:, :, li, lj].reshape(3, taps, taps)}
        return {**lin,
            "kernels": t.kernels[0, :, :, :, li, lj],
            "patch": self.patches[:, :, li, lj].reshape(3, k, k),
            "gain": None if t.gain is None else t.gain[0, :, li, lj],
            "bias": None if t.bias is None else t.bias[0, :, li, lj],
            "mix": t.mix,
            "mix_bias": t.mix_bias,
            "output": t.lr[0, :, li, lj],
        }


class AdkRunner:
    """ADK-Net on one device: tiled whole-image inference and neighbourhood kernels."""

    def __init__(self, model: ADKNet, device: torch.device | str = "cpu", budget_bytes: int | None = None,
                 amp: bool = False) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.budget_bytes = budget_bytes or default_budget_bytes(self.device)
        self.amp = amp  # bf16 autocast (the callers check amp_enabled: CUDA only)
        self.notes: list[str] = []

    @property
    def scale(self) -> int:
        return self.model.cfg.scale

    def tile_size(self) -> int:
        return tile_for_budget(bytes_per_lr_pixel(self.model), self.model.cfg.halo, self.budget_bytes)

    def tile_count(self, hr: np.ndarray) -> int:
        """How many tiles `downscale(hr)` runs (more if an out-of-memory error halves the tile)."""
        s = self.scale
        return count_tiles(hr.shape[0] // s, hr.shape[1] // s, self.tile_size(), self.model.cfg.halo)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), autocast(self.amp, self.device):
            return self.model(x).lr.float()

    def downscale(self, hr: np.ndarray, progress: ProgressFn | None = None,
                  cancelled: Callable[[], bool] | None = None, tile: int | None = None) -> np.ndarray:
        """HR (H, W, 3) uint8/float -> LR float32 (H/s, W/s, 3) in [0, 1]; halves the tile on out-of-memory."""
        cb = None
        if progress is not None:
            def cb(done: int, total: int, t: Tile, y: torch.Tensor) -> None:
                progress(done, total, t, y[0].permute(1, 2, 0).clamp(0, 1).numpy())
        out = self.tiled(self._forward, hr, tile or self.tile_size(), progress=cb, cancelled=cancelled)
        return out[0].clamp_(0, 1).permute(1, 2, 0).numpy()

    def tiled(self, fn: Callable[[torch.Tensor], torch.Tensor], hr: np.ndarray, tile: int, out_channels: int = 3,
              reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
              progress: Callable[[int, int, Tile, torch.Tensor], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> torch.Tensor:
        """`run_tiled` over this HR on this device with the model's halo: the one tiled loop of the whole image
        (LR output, field maps), which halves the tile and starts again on out-of-memory."""
        s = self.scale
        h, w = hr.shape[0] // s, hr.shape[1] // s
        while True:
            try:
                return run_tiled(fn, numpy_reader(hr, s, self.device), (h, w), tile, self.model.cfg.halo,
                                 out_channels=out_channels, progress=progress, cancelled=cancelled, reduce=reduce)
            except (torch.OutOfMemoryError, MemoryError, RuntimeError) as e:
                if not is_out_of_memory(e) or tile <= 16:
                    raise
                tile //= 2
                self.notes.append(f"Out of memory on {self.device.type}: retrying with {tile}-pixel tiles.")
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()

    def neighbourhood(self, hr: np.ndarray, i: int, j: int, radius: int = 0) -> Neighbourhood:
        """Kernels of LR pixels within `radius` of (i, j), from a small crop: instant even on a 50 MP photo."""
        s, halo, k = self.scale, self.model.cfg.halo, self.model.cfg.k
        h, w = hr.shape[0] // s, hr.shape[1] // s
        y0, y1 = max(0, i - radius), min(h, i + radius + 1)
        x0, x1 = max(0, j - radius), min(w, j + radius + 1)
        iy0, iy1, ix0, ix1 = max(0, y0 - halo), min(h, y1 + halo), max(0, x0 - halo), min(w, x1 + halo)
        x = numpy_reader(hr, s, self.device)(iy0, iy1, ix0, ix1)
        taps = self.model.cfg.linear_taps
        with torch.inference_mode():
            terms = self.model(x, return_terms=True)
            patches = unfold_patches(x, s, k)[0]
            lin_patches = unfold_patches(x, s, taps)[0] if taps else None
        sl = (slice(y0 - iy0, y1 - iy0), slice(x0 - ix0, x1 - ix0))
        cut = ADKOutput(
            lr=terms.lr[:, :, sl[0], sl[1]].cpu(),
            kernels=terms.kernels[..., sl[0], sl[1]].cpu(),
            gain=None if terms.gain is None else terms.gain[:, :, sl[0], sl[1]].cpu(),
            bias=None if terms.bias is None else terms.bias[:, :, sl[0], sl[1]].cpu(),
            mix=None if terms.mix is None else terms.mix.cpu(),
            mix_bias=None if terms.mix_bias is None else terms.mix_bias.cpu(),
            premix=terms.premix[:, :, sl[0], sl[1]].cpu(),
            linear=None if terms.linear is None else terms.linear[:, :, sl[0], sl[1]].cpu(),
            linear_kernel=None if terms.linear_kernel is None else terms.linear_kernel.cpu(),
        )
        p = pad_amount(s, k)
        return Neighbourhood(y0=y0, x0=x0, terms=cut, patches=patches[:, :, sl[0], sl[1]].cpu(),
                             hr_origin=(y0 * s - p, x0 * s - p),
                             linear_patches=None if lin_patches is None else lin_patches[:, :, sl[0], sl[1]].cpu())
