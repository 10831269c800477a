"""Colour maps shared by the views that show a value per pixel (error maps, kernel statistics).

One lookup table per map (256 RGB entries) is used both on screen (an `ImageItem`'s lookup table) and for
PNG export (`apply`), so a saved map has the colours the view shows. Maps come with pyqtgraph (CET and
matplotlib's perceptually uniform ones), so nothing extra is installed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg

DIVERGING = "CET-D4"   # blue - black - red: 0 is black, negative blue, positive red (signed values)
SEQUENTIAL = "inferno"  # black - purple - yellow: 0 is black, larger is brighter (non-negative values)
LUT_SIZE = 256


def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph ColorMap by name (see `pg.colormap.listMaps()`)."""
    return pg.colormap.get(name)


@lru_cache(maxsize=16)
def lookup_table(name: str) -> np.ndarray:
    """The map as a (256, 3) uint8 RGB table (read-only)."""
    lut = np.ascontiguousarray(colormap(name).getLookupTable(nPts=LUT_SIZE, mode="byte", alpha=False))
    lut.setflags(write=False)
    return lut


def for_values(signed: bool) -> str:
    """Diverging map centred at 0 for signed values, sequential otherwise."""
    return DIVERGING if signed else SEQUENTIAL


def lut_indices(values: np.ndarray, levels: tuple[float, float], n: int = LUT_SIZE) -> np.ndarray:
    """Table index of each value: `levels` span the table, values outside are clipped (NaN -> 0), as ImageItem."""
    lo, hi = float(levels[0]), float(levels[1])
    span = hi - lo if hi > lo else 1.0
    x = (np.asarray(values, dtype=np.float64) - lo) * (n / span)
    x = np.nan_to_num(x, nan=0.0, posinf=n - 1, neginf=0.0)
    return np.clip(x, 0, n - 1).astype(np.intp)


def apply(values: np.ndarray, levels: tuple[float, float], name: str) -> np.ndarray:
    """Colour an (H, W) array: uint8 (H, W, 3) RGB, with `levels` = (value at the first, at the last colour)."""
    return lookup_table(name)[lut_indices(values, levels)]
