"""The Compare swipe's choice of two images, A ◀ | ▶ B: it follows the defaults until a person picks one."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from adk_model.errors import UserError
from adk_model.methods import SHORT_LABELS


class SwipePicker(QWidget):
    """Two lists of the shown images; a pick is kept while that image is offered, else the default is shown."""

    picked = Signal()  # a person chose A or B

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.a, self.b = QComboBox(self), QComboBox(self)
        for combo, tip in ((self.a, "Left of the split"), (self.b, "Right of the split")):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
            combo.setToolTip(tip)
        self._picked = [False, False]  # a person chose A / B: keep it; else follow the defaults
        self.a.activated.connect(lambda _i: self._on_pick(0))
        self.b.activated.connect(lambda _i: self._on_pick(1))
        row.addWidget(self.a)
        row.addWidget(QLabel("◀ | ▶", self))
        row.addWidget(self.b)

    def _on_pick(self, side: int) -> None:
        self._picked[side] = True
        self.picked.emit()

    def pair(self) -> tuple[str | None, str | None]:
        return self.a.currentData(), self.b.currentData()

    def refill(self, keys: list[str], default_a: str | None, default_b: str | None,
               short: Callable[[str], str] = lambda k: SHORT_LABELS.get(k, k)) -> bool:
        """Offer `keys` (named by `short`); each side keeps a person's pick while it is offered, else shows its default.
        True when the pair shown changed."""
        before = self.pair()
        for side, (combo, want) in enumerate(((self.a, default_a), (self.b, default_b))):
            cur = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for k in keys:
                combo.addItem(short(k), k)
            pick = cur if (self._picked[side] and cur in keys) else want
            if pick in keys:
                combo.setCurrentIndex(keys.index(pick))
            combo.blockSignals(False)
        return self.pair() != before

    def choose(self, a: str, b: str) -> None:
        """Swipe between these two (a method or 'gt'), as if a person picked them; unknown names raise UserError."""
        for key, combo in ((a, self.a), (b, self.b)):
            if combo.findData(key) < 0:
                choices = ", ".join(combo.itemData(i) for i in range(combo.count()))
                raise UserError(f"Cannot swipe with '{key}': choose from {choices}.")
        self.a.setCurrentIndex(self.a.findData(a))
        self.b.setCurrentIndex(self.b.findData(b))
        self._picked = [True, True]
