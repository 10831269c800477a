"""A grid of image views sharing one camera, with flicker (one view alone), swipe and a hover marker.

The camera (centre and zoom in LR pixels) is Qt-free state (`state.camera`) given to the grid; every view's
range is set from it, so pan and zoom in any view move all of them, and views added later (a method ticked
again) simply take the camera on creation. Zoom is in screen pixels per LR pixel, so 100% means 1:1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QFrame, QGraphicsRectItem, QGridLayout, QHBoxLayout, QLabel, QSizePolicy,
                               QSplitter, QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from superqt import QElidingLabel

from adkviewer.state.camera import MAX_ZOOM, MIN_ZOOM, Camera
from adkviewer.state.session import display_uint8

BACKGROUND = "#1e1e1e"
PENDING_GREY = 48  # shade of ADK-Net tiles not computed yet


def _pixel_pen(color: str) -> QPen:
    pen = QPen(QColor(color))
    pen.setCosmetic(True)
    pen.setWidth(2)
    return pen


class ImagePanel(QFrame):
    """One titled view: an unsmoothed ImageItem in a ViewBox (y down, aspect locked), or a message."""

    menuRequested = Signal(str, object)   # key, global QPoint
    clicked = Signal(int, int)            # LR (row, col)

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setFrameShape(QFrame.StyledPanel)
        self.setMinimumSize(120, 100)
        self.number = QLabel(self)
        self.number.setTextFormat(Qt.RichText)
        self.title = QElidingLabel(self)  # the method's name: elided when the view is narrow
        self.title.setElideMode(Qt.ElideRight)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.score = QLabel(self)
        self.score.setTextFormat(Qt.RichText)
        self.menu_button = QToolButton(self)
        self.menu_button.setText("⋯")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setToolTip("Save this method's output or this view")
        self.menu_button.clicked.connect(
            lambda: self.menuRequested.emit(self.key, self.menu_button.mapToGlobal(self.menu_button.rect().bottomLeft())))
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 0, 0)
        head.setSpacing(2)
        head.addWidget(self.number)
        head.addWidget(self.title, 1)
        head.addWidget(self.score)
        head.addWidget(self.menu_button)

        self.view = pg.GraphicsView(background=BACKGROUND)
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        self.view.setCentralItem(self.vb)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image_item)
        self.marker = QGraphicsRectItem(0, 0, 1, 1)
        self.marker.setPen(_pixel_pen("#ffd700"))
        self.marker.setZValue(10)
        self.marker.hide()
        self.vb.addItem(self.marker, ignoreBounds=True)
        self.selection = QGraphicsRectItem(0, 0, 1, 1)  # the pixel selected for Inspect (magenta)
        self.selection.setPen(_pixel_pen("#ff00ff"))
        self.selection.setZValue(11)
        self.selection.hide()
        self.vb.addItem(self.selection, ignoreBounds=True)
        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"background: {BACKGROUND}; color: #e0e0e0; padding: 8px;")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.message)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(1, 1, 1, 1)
        lay.setSpacing(1)
        lay.addLayout(head)
        lay.addWidget(self.stack, 1)

        self.view.scene().sigMouseClicked.connect(self._on_click)
        self._u8: np.ndarray | None = None
        self.last_size = (0.0, 0.0)

    # ------------------------------------------------------------------ content

    def set_title(self, name: str, number: str = "", score: str = "", tooltip: str = "") -> None:
        """Title row: key hint (bold), method name (elided if narrow), PSNR (rich text, never elided)."""
        self.number.setText(f"<b>{number}</b> ·" if number else "")
        self.number.setVisible(bool(number))
        self.title.setText(name)
        self.score.setText(score)
        self.score.setVisible(bool(score))
        for w in (self.number, self.title, self.score):
            w.setToolTip(tooltip or name)

    def title_text(self) -> str:
        """The whole title as plain text (number, name, score)."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.score.text())
        return " ".join(t for t in (self.number.text().replace("<b>", "").replace("</b>", ""), self.title.text(),
                                     doc.toPlainText()) if t)

    def set_image(self, arr: np.ndarray | None) -> None:
        """Show a float [0, 1] (h, w, 3) LR image (None: empty)."""
        if arr is None:
            self._u8 = None
            self.image_item.clear()
        else:
            self._u8 = display_uint8(arr)
            self.image_item.setImage(self._u8, autoLevels=False, levels=(0, 255))
        self.stack.setCurrentWidget(self.view)

    def start_partial(self, hw: tuple[int, int]) -> None:
        self._u8 = np.full((*hw, 3), PENDING_GREY, np.uint8)
        self.image_item.setImage(self._u8, autoLevels=False, levels=(0, 255))
        self.stack.setCurrentWidget(self.view)

    def update_tile(self, box: tuple[int, int, int, int], tile: np.ndarray) -> None:
        """Paint one finished ADK-Net tile into the partial image."""
        if self._u8 is None:
            return
        y0, y1, x0, x1 = box
        self._u8[y0:y1, x0:x1] = display_uint8(tile)
        self.image_item.setImage(self._u8, autoLevels=False, levels=(0, 255))

    def set_message(self, text: str) -> None:
        self._u8 = None
        self.image_item.clear()
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    @property
    def showing_image(self) -> bool:
        return self.stack.currentWidget() is self.view and self._u8 is not None

    def set_marker(self, row: int, col: int) -> None:
        if row < 0:
            self.marker.hide()
        else:
            self.marker.setRect(QRectF(col, row, 1, 1))
            self.marker.show()

    def set_selection(self, row: int, col: int) -> None:
        if row < 0:
            self.selection.hide()
        else:
            self.selection.setRect(QRectF(col, row, 1, 1))
            self.selection.show()

    def _on_click(self, ev) -> None:
        if ev.button() == Qt.RightButton:
            sp = ev.screenPos()
            self.menuRequested.emit(self.key, sp.toPoint() if hasattr(sp, "toPoint") else sp)
            ev.accept()
        elif ev.button() == Qt.LeftButton and not ev.double():
            self.view.setFocus(Qt.MouseFocusReason)  # so the arrow keys then move the selection
            p = self.vb.mapSceneToView(ev.scenePos())
            self.clicked.emit(int(math.floor(p.y())), int(math.floor(p.x())))


