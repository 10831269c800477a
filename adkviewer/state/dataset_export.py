"""The dataset view's tables as text: the per-pair table and the summary as CSV (Copy and Export), Qt-free.

Key names are those of `adkviewer eval --csv` (method, psnr_rgb, psnr_y, ssim, seconds), so one reader takes both.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Callable, Sequence

from adk_model.atomic import atomic_write_bytes

from adkviewer.state.dataset import DatasetState

PER_PAIR_COLUMNS = ("pair", "method", "psnr_rgb", "psnr_y", "ssim", "seconds", "trained_on_pair", "problem")
SUMMARY_COLUMNS = ("method", "psnr_rgb", "psnr_y", "ssim", "seconds", "pairs", "beaten_by_adknet", "convention")


def _num(v: float | None, digits: int) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _text(rows: list[Sequence[str]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def per_pair_csv(state: DatasetState, methods: Sequence[str], label: Callable[[str], str] = str,
                 trained: Callable[[str, str], bool] = lambda m, p: False) -> str:
    """One line per (pair, method): its scores, whether its model trained on the pair, or why it has none."""
    rows = []
    for r in state.rows:
        if not r.ok:
            rows.append([r.name, "", "", "", "", "", "", r.problem or ""])
            continue
        got, why = state.scores.get(r.name, {}), state.problems.get(r.name, {})
        for m in methods:
            v = got.get(m)
            rows.append([r.name, label(m), _num(v and v["psnr"], 4), _num(v and v["psnr_y"], 4),
                         _num(v and v["ssim"], 5), _num(v and v.get("seconds"), 4),
                         "yes" if trained(m, r.name) else "", why.get(m, "" if v else "not scored yet")])
    return _text(rows, PER_PAIR_COLUMNS)


def summary_csv(state: DatasetState, methods: Sequence[str], label: Callable[[str], str] = str) -> str:
    """One line per method: the means over the split (as `adkviewer eval`), and on how many pairs ADK-Net beats it."""
    means, beaten = state.summary(methods), state.beaten(methods)
    rows = []
    for m in methods:
        v = means.get(m)
        if v is None:
            continue
        k, n = beaten.get(m, (None, None))
        rows.append([label(m), _num(v["psnr"], 4), _num(v["psnr_y"], 4), _num(v["ssim"], 5), _num(v["seconds"], 4),
                     str(int(v["pairs"])), "" if k is None else f"{k} of {n}", state.convention()])
    return _text(rows, SUMMARY_COLUMNS)


def write_text(path: str, text: str) -> None:
    """Write a CSV atomically (a crash never leaves half a file)."""
    atomic_write_bytes(path, text.encode("utf-8"))
