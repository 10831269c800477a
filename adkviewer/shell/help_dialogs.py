"""Help → Shortcuts (F1) and Help → About: the window's shortcut list, the version and the model in use."""

from __future__ import annotations

import html
from importlib import metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from adkviewer.state.model_info import card_summary
from adkviewer.state.session import Session
from adk_model.model_card import OWN_CAMERA

# (keys, what they do): the F1 help lists these, with each tab's own `shortcuts` before the last line.
SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+O", "Open an HR image (or drop one on the window; a pairs folder opens in the dataset view and the Train tab)"),
    ("Ctrl+L", "Open the ground-truth LR for it"),
    ("1 – 9", "Show method N alone, at the same zoom (flicker)"),
    ("0, Esc, G", "Back to the grid (Esc also cancels running work)"),
    ("Space (hold)", "Show the ground truth while held"),
    ("H (hold)", "Show the HR (its view ticked: HR reference) while held"),
    ("W", "Swipe between two methods (drag the yellow split)"),
    ("Mouse wheel / drag", "Zoom / pan all views together"),
    ("F", "Fit the image in the views"),
    ("Ctrl+0", "Zoom 1:1 (one screen pixel per LR pixel)"),
    ("Ctrl++ / Ctrl+−", "Zoom in / out"),
    ("Ctrl+S", "Save a method's output as PNG"),
    ("Ctrl+Shift+S", "Save the views as PNG"),
    ("Ctrl+E", "Export the metrics as CSV"),
    ("Ctrl+Shift+C", "Copy the metrics table"),
    ("Ctrl+,", "Settings (device, tile memory budget)"),
    ("F1", "This list"),
]


def version() -> str:
    """The installed package's version (pyproject.toml), or a word saying it is not installed."""
    try:
        return metadata.version("adkviewer")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def shortcuts_html(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(t)}</td></tr>"
                   for k, t in items)
    return f"<table cellspacing='4'>{rows}</table>"


def shortcuts_box(parent: QWidget, items: list[tuple[str, str]]) -> QMessageBox:
    """A non-modal list of the shortcuts, one line each."""
    box = QMessageBox(parent)
    box.setWindowTitle("Shortcuts")
    box.setTextFormat(Qt.RichText)
    box.setText(shortcuts_html(items))
    box.setStyleSheet("QLabel { min-width: 46em; }")  # one line per shortcut, not a narrow wrapped column
    box.setModal(False)
    box.show()
    return box


def about_html(session: Session) -> str:
    """Version, what the program is, the ADK-Net model in use and what it reproduces, the demo's licence."""
    w = session.adknet_weights()
    if w is not None:
        c = card_summary(w)
        model = (f"<p><b>ADK-Net model (×{session.scale}):</b> {html.escape(c.name)}<br>"
                 f"<span style='color:gray'>{html.escape(str(w))}</span><br>"
                 f"It reproduces {html.escape(c.reproduces)}.<br>{html.escape(OWN_CAMERA)}<br>"
                 "File → ADK-Net weights → Model card… shows its training data and validation table.</p>")
    else:
        model = f"<p>No ADK-Net weights for ×{session.scale}: train some in the Train tab.</p>"
    return (f"<p><b>ADK Viewer {html.escape(version())}</b></p>"
            "<p>Explore, compare and fine-tune ADK-Net, a learned per-pixel RGB-kernel image downscaler.</p>"
            f"{model}<p>Demo photo: NASA, public domain (see resources/demo/LICENSE.md).</p>")


def show_about(parent: QWidget, session: Session) -> None:
    QMessageBox.about(parent, "About ADK Viewer", about_html(session))
