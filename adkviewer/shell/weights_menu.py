"""File → ADK-Net weights: choose the shipped weights or a fine-tuned model (remembered across starts).

The list comes from `weights_registry.available_weights` (shipped + exported by the Train tab, kept in
QSettings); choosing one calls `MainWindow.set_weights`, so the Compare (and later Inspect) tabs switch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QMenu

from model.errors import UserError
from model.weights import load_weights

from adkviewer.state import weights_registry

if TYPE_CHECKING:
    from adkviewer.shell.main_window import MainWindow


def install(window: "MainWindow", parent_menu: QMenu) -> QMenu:
    """Add the submenu to `parent_menu`; it is filled each time it opens, for the current scale."""
    menu = parent_menu.addMenu("ADK-Net &weights")
    menu.setToolTipsVisible(True)
    menu.aboutToShow.connect(lambda: fill(window, menu))
    window.weights_menu = menu
    return menu


def fill(window: "MainWindow", menu: QMenu) -> list[QAction]:
    """One checkable entry per weights file for the current scale, the one in use ticked, then 'Other…'."""
    menu.clear()
    s = window.session
    current = s.adknet_weights()
    current = str(Path(current).resolve()) if current else None
    group = QActionGroup(menu)
    actions = []
    choices = weights_registry.available_weights(window.settings, s.scale)
    if not choices:
        a = menu.addAction(f"(no weights for ×{s.scale} — train some in the Train tab)")
        a.setEnabled(False)
    for c in choices:
        a = QAction(c.label, menu)
        a.setCheckable(True)
        a.setChecked(str(c.path.resolve()) == current)
        a.setToolTip(str(c.path))
        a.setStatusTip(str(c.path))
        group.addAction(a)
        a.triggered.connect(lambda *_, p=c.path, shipped=c.shipped: choose(window, None if shipped else p))
        menu.addAction(a)
        actions.append(a)
    menu.addSeparator()
    other = menu.addAction("Other weights file…")
    other.triggered.connect(lambda *_: choose_file(window))
    return actions


def choose(window: "MainWindow", path: str | Path | None) -> None:
    """Use these weights (None: the shipped ones) in every tab."""
    window.set_weights(path)
    name = Path(path).name if path else "the shipped weights"
    window.hub.info(f"ADK-Net now uses {name}.")


def choose_file(window: "MainWindow") -> None:
    start = window.settings.get_str("folders/weights", str(Path.home()))
    path, _ = QFileDialog.getOpenFileName(window, "ADK-Net weights", start, "ADK-Net weights (*.safetensors)")
    if not path:
        return
    window.settings.set("folders/weights", str(Path(path).parent))
    try:
        loaded = load_weights(path)  # refuse a bad file here, with its one-sentence reason
    except UserError as e:
        window.hub.error(str(e))
        return
    weights_registry.remember(window.settings, path)
    if loaded.scale != window.session.scale:
        window.set_scale(loaded.scale)
    choose(window, path)
