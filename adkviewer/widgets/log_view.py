"""A read-only log that keeps its last line in view, like a terminal, until the person scrolls up."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QMouseEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


MAX_LINES = 5000  # older lines are dropped


class LogView(QPlainTextEdit):
    """Follows the end through re-wraps (QPlainTextEdit alone stops when its scroll bar appears and narrows the
    lines); only the person's own scrolling, not a layout change, decides whether it follows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.0, mono.pointSizeF() - 1))
        self.setFont(mono)
        self.following = True
        bar = self.verticalScrollBar()
        bar.actionTriggered.connect(self._on_user_scroll)  # clicks, drags and the wheel
        bar.rangeChanged.connect(self._on_range)

    def _on_user_scroll(self, _action: int) -> None:
        bar = self.verticalScrollBar()
        self.following = bar.sliderPosition() >= bar.maximum()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        # a text selection dragged past the top or bottom scrolls without a scroll-bar action
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.LeftButton:
            self._on_user_scroll(0)

    def _on_range(self, _lo: int, _hi: int) -> None:
        # a re-wrap keeps the top line after the range changes, moving the value off the end: go back once it is done
        self._keep_end()
        QTimer.singleShot(0, self, self._keep_end)

    def _keep_end(self) -> None:
        bar = self.verticalScrollBar()
        if self.following:
            bar.setValue(bar.maximum())
