"""Pieces of the Compare tab: the readout table, the progress bar, sizes."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import QProgressBar

from adk_model.methods import SHORT_LABELS

METRICS_MIN_HEIGHT = 120  # the metrics pane's least height, unless its rows need less


def readout_table(rows: list[tuple[str, tuple[float, float, float] | None]]) -> str:
    """The readout's rows as HTML: a colour swatch, the method's short name (never wrapped), then R, G and B."""
    lines = ["<table cellspacing='0' cellpadding='1'>"
             "<tr><td></td><td></td><td align='right'><span style='color:#c00'>R</span></td>"
             "<td align='right'><span style='color:#080'>G</span></td>"
             "<td align='right'><span style='color:#00c'>B</span></td></tr>"]
    for name, rgb in rows:
        name_cell = f"<td style='white-space:nowrap'>{name}</td>"
        if rgb is None:
            lines.append(f"<tr><td></td>{name_cell}<td colspan='3' style='color:gray'>—</td></tr>")
            continue
        hexcol = "#%02x%02x%02x" % tuple(int(round(min(max(v, 0), 1) * 255)) for v in rgb)
        cells = "".join(f"<td align='right' style='font-family:monospace'>&nbsp;{v:.4f}</td>" for v in rgb)
        lines.append(f"<tr><td style='color:{hexcol}'>■&nbsp;</td>{name_cell}{cells}</tr>")
    return "".join(lines) + "</table>"


def readout_width(font: QFont) -> int:
    """Pixels the readout table needs for the longest short name and negative values (the side panel's width)."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml(readout_table([(name, (-0.5, -0.5, -0.5)) for name in SHORT_LABELS.values()]))
    return math.ceil(doc.idealWidth())


class _Progress(QProgressBar):
    """A progress bar that asks for room for its text but can shrink in a narrow window."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(220, super().sizeHint().height())


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
