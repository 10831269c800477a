"""Saving the difference map, the view with its colour bar, and the statistics (through the shell's save dialog)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtGui import QAction, QPixmap
from PySide6.QtWidgets import QMenu, QWidget

from adk_model.errors import UserError
from adk_model.figure_layout import zoom_nearest
from adk_model.figure_write import write_figure
from adk_model.imageio import save_image
from adk_model.map_figure import map_figure, write_sidecar

from adkviewer.gui.context import Shell
from adkviewer.tabs.diff.diff_state import DiffState
from adkviewer.widgets import colormaps


class DiffExporter:
    """What the Differences tab writes: it reads the state's cached map and asks `grab_view` for the view."""

    def __init__(self, state: DiffState, shell: Shell, grab_view: Callable[[], QPixmap]) -> None:
        self.state, self.shell, self.grab_view = state, shell, grab_view
        self.zoom = 1  # saved maps: each LR pixel a zoom x zoom block (nearest neighbour)

    def coloured_map(self) -> np.ndarray:
        """The map as shown, uint8 (h, w, 3), one pixel per LR pixel."""
        res = self.state.result()
        if res is None:
            raise UserError(f"There is no difference map to save: {self.state.why_not() or 'it is still computed'}")
        return colormaps.apply(res.err, self.state.levels(res), colormaps.for_values(self.state.mode == "signed"))

    def save_map(self, path: str | Path) -> None:
        """The colour-mapped map at the zoom (1: LR resolution) as PNG, and its scale in a JSON sidecar."""
        rgb = self.coloured_map()
        save_image(path, zoom_nearest(rgb, self.zoom) / np.float32(255))
        st = self.state
        write_sidecar(path, st.levels(), colormaps.for_values(st.mode == "signed"), st.axis_label(), self.zoom,
                      image=st.image, reference=st.reference, mode=st.mode, channel=st.channel, gain=st.gain)

    def save_map_with_bar(self, path: str | Path) -> None:
        """The map at the zoom with its colour bar in data units under it, as PNG or SVG."""
        st = self.state
        name = colormaps.for_values(st.mode == "signed")
        write_figure(map_figure(self.coloured_map(), colormaps.lookup_table(name), st.levels(), st.axis_label(),
                                self.zoom, title=st.title()), path, overwrite=True)

    def save_view(self, path: str | Path) -> None:
        """The view and its colour bar as on screen."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.grab_view().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        """The per-channel statistics of the shown mode, full precision."""
        text = self.state.stats_csv()
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _dialog(self, title: str, suffix: str, filt: str, fn: Callable[[str], None]) -> None:
        self.shell.save_dialog(title, f"{self.state.file_stem()}{suffix}", filt, fn)

    def save_map_dialog(self) -> None:
        self._dialog("Save the difference map as PNG", ".png", "PNG images (*.png)", self.save_map)

    def save_map_with_bar_dialog(self) -> None:
        self._dialog("Save the difference map with its colour bar", "_bar.png",
                     "PNG image (*.png);;SVG, vector labels (*.svg)", self.save_map_with_bar)

    def save_view_dialog(self) -> None:
        self._dialog("Save the difference view as PNG", "_view.png", "PNG images (*.png)", self.save_view)

    def save_csv_dialog(self) -> None:
        self._dialog("Save the error statistics as CSV", "_stats.csv", "CSV files (*.csv)", self.export_csv)

    def menu(self, parent: QWidget, pos) -> None:
        """The panel's "…" menu: the three saves, enabled when there is a map."""
        menu = QMenu(parent)
        for text, slot in (("Save map as PNG…", self.save_map_dialog),
                           ("Save map with colour bar…", self.save_map_with_bar_dialog),
                           ("Save view as PNG…", self.save_view_dialog),
                           ("Save statistics as CSV…", self.save_csv_dialog)):
            act = QAction(text, menu)
            act.setEnabled(self.state.result() is not None)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.popup(pos)
