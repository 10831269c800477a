"""The words shown about an ADK-Net model (side panel, tooltips, About, the model card window), Qt-free.

Everything comes from `adk_model.model_card.summarize_card`, cached per file and modification time, so a label that
is refreshed on every result costs no file read.
"""

from __future__ import annotations

import html
import os
from functools import lru_cache
from pathlib import Path

from adk_model.model_card import OWN_CAMERA, CardSummary, summarize_card


@lru_cache(maxsize=32)
def _cached(path: str, _mtime: float) -> CardSummary:
    return summarize_card(path)


def card_summary(path: str | os.PathLike) -> CardSummary:
    """The model card of a weights file (re-read when the card changes on disk)."""
    from adk_model.weights import card_path

    cp = card_path(path)
    try:
        mtime = cp.stat().st_mtime
    except OSError:
        mtime = -1.0
    return _cached(str(Path(path)), mtime)


def trained_on(path: str | os.PathLike, pair: str) -> bool:
    """Whether the model card of a weights file lists `pair` among its training pairs."""
    return pair in card_summary(path).train_pairs


def model_blurb(path: str | os.PathLike) -> str:
    """Two sentences: what this model reproduces, and what a person's own camera needs."""
    s = card_summary(path)
    return f"{s.name} reproduces {s.reproduces}. {OWN_CAMERA}"


def _fmt(v: float | None, digits: int) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def card_html(s: CardSummary) -> str:
    """The model card as rich text: what it reproduces, what it was trained on, its note and validation table."""
    e = html.escape
    parts = [f"<h3>{e(s.name)}</h3>",
             f"<p><span style='color:gray'>{e(str(s.path))}"
             + (f" · {e(s.arch)}" if s.arch else "") + (f" · ×{s.scale}" if s.scale else "") + "</span></p>"]
    if s.problem:
        parts.append(f"<p style='color:#b05000'>⚠ {e(s.problem.capitalize())}: nothing is known about how this "
                     "model was made.</p>")
    parts.append(f"<p><b>Reproduces</b> {e(s.reproduces)}.<br>{e(OWN_CAMERA)}</p>")
    if s.trained_on:
        parts.append("<p><b>Trained on</b><br>" + "<br>".join(e(line) for line in s.trained_on) + "</p>")
    if s.note:
        parts.append(f"<p><b>Note</b><br>{e(s.note)}</p>")
    if s.scores:
        rows = "".join(f"<tr><td>{e(r.label)}</td><td align='right'>{_fmt(r.psnr, 2)}</td>"
                       f"<td align='right'>{_fmt(r.psnr_y, 2)}</td><td align='right'>{_fmt(r.ssim, 4)}</td></tr>"
                       for r in s.scores)
        parts.append(f"<p><b>{e(s.scores_title)}</b></p><table cellspacing='0' cellpadding='3' border='1'>"
                     "<tr><th>method</th><th>PSNR RGB (dB)</th><th>PSNR Y (dB)</th><th>SSIM</th></tr>"
                     f"{rows}</table>")
    elif not s.problem:
        parts.append("<p style='color:gray'>The card records no validation scores.</p>")
    return "".join(parts)
