"""Pieces of the Differences tab: value format, sizes, the histogram and the statistics table."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from adk_model.metrics import ERROR_CHANNELS

from adkviewer.tabs.diff.diff_state import CHANNEL_LABELS, DiffResult
from adkviewer.widgets import colormaps
from adkviewer.widgets.image_panel import BACKGROUND

KEY = "diff"
GAIN_STEPS = 300  # slider positions: gain = 10 ** (pos / 100), 1 .. 1000
STAT_COLUMNS = ("mean", "max", "p99")
SIGNED_STAT_COLUMNS = ("mean", "min", "p1", "p99", "max")  # a signed error's negative side is as large
AXIS_PEN = "#c8c8c8"
HIST_HEADROOM = 1.25  # the tallest bin stops at 80% of the plot's height, below the mean / p99 labels


def stat_columns(mode: str) -> tuple[str, ...]:
    """The statistics shown for an error mode: signed adds the minimum and the 1st percentile."""
    return SIGNED_STAT_COLUMNS if mode == "signed" else STAT_COLUMNS


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


class ErrorHistogram(pg.PlotWidget):
    """The map's histogram on a log count axis, bars coloured as the map, the colour range and mean / p99 lines
    (and p1 for signed error)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"left": _LogCountAxis("left")}, background=BACKGROUND)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        for ax in ("left", "bottom"):
            self.getAxis(ax).setPen(AXIS_PEN)
            self.getAxis(ax).setTextPen(AXIS_PEN)
            self.getAxis(ax).enableAutoSIPrefix(False)
        self.setLabel("left", "pixels")
        self.setMinimumHeight(130)
        self.bars = pg.BarGraphItem(x0=[0], x1=[1], height=[0], pen=None)
        self.addItem(self.bars)
        self.region = pg.LinearRegionItem(values=(0, 1), movable=False, brush=pg.mkBrush(255, 255, 255, 22),
                                         pen=pg.mkPen(255, 255, 255, 60))
        self.region.setZValue(-10)
        self.addItem(self.region, ignoreBounds=True)
        self.marks: dict[str, pg.InfiniteLine] = {}
        # p1: signed error only; the percentiles' labels a line below the mean's, which is often close to them
        for name, color, height in (("mean", "#ffffff", 0.97), ("p99", "#ffd700", 0.8), ("p1", "#ffd700", 0.8)):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(color, width=1, style=Qt.DashLine),
                                   label=name,
                                   labelOpts={"position": height, "color": color, "anchors": [(0, 0), (0, 0)]})
            self.addItem(line, ignoreBounds=True)
            self.marks[name] = line

    def set_axis_label(self, text: str) -> None:
        self.setLabel("bottom", text)
        self.getAxis("bottom").resizeEvent()  # pyqtgraph places a label only on resize: centre the new text now

    def clear_bars(self) -> None:
        """No map: no bars and no lines."""
        self.bars.setOpts(x0=[0], x1=[1], height=[0], brushes=None, brush=None)
        for line in self.marks.values():
            line.hide()

    def show_result(self, res: DiffResult, levels: tuple[float, float], cmap: str, signed: bool) -> None:
        """Bars of `res` coloured by the map's colours over `levels`, the shown range, the mean and p99 (and p1)."""
        lo, hi = levels
        centres = (res.edges[:-1] + res.edges[1:]) / 2
        colours = colormaps.apply(centres, (lo, hi), cmap)
        brushes = [pg.mkBrush(QColor(*map(int, c))) for c in colours]
        self.bars.setOpts(x0=res.edges[:-1], x1=res.edges[1:], height=np.log10(1.0 + res.hist), brushes=brushes)
        self.region.setRegion((lo, hi))
        self.marks["p1"].hide()
        shown = [("mean", res.stats.mean), ("p99", res.stats.p99)] + ([("p1", res.stats.p1)] if signed else [])
        for name, value in shown:
            line = self.marks[name]
            text = f"{name} {fmt_value(value)}"
            line.label.setFormat(text)
            line.setValue(value)
            line.label.setText(text)  # also while the tab is hidden (the label only updates when visible)
            line.show()
        self.setXRange(float(res.edges[0]), float(res.edges[-1]), padding=0.02)
        self.setYRange(0, HIST_HEADROOM * max(1.0, float(np.log10(1.0 + res.hist.max()))), padding=0)


class StatsTable(QTableWidget):
    """One mode's error statistics per channel (one row each: mean, max, p99, and min, p1 for signed error);
    the shown channel's row in bold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(len(ERROR_CHANNELS), len(STAT_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(STAT_COLUMNS))
        self.setVerticalHeaderLabels([CHANNEL_LABELS[c] for c in ERROR_CHANNELS])
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setToolTip("Mean, maximum and 99th percentile of this mode's error in each channel "
                        "(signed: of the signed values, so the mean is the bias, min and p1 the negative "
                        "side, max and p99 the positive one). Click a row to show it.")
        self._rows_height = (sum(self.verticalHeader().sectionSize(i) for i in range(self.rowCount()))
                             + self.horizontalHeader().sizeHint().height() + 4)
        self.setFixedHeight(self._rows_height)
        self._narrow: bool | None = None

    def resizeEvent(self, event) -> None:
        """Columns share the width where every value fits; narrower, they keep that width and the table scrolls
        sideways (with room for the scroll bar) rather than elide the numbers to "0.…"."""
        super().resizeEvent(event)
        narrow = event.size().width() < self.full_width()
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed if narrow else QHeaderView.Stretch)
        self._fix_columns()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOn if narrow else Qt.ScrollBarAlwaysOff)
        self.setFixedHeight(self._rows_height + (self.horizontalScrollBar().sizeHint().height() if narrow else 0))

    def fill(self, stats: dict, channel: str, mode: str) -> None:
        """Show `stats` (channel -> ErrorStats; a missing channel shows dashes) in `mode`'s columns, `channel`'s
        row in bold."""
        bold = QFont()
        bold.setBold(True)
        columns = stat_columns(mode)
        if self.columnCount() != len(columns):
            self.setColumnCount(len(columns))
            self.setHorizontalHeaderLabels(list(columns))
            self._fix_columns()
        for i, c in enumerate(ERROR_CHANNELS):
            st = stats.get(c)
            for j, key in enumerate(columns):
                v = getattr(st, key) if st is not None else None
                it = QTableWidgetItem(fmt_value(v) if v is not None else "—")
                it.setData(Qt.UserRole, v)
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if c == channel:
                    it.setFont(bold)
                self.setItem(i, j, it)
        self.selectRow(ERROR_CHANNELS.index(channel))

    def full_width(self) -> int:
        """The table's width at which its widest value (fmt_value: '-0.0001234' or '-1.234e-05', bold in the
        shown row) shows whole in each of signed error's five columns, rather than elided."""
        return (len(SIGNED_STAT_COLUMNS) * self._column_width() + self.verticalHeader().sizeHint().width()
                + 2 * self.frameWidth() + 4)

    def _fix_columns(self) -> None:
        """Narrow: every column as wide as its widest value (the table scrolls); wide, Stretch shares the width."""
        if self._narrow:
            column = self._column_width()
            for c in range(self.columnCount()):
                self.horizontalHeader().resizeSection(c, column)

    def _column_width(self) -> int:
        bold = QFont(self.font())
        bold.setBold(True)
        return max(QFontMetrics(bold).horizontalAdvance(t) for t in ("-0.0001234", "-1.234e-05")) + 12
