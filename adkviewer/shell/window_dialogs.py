"""The main window's dialogs: open an image or its ground truth, save (an output, the views, the metrics) with
the filter's extension and one message per save, add methods or weights, settings, shortcuts and about."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QDialog, QFileDialog

from adk_model.data import IMAGE_EXTENSIONS
from adk_model.errors import UserError

from adkviewer.shell.add_method_dialog import AddMethodDialog
from adkviewer.shell import help_dialogs, weights_menu
from adkviewer.shell.help_dialogs import SHORTCUTS
from adkviewer.shell.settings_dialog import SettingsDialog
from adkviewer.state.messages import SAVE
from adkviewer.state.metrics_export import export_name

IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in sorted(IMAGE_EXTENSIONS)) + ");;All files (*)"


def with_filter_suffix(path: str, name_filter: str) -> str:
    """`path` plus the filter's first extension ('PNG images (*.png)' → '.png') when the name typed has none
    (Qt's own save dialog returns it as typed)."""
    m = re.search(r"\*(\.\w+)", name_filter)
    if m is None or Path(path).suffix:
        return path
    return path + m.group(1)


class WindowDialogs:
    """MainWindow's dialogs (its attributes are the window's own: settings, session, hub, commands, ctx, tabs)."""

    def _folder(self, key: str) -> str:
        return self.settings.get_str(f"folders/{key}", str(Path.home()))

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an HR image", self._folder("open"), IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_ground_truth_dialog(self) -> None:
        if self.session.hr_full is None:
            self.hub.error("Open an HR image before its ground-truth LR.")
            return
        start = self._folder("open")
        if self.session.hr_path:
            hr_dir = Path(self.session.hr_path).parent
            lr_dir = hr_dir.parent / "LR"
            start = str(lr_dir if lr_dir.is_dir() else hr_dir)
        path, _ = QFileDialog.getOpenFileName(self, "Open the ground-truth LR", start, IMAGE_FILTER)
        if path:
            self.commands.open_ground_truth(path)

    def save_dialog(self, title: str, name: str, filt: str, save: Callable[[str], None]) -> None:
        """Ask where (in the last save folder), add the filter's extension if none was typed, save, and say so."""
        start = str(Path(self._folder("save")) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filt)
        if not path:
            return
        path = with_filter_suffix(path, filt)
        self.settings.set("folders/save", str(Path(path).parent))
        self._guard(lambda: save(path), f"Saved {Path(path).name}")

    def save_output_dialog(self, key: str | None = None) -> None:
        """Ctrl+S: save a method's output; the list starts at the method shown (alone, swiped, else ADK-Net)."""
        s = self.session
        if key is None:
            done = self.compare.export.saveable()
            if not done:
                self.hub.error("There is no output to save yet.")
                return
            from PySide6.QtWidgets import QInputDialog

            labels = [s.label(k) for k in done]
            current = self.compare.export.current_method()
            choice, ok = QInputDialog.getItem(self, "Save output", "Method:", labels,
                                              done.index(current) if current in done else 0, False)
            if not ok:
                return
            key = done[labels.index(choice)]
        self.save_dialog(f"Save {s.label(key)} as PNG", export_name(s, "png", key),
                         "PNG images (*.png)", lambda path: self.compare.export.save_output(key, path))

    def add_method_dialog(self) -> None:
        AddMethodDialog(self.ctx, self).exec()

    def add_weights_dialog(self) -> None:
        weights_menu.add_beside_file(self, self.ctx)

    def save_view_dialog(self) -> None:
        """Save the views of the tab shown (Differences has its own), else Compare's, shown first: a hidden
        tab's views have no current size, so their grab would be a blank strip."""
        tab = self.tabs.currentWidget()
        if tab is not self.compare and hasattr(tab, "save_view_dialog"):
            tab.save_view_dialog()
            return
        self.show_tab("compare")
        self.save_dialog("Save the views as PNG", export_name(self.session, "png"),
                         "PNG images (*.png)", self.compare.export.save_view)

    def export_metrics_dialog(self) -> None:
        self.save_dialog("Export metrics as CSV", export_name(self.session, "csv"),
                         "CSV files (*.csv)", self.compare.export.export_csv)

    def _guard(self, fn: Callable[[], None], ok: str) -> None:
        """Run a save; its error replaces the previous save's, and a success clears that."""
        self.hub.supersede(SAVE)
        try:
            fn()
        except UserError as e:
            self.hub.error(str(e), SAVE)
        else:
            self.hub.info(ok, SAVE)

    def settings_dialog(self) -> None:
        dlg = SettingsDialog(self.session.device, self.session.budget_mb, self, self.commands.max_megapixels())
        if dlg.exec() == QDialog.Accepted:
            self.commands.set_max_megapixels(dlg.max_mp.value())
            device, budget = dlg.values()
            if (device, budget) != (self.session.device, self.session.budget_mb):
                self.commands.set_device(device, budget)

    def shortcuts(self) -> list[tuple[str, str]]:
        """The window's shortcuts with each tab's own (`shortcuts` attribute) inserted before the help line."""
        extra = [item for w in [*self._tabs.values(), self.dataset] for item in getattr(w, "shortcuts", ())
                 if item not in SHORTCUTS]
        return SHORTCUTS[:-1] + extra + SHORTCUTS[-1:]

    def shortcuts_html(self) -> str:
        return help_dialogs.shortcuts_html(self.shortcuts())

    def show_shortcuts(self) -> None:
        self._shortcuts_box = help_dialogs.shortcuts_box(self, self.shortcuts())

    def show_about(self) -> None:
        help_dialogs.show_about(self, self.session)
