"""Small layout helpers the tabs share: the side panel beside the views, section titles, the readout label."""

from __future__ import annotations

from PySide6.QtCore import Qt
from typing import Callable

from PySide6.QtWidgets import QLabel, QSplitter, QToolButton, QVBoxLayout, QWidget


def side_by_main(tab: QWidget, side: QWidget, main: QWidget, side_width: int) -> QSplitter:
    """A tab's standard frame: a fixed-ish side panel left of a stretching main area, filling the tab."""
    split = QSplitter(Qt.Horizontal, tab)
    split.addWidget(side)
    split.addWidget(main)
    split.setStretchFactor(0, 0)
    split.setStretchFactor(1, 1)
    split.setChildrenCollapsible(False)
    split.setSizes([side_width, 1000])
    lay = QVBoxLayout(tab)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(split)
    return split


def readout_label(parent: QWidget) -> QLabel:
    """The selectable rich-text 'Pixel under the mouse' readout of a side panel."""
    lab = QLabel(parent)
    lab.setTextFormat(Qt.RichText)
    lab.setWordWrap(True)
    lab.setAlignment(Qt.AlignTop | Qt.AlignLeft)
    lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return lab


def section_label(text: str) -> QLabel:
    """A bold heading for a group of controls in a tab's side panel."""
    lab = QLabel(f"<b>{text}</b>")
    lab.setContentsMargins(0, 6, 0, 0)
    return lab


def tool_button(parent: QWidget, text: str, tip: str = "", clicked: Callable[[], object] | None = None,
                checkable: bool = False) -> QToolButton:
    """A small toolbar button (Fit, Compute, Cancel, Grid …), the same way in every tab."""
    button = QToolButton(parent)
    button.setText(text)
    button.setCheckable(checkable)
    if tip:
        button.setToolTip(tip)
    if clicked is not None:
        button.clicked.connect(lambda *_: clicked())
    return button
