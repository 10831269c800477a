"""The message banner above the tabs: one coloured row per current error or warning, each with its own close button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from adkviewer.state.messages import IMAGE, Message, MessageList

STYLES = {"error": "background:#f8d7da; color:#842029;", "warning": "background:#fff3cd; color:#664d03;",
          "info": "background:#cfe2ff; color:#084298;"}


class MessageBanner(QWidget):
    """A view over a `MessageList` (never a modal dialog, never a traceback); hidden when it is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messages = MessageList()
        self.rows: list[QFrame] = []
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(2)
        self.hide()

    def show_message(self, level: str, text: str, scope: str = IMAGE) -> None:
        self.messages.add(Message(level, text, scope))
        self._rebuild()

    def dismiss(self, index: int) -> None:
        self.messages.dismiss(index)
        self._rebuild()

    def supersede(self, scope: str) -> None:
        self.messages.supersede(scope)
        self._rebuild()

    def clear(self) -> None:
        self.messages.clear()
        self._rebuild()

    @property
    def level(self) -> str:
        return self.messages.level

    def text(self) -> str:
        return self.messages.text()

    def _rebuild(self) -> None:
        for row in self.rows:
            self._lay.removeWidget(row)
            row.deleteLater()
        self.rows = [self._row(i, m) for i, m in enumerate(self.messages.items)]
        for row in self.rows:
            self._lay.addWidget(row)
        self.setVisible(bool(self.rows))

    def _row(self, index: int, msg: Message) -> QFrame:
        row = QFrame(self)
        row.setObjectName("bannerRow")
        row.setStyleSheet(f"QFrame#bannerRow {{{STYLES.get(msg.level, '')} border-radius:3px;}} "
                          f"QLabel {{{STYLES.get(msg.level, '')}}}")
        label = QLabel(msg.line(), row)
        label.setTextFormat(Qt.PlainText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QToolButton(row)
        close.setText("✕")
        close.setToolTip("Dismiss this message")
        close.setStyleSheet("QToolButton { border:1px solid rgba(0,0,0,0.25); border-radius:3px; padding:0 5px; "
                            "font-weight:bold; background:rgba(255,255,255,0.5); } "
                            "QToolButton:hover { background:white; }")
        close.clicked.connect(lambda *_: self.dismiss(index))
        lay = QHBoxLayout(row)
        lay.setContentsMargins(8, 2, 3, 2)
        lay.addWidget(label, 1)
        lay.addWidget(close, 0, Qt.AlignTop)
        return row
