"""Applying per-pixel, per-channel kernels to an HR image, plus the tiling that keeps memory flat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .adknet_config import pad_amount


def patch_view(hr: torch.Tensor, scale: int, k: int) -> torch.Tensor:
    """HR (B, C, H, W) -> the k x k patch each LR pixel reads, (B, C, H/s, W/s, k, k), reflect-padded.

    A strided view of the padded HR: nothing of size k*k per pixel is allocated until a caller needs it.
    """
    b, c, h, w = hr.shape
    p = pad_amount(scale, k)
    hr = hr.contiguous()
    if p:
        mode = "reflect" if min(h, w) > p else "replicate"
        hr = F.pad(hr, (p, p, p, p), mode=mode)
    hp, wp = hr.shape[2], hr.shape[3]
    return hr.as_strided((b, c, h // scale, w // scale, k, k),
                         (c * hp * wp, hp * wp, scale * wp, scale, wp, 1), hr.storage_offset())


def unfold_patches(hr: torch.Tensor, scale: int, k: int) -> torch.Tensor:
    """The same patches as (B, C, k*k, H/s, W/s), the layout of the kernels shown by the inspector."""
    b, c, h, w = hr.shape
    return patch_view(hr, scale, k).reshape(b, c, h // scale, w // scale, k * k).permute(0, 1, 4, 2, 3)


# --------------------------------------------------------------------------- tiling


@dataclass(frozen=True)
class Tile:
    """One LR tile: the region it writes (out_*) and the larger region it reads (in_*), in LR pixels."""

    out_y0: int
    out_y1: int
    out_x0: int
    out_x1: int
    in_y0: int
    in_y1: int
    in_x0: int
    in_x1: int


def tile_spans(n: int, tile: int, halo: int) -> list[tuple[int, int, int, int]]:
    """Split 0..n into (out0, out1, in0, in1) spans whose reads all have one length, at most tile + 2 * halo.

    Equal reads give every tile of an image the same working set, so the allocator reuses its blocks instead of
    fragmenting on odd-sized edge tiles. Border reads need no halo on their outer side, and the fewest reads that
    fit are made just long enough to cover n, so no thin last tile recomputes a whole halo.
    """
    longest = max(1, int(tile)) + 2 * halo
    if n <= longest:
        return [(0, n, 0, n)]
    count = 1 + -(-(n - longest) // (longest - 2 * halo))
    read = -(-(n - 2 * halo) // count) + 2 * halo
    starts = [round(i * (n - read) / (count - 1)) for i in range(count)]
    cuts = [0] + [(a + b + read) // 2 for a, b in zip(starts, starts[1:])] + [n]
    return [(cuts[i], cuts[i + 1], a, a + read) for i, a in enumerate(starts)]


def iter_tiles(h: int, w: int, tile: int, halo: int) -> Iterator[Tile]:
    """Cover an h x w LR grid with tiles whose reads (tile plus `halo` each side, or the border) share one size."""
    cols = tile_spans(w, tile, halo)
    for y0, y1, iy0, iy1 in tile_spans(h, tile, halo):
        for x0, x1, ix0, ix1 in cols:
            yield Tile(y0, y1, x0, x1, iy0, iy1, ix0, ix1)


def count_tiles(h: int, w: int, tile: int, halo: int) -> int:
    return len(tile_spans(h, tile, halo)) * len(tile_spans(w, tile, halo))


def numpy_reader(hr: np.ndarray, scale: int,
                 device: torch.device | None = None) -> Callable[[int, int, int, int], torch.Tensor]:
    """Reads the HR region under an LR window from an (H, W, 3) uint8/uint16/float array, as (1, 3, h, w) float32.

    Converting per tile keeps peak memory flat for integer images; a uint8 region travels to `device` as it is (a
    quarter of the bytes) and is converted there; float64 and uint16 become float32 on the CPU (MPS has neither).
    """
    div = 255.0 if hr.dtype == np.uint8 else 65535.0 if hr.dtype == np.uint16 else 1.0

    def read(y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        region = np.ascontiguousarray(hr[y0 * scale : y1 * scale, x0 * scale : x1 * scale, :3])
        if region.dtype not in (np.uint8, np.float32):
            region = region.astype(np.float32)
        t = torch.from_numpy(region).to(device or "cpu").permute(2, 0, 1).unsqueeze(0).float()
        return t / div if div != 1.0 else t

    return read


def run_tiled(
    fn: Callable[[torch.Tensor], torch.Tensor],
    read_hr: Callable[[int, int, int, int], torch.Tensor],
    lr_size: tuple[int, int],
    tile: int,
    halo: int,
    out_channels: int = 3,
    progress: Callable[[int, int, Tile, torch.Tensor], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Run an HR->LR function tile by tile; with halo >= its receptive radius the result equals the untiled one.

    Only one tile at a time is read (on the reader's device) and computed; the output is gathered on the CPU.
    `fn`'s output may have any leading dimensions (..., h, w); each tile's is cut to the region it writes and,
    with `reduce`, turned into the (B, out_channels, h, w) stored (e.g. kernels -> per-pixel statistics), so
    nothing of size k*k per pixel outlives its tile. `progress(done, total, tile, tile_output)` lets a GUI
    paint tiles as they finish.
    """
    h, w = lr_size
    out: torch.Tensor | None = None
    total = count_tiles(h, w, tile, halo)
    for n, t in enumerate(iter_tiles(h, w, tile, halo)):
        if cancelled is not None and cancelled():
            raise InterruptedError("cancelled")
        x = read_hr(t.in_y0, t.in_y1, t.in_x0, t.in_x1)
        if out is None:  # before the first forward, so it does not land in (and split) the freed tile memory
            out = torch.empty(x.shape[0], out_channels, h, w, dtype=torch.float32)
        y = fn(x)
        del x
        y = y[..., t.out_y0 - t.in_y0 : t.out_y1 - t.in_y0, t.out_x0 - t.in_x0 : t.out_x1 - t.in_x0]
        if reduce is not None:
            y = reduce(y)
        y = y.float().cpu()
        out[:, :, t.out_y0 : t.out_y1, t.out_x0 : t.out_x1] = y
        if progress is not None:
            progress(n + 1, total, t, y)
        del y  # nothing of this tile outlives it, so every tile starts from the same free memory
    assert out is not None
    return out


def tile_for_budget(bytes_per_lr_pixel: float, halo: int, budget_bytes: float, max_tile: int = 1024) -> int:
    """Largest square LR tile whose working set (tile plus halo) fits the memory budget."""
    side = int((budget_bytes / max(bytes_per_lr_pixel, 1.0)) ** 0.5) - 2 * halo
    return int(max(16, min(max_tile, side)))
