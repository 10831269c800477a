"""File → ADK-Net weights: choose the shipped weights or a fine-tuned model (remembered across starts).

The list comes from `weights_registry.available_weights` (shipped + exported by the Train tab, kept in
QSettings); choosing one calls `commands.set_weights`, whose "weights changed" event every tab hears.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from adk_model.errors import UserError
from adk_model.weights import load_weights

from adkviewer.gui.context import TabContext
from adkviewer.state import weights_registry
from adkviewer.state.model_info import card_summary, model_blurb
from adkviewer.widgets.model_card_dialog import show_model_card


def install(parent: QWidget, ctx: TabContext, parent_menu: QMenu) -> QMenu:
    """Add the submenu to `parent_menu`; it is filled each time it opens, for the current scale."""
    menu = parent_menu.addMenu("ADK-Net &weights")
    menu.setToolTipsVisible(True)
    menu.aboutToShow.connect(lambda: fill(parent, ctx, menu))
    return menu


def fill(parent: QWidget, ctx: TabContext, menu: QMenu) -> list[QAction]:
    """One checkable entry per weights file for the current scale, the one in use ticked, then 'Other…'."""
    menu.clear()
    s = ctx.session
    current = s.adknet_weights()
    current = str(Path(current).resolve()) if current else None
    group = QActionGroup(menu)
    actions = []
    if current:
        card = menu.addAction(f"Model card of {card_summary(current).name}…")
        card.setToolTip("What this model reproduces, what it was trained on, and its validation table")
        card.triggered.connect(lambda *_, p=current: show_model_card(p, parent))
        menu.addSeparator()
    choices = weights_registry.available_weights(ctx.settings, s.scale)
    if not choices:
        a = menu.addAction(f"(no weights for ×{s.scale} — train some in the Train tab)")
        a.setEnabled(False)
    for c in choices:
        a = QAction(c.label, menu)
        a.setCheckable(True)
        a.setChecked(str(c.path.resolve()) == current)
        a.setToolTip(f"{c.path}\n{model_blurb(c.path)}")
        a.setStatusTip(str(c.path))
        group.addAction(a)
        a.triggered.connect(lambda *_, p=c.path, shipped=c.shipped: choose(ctx, None if shipped else p))
        menu.addAction(a)
        actions.append(a)
    menu.addSeparator()
    other = menu.addAction("Other weights file…")
    other.triggered.connect(lambda *_: choose_file(parent, ctx))
    beside = menu.addMenu("Compare &beside the main model")
    beside.setToolTipsVisible(True)
    added = {str(Path(e.path).resolve()) for e in s.extras.values() if e.is_adknet}
    for c in choices:
        if str(c.path.resolve()) not in added | {current}:
            a = beside.addAction(c.label)
            a.setToolTip(f"{c.path}\n{model_blurb(c.path)}")
            a.triggered.connect(lambda *_, p=c.path: ctx.commands.add_weights(p))
    beside.addAction("Weights file…").triggered.connect(lambda *_: add_beside_file(parent, ctx))
    return actions


def add_beside_file(parent: QWidget, ctx: TabContext) -> None:
    """Another model as a method beside the main ADK-Net (compare a fine-tune with the shipped weights)."""
    path = _ask_file(parent, ctx)
    if path and ctx.commands.add_weights(path) is not None:
        weights_registry.remember(ctx.settings, path)


def choose(ctx: TabContext, path: str | Path | None) -> None:
    """Use these weights (None: the shipped ones) in every tab."""
    ctx.commands.set_weights(path)
    name = Path(path).name if path else "the shipped weights"
    ctx.hub.info(f"ADK-Net now uses {name}.")


def _ask_file(parent: QWidget, ctx: TabContext) -> str:
    start = ctx.settings.get_str("folders/weights", str(Path.home()))
    path, _ = QFileDialog.getOpenFileName(parent, "ADK-Net weights", start, "ADK-Net weights (*.safetensors)")
    if path:
        ctx.settings.set("folders/weights", str(Path(path).parent))
    return path


def choose_file(parent: QWidget, ctx: TabContext) -> None:
    path = _ask_file(parent, ctx)
    if not path:
        return
    try:
        loaded = load_weights(path)  # refuse a bad file here, with its one-sentence reason
    except UserError as e:
        ctx.hub.error(str(e))
        return
    weights_registry.remember(ctx.settings, path)
    if loaded.scale != ctx.session.scale:
        ctx.commands.set_scale(loaded.scale)
    choose(ctx, path)
