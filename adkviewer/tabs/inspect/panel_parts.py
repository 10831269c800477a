"""Small Qt pieces of the kernel panel: read-only tables, batched cell updates, a titled image box, label helpers."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QWidget)


def make_pen(color: str, width: float = 1.5, dash: bool = False) -> QPen:
    pen = QPen(QColor(color))
    pen.setCosmetic(True)
    pen.setWidthF(width)
    if dash:
        pen.setStyle(Qt.DashLine)
    return pen


def read_only_table(rows: int, cols: int, parent: QWidget) -> QTableWidget:
    """A read-only, focus-less table (arrow keys keep moving the selected pixel)."""
    t = QTableWidget(rows, cols, parent)
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.NoSelection)
    t.setFocusPolicy(Qt.NoFocus)
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    t.verticalHeader().setDefaultSectionSize(20)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    t.setWordWrap(False)
    return t


class batch:
    """Update many cells with one dataChanged notification (per-cell notifications cost ~0.3 ms each)."""

    def __init__(self, t: QTableWidget) -> None:
        self.t = t

    def __enter__(self) -> QTableWidget:
        self.t.model().blockSignals(True)
        return self.t

    def __exit__(self, *exc) -> None:
        m = self.t.model()
        m.blockSignals(False)
        m.dataChanged.emit(m.index(0, 0), m.index(m.rowCount() - 1, m.columnCount() - 1))


def set_cell(t: QTableWidget, row: int, col: int, text: str, tip: str = "", bold: bool = False) -> None:
    """Set a cell's text, making its item only once (updating items is much cheaper than replacing them)."""
    it = t.item(row, col)
    if it is None:
        it = QTableWidgetItem(text)
        it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        if tip:
            it.setToolTip(tip)
        if bold:
            f = it.font()
            f.setBold(True)
            it.setFont(f)
        t.setItem(row, col, it)
    elif it.text() != text:
        it.setText(text)


class ImageBox(pg.GraphicsLayoutWidget):
    """A titled, unsmoothed image in a y-down, aspect-locked view (white background)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.ci.layout.setSpacing(1)
        self.title = self.addLabel("", row=0, col=0)
        self.vb = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.vb.setDefaultPadding(0.02)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.setFocusPolicy(Qt.NoFocus)
        self.set_title(title)

    def set_title(self, text: str) -> None:
        """Set the title and keep the box at least as wide as it, so a narrow window never clips it."""
        self.title.setText(text, color="#202020", size="9pt")
        self.setMinimumWidth(max(120, math.ceil(self.title.item.boundingRect().width()) + 8))




def bold_label(text: str) -> QLabel:
    lab = QLabel(f"<b>{text}</b>")
    lab.setTextFormat(Qt.RichText)
    lab.setWordWrap(True)
    return lab


def fit_height(t: QTableWidget, scroll_bar: bool = False) -> None:
    """Every row in sight, and room for a horizontal scroll bar where the table may scroll sideways."""
    h = t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 2 * t.frameWidth() + 2
    t.setFixedHeight(h + (t.horizontalScrollBar().sizeHint().height() if scroll_bar else 0))


def min_width(t: QTableWidget, widest_value: str, pad: int = 12) -> None:
    """Keep every column wide enough for its header and a typical value, so a narrow window does not elide the
    numbers to "1...." (the table has no scroll bars)."""
    value_w = t.fontMetrics().horizontalAdvance(widest_value) + pad
    hh = t.horizontalHeader()
    cols = [max(value_w, hh.sectionSizeHint(c)) for c in range(t.columnCount())]
    hh.setMinimumSectionSize(min(cols))
    t.setMinimumWidth(t.verticalHeader().sizeHint().width() + sum(cols) + 2 * t.frameWidth() + 2)


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")



RECON_COLUMNS = ("Σ K·HR", "gain 1+g", "bias b", "pre-mix", "mix ·R", "mix ·G", "mix ·B", "mix bias", "linear",
                 "reconstructed", "ADK-Net output")
RECON_TIPS = ("Σ over the k×k taps of kernel weight × HR value (this channel)",
              "Per-pixel gain of this channel: pre-mix = (1+g)·Σ K·HR + b",
              "Per-pixel bias of this channel", "(1+g)·Σ K·HR + b: the value before the colour mix",
              "Row of the global 3×3 colour mix: weight of the R pre-mix value",
              "Row of the global 3×3 colour mix: weight of the G pre-mix value",
              "Row of the global 3×3 colour mix: weight of the B pre-mix value",
              "Bias added after the colour mix",
              "The global linear part: Σ L·HR over a T×T patch of all three HR channels, one kernel for the whole "
              "image (what quick calibrate fits in closed form, with the mix and its bias)",
              "mix · pre-mix + mix bias + linear, recomputed from the numbers shown (adk_model.adknet.reconstruct_pixel)",
              "The value ADK-Net's forward pass produced for this pixel (before clamping to [0, 1])")


def recon_table(parent: QWidget, channel_colours: tuple[str, str, str]) -> QTableWidget:
    """The colour-response and reconstruction table, one row per channel; a narrow panel scrolls it sideways
    (pixel by pixel) rather than eliding its numbers to "0.…"."""
    t = read_only_table(3, len(RECON_COLUMNS), parent)
    t.setHorizontalHeaderLabels(list(RECON_COLUMNS))
    for i, tip in enumerate(RECON_TIPS):
        t.horizontalHeaderItem(i).setToolTip(tip)
    t.setVerticalHeaderLabels(["R", "G", "B"])
    for i, col in enumerate(channel_colours):
        t.verticalHeaderItem(i).setForeground(QColor(col))
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
    t.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
    fit_height(t, scroll_bar=True)
    return t
