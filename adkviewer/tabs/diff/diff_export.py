"""Saving the map, the view and the statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from adk_model.errors import UserError
from adk_model.imageio import save_image

from adkviewer.widgets import colormaps


class DiffExport:
    """A part of DiffTab (its attributes are the tab's own)."""

    def _panel_menu(self, _key: str, pos) -> None:
        menu = QMenu(self)
        for text, slot in (("Save map as PNG…", self.save_map_dialog), ("Save view as PNG…", self.save_view_dialog),
                           ("Save statistics as CSV…", self.save_csv_dialog)):
            act = QAction(text, menu)
            act.setEnabled(self.state.result() is not None)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.popup(pos)

    def coloured_map(self) -> np.ndarray:
        """The map as shown, uint8 (h, w, 3), one pixel per LR pixel."""
        res = self.state.result()
        if res is None:
            raise UserError(f"There is no difference map to save: {self.state.why_not()}")
        return colormaps.apply(res.err, self.state.levels(res), colormaps.for_values(self.state.mode == "signed"))

    def save_map(self, path: str | Path) -> None:
        save_image(path, self.coloured_map() / np.float32(255))

    def save_view(self, path: str | Path) -> None:
        """The view and its colour bar as on screen."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        holder = self.grid.parentWidget()
        if not holder.grab(self.grid.geometry().united(self.cbar_view.geometry())).save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        text = self.state.stats_csv()
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _dialog(self, title: str, suffix: str, filt: str, fn) -> None:
        self.ctx.shell.save_dialog(title, f"{self.state.file_stem()}{suffix}", filt, fn)

    def save_map_dialog(self) -> None:
        self._dialog("Save the difference map as PNG", ".png", "PNG images (*.png)", self.save_map)

    def save_view_dialog(self) -> None:
        self._dialog("Save the difference view as PNG", "_view.png", "PNG images (*.png)", self.save_view)

    def save_csv_dialog(self) -> None:
        self._dialog("Save the error statistics as CSV", "_stats.csv", "CSV files (*.csv)", self.export_csv)
