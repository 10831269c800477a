"""A rectangle in LR pixels shown on every view of a grid (the region of a figure): drag it or its corner in any
view and every other view follows; it snaps to whole LR pixels and stays inside the image."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Signal

PEN = pg.mkPen("#00e5ff", width=2)


class RegionOverlay(QObject):
    """One synced pyqtgraph RectROI per view of `grid` (a ViewGrid), shown while `visible`."""

    changed = Signal(int, int, int, int)  # x, y, w, h in LR pixels

    def __init__(self, grid, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        self.visible = False
        self.rect = (0, 0, 1, 1)
        self._syncing = False

    def _panels(self):
        return list(self.grid.panels.values()) + [self.grid.swipe]

    def refresh(self) -> None:
        """Give views created since (a method ticked) their rectangle; show or hide them all."""
        bounds = QRectF(0, 0, *(self.grid.image_hw or (1, 1))[::-1])
        for p in self._panels():
            roi = getattr(p, "region_roi", None)
            if roi is None:
                roi = pg.RectROI(QPointF(*self.rect[:2]), QPointF(*self.rect[2:]), pen=PEN, snapSize=1,
                                 translateSnap=True, scaleSnap=True, movable=True, rotatable=False)
                roi.setZValue(30)
                roi.sigRegionChanged.connect(lambda r=roi: self._moved(r))
                p.vb.addItem(roi, ignoreBounds=True)
                p.region_roi = roi
            roi.maxBounds = bounds
            roi.setVisible(self.visible)

    def rois(self) -> list[pg.RectROI]:
        return [p.region_roi for p in self._panels() if getattr(p, "region_roi", None) is not None]

    def show(self, on: bool) -> None:
        self.visible = bool(on)
        self.refresh()

    def set_rect(self, x: int, y: int, w: int, h: int) -> None:
        """Put the rectangle here in every view (typed values)."""
        self.rect = (int(x), int(y), max(1, int(w)), max(1, int(h)))
        self._syncing = True
        try:
            for roi in self.rois():
                roi.setPos(QPointF(*self.rect[:2]), update=False)
                roi.setSize(QPointF(*self.rect[2:]), update=True)
        finally:
            self._syncing = False
        self.changed.emit(*self.rect)

    def _moved(self, roi: pg.RectROI) -> None:
        if self._syncing:
            return
        pos, size = roi.pos(), roi.size()
        self.set_rect(round(pos.x()), round(pos.y()), round(size.x()), round(size.y()))
