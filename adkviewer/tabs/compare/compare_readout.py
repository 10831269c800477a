"""The Compare tab's pointer over its views: the hover readout (decimal RGB of every image), the selected pixel
(a click, marked in every view and shared with the other tabs) and a view's right-click menu."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from adkviewer.tabs.compare.compare_widgets import readout_texts


class CompareReadout:
    """CompareTab's readout and panel menu (its attributes are the tab's own: session, hub, grid, readout, ctx)."""

    def _on_hover(self, row: int, col: int) -> None:
        self._hover = (row, col)
        self._show_readout()
        if row >= 0:
            self.hub.hoverChanged.emit(row, col)

    def _on_click(self, row: int, col: int) -> None:
        shape = self.session.lr_shape
        if shape and 0 <= row < shape[0] and 0 <= col < shape[1]:
            self.session.selected_pixel = (row, col)
            self.hub.pixelSelected.emit(row, col)
            self._show_readout()

    def _on_pixel_selected(self, row: int, col: int) -> None:
        """The selection (a click here, the arrow keys, Inspect) is marked in every view."""
        self.grid.set_selection(row, col)
        if self._hover[0] < 0:
            self._show_readout()

    def readout_pixel(self) -> tuple[int, int] | None:
        if self._hover[0] >= 0:
            return self._hover
        return self.session.selected_pixel

    def _show_readout(self) -> None:
        s = self.session
        px = self.readout_pixel()
        if s.hr_full is None or px is None:
            self._readout_plain = ""
            self.readout.setText("<span style='color:gray'>Move the mouse over a view to read the decimal RGB "
                                 "of every method here.</span>")
            return
        compact = self.readout.width() < self.readout_full_width  # B would fall off the panel
        html, self._readout_plain = readout_texts(s, *px, hovered=self._hover[0] >= 0, compact=compact)
        self.readout.setText(html)

    def readout_text(self) -> str:
        """The readout as plain text, one line per image (for tests and copying)."""
        return self._readout_plain

    def _panel_menu(self, key: str, pos) -> None:
        menu = QMenu(self)
        label = self.session.label(key)
        act = QAction(f"Save {label} as PNG…", menu)
        act.setEnabled(self.session.image_of(key) is not None and not (
            key in self.session.results and self.session.results[key].partial))
        act.triggered.connect(lambda: self.ctx.shell.save_output_dialog(key))
        menu.addAction(act)
        view = QAction("Save the views as PNG…", menu)
        view.triggered.connect(self.ctx.shell.save_view_dialog)
        menu.addAction(view)
        if key in self.session.methods:
            n = self.session.methods.index(key) + 1
            alone = QAction(f"Show alone ({n})" if n <= 9 else "Show alone", menu)
            alone.triggered.connect(lambda: self.grid.show_solo(key))
            menu.addAction(alone)
        menu.popup(pos)
