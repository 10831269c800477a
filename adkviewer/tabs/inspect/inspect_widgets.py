"""Pieces of the Inspect tab: keys, shortcuts, field-map tips, and where the arrow keys apply."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from adkviewer.widgets.view_grid import ViewGrid


ARROWS = {Qt.Key_Left: (0, -1), Qt.Key_Right: (0, 1), Qt.Key_Up: (-1, 0), Qt.Key_Down: (1, 0)}
SHIFT_STEP = 8
AUTO_FIELD_PIXELS = 256 * 256  # field maps of images up to this many LR pixels compute when the tab is shown
SHORTCUTS = [
    ("Click (Compare, Inspect)", "Select an LR pixel: its kernels show in the Inspect tab"),
    ("Arrow keys", f"Move the selected pixel (Shift: {SHIFT_STEP} pixels) in the Compare views or Inspect"),
]
FIELD_TIPS = {
    "dx": "Centroid x of the channel's kernel, HR pixels from the cell centre (+ = right): where it samples",
    "dy": "Centroid y of the channel's kernel, HR pixels from the cell centre (+ = down): where it samples",
    "spread": "Radial standard deviation of |kernel| about its centroid, HR pixels: how wide it blurs",
    "rb": "Σ over taps of |K_R − K_B|: 0 where R and B use the same kernel, up to 2 where they share no tap",
}


def _in_image_views(widget: QWidget | None) -> bool:
    """True inside the image views (a ViewGrid), where the arrow keys move the selection."""
    while widget is not None:
        if isinstance(widget, ViewGrid):
            return True
        widget = widget.parentWidget()
    return False
