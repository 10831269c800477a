"""The Qt signal hub beside the Qt-free `Session`: the commands that change it emit here, views listen."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from adkviewer.state.messages import IMAGE


class SessionHub(QObject):
    """Notifications about a `Session`; every tab connects to the ones it shows."""

    imageOpened = Signal(str)          # a file was opened (path): the shell names it; sent before imageChanged
    imageChanged = Signal()            # a new HR (results are cleared; the ground truth may have changed)
    groundTruthChanged = Signal()      # ground truth opened or dropped (metrics recomputed)
    scaleChanged = Signal(int)
    methodsChanged = Signal()          # the ticked methods or their order changed
    weightsChanged = Signal()          # other ADK-Net weights are in use (labels change; results recomputed)
    resultsCleared = Signal()          # every result is stale (scale, device, weights)
    resultChanged = Signal(str)        # a method's result (or its message) is final
    resultPartial = Signal(str, object)  # ADK-Net tile done: (method, (y0, y1, x0, x1))
    hoverChanged = Signal(int, int)    # LR (row, col) under the mouse; (-1, -1) when outside
    pixelSelected = Signal(int, int)   # LR (row, col) selected (Inspect)
    busyChanged = Signal(bool)
    progressChanged = Signal(str, float)  # text, fraction 0..1
    deviceChanged = Signal(str)        # human-readable device description
    message = Signal(str, str, str)    # level ('info', 'warning', 'error'), text, scope: status line / banner
    messagesStale = Signal(str)        # scope ('image', 'train'): a new image or job starts, older messages go

    def info(self, text: str, scope: str = IMAGE) -> None:
        self.message.emit("info", text, scope)

    def warning(self, text: str, scope: str = IMAGE) -> None:
        self.message.emit("warning", text, scope)

    def error(self, text: str, scope: str = IMAGE) -> None:
        self.message.emit("error", text, scope)

    def supersede(self, scope: str) -> None:
        """A new image (or training run) starts: what was said about the previous one no longer applies."""
        self.messagesStale.emit(scope)
