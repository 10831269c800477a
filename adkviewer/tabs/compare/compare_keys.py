"""The Compare tab's keys: 1-9 show one method alone, Space (held) the ground truth, G, W, F and Esc."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QTextEdit, QWidget

from adkviewer.state.session import GT, NO_GT_MESSAGE


class CompareKeys(QObject):
    """An application event filter acting on the tab while it is shown and no text field has the focus."""

    def __init__(self, tab: QWidget) -> None:
        """`tab` is the CompareTab: its grid, session, hub, controller, flicker() and set_mode()."""
        super().__init__(tab)
        self.tab = tab
        self._space_prev: tuple[str | None, str] | None = None  # (solo, mode) before Space showed the ground truth
        QApplication.instance().installEventFilter(self)

    def space(self, down: bool) -> None:
        """Space held: the ground truth alone; released: back to what was shown."""
        tab, grid = self.tab, self.tab.grid
        if down:
            if not tab.session.has_gt:
                tab.hub.info("No ground truth to show: " + NO_GT_MESSAGE)
                return
            if self._space_prev is None:
                self._space_prev = (grid.solo, grid.mode)
                grid.mode = "grid"
                grid.show_solo(GT)
        elif self._space_prev is not None:
            solo, mode = self._space_prev
            self._space_prev = None
            if mode == "swipe":
                grid.set_mode("swipe")
            else:
                grid.show_solo(solo)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        """Number keys, Space (held), G, W, F, Esc while the Compare tab is shown and no text field has focus."""
        tab = self.tab
        t = ev.type()
        if t not in (QEvent.KeyPress, QEvent.KeyRelease) or not tab.isVisible():
            return False
        if not isinstance(obj, QWidget) or obj.window() is not tab.window():
            return False
        focus = QApplication.focusWidget()
        if isinstance(focus, (QLineEdit, QTextEdit, QAbstractSpinBox)) or (
                isinstance(focus, QComboBox) and focus.isEditable()) or QApplication.activePopupWidget():
            return False
        key, mods = ev.key(), ev.modifiers() & ~Qt.KeypadModifier
        if mods not in (Qt.NoModifier,):
            return False
        if key == Qt.Key_Space:
            if not ev.isAutoRepeat():
                self.space(t == QEvent.KeyPress)
            return True
        if t != QEvent.KeyPress:
            return False
        if Qt.Key_0 <= key <= Qt.Key_9:
            tab.flicker(key - Qt.Key_0)
            return True
        if key == Qt.Key_Escape:
            if tab.controller.busy:
                tab.controller.cancel()
            tab.grid.show_solo(None)
            return True
        if key == Qt.Key_G:
            tab.set_mode("grid")
            tab.grid.show_solo(None)
            return True
        if key == Qt.Key_W:
            tab.set_mode("swipe")
            return True
        if key == Qt.Key_F:
            tab.grid.fit()
            return True
        return False
