"""A whole-image map of one kernel statistic per LR pixel, with a colour bar in data units and the selection."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from adk_model.kernel_stats import FIELD_DIVERGING, FIELD_STATS, field_levels

from adkviewer.tabs.inspect.kernel_panel import DIVERGING

SEQUENTIAL = "viridis"
BACKGROUND = "#1e1e1e"


def colormap_for(key: str) -> pg.ColorMap:
    """Diverging (white at 0) for signed statistics, sequential otherwise."""
    return pg.colormap.get(DIVERGING if key in FIELD_DIVERGING else SEQUENTIAL)


def render_rgb(key: str, values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """The map as the uint8 RGB image the view shows (for saving it at full LR resolution)."""
    lut = colormap_for(key).getLookupTable(nPts=256, alpha=False)
    lo, hi = levels
    v = np.nan_to_num(values, nan=lo)
    idx = np.clip(np.round((v - lo) / max(hi - lo, 1e-12) * 255), 0, 255).astype(np.intp)
    return np.ascontiguousarray(lut[idx][..., :3].astype(np.uint8))


class FieldMapView(pg.GraphicsLayoutWidget):
    """The field map in a y-down, aspect-locked view (LR pixel coordinates, like the Compare views)."""

    clicked = Signal(int, int)      # LR (row, col)
    hovered = Signal(int, int)      # LR (row, col), (-1, -1) outside
    cameraMoved = Signal()          # the person panned or zoomed here

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.vb = self.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.vb.setDefaultPadding(0.0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.marker = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(QColor("#ff00ff"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self.marker.setPen(pen)
        self.marker.setZValue(10)
        self.marker.hide()
        self.vb.addItem(self.marker, ignoreBounds=True)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=colormap_for("spread_r"), label="",
                                        interactive=False, width=12, colorMapMenu=False)
        for ax in ("left", "right"):
            a = self.colorbar.getAxis(ax)
            a.setPen(pg.mkPen("#c0c0c0"))
            a.enableAutoSIPrefix(False)  # weights and offsets read as plain decimals
            a.setTextPen(pg.mkPen("#e0e0e0"))
        self.colorbar_label = self.colorbar.getAxis("left")  # the label left of the bar, the values right of it
        self.colorbar.axis.setWidth(None)  # as wide as its tick labels need (a fixed 45 px put the label over them)
        self.colorbar.setImageItem(self.image)
        self.addItem(self.colorbar, row=0, col=1)
        self.key: str | None = None
        self.values: np.ndarray | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.scene().sigMouseMoved.connect(self._on_move)
        self.vb.sigRangeChangedManually.connect(lambda *_: self.cameraMoved.emit())

    def set_map(self, key: str, values: np.ndarray | None, keep_view: bool = True) -> None:
        """Show one statistic (None: clear); levels are symmetric about 0 for dx/dy (see field_levels)."""
        had = self.values is not None and values is not None and self.values.shape == values.shape
        self.key, self.values = key, values
        self.colorbar.setVisible(values is not None)
        if values is None:
            self.image.clear()
            return
        self.levels = field_levels(key, values)
        self.colorbar.setColorMap(colormap_for(key))
        label, unit = FIELD_STATS[key]
        self.colorbar_label.setLabel(f"{label} ({unit})" if unit == "HR px" else label)
        self.colorbar_label.resizeEvent()  # pyqtgraph places a label only on resize: centre the new text now
        self.image.setImage(np.nan_to_num(values, nan=self.levels[0]).astype(np.float32), autoLevels=False,
                            levels=self.levels)
        self.colorbar.setLevels(self.levels)
        if not (had and keep_view):
            self.vb.setRange(QRectF(0, 0, values.shape[1], values.shape[0]), padding=0.0)

    def set_selection(self, row: int, col: int) -> None:
        if row < 0:
            self.marker.hide()
        else:
            self.marker.setRect(QRectF(col, row, 1, 1))
            self.marker.show()

    def value_at(self, row: int, col: int) -> float | None:
        v = self.values
        if v is None or not (0 <= row < v.shape[0] and 0 <= col < v.shape[1]):
            return None
        return float(v[row, col])

    def _lr_at(self, scene_pos) -> tuple[int, int]:
        p = self.vb.mapSceneToView(scene_pos)
        return int(math.floor(p.y())), int(math.floor(p.x()))

    def _on_click(self, ev) -> None:
        if ev.button() == Qt.LeftButton and not ev.double() and self.values is not None:
            row, col = self._lr_at(ev.scenePos())
            if self.value_at(row, col) is not None:
                self.clicked.emit(row, col)

    def _on_move(self, pos) -> None:
        row, col = self._lr_at(pos)
        self.hovered.emit(*((row, col) if self.value_at(row, col) is not None else (-1, -1)))
