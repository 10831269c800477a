"""Colour maps of the views that show a value per pixel (error maps, kernel statistics), on screen.

The tables themselves are Qt-free (`adk_model.colormaps`: pyqtgraph's data files, read without Qt), so the
on-screen lookup tables, the saved maps and the CLI's figures colour a value the same way; here they become
pyqtgraph ColorMaps for the views and colour bars.
"""

from __future__ import annotations

import pyqtgraph as pg

from adk_model.colormaps import DIVERGING, LUT_SIZE, SEQUENTIAL, apply, for_values, lookup_table, lut_indices  # noqa: F401


def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph ColorMap by name (see `pg.colormap.listMaps()`)."""
    return pg.colormap.get(name)
