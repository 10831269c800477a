"""A grid of image views sharing one camera, with flicker (one view alone), swipe and a hover marker.

The camera (centre and zoom in LR pixels) is Qt-free state (`state.camera`) given to the grid; every view's
range is set from it, so pan and zoom in any view move all of them, and views added later (a method ticked
again) simply take the camera on creation. Zoom is in screen pixels per LR pixel, so 100% means 1:1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QWidget

from adkviewer.state.camera import MAX_ZOOM, MIN_ZOOM, Camera
from adkviewer.widgets.image_panel import ImagePanel, SwipePanel
from adkviewer.widgets.side_panel import tool_button


@dataclass
class CameraControls:
    fit: QToolButton
    one: QToolButton
    zoom: QLabel


def camera_controls(parent: QWidget, grid: "ViewGrid", fit_tip: str, one_tip: str) -> CameraControls:
    """Fit, 1:1 and the zoom percentage for a grid: the same three controls wherever a tab shows LR views."""
    fit = tool_button(parent, "Fit", fit_tip, grid.fit)
    one = tool_button(parent, "1:1", one_tip, lambda: grid.set_zoom(1.0))
    zoom = QLabel("100%", parent)
    zoom.setMinimumWidth(52)
    zoom.setToolTip("Zoom: screen pixels per LR pixel")
    grid.zoomChanged.connect(lambda z: zoom.setText(f"{z * 100:.0f}%"))
    return CameraControls(fit, one, zoom)


class ViewGrid(QWidget):
    """The views of the Compare tab: a grid (or one view alone, or a swipe view) with one shared camera."""

    hovered = Signal(int, int)        # LR (row, col), (-1, -1) when the mouse leaves
    zoomChanged = Signal(float)       # device pixels per LR pixel (see zoom())
    menuRequested = Signal(str, object)
    clicked = Signal(int, int)
    layoutChanged = Signal()          # grid / one view alone / swipe

    def __init__(self, parent: QWidget | None = None, camera: Camera | None = None) -> None:
        super().__init__(parent)
        self.camera = camera if camera is not None else Camera()
        self.selection = (-1, -1)
        self.image_hw: tuple[int, int] | None = None
        self.panels: dict[str, ImagePanel] = {}
        self.order: list[str] = []
        self.solo: str | None = None
        self.mode = "grid"
        self._syncing = False
        self._cols = 0
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.swipe = SwipePanel(self)
        self.swipe.hide()
        self._register(self.swipe)
        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: gray; font-size: 13pt;")
        self.empty.hide()
        self.grid.addWidget(self.empty, 0, 0)

    def set_empty_message(self, text: str | None) -> None:
        """Shown instead of the views when there is nothing to show (no image open)."""
        self.empty.setText(text or "")
        self.empty.setVisible(bool(text))

    # ------------------------------------------------------------------ panels

    def set_keys(self, keys: list[str]) -> None:
        """Show these views in this order, creating or dropping panels; the camera is kept."""
        for k in list(self.panels):
            if k not in keys:
                p = self.panels.pop(k)
                self.grid.removeWidget(p)
                p.hide()
                p.deleteLater()
        for k in keys:
            if k not in self.panels:
                p = ImagePanel(k, self)
                p.score_group = self._level_scores
                p.menuRequested.connect(self.menuRequested)
                p.clicked.connect(self.clicked)
                self._register(p)
                p.set_selection(*self.selection)
                self.panels[k] = p
        self.order = list(keys)
        if self.solo not in self.order:
            self.solo = None
        self._relayout(force=True)

    def _level_scores(self) -> None:
        """Scores under the names in every view if one view is too narrow for its score beside the name: the
        views' images stay level with each other."""
        below = any(p.wants_score_below for p in self.panels.values())
        for p in self.panels.values():
            p.put_score_below(below)

    def panel(self, key: str) -> ImagePanel | None:
        return self.panels.get(key)

    def visible_panels(self) -> list[ImagePanel]:
        if self.mode == "swipe":
            return [self.swipe]
        if self.solo is not None:
            return [self.panels[self.solo]]
        return [self.panels[k] for k in self.order]

    def set_image_size(self, hw: tuple[int, int] | None) -> None:
        """A new image (or scale) of another size: a fitted camera fits it; a person's zoom stays, looking at the
        same relative spot (the next pair of a dataset is seen as the last one was)."""
        old, self.image_hw = self.image_hw, hw
        if hw == old:
            return
        if self.camera.fit or old is None or hw is None:
            self.fit()
            return
        self.camera.cx *= hw[1] / old[1]
        self.camera.cy *= hw[0] / old[0]
        self._apply_all()

    def _best_cols(self, n: int) -> int:
        if n <= 1 or self.image_hw is None:
            return max(1, n)
        ih, iw = self.image_hw
        W, H = max(self.width(), 200), max(self.height(), 150)
        best, best_zoom = 1, -1.0
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            cw, ch = W / cols - 6, H / rows - 30
            z = min(cw / iw, ch / ih)
            if z > best_zoom + 1e-9:
                best, best_zoom = cols, z
        return best

    def _relayout(self, force: bool = False) -> None:
        shown = self.visible_panels()
        cols = self._best_cols(len(shown))
        if not force and cols == self._cols:
            return
        self._cols = cols
        self.grid.removeWidget(self.empty)
        for p in list(self.panels.values()) + [self.swipe]:
            self.grid.removeWidget(p)
        for p in list(self.panels.values()) + [self.swipe]:
            p.setVisible(p in shown)
        if not shown:
            self.grid.addWidget(self.empty, 0, 0)
        for i, p in enumerate(shown):
            self.grid.addWidget(p, i // cols, i % cols)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 1 if r < math.ceil(len(shown) / cols) else 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        if self.camera.fit:
            self._refit()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._relayout()

    # ------------------------------------------------------------------ modes

    def show_solo(self, key: str | None) -> None:
        """Flicker: one view alone (same camera), or back to the grid with None."""
        if key is not None and key not in self.panels:
            return
        self.solo = key
        self.mode = "grid"
        self._relayout(force=True)
        self.layoutChanged.emit()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode == "swipe":
            self.solo = None
        self._relayout(force=True)
        self.layoutChanged.emit()

    # ------------------------------------------------------------------ camera

    def _register(self, panel: ImagePanel) -> None:
        vb = panel.vb
        vb.sigRangeChanged.connect(lambda *_a, p=panel: self._on_range_changed(p))
        vb.sigResized.connect(lambda *_a, p=panel: self._on_resized(p))
        panel.view.scene().sigMouseMoved.connect(lambda pos, p=panel: self._on_mouse(p, pos))
        panel.view.viewport().installEventFilter(self)
        panel.view.viewport().setProperty("adk_panel", panel.key)
        self._apply(panel)

    def _all_panels(self) -> list[ImagePanel]:
        return list(self.panels.values()) + [self.swipe]

    def _size(self, p: ImagePanel) -> tuple[float, float]:
        return float(p.vb.width()), float(p.vb.height())

    def _apply(self, p: ImagePanel) -> None:
        w, h = self._size(p)
        p.last_size = (w, h)
        if w < 2 or h < 2:
            return
        x0, y0, cw, ch = self.camera.rect(w, h)
        self._syncing = True
        try:
            p.vb.setRange(QRectF(x0, y0, cw, ch), padding=0.0)
        finally:
            self._syncing = False

    def _apply_all(self, except_: ImagePanel | None = None) -> None:
        for p in self._all_panels():
            if p is not except_:
                self._apply(p)
        self.zoomChanged.emit(self.zoom())

    def _refit(self) -> None:
        if self.image_hw is None:
            return
        sizes = [self._size(p) for p in self.visible_panels()]
        self.camera.fit_to(self.image_hw, sizes)
        self._apply_all()

    def _on_resized(self, p: ImagePanel) -> None:
        if self.camera.fit and p.isVisible():
            self._refit()
        else:
            self._apply(p)

    def _on_range_changed(self, p: ImagePanel) -> None:
        if self._syncing:
            return
        size = self._size(p)
        if size != p.last_size or size[0] < 2 or size[1] < 2:  # the view was resized: it takes the camera
            self._on_resized(p)
            return
        r = p.vb.viewRect()
        if r.width() <= 0:
            return
        self.camera.zoom = max(MIN_ZOOM, min(MAX_ZOOM, size[0] / r.width()))
        self.camera.cx, self.camera.cy = r.center().x(), r.center().y()
        self.camera.fit = False
        self._apply_all(except_=p)

    def apply_camera(self) -> None:
        """Show the camera as it is now (another view may have moved it while this one was hidden)."""
        if self.camera.fit:
            self.fit()
        else:
            self.set_zoom(self.zoom())

    def fit(self) -> None:
        self.camera.fit = True
        self._refit()

    def zoom(self) -> float:
        """Device pixels per LR pixel (1.0 is 1:1 on the physical screen, also on HiDPI displays)."""
        return self.camera.zoom * self.devicePixelRatioF()

    def set_zoom(self, zoom: float) -> None:
        """Zoom about the current centre, in device pixels per LR pixel (1.0 is 1:1)."""
        self.camera.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom / self.devicePixelRatioF()))
        self.camera.fit = False
        self._apply_all()

    def center_on(self, row: float, col: float) -> None:
        self.camera.cx, self.camera.cy = col + 0.5, row + 0.5
        self.camera.fit = False
        self._apply_all()

    # ------------------------------------------------------------------ hover

    def _on_mouse(self, p: ImagePanel, pos: QPointF) -> None:
        if self.image_hw is None:
            return
        v = p.vb.mapSceneToView(pos)
        row, col = int(math.floor(v.y())), int(math.floor(v.x()))
        if 0 <= row < self.image_hw[0] and 0 <= col < self.image_hw[1]:
            self.set_marker(row, col)
            self.hovered.emit(row, col)
        else:
            self.set_marker(-1, -1)
            self.hovered.emit(-1, -1)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Leave and obj.property("adk_panel") is not None:
            self.set_marker(-1, -1)
            self.hovered.emit(-1, -1)
        return False

    def set_marker(self, row: int, col: int) -> None:
        for p in self._all_panels():
            p.set_marker(row, col)

    def set_selection(self, row: int, col: int) -> None:
        """Mark the selected LR pixel in every view ((-1, -1): none)."""
        self.selection = (row, col)
        for p in self._all_panels():
            p.set_selection(row, col)
