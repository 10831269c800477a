"""A bar of control groups in one row where they fit, one row per group where they do not, so a narrow window (a
1024-px screen with a dock open) keeps every button in sight instead of growing past the screen."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QSizePolicy, QWidget


class WrapBar(QWidget):
    """Each group is a row of widgets (an int: a gap in px); `stretch` = (group, item) names the one item that
    takes its row's spare width."""

    def __init__(self, groups: list[list[QWidget | int]], parent: QWidget | None = None,
                 stretch: tuple[int, int] | None = None, margins: tuple[int, int, int, int] = (4, 4, 4, 2),
                 spacing: int = 4, columns: tuple[int, ...] | None = None, wrapped_right: bool = True,
                 vertical: QSizePolicy.Policy = QSizePolicy.Fixed) -> None:
        """`columns`: each group's share of spare width in one row (default: all to the first); `wrapped_right`:
        later groups keep to the right when stacked; `vertical`: the bar's vertical size policy."""
        super().__init__(parent)
        self._columns = columns or (1,) + (0,) * (len(groups) - 1)
        self._wrapped_right = wrapped_right
        self._groups: list[QWidget] = []
        for gi, items in enumerate(groups):
            box = QWidget(self)
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(spacing)
            for wi, item in enumerate(items):
                if isinstance(item, int):  # a gap in pixels between sub-groups
                    row.addSpacing(item)
                else:
                    row.addWidget(item, 1 if stretch == (gi, wi) else 0)
            self._groups.append(box)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(*margins)
        self._grid.setHorizontalSpacing(spacing)
        self._grid.setVerticalSpacing(spacing)
        self._wide: bool | None = None
        self.setSizePolicy(QSizePolicy.Preferred, vertical)
        self._arrange(True)

    @property
    def wrapped(self) -> bool:
        return self._wide is False

    def _one_row_width(self) -> int:
        m = self._grid.contentsMargins()
        gaps = self._grid.horizontalSpacing() * (len(self._groups) - 1)
        return sum(g.minimumSizeHint().width() for g in self._groups) + gaps + m.left() + m.right()

    def _arrange(self, wide: bool) -> None:
        if wide == self._wide:
            return
        self._wide = wide
        for g in self._groups:
            self._grid.removeWidget(g)
        for i, g in enumerate(self._groups):
            if wide:
                self._grid.addWidget(g, 0, i)
                self._grid.setColumnStretch(i, self._columns[i])
            elif i and self._wrapped_right:  # later groups keep to the right, where they sit in one row
                self._grid.addWidget(g, i, 0, Qt.AlignRight)
            else:
                self._grid.addWidget(g, i, 0)
        if not wide:
            self._grid.setColumnStretch(0, 1)
            for i in range(1, len(self._groups)):
                self._grid.setColumnStretch(i, 0)
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:
        m = self._grid.contentsMargins()
        width = max(g.minimumSizeHint().width() for g in self._groups) + m.left() + m.right()
        return QSize(width, self._grid.minimumSize().height())

    def resizeEvent(self, event) -> None:
        self._arrange(event.size().width() >= self._one_row_width())
        super().resizeEvent(event)
