"""The kernel inspector's state, with no Qt in it: what the kernel panel shows for one LR pixel, and a small cache
of neighbourhoods so that moving the selection with the arrow keys needs no new forward pass.

Kernels only ever come from `AdkRunner.neighbourhood` (a crop around the pixel): the kernel field of the whole
image is never held in memory.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from adk_model.adknet import reconstruct_pixel
from adk_model.errors import UserError
from adk_model.inference import Neighbourhood
from adk_model.kernel_stats import STATS, STAT_LABELS, bicubic_is_truncated, bicubic_kernel, kernel_stats

CACHE_RADIUS = 4      # LR pixels around the selection whose kernels are computed at once
RECON_TOLERANCE = 1e-4


def method_set_or_say(session, say: Callable[[str], None]):
    """The session's MethodSet for a job, or None after saying why there is none (e.g. the saved device is gone)."""
    try:
        return session.method_set()
    except UserError as e:
        say(str(e))
        return None


@lru_cache(maxsize=16)
def _bicubic(scale: int, k: int) -> np.ndarray:
    return bicubic_kernel(scale, k).astype(np.float32)


@dataclass
class PixelReport:
    """Everything that produced one ADK-Net LR pixel, as numbers the panel shows and exports."""

    row: int
    col: int
    scale: int
    k: int
    kernels: np.ndarray            # (3, k, k) float32
    patch: np.ndarray              # (3, k, k) float32: the HR values the taps read (reflect-padded at borders)
    hr_origin: tuple[int, int]     # HR (row, col) of tap (0, 0); may be < 0 at the image border
    gain: np.ndarray | None        # (3,): out_c = (1 + gain_c) * sum_c + bias_c, before the mix
    bias: np.ndarray | None
    mix: np.ndarray | None         # (3, 3), applied last: y = mix @ premix + mix_bias
    mix_bias: np.ndarray | None
    output: np.ndarray             # (3,) the model's output (not clamped)
    weighted_sums: np.ndarray      # (3,) sum(K_c * patch_c)
    premix: np.ndarray             # (3,) after gain and bias
    linear: np.ndarray | None      # (3,) the global linear kernel's part, added after the mix (adknet-v2)
    reconstructed: np.ndarray      # (3,) adk_model.adknet.reconstruct_pixel on the shown terms
    stats: dict[str, np.ndarray]   # STATS -> (3,)
    bicubic: np.ndarray            # (k, k) PIL's bicubic at this scale on the same grid
    bicubic_stats: dict[str, float]
    bicubic_truncated: bool
    seconds: float | None = None   # time of the forward pass that produced it (None: from the cache)
    linear_taps: int = 0           # side of the global linear part's footprint (adknet-v2), 0 without one

    def border_note(self, hr_shape: tuple[int, ...]) -> str:
        """How taps beyond the image edge are filled, when this pixel's footprint reaches past it ('' if not)."""
        h, w = hr_shape[:2]
        side = max(self.k, self.linear_taps)
        y0 = self.hr_origin[0] - (side - self.k) // 2
        x0 = self.hr_origin[1] - (side - self.k) // 2
        out = {"top": -y0, "left": -x0, "bottom": y0 + side - h, "right": x0 + side - w}
        edges = [f"{n} HR px past the {e} edge" for e, n in out.items() if n > 0]
        if not edges:
            return ""
        what = f"{self.k}×{self.k} footprint" + (f" (and the {side}×{side} linear part's)" if side > self.k else "")
        reflect = min(h, w) > (side - self.scale) // 2  # adk_model.resample.patch_view's rule
        mode = ("mirrored at the edge (reflect padding: the edge pixel is not repeated)" if reflect
                else "repeating the edge pixel (replicate padding: the image is smaller than the footprint)")
        return (f"At the border: the {what} reaches {', '.join(edges)}; those taps read the image {mode}, "
                "as every ADK-Net run does.")

    @property
    def max_abs_diff(self) -> float:
        return float(np.max(np.abs(self.reconstructed - self.output)))

    @property
    def reconstruction_ok(self) -> bool:
        return self.max_abs_diff < RECON_TOLERANCE

    @property
    def pad(self) -> int:
        return (self.k - self.scale) // 2

    def tap_hr(self, r: int, c: int) -> tuple[int, int]:
        """HR (row, col) that tap (r, c) reads (before reflect padding)."""
        return self.hr_origin[0] + r, self.hr_origin[1] + c

    def tap_offset(self, r: int, c: int) -> tuple[float, float]:
        """Tap (r, c) relative to the HR cell centre, in HR pixels (dx, dy)."""
        h = (self.k - 1) / 2
        return c - h, r - h

    def kernels_csv(self) -> str:
        """One line per tap and channel: where it reads, its weight and the HR value it reads."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["lr_x", "lr_y", "channel", "tap_row", "tap_col", "dx_hr", "dy_hr", "hr_x", "hr_y", "weight",
                    "hr_value", "bicubic_weight"])
        for ci, ch in enumerate("RGB"):
            for r in range(self.k):
                for c in range(self.k):
                    dx, dy = self.tap_offset(r, c)
                    hy, hx = self.tap_hr(r, c)
                    w.writerow([self.col, self.row, ch, r, c, f"{dx:g}", f"{dy:g}", hx, hy,
                                f"{self.kernels[ci, r, c]:.9g}", f"{self.patch[ci, r, c]:.9g}",
                                f"{self.bicubic[r, c]:.9g}"])
        return buf.getvalue()

    def stats_rows(self) -> list[tuple[str, list[float]]]:
        """(label, [R, G, B, bicubic]) per statistic, as the panel's table shows them."""
        return [(STAT_LABELS[s], [float(v) for v in self.stats[s]] + [float(self.bicubic_stats[s])]) for s in STATS]


