"""The Compare tab's keys: 1-9 show one method alone, Space (held) the ground truth, H (held) the HR, G, W, F
and Esc."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QTextEdit, QWidget

from adkviewer.state.session import GT, NO_GT_MESSAGE
from adkviewer.tabs.compare.compare_hr import HR


class CompareKeys(QObject):
    """An application event filter acting on the tab while it is shown and no text field has the focus."""

    def __init__(self, tab: QWidget) -> None:
        """`tab` is the CompareTab: its grid, session, hub, controller, flicker() and set_mode()."""
        super().__init__(tab)
        self.tab = tab
        self._held_prev: tuple[str | None, str] | None = None  # (solo, mode) before Space / H showed GT / HR
        QApplication.instance().installEventFilter(self)

    def space(self, down: bool) -> None:
        """Space held: the ground truth alone; released: back to what was shown."""
        if down and not self.tab.session.has_gt:
            self.tab.hub.info("No ground truth to show: " + NO_GT_MESSAGE)
            return
        self._hold(GT, down)

    def hold_hr(self, down: bool) -> None:
        """H held: the HR alone (its view ticked); released: back to what was shown."""
        if down and self.tab.grid.panel(HR) is None:
            self.tab.hub.info("The HR view is off: tick 'HR reference' under Methods, then hold H.")
            return
        self._hold(HR, down)

    def _hold(self, key: str, down: bool) -> None:
        grid = self.tab.grid
        if down:
            if self._held_prev is None:
                self._held_prev = (grid.solo, grid.mode)
                grid.mode = "grid"
                grid.show_solo(key)
        elif self._held_prev is not None:
            solo, mode = self._held_prev
            self._held_prev = None
            if mode == "swipe":
                grid.set_mode("swipe")
            else:
                grid.show_solo(solo)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        """Number keys, Space and H (held), G, W, F, Esc while the Compare tab is shown and no text field has focus."""
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
        if key in (Qt.Key_Space, Qt.Key_H):
            if not ev.isAutoRepeat():
                (self.space if key == Qt.Key_Space else self.hold_hr)(t == QEvent.KeyPress)
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
