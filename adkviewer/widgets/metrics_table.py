"""The metrics table: PSNR (RGB), PSNR (Y), SSIM and time per method, best marked, convention labelled."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSizePolicy,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from adkviewer.state.metrics_export import (SHORT_CONVENTION, MetricsRow, about_line, best_values,
                                            metrics_convention, metrics_tsv)
from adkviewer.state.session import Session

COLUMNS = (("label", "Method"), ("psnr", "PSNR RGB (dB)"), ("psnr_y", "PSNR Y (dB)"), ("ssim", "SSIM"),
           ("seconds", "Time (s)"))
STAR = " ★"


def fmt(key: str, v: float | None) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    return f"{v:.4f}" if key in ("ssim",) else f"{v:.3f}" if key == "seconds" else f"{v:.2f}"


class MetricsTable(QWidget):
    """A read-only table over `Session.metrics_rows()`, with Copy and Export CSV."""

    exportRequested = Signal()
    fittedHeightChanged = Signal()  # the heading wraps onto more or fewer lines, or rows came or went

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rows: list[MetricsRow] = []
        self._fitted = -1
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.RichText)
        self.heading.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the table (tab-separated, with its convention) to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.csv_button = QPushButton("Export CSV…", self)
        self.csv_button.setToolTip("Save the table as CSV: 'adkviewer eval --csv''s columns, each row naming its "
                                   "image, ground truth, scale and model (the ADK-Net weights, the least-squares fit)")
        self.csv_button.clicked.connect(self.exportRequested)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.heading, 1)
        head.addWidget(self.copy_button)
        head.addWidget(self.csv_button)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([h for _, h in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 5)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, len(COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.table)
        lay.addStretch(1)  # a taller pane leaves room below the last row instead of an empty table body
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        self.rows = rows = s.metrics_rows()
        best = best_values(rows)
        if s.hr_full is None:
            self.heading.setText("No image open.")
        elif not s.has_gt:
            aside = s.gt_for_another_scale()
            why = f"ground truth at ×{aside[1]}" if aside else "no ground-truth LR"
            self.heading.setText(f"<b>Metrics</b> <b style='color:#c05000'>off: {why}</b> &nbsp; "
                                 f"<span style='color:gray'>({SHORT_CONVENTION})</span>")
        else:
            self.heading.setText(f"<b>Metrics</b> vs {_esc(_name(s.gt_path))} &nbsp;·&nbsp; {SHORT_CONVENTION}"
                                 f" &nbsp;·&nbsp; ★ best")
        self.heading.setToolTip(metrics_convention())
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        self.table.clearSpans()
        for i, r in enumerate(rows):
            for c, (key, _) in enumerate(COLUMNS):
                v = getattr(r, key)
                if key == "label":
                    text = r.label
                else:
                    text = fmt(key, v)
                    if key in best and v is not None and v == best[key]:
                        text += STAR
                item = QTableWidgetItem(text)
                item.setTextAlignment((Qt.AlignLeft if c == 0 else Qt.AlignRight) | Qt.AlignVCenter)
                if key != "label" and key in best and v is not None and v == best[key]:
                    item.setFont(bold)
                self.table.setItem(i, c, item)
            if r.message and r.psnr is None and r.seconds is None:
                msg = QTableWidgetItem(r.message)
                msg.setForeground(Qt.darkGray)
                msg.setToolTip(r.message)
                msg.setSizeHint(QSize(1, 1))  # a long sentence must not widen the PSNR column it starts in: it elides
                self.table.setItem(i, 1, msg)
                self.table.setSpan(i, 1, 1, len(COLUMNS) - 1)
        self.table.setMaximumHeight(self.table_height())
        self._check_fitted()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._check_fitted()  # a narrower pane (the side panel dragged wider) may wrap the heading

    def _check_fitted(self) -> None:
        need = self.fitted_height()
        if need != self._fitted:
            self._fitted = need
            self.fittedHeightChanged.emit()

    def table_height(self) -> int:
        """Header plus every row: the table's height without a scroll bar."""
        t = self.table
        bar = t.horizontalScrollBar().sizeHint().height() if t.horizontalScrollBar().isVisible() else 0
        return t.horizontalHeader().sizeHint().height() + t.verticalHeader().length() + 2 * t.frameWidth() + bar

    def fitted_height(self) -> int:
        """The pane's height at which the heading wraps as now and every row shows (the splitter's target)."""
        head = max(self.heading.heightForWidth(self.heading.width()), self.copy_button.sizeHint().height())
        return head + self.layout().spacing() + self.table_height()

    def text_for_clipboard(self) -> str:
        return metrics_tsv(self.rows, metrics_convention(), about_line(self.session))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text_for_clipboard())


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name(path: str | None) -> str:
    from pathlib import Path

    return Path(path).name if path else "?"
