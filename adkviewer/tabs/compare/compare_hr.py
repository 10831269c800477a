"""The HR reference view of Compare: the HR on the views' camera (one LR pixel is its s x s HR cell), ticked
beside the methods, held with H and swiped against any of them."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QWidget

HR = "hr"  # the view's key among the methods' (never a method: nothing computes it)


class HrReference:
    """Whether the HR view is shown (its tick box), and the image and title it shows; `tab` is the CompareTab."""

    def __init__(self, tab, parent: QWidget) -> None:
        self.tab = tab
        self.shown = False
        self.check = QCheckBox("HR reference (hold H)", parent)
        self.check.setToolTip("The HR on the same camera: each LR pixel of the other views covers its s×s HR "
                              "pixels here. Hold H to show it alone; it can be one side of the swipe.")
        self.check.toggled.connect(self._toggled)

    def _toggled(self, on: bool) -> None:
        self.shown = bool(on)
        self.tab._rebuild_views()

    def set_shown(self, on: bool) -> None:
        self.check.setChecked(on)

    def keys(self) -> list[str]:
        return [HR] if self.shown and self.tab.session.hr_full is not None else []

    def image_of(self, key: str | None) -> tuple[np.ndarray | None, int]:
        """A view's image and how many of its pixels span one LR pixel (the HR: the scale; the others: 1)."""
        s = self.tab.session
        if key == HR:
            return s.hr, s.scale
        return (s.image_of(key) if key else None), 1

    def show(self, panel) -> None:
        s = self.tab.session
        panel.set_image(s.hr, scale=s.scale)
        h, w = s.hr.shape[:2]
        panel.set_title(f"HR reference (×{s.scale})", "H", "",
                        f"{s.hr_path} — {w}×{h} HR, {s.scale}×{s.scale} HR pixels per LR pixel; hold H to show it "
                        "alone")
