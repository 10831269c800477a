"""The pairs table's model: one row per pair, PSNR RGB / PSNR Y / SSIM per method, ADK-Net's margin; sortable.

A problem pair shows its reason; a score of a model on one of its own training pairs is marked (†, tinted), so
nobody reads it as a test score. Sorting goes through a QSortFilterProxyModel on SORT_ROLE (numbers).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from adkviewer.dataset.dataset_controller import DatasetController
from adkviewer.state.session import TRAIN_PAIR_MARK

SORT_ROLE = Qt.UserRole + 1
TRAINED_MARK = "†"
TRAINED_TIP = f"† {TRAIN_PAIR_MARK}: this model was trained on this pair, so this is not a test score"
SCORES = (("psnr", "PSNR", 2), ("psnr_y", "Y", 2), ("ssim", "SSIM", 4))
MARGIN = "ADK-Net margin"
TRAINED_BG = QColor(255, 236, 200)


class PairsModel(QAbstractTableModel):
    """Rows: the dataset's pairs (problem pairs last); columns: pair, margin, then 3 scores per method, status."""

    def __init__(self, controller: DatasetController, parent=None) -> None:
        super().__init__(parent)
        self.c = controller
        self.methods: tuple[str, ...] = ()
        controller.opened.connect(self.reset)
        controller.scored.connect(self._on_scored)

    def reset(self) -> None:
        self.beginResetModel()
        self.methods = tuple(self.c.methods())
        self.endResetModel()

    def _on_scored(self, name: str) -> None:
        if tuple(self.c.methods()) != self.methods:
            self.reset()
            return
        row = self.c.state.row_of(name)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    # ------------------------------------------------------------------ shape

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.c.state.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else 3 + len(SCORES) * len(self.methods)

    def column(self, col: int) -> tuple[str, str | None]:
        """('pair' | 'margin' | 'status' | score key, method or None) of a column."""
        if col == 0:
            return "pair", None
        if col == 1:
            return "margin", None
        if col == self.columnCount() - 1:
            return "status", None
        m, k = divmod(col - 2, len(SCORES))
        return SCORES[k][0], self.methods[m]

    def column_of(self, key: str, method: str | None = None) -> int:
        return next(c for c in range(self.columnCount()) if self.column(c) == (key, method))

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if orientation != Qt.Horizontal or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        key, m = self.column(section)
        if m is None:
            text = {"pair": "pair", "margin": MARGIN, "status": "status"}[key]
            if role == Qt.ToolTipRole and key == "margin":
                return "ADK-Net's PSNR (RGB) minus the best other method's on this pair, in dB"
            return text
        short = self.c.session.short_label(m)
        label = dict((k, h) for k, h, _ in SCORES)[key]
        return f"{short} {label}" if role == Qt.DisplayRole else f"{self.c.session.label(m)}: {label}"

    # ------------------------------------------------------------------ cells

    def value(self, row: int, col: int) -> float | None:
        """The number in a cell (None: none yet, or a problem)."""
        r = self.c.state.rows[row]
        key, m = self.column(col)
        if key == "margin":
            return self.c.state.margin(r.name, self.methods)
        if m is None:
            return None
        v = self.c.state.scores.get(r.name, {}).get(m)
        return None if v is None else v.get(key)

    def status(self, row: int) -> str:
        st = self.c.state
        r = st.rows[row]
        if not r.ok:
            return f"skipped: {r.problem}"
        why = st.problems.get(r.name, {})
        got = st.scores.get(r.name, {})
        if why:
            return "; ".join(dict.fromkeys(why.values()))  # a pair that failed every method: said once
        if len(got) < len(self.methods):
            return f"{len(got)} of {len(self.methods)} methods…" if got else "waiting…"
        return ""

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        r = self.c.state.rows[row]
        key, m = self.column(col)
        trained = m is not None and self.c.trained(m, r.name)
        if role == SORT_ROLE:
            if key == "pair":
                return r.name
            if key == "status":
                return self.status(row)
            v = self.value(row, col)
            return v if v is not None and math.isfinite(v) else -math.inf
        if role == Qt.DisplayRole:
            if key == "pair":
                return r.name + (f" {TRAINED_MARK}" if any(self.c.trained(x, r.name) for x in self.methods) else "")
            if key == "status":
                return self.status(row)
            v = self.value(row, col)
            if v is None:
                why = self.c.state.problems.get(r.name, {}).get(m) if m else None
                return "—" if why or not r.ok else ""
            digits = 4 if key == "ssim" else 2
            text = f"{v:+.2f}" if key == "margin" else f"{v:.{digits}f}"
            return text + (f" {TRAINED_MARK}" if trained else "")
        if role == Qt.ToolTipRole:
            why = self.c.state.problems.get(r.name, {}).get(m) if m else None
            if not r.ok:
                return f"{r.name} is skipped: {r.problem}"
            if why:
                return why
            if trained or (key == "pair" and any(self.c.trained(x, r.name) for x in self.methods)):
                return TRAINED_TIP
            return None
        if role == Qt.BackgroundRole and trained:
            return QBrush(TRAINED_BG)
        if role == Qt.ForegroundRole and (not r.ok or (key == "margin" and (self.value(row, col) or 0) < 0)):
            return QBrush(QColor(176, 64, 0))
        if role == Qt.TextAlignmentRole and key not in ("pair", "status"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


def sorting_proxy(model: PairsModel, parent=None) -> QSortFilterProxyModel:
    """The table's sorted view of the model (numbers sort as numbers, missing ones last when descending)."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setDynamicSortFilter(False)  # rows stay put while scores arrive; a click on a header sorts again
    return proxy
