"""What a person does in Compare: ticks, scale, compute, grid / swipe / flicker, keys."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QListWidgetItem, QTextEdit,
                               QWidget)

from adk_model.errors import UserError
from adk_model.methods import SHORT_LABELS

from adkviewer.state.session import GT, NO_GT_MESSAGE
from adkviewer.gui.workers import CANCELLED


class CompareActions:
    """A part of CompareTab (its attributes are the tab's own)."""

    def _on_ticks_changed(self, _item: QListWidgetItem) -> None:
        ticked = [self.method_list.item(i).data(Qt.UserRole) for i in range(self.method_list.count())
                  if self.method_list.item(i).checkState() == Qt.Checked]
        self.ctx.commands.set_methods(ticked)

    def _on_scale_picked(self, idx: int) -> None:
        self.ctx.commands.set_scale(int(self.scale_combo.itemData(idx)))

    def compute_missing(self) -> None:
        s = self.session
        for m, r in list(s.results.items()):
            if r.message == CANCELLED:
                del s.results[m]
        self.controller.compute()
        self._on_busy(self.controller.busy)

    def set_mode(self, mode: str) -> None:
        self.grid_button.setChecked(mode == "grid")
        self.swipe_button.setChecked(mode == "swipe")
        self._set_swipe_visible(mode == "swipe")
        if mode == "swipe":
            self._update_swipe(reset_split=self.grid.mode != "swipe")
        self.grid.set_mode(mode)

    def set_swipe(self, a: str, b: str) -> None:
        """Swipe between two methods (or 'gt'); unknown names raise UserError."""
        for key, combo in ((a, self.swipe_a), (b, self.swipe_b)):
            if combo.findData(key) < 0:
                choices = ", ".join(combo.itemData(i) for i in range(combo.count()))
                raise UserError(f"Cannot swipe with '{key}': choose from {choices}.")
        self.swipe_a.setCurrentIndex(self.swipe_a.findData(a))
        self.swipe_b.setCurrentIndex(self.swipe_b.findData(b))
        self._swipe_picked = [True, True]
        self.set_mode("swipe")

    def _set_swipe_visible(self, on: bool) -> None:
        for w in (self.swipe_a, self.swipe_b, self.swipe_sep):
            w.setVisible(on)

    def _refresh_swipe_choices(self) -> None:
        """Fill the A/B lists; unless a person chose, A is the first method with an output (ADK-Net when it has
        one) and B the ground truth, else the next method with an output."""
        s = self.session
        keys = self.view_keys()
        shown = [k for k in keys if k != GT and s.image_of(k) is not None] or [k for k in keys if k != GT]
        want_a = shown[0] if shown else None
        rest = [k for k in shown if k != want_a]
        want_b = GT if GT in keys else (rest[0] if rest else want_a)
        before = (self.swipe_a.currentData(), self.swipe_b.currentData())
        for i, (combo, want) in enumerate(((self.swipe_a, want_a), (self.swipe_b, want_b))):
            cur = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for k in keys:
                combo.addItem(SHORT_LABELS.get(k, k), k)
            pick = cur if (self._swipe_picked[i] and cur in keys) else want
            if pick in keys:
                combo.setCurrentIndex(keys.index(pick))
            combo.blockSignals(False)
        if self.grid.mode == "swipe":
            after = (self.swipe_a.currentData(), self.swipe_b.currentData())
            self._update_swipe()
            if after != before:
                self.grid.swipe.split.setValue((s.lr_shape or (0, 0))[1] / 2)

    def _update_swipe(self, reset_split: bool = False) -> None:
        s = self.session
        a, b = self.swipe_a.currentData(), self.swipe_b.currentData()
        self.grid.swipe.set_pair(s.image_of(a) if a else None, s.image_of(b) if b else None,
                                 keep_split=not reset_split)
        self.grid.swipe.set_title(f"Swipe: {s.label(a) if a else '—'} ◀ | ▶ {s.label(b) if b else '—'} "
                                  "(drag the yellow line)")

    def flicker(self, n: int) -> None:
        """Key N: method N alone at the same camera; 0 goes back to the grid."""
        if n == 0:
            self.grid.show_solo(None)
        elif 1 <= n <= len(self.session.methods):
            if self.grid.mode == "swipe":
                self.set_mode("grid")
            self.grid.show_solo(self.session.methods[n - 1])
        else:  # a key beyond the shown methods says why nothing happened
            k = len(self.session.methods)
            shown = "Only 1 method is shown (key 1)" if k == 1 else f"Only {k} methods are shown (keys 1–{k})"
            self.hub.info(f"{shown}; 0 goes back to the grid." if k else
                          "No methods are shown: tick some under Methods.")

    def _space(self, down: bool) -> None:
        if down:
            if not self.session.has_gt:
                self.hub.info("No ground truth to show: " + NO_GT_MESSAGE)
                return
            if self._space_prev is None:
                self._space_prev = (self.grid.solo, self.grid.mode)
                self.grid.mode = "grid"
                self.grid.show_solo(GT)
        elif self._space_prev is not None:
            solo, mode = self._space_prev
            self._space_prev = None
            if mode == "swipe":
                self.grid.set_mode("swipe")
            else:
                self.grid.show_solo(solo)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        """Number keys, Space (held), G, W, F, Esc while the Compare tab is shown and no text field has focus."""
        t = ev.type()
        if t not in (QEvent.KeyPress, QEvent.KeyRelease) or not self.isVisible():
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window():
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
                self._space(t == QEvent.KeyPress)
            return True
        if t != QEvent.KeyPress:
            return False
        if Qt.Key_0 <= key <= Qt.Key_9:
            self.flicker(key - Qt.Key_0)
            return True
        if key == Qt.Key_Escape:
            if self.controller.busy:
                self.controller.cancel()
            self.grid.show_solo(None)
            return True
        if key == Qt.Key_G:
            self.set_mode("grid")
            self.grid.show_solo(None)
            return True
        if key == Qt.Key_W:
            self.set_mode("swipe")
            return True
        if key == Qt.Key_F:
            self.grid.fit()
            return True
        return False
