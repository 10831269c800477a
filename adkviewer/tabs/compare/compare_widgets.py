"""Pieces of the Compare tab: the readout table, the progress bar, sizes."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from adk_model.methods import SHORT_LABELS

from adkviewer.gui.context import TabContext
from adkviewer.state.model_info import card_summary, model_blurb
from adkviewer.widgets.model_card_dialog import show_model_card

METRICS_MIN_HEIGHT = 120  # the metrics pane's least height, unless its rows need less


COMPACT_NAME = 7  # characters of a method's short name in a side panel too narrow for the whole readout


def readout_table(rows: list[tuple[str, tuple[float, float, float] | None]], compact: bool = False) -> str:
    """The readout's rows as HTML: a colour swatch, the method's short name (never wrapped), then R, G and B;
    `compact`: no swatch, three decimals and names cut to COMPACT_NAME, so that B stays in a narrow panel."""
    decimals, gap = (3, " ") if compact else (4, "&nbsp;")
    swatch_head = "" if compact else "<td></td>"
    lines = ["<table cellspacing='0' cellpadding='1'>"
             f"<tr>{swatch_head}<td></td><td align='right'><span style='color:#c00'>R</span></td>"
             "<td align='right'><span style='color:#080'>G</span></td>"
             "<td align='right'><span style='color:#00c'>B</span></td></tr>"]
    for name, rgb in rows:
        if compact and len(name) > COMPACT_NAME:
            name = name[: COMPACT_NAME - 1] + "…"
        name_cell = f"<td style='white-space:nowrap'>{name}</td>"
        if rgb is None:
            lines.append(f"<tr>{swatch_head}{name_cell}<td colspan='3' style='color:gray'>—</td></tr>")
            continue
        hexcol = "#%02x%02x%02x" % tuple(int(round(min(max(v, 0), 1) * 255)) for v in rgb)
        cells = "".join(f"<td align='right' style='font-family:monospace'>{gap}{v:.{decimals}f}</td>" for v in rgb)
        swatch = "" if compact else f"<td style='color:{hexcol}'>■&nbsp;</td>"
        lines.append(f"<tr>{swatch}{name_cell}{cells}</tr>")
    return "".join(lines) + "</table>"


def readout_texts(session, row: int, col: int, hovered: bool, compact: bool = False) -> tuple[str, str]:
    """The readout at LR (row, col) of the session: HTML for the label (`compact`: see readout_table), plain
    text (one line per image, always in full)."""
    sc = session.scale
    where = f"LR x={col}, y={row}" + ("" if hovered else " (selected)")
    hr_span = f"HR x {col * sc}–{col * sc + sc - 1}, y {row * sc}–{row * sc + sc - 1}"
    rows = [(session.short_label(key), rgb) for key, _label, rgb in session.readout(row, col)]
    plain = [where, hr_span] + [f"{name} " + (" ".join(f"{v:.4f}" for v in rgb) if rgb is not None else "—")
                                for name, rgb in rows]
    return f"{where}<br><span style='color:gray'>{hr_span}</span>{readout_table(rows, compact)}", "\n".join(plain)


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


class ModelNote(QLabel):
    """Beside the weights: what the ADK-Net model reproduces, that another camera needs calibrating, its card."""

    def __init__(self, ctx: TabContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.linkActivated.connect(self._on_link)

    def sync(self) -> None:
        """Say it for the weights the session uses now (hidden without any)."""
        w = self.ctx.session.adknet_weights()
        self.setVisible(w is not None)
        if w is None:
            return
        c = card_summary(w)
        self.setText(
            f"<b>ADK-Net model</b> {_esc(c.name)} reproduces {_esc(c.reproduces)}. "
            "<span style='color:#555'>Photos from another camera: <a href='train'>Quick calibrate or fine-tune"
            "</a> on pairs of your own.</span> <a href='card'>Model card…</a>")
        self.setToolTip(f"{w}\n{model_blurb(w)}")

    def _on_link(self, link: str) -> None:
        w = self.ctx.session.adknet_weights()
        if link == "card" and w is not None:
            show_model_card(w, self)
        else:
            self.ctx.shell.show_tab("train")