class SwipePanel(ImagePanel):
    """Two methods in one view: A left of a draggable vertical split, B right of it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("swipe", parent)
        self.image_b = pg.ImageItem(axisOrder="row-major")
        self.image_b.setZValue(-1)
        self.vb.addItem(self.image_b)
        self.split = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pg.mkPen("#ffd700", width=2),
                                     hoverPen=pg.mkPen("#ffffff", width=3))
        self.split.setZValue(20)
        self.vb.addItem(self.split, ignoreBounds=True)
        self.split.sigPositionChanged.connect(self._update_split)
        self._a: np.ndarray | None = None
        self._b: np.ndarray | None = None
        self._centre_pending = True  # centre the split once there is an image (--swipe asks before results exist)
        self.menu_button.hide()

    def set_pair(self, a: np.ndarray | None, b: np.ndarray | None, keep_split: bool = True) -> None:
        self._a = display_uint8(a) if a is not None else None
        self._b = display_uint8(b) if b is not None else None
        if self._b is not None:
            self.image_b.setImage(self._b, autoLevels=False, levels=(0, 255))
        else:
            self.image_b.clear()
        self._u8 = self._b if self._b is not None else self._a
        if not keep_split:
            self._centre_pending = True
        if self._centre_pending and self._u8 is not None:
            self._centre_pending = False
            self.split.setValue(self._u8.shape[1] / 2)
        self._update_split()
        self.stack.setCurrentWidget(self.view)

    def split_x(self) -> float:
        return float(self.split.value())

    def _update_split(self, *_: object) -> None:
        if self._a is None:
            self.image_item.clear()
            return
        x = int(round(min(max(self.split.value(), 0), self._a.shape[1])))
        if x <= 0:
            self.image_item.hide()
        else:
            self.image_item.show()
            self.image_item.setImage(np.ascontiguousarray(self._a[:, :x]), autoLevels=False, levels=(0, 255))


def side_by_main(tab: QWidget, side: QWidget, main: QWidget, side_width: int) -> QSplitter:
    """A tab's standard frame: a fixed-ish side panel left of a stretching main area, filling the tab."""
    split = QSplitter(Qt.Horizontal, tab)
    split.addWidget(side)
    split.addWidget(main)
    split.setStretchFactor(0, 0)
    split.setStretchFactor(1, 1)
    split.setChildrenCollapsible(False)
    split.setSizes([side_width, 1000])
    lay = QVBoxLayout(tab)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(split)
    return split


def readout_label(parent: QWidget) -> QLabel:
    """The selectable rich-text 'Pixel under the mouse' readout of a side panel."""
    lab = QLabel(parent)
    lab.setTextFormat(Qt.RichText)
    lab.setWordWrap(True)
    lab.setAlignment(Qt.AlignTop | Qt.AlignLeft)
    lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return lab


def section_label(text: str) -> QLabel:
    """A bold heading for a group of controls in a tab's side panel."""
    lab = QLabel(f"<b>{text}</b>")
    lab.setContentsMargins(0, 6, 0, 0)
    return lab


@dataclass
class CameraControls:
    fit: QToolButton
    one: QToolButton
    zoom: QLabel


def camera_controls(parent: QWidget, grid: "ViewGrid", fit_tip: str, one_tip: str) -> CameraControls:
    """Fit, 1:1 and the zoom percentage for a grid: the same three controls wherever a tab shows LR views."""
    fit = QToolButton(parent)
    fit.setText("Fit")
    fit.setToolTip(fit_tip)
    fit.clicked.connect(lambda: grid.fit())
    one = QToolButton(parent)
    one.setText("1:1")
    one.setToolTip(one_tip)
    one.clicked.connect(lambda: grid.set_zoom(1.0))
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
                p.menuRequested.connect(self.menuRequested)
                p.clicked.connect(self.clicked)
                self._register(p)
                p.set_selection(*self.selection)
                self.panels[k] = p
        self.order = list(keys)
        if self.solo not in self.order:
            self.solo = None
        self._relayout(force=True)

    def panel(self, key: str) -> ImagePanel | None:
        return self.panels.get(key)

    def visible_panels(self) -> list[ImagePanel]:
        if self.mode == "swipe":
            return [self.swipe]
        if self.solo is not None:
            return [self.panels[self.solo]]
        return [self.panels[k] for k in self.order]

    def set_image_size(self, hw: tuple[int, int] | None) -> None:
        """A new image (or scale): fit the camera to it."""
        changed = hw != self.image_hw
        self.image_hw = hw
        if changed:
            self.fit()

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
