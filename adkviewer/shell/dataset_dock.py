"""The dataset view in the main window: a dock holding the pairs panel, File → Open pairs folder…, the View menu
toggle, and Page Down / Page Up for the next / previous pair wherever the focus is in the window."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMenu

from adkviewer.dataset.dataset_controller import DatasetController
from adkviewer.dataset.pairs_panel import PairsPanel
from adkviewer.gui.context import TabContext

SHORTCUTS = [("Ctrl+Shift+O", "Open a pairs folder in the dataset view (or drop it on the window)"),
             ("PgDown / PgUp", "Next / previous pair of the dataset view, in every tab (zoom and pixel kept)")]


class DatasetDock(QDockWidget):
    """The pairs panel as a dock (right of the tabs by default; float it or move it like any dock)."""

    def __init__(self, window: QMainWindow, ctx: TabContext) -> None:
        super().__init__("Dataset", window)
        self.setObjectName("dataset_dock")  # saveState / restoreState find it by name
        self.ctx = ctx
        self.controller = DatasetController(ctx, self)
        self.panel = PairsPanel(ctx, self.controller, self)
        self.setWidget(self.panel)
        self.shortcuts = SHORTCUTS

    def open_folder(self, folder: str | Path, split: str | None = None) -> bool:
        """Open a pairs folder here, and show the dock."""
        if not self.isVisible():
            self.show()
            window = self.parentWidget()
            if isinstance(window, QMainWindow) and not self.isFloating():
                # room for the table's first columns, and no more than the views can spare (at 1280 px, 2/5 of
                # the window left Compare's views 145 px wide)
                window.resizeDocks([self], [min(420, max(300, window.width() * 3 // 10))], Qt.Horizontal)
        self.raise_()
        return self.controller.open_folder(folder, split)

    def all_shown(self) -> bool:
        return self.panel.all_shown()

    def shutdown(self) -> None:
        """The window closes: stop scoring (what is scored is in the cache) and wait for the worker."""
        self.controller.cancel()
        self.controller.queue.wait(5000)


def _action(window: QMainWindow, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    act = QAction(text, window)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.WindowShortcut)
    act.setStatusTip(tip)
    act.triggered.connect(lambda *_: slot())
    return act


def install(window: QMainWindow, ctx: TabContext, file_menu: QMenu, view_menu: QMenu,
            opened: Callable[[str], None] | None = None) -> DatasetDock:
    """Make the dock (hidden until a folder opens) and its menu entries and keys; `opened(folder)` is told of a
    folder the menu opened (the Train tab takes it when it has none)."""
    dock = DatasetDock(window, ctx)
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    dock.hide()

    def ask() -> None:
        start = ctx.settings.get_str("folders/dataset", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(window, "Open a pairs folder (HR/ + LR/, or RealSR names)", start)
        if folder:
            ctx.settings.set("folders/dataset", str(Path(folder).resolve().parent))
            if dock.open_folder(folder) and opened is not None:
                opened(folder)

    before = next((a for a in file_menu.actions() if a.menu() is not None), None)  # after Open…, Open ground truth…
    act = _action(window, "Open &pairs folder…", ask, "Ctrl+Shift+O",
                  "A folder of HR/LR pairs: every pair scored by every method, stepped through with Page Down")
    if before is not None:
        file_menu.insertAction(before, act)
    else:
        file_menu.addAction(act)
    view_menu.addSeparator()
    toggle = dock.toggleViewAction()
    toggle.setText("&Dataset view")
    view_menu.addAction(toggle)
    for text, slot, key in (("&Next pair", lambda: dock.panel.step(1), QKeySequence.MoveToNextPage),
                            ("&Previous pair", lambda: dock.panel.step(-1), QKeySequence.MoveToPreviousPage)):
        a = _action(window, text, slot, key, "Open the next / previous pair of the dataset view in every tab")
        view_menu.addAction(a)
        window.addAction(a)
    return dock
