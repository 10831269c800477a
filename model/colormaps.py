"""The colour maps of every per-pixel value display (Differences, field maps, figures), with no Qt in it.

The tables are pyqtgraph's own data files (CET-D4 and matplotlib's inferno, 256 stops each), read as pyqtgraph
reads them but without importing it, so the Differences tab, the saved maps and the figures of the CLI colour
a value the same way.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

DIVERGING = "CET-D4"   # blue - black - red: 0 is black, negative blue, positive red (signed values)
SEQUENTIAL = "inferno"  # black - purple - yellow: 0 is black, larger is brighter (non-negative values)
LUT_SIZE = 256


def _maps_folder() -> Path:
    spec = importlib.util.find_spec("pyqtgraph")  # locates the installed package; does not import it (nor Qt)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pyqtgraph (whose colour map data is used) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "colors" / "maps"


def _stops(name: str) -> np.ndarray:
    """The colour stops of a map file as (N, 3) uint8, rounded as pyqtgraph rounds them."""
    rows = []
    for line in (_maps_folder() / f"{name}.csv").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        comp = line.split(";", 1)[0].split(",")
        if len(comp) >= 3:
            rows.append([int(255 * float(c) + 0.5) for c in comp[:3]])
    return np.asarray(rows, dtype=np.float64)


@lru_cache(maxsize=16)
def lookup_table(name: str) -> np.ndarray:
    """The map as a (256, 3) uint8 RGB table (read-only), as pyqtgraph's getLookupTable(256, mode='byte') gives."""
    stops = _stops(name)
    pos = np.linspace(0.0, 1.0, len(stops))
    x = np.linspace(0.0, 1.0, LUT_SIZE)
    lut = np.stack([np.interp(x, pos, stops[:, c]) for c in range(3)], axis=1)
    lut = np.clip(lut + 0.5, 0, 255).astype(np.uint8)  # pyqtgraph: (value + 0.5).astype(ubyte)
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