def pixel_report(nb: Neighbourhood, row: int, col: int, scale: int, seconds: float | None = None) -> PixelReport:
    """The panel's numbers for LR pixel (row, col) of a neighbourhood that contains it."""
    at = nb.at(row, col)
    kern = at["kernels"].float()
    patch = at["patch"].float()
    k = kern.shape[-1]
    li, lj = row - nb.y0, col - nb.x0
    recon = reconstruct_pixel(nb.terms, patch, li, lj, at.get("linear_patch"))
    sums = (kern * patch).sum(dim=(1, 2))
    gain = None if at["gain"] is None else at["gain"].numpy().astype(np.float32)
    bias = None if at["bias"] is None else at["bias"].numpy().astype(np.float32)
    premix = sums.numpy().astype(np.float32)
    if gain is not None:
        premix = (1 + gain) * premix + bias
    bic = _bicubic(scale, k)
    bstats = kernel_stats(bic[None])
    py, px = nb.hr_origin
    return PixelReport(
        row=row, col=col, scale=scale, k=k,
        kernels=kern.numpy().astype(np.float32), patch=patch.numpy().astype(np.float32),
        hr_origin=(py + li * scale, px + lj * scale),
        gain=gain, bias=bias,
        mix=None if at["mix"] is None else at["mix"].numpy().astype(np.float32),
        mix_bias=None if at["mix_bias"] is None else at["mix_bias"].numpy().astype(np.float32),
        output=at["output"].numpy().astype(np.float32), weighted_sums=sums.numpy().astype(np.float32),
        premix=premix, reconstructed=recon.numpy().astype(np.float32),
        linear=None if "linear" not in at else at["linear"].numpy().astype(np.float32),
        stats=kernel_stats(kern.numpy()), bicubic=bic, bicubic_stats={s: float(v[0]) for s, v in bstats.items()},
        bicubic_truncated=bicubic_is_truncated(scale, k), seconds=seconds,
        linear_taps=int(at["linear_patch"].shape[-1]) if at.get("linear_patch") is not None else 0)


@dataclass
class NeighbourhoodCache:
    """The last few neighbourhoods computed for one image/scale/weights (`key`); small by construction."""

    key: object = None
    entries: list[Neighbourhood] = field(default_factory=list)
    keep: int = 3

    def reset(self, key: object) -> None:
        self.key, self.entries = key, []

    def find(self, row: int, col: int) -> Neighbourhood | None:
        for nb in self.entries:
            h, w = nb.terms.lr.shape[-2:]
            if nb.y0 <= row < nb.y0 + h and nb.x0 <= col < nb.x0 + w:
                return nb
        return None

    def add(self, key: object, nb: Neighbourhood) -> None:
        if key != self.key:
            return
        self.entries = [nb] + self.entries[: self.keep - 1]

    def near_edge(self, row: int, col: int, lr_shape: tuple[int, int], margin: int = 1) -> bool:
        """True when (row, col) is cached but within `margin` of a cached window edge that is not the image's:
        time to fetch the next neighbourhood in the background."""
        nb = self.find(row, col)
        if nb is None:
            return True
        h, w = nb.terms.lr.shape[-2:]
        H, W = lr_shape
        return ((row - nb.y0 < margin and nb.y0 > 0) or (nb.y0 + h - 1 - row < margin and nb.y0 + h < H) or
                (col - nb.x0 < margin and nb.x0 > 0) or (nb.x0 + w - 1 - col < margin and nb.x0 + w < W))
