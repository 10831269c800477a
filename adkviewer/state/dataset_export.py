"""The dataset view's tables as text: the per-pair table and the summary as CSV (Copy and Export), Qt-free.

Columns are those of `adkviewer eval --csv` (`adk_model.eval_report.CSV_COLUMNS`: pair, method, label, kind, psnr,
psnr_y, ssim, seconds, pairs, problem) plus the view's own, so one reader takes both.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Callable, Sequence

from adk_model.atomic import atomic_write_bytes
from adk_model.eval_report import CSV_COLUMNS
from adk_model.method_registry import ADKNET_PREFIX, EXTERNAL_PREFIX

from adkviewer.state.dataset import DatasetState

PER_PAIR_COLUMNS = (*CSV_COLUMNS, "trained_on_pair")
SUMMARY_COLUMNS = (*CSV_COLUMNS, "beaten_by_adknet", "convention")
DIGITS = {"psnr": 4, "psnr_y": 4, "ssim": 5, "seconds": 4}  # as eval's CSV


def kind(method: str) -> str:
    """eval's `kind` of a method key: adknet, external or builtin."""
    if method == "adknet" or method.startswith(ADKNET_PREFIX):
        return "adknet"
    return "external" if method.startswith(EXTERNAL_PREFIX) else "builtin"


def _cell(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{DIGITS[key]}f}" if key in DIGITS else str(value)


def _text(rows: list[Sequence[str]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def per_pair_csv(state: DatasetState, methods: Sequence[str], label: Callable[[str], str] = str,
                 trained: Callable[[str, str], bool] = lambda m, p: False) -> str:
    """One line per (pair, method): its scores, or why it has none, and whether its model trained on the pair."""
    rows = []
    for r in state.rows:
        if not r.ok:
            rows.append({"pair": r.name, "problem": r.problem or "unusable"})
            continue
        got, why = state.scores.get(r.name, {}), state.problems.get(r.name, {})
        for m in methods:
            v = got.get(m) or {}
            rows.append({"pair": r.name, "method": m, "label": label(m), "kind": kind(m), **v,
                         "problem": why.get(m, "" if v else "not scored yet"),
                         "trained_on_pair": "yes" if trained(m, r.name) else ""})
    return _text([[_cell(k, row.get(k)) for k in PER_PAIR_COLUMNS] for row in rows], PER_PAIR_COLUMNS)


def summary_csv(state: DatasetState, methods: Sequence[str], label: Callable[[str], str] = str) -> str:
    """One line per method: the means over the split (as eval's mean rows), and on how many pairs ADK-Net beats it."""
    means, beaten = state.summary(methods), state.beaten(methods)
    rows = []
    for m in methods:
        if m not in means:
            continue
        k, n = beaten.get(m, (None, None))
        rows.append({"pair": "", "method": m, "label": label(m), "kind": kind(m), **means[m],
                     "pairs": int(means[m]["pairs"]), "beaten_by_adknet": "" if k is None else f"{k} of {n}",
                     "convention": state.convention()})
    return _text([[_cell(k, row.get(k)) for k in SUMMARY_COLUMNS] for row in rows], SUMMARY_COLUMNS)


def write_text(path: str, text: str) -> None:
    """Write a CSV atomically (a crash never leaves half a file)."""
    atomic_write_bytes(path, text.encode("utf-8"))
