"""The hover readout, clicks that select a pixel, and saving outputs, views and metrics."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from adk_model.errors import UserError
from adk_model.imageio import save_image
from adk_model.methods import SHORT_LABELS

from adkviewer.state.metrics_export import metrics_csv
from adkviewer.state.session import GT
from adkviewer.tabs.compare.compare_widgets import readout_table


class CompareReadout:
    """A part of CompareTab (its attributes are the tab's own)."""

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
        row, col = px
        sc = s.scale
        where = f"LR x={col}, y={row}" + ("" if self._hover[0] >= 0 else " (selected)")
        hr_span = f"HR x {col * sc}–{col * sc + sc - 1}, y {row * sc}–{row * sc + sc - 1}"
        plain = [where, hr_span]
        rows = [(SHORT_LABELS.get(key, key), rgb) for key, _label, rgb in s.readout(row, col)]
        for name, rgb in rows:
            plain.append(f"{name} " + (" ".join(f"{v:.4f}" for v in rgb) if rgb is not None else "—"))
        self._readout_plain = "\n".join(plain)
        self.readout.setText(f"{where}<br><span style='color:gray'>{hr_span}</span>{readout_table(rows)}")

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

    def saveable(self) -> list[str]:
        """Methods (then the ground truth) with a finished output to save."""
        s = self.session
        return [k for k in list(s.methods) + ([GT] if s.has_gt else [])
                if s.image_of(k) is not None and not (k in s.results and s.results[k].partial)]

    def current_method(self) -> str | None:
        """The method a person looks at: the one shown alone, the swipe's left side, else ADK-Net, else the first
        with an output (what Ctrl+S offers first)."""
        done = self.saveable()
        solo = self.grid.solo if self.grid.mode == "grid" else self.swipe_a.currentData()
        for k in (solo, "adknet"):
            if k in done:
                return k
        return next((k for k in done if k != GT), done[0] if done else None)

    def save_output(self, key: str, path: str | Path) -> None:
        arr = self.session.image_of(key)
        r = self.session.results.get(key)
        if arr is None or (r is not None and r.partial):
            raise UserError(f"{self.session.label(key)} has no finished output to save.")
        s = self.session
        made = {"Software": "ADK Viewer", "Source": Path(s.hr_path or "").name, "Scale": f"x{s.scale}",
                "Method": s.label(key)}
        if key == "adknet" and s.adknet_weights() is not None:
            made["Model"] = str(s.adknet_weights())
        save_image(path, arr, text=made)

    def save_view(self, path: str | Path) -> None:
        """Save the views as they are on screen (QWidget.grab)."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.grid.grab().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        s = self.session
        text = metrics_csv(s.metrics_rows(), Path(s.hr_path).name if s.hr_path else "",
                           Path(s.gt_path).name if s.gt_path else "", s.scale)
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None
