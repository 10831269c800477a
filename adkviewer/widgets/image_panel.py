"""One image view (pyqtgraph, square LR pixels, hover marker and selection) and the swipe view of two images."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPen, QTransform
from PySide6.QtWidgets import (QFrame, QGraphicsRectItem, QHBoxLayout, QLabel, QSizePolicy, QSpacerItem,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from superqt import QElidingLabel

from adkviewer.state.session import display_uint8


BACKGROUND = "#1e1e1e"
PENDING_GREY = 48  # shade of ADK-Net tiles not computed yet


def _pixel_pen(color: str) -> QPen:
    pen = QPen(QColor(color))
    pen.setCosmetic(True)
    pen.setWidth(2)
    return pen


def lr_transform(scale: int) -> QTransform:
    """Item to view (LR pixel) coordinates of an image at `scale` times the LR size: HR pixel (i, j) lies in LR
    pixel (i // s, j // s)."""
    return QTransform.fromScale(1.0 / scale, 1.0 / scale)


NAME_CHARS = 12  # of a method's name kept in sight beside its score ("Least-square…" still tells it from Lanczos)


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
        self._head = head
        self._score_row = QHBoxLayout()  # the score, under the name, when beside it the name would be cut to nothing
        self._score_row.setContentsMargins(4, 0, 4, 0)
        self._score_row.addStretch(1)
        self._score_gap = QSpacerItem(0, 0, QSizePolicy.Minimum, QSizePolicy.Fixed)
        self._score_row.addItem(self._score_gap)
        self._score_below = False
        self.wants_score_below = False
        self.score_group: Callable[[], None] | None = None  # the grid's: one arrangement for all its views

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
        lay.addLayout(self._score_row)
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
        self._place_score(self.width())

    def _place_score(self, width: int) -> None:
        """Keep at least NAME_CHARS of the method's name in sight: where the score beside it would leave less, the
        score takes a line of its own under the name. In a grid every view follows the one that needs it
        (`score_group`), so the images stay level."""
        name = self.title.text()
        need = self._head_width(name if len(name) <= NAME_CHARS else name[:NAME_CHARS] + "…",
                                self.number.isVisibleTo(self)) + self.score.sizeHint().width()
        self.wants_score_below = bool(self.score.text()) and width < need
        if self.score_group is not None:
            self.score_group()
        else:
            self.put_score_below(self.wants_score_below)

    def put_score_below(self, below: bool) -> None:
        """Scores on their own line (`below`); a view without a score keeps that line empty, level with the rest."""
        self._score_gap.changeSize(0, self.score.fontMetrics().height() if below and not self.score.text() else 0,
                                   QSizePolicy.Minimum, QSizePolicy.Fixed)
        self._score_row.invalidate()
        below = below and bool(self.score.text())
        if below == self._score_below:
            return
        self._score_below = below
        (self._head if below else self._score_row).removeWidget(self.score)
        if below:
            self._score_row.addWidget(self.score)
        else:
            self._head.insertWidget(2, self.score)

    def resizeEvent(self, event) -> None:
        self._place_score(event.size().width())
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the key hint, a few letters of the name and the menu: the score then moves under the name,
        so a grid of many views with scores still fits a small screen."""
        hint = super().minimumSizeHint()
        return QSize(max(self.minimumWidth(), self._head_width("ADK…", True), self.score.sizeHint().width() + 8),
                     hint.height())

    def _head_width(self, name: str, with_number: bool) -> int:
        """The title row's width with `name` shown, before the score (beside it or under it)."""
        number = self.number.sizeHint().width() if with_number else 0
        return (number + self.title.fontMetrics().horizontalAdvance(name) + self.menu_button.sizeHint().width()
                + 3 * self._head.spacing() + 8)

    def title_text(self) -> str:
        """The whole title as plain text (number, name, score)."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.score.text())
        return " ".join(t for t in (self.number.text().replace("<b>", "").replace("</b>", ""), self.title.text(),
                                     doc.toPlainText()) if t)

    def set_image(self, arr: np.ndarray | None, scale: int = 1) -> None:
        """Show a float [0, 1] (h, w, 3) image (None: empty); `scale` s > 1 for the HR, whose s x s pixels then
        cover one LR pixel of the camera."""
        if arr is None:
            self._u8 = None
            self.image_item.clear()
        else:
            self._u8 = display_uint8(arr)
            self.image_item.setImage(self._u8, autoLevels=False, levels=(0, 255))
        self.image_item.setTransform(lr_transform(scale))
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
        self.vb.sigXRangeChanged.connect(lambda *_: self.keep_split_in_view())
        self._a: np.ndarray | None = None
        self._b: np.ndarray | None = None
        self._scale_a = 1       # the HR (scale s) may be either side: its item maps s x s pixels to one LR pixel
        self._lr_width = 0.0
        self._centre_pending = True  # centre the split once there is an image (--swipe asks before results exist)
        self.menu_button.hide()

    def set_pair(self, a: np.ndarray | None, b: np.ndarray | None, keep_split: bool = True, scale_a: int = 1,
                 scale_b: int = 1) -> None:
        """A left of the split, B right of it; `scale_a`/`scale_b` > 1 for the HR (see ImagePanel.set_image)."""
        self._a = display_uint8(a) if a is not None else None
        self._b = display_uint8(b) if b is not None else None
        self._scale_a = scale_a
        if self._b is not None:
            self.image_b.setImage(self._b, autoLevels=False, levels=(0, 255))
        else:
            self.image_b.clear()
        self.image_b.setTransform(lr_transform(scale_b))
        self.image_item.setTransform(lr_transform(scale_a))
        self._u8 = self._b if self._b is not None else self._a
        if self._u8 is not None:
            self._lr_width = self._u8.shape[1] / (scale_b if self._b is not None else scale_a)
        if not keep_split:
            self._centre_pending = True
        if self._centre_pending and self._u8 is not None:
            self._centre_pending = False
            self.split.setValue(self._lr_width / 2)
        self._update_split()
        self.stack.setCurrentWidget(self.view)

    def split_x(self) -> float:
        return float(self.split.value())

    def keep_split_in_view(self) -> None:
        """After a zoom or pan that put the split off screen, bring it back just inside the nearer edge (a tenth of
        the view in), so both methods stay in sight; a split on screen is left where it was dragged."""
        if self._u8 is None:
            return
        x0, x1 = self.vb.viewRange()[0]
        x, inset = self.split_x(), (x1 - x0) / 10
        if x0 <= x <= x1 or x1 <= x0:
            return
        want = x0 + inset if x < x0 else x1 - inset
        self.split.setValue(min(max(want, 0.0), self._lr_width))

    def _update_split(self, *_: object) -> None:
        if self._a is None:
            self.image_item.clear()
            return
        x = int(round(min(max(self.split.value(), 0), self._a.shape[1] / self._scale_a) * self._scale_a))
        if x <= 0:
            self.image_item.hide()
        else:
            self.image_item.show()
            self.image_item.setImage(np.ascontiguousarray(self._a[:, :x]), autoLevels=False, levels=(0, 255))
