"""Pieces of the Differences tab: value format, the histogram's count axis, sizes."""

from __future__ import annotations

import math

import pyqtgraph as pg

KEY = "diff"
GAIN_STEPS = 300  # slider positions: gain = 10 ** (pos / 100), 1 .. 1000
STAT_COLUMNS = ("mean", "max", "p99")
SIGNED_STAT_COLUMNS = ("mean", "min", "p1", "p99", "max")  # a signed error's negative side is as large


def stat_columns(mode: str) -> tuple[str, ...]:
    """The statistics shown for an error mode: signed adds the minimum and the 1st percentile."""
    return SIGNED_STAT_COLUMNS if mode == "signed" else STAT_COLUMNS
_AXIS_PEN = "#c8c8c8"
HIST_HEADROOM = 1.25  # the tallest bin stops at 80% of the plot's height, below the mean / p99 labels


def fmt_value(v: float) -> str:
    """An error value as shown (table, readout, range): 4 significant digits."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.4g}"


class _LogCountAxis(pg.AxisItem):
    """Histogram counts drawn as log10(1 + n), labelled with the counts themselves (1, 10, 100, 1k …)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph API
        top = max(1, int(math.ceil(maxVal)) + 1)
        return [(1.0, [0.0] + [math.log10(1 + 10 ** k) for k in range(top)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        out = []
        for v in values:
            n = round(10 ** v - 1)
            out.append("0" if n <= 0 else (f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k" if n >= 1e3 else f"{n:g}"))
        return out
