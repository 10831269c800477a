"""`adkviewer eval`'s output for tools: one strict-JSON report (no NaN or Infinity) and its CSV flattening.

The CSV is made from the JSON report, so both carry the same key names and the same values (null = empty cell).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
from pathlib import Path
from typing import Any, Sequence

from .evaluate import SCORES, EvalResult
from .methods import MethodSet
from .model_card import card_train_pairs

SCHEMA = "adkviewer-eval"
SCHEMA_VERSION = 2  # 1: scale, pairs and means only
CSV_COLUMNS = ("pair", "method", "label", "kind", *SCORES, "pairs", "problem")
_CSV_FORMATS = {"psnr": "{:.4f}", "psnr_y": "{:.4f}", "ssim": "{:.5f}", "seconds": "{:.4f}"}


def file_sha256(path: str | os.PathLike) -> str:
    """The file's SHA-256, so a report names exactly which weights or fit made its numbers."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_method(key: str, ms: MethodSet) -> dict[str, Any]:
    """What a method is: label, kind (builtin, adknet, external) and the file(s) behind it."""
    if ms.is_adknet(key):
        w = ms.loaded(key)
        return {"label": ms.label(key), "kind": "adknet", "weights": str(Path(w.path).resolve()),
                "card_name": w.name, "sha256": file_sha256(w.path)}
    if key in ms.extras:
        e = ms.extras[key]
        return {"label": ms.label(key), "kind": "external", "path": str(Path(e.path).resolve()), "pattern": e.pattern}
    return {"label": ms.label(key), "kind": "builtin"}


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _why(key: str, value: float) -> str:
    if math.isinf(value) and key.startswith("psnr"):
        return "infinite (the output equals the ground truth)"
    if math.isnan(value) and key == "ssim":
        return "undefined (an image under 11 pixels across, or a crop leaving less)"
    return "not a finite number"


def _nonfinite_notes(res: EvalResult, methods: Sequence[str], labels: dict[str, str]) -> list[str]:
    """One note per method and score that had a non-finite value: where, why, and over how many pairs the mean is."""
    notes = []
    for m in methods:
        scored = [(pair, s[m]) for pair, s in res.per_pair.items() if m in s]
        for key in SCORES:
            bad = [(pair, v[key]) for pair, v in scored if key in v and not math.isfinite(v[key])]
            if bad:
                names = ", ".join(pair for pair, _ in bad[:5]) + (", ..." if len(bad) > 5 else "")
                notes.append(f"{labels[m]}: {key} is {_why(key, bad[0][1])} on {len(bad)} of {len(scored)} pairs "
                             f"({names}); those values are null and the mean {key} is over the other "
                             f"{len(scored) - len(bad)}.")
    return notes


def _training_pair_notes(res: EvalResult, ms: MethodSet, methods: Sequence[str], labels: dict[str, str],
                         described: dict[str, dict[str, Any]]) -> list[str]:
    """A note per ADK-Net model whose card lists scored pairs as its training pairs: those are not test scores."""
    notes = []
    for m in methods:
        if not ms.is_adknet(m):
            continue
        own = set(card_train_pairs(ms.loaded(m).card))
        hit = [pair for pair in res.per_pair if pair in own]
        described[m]["trained_on_scored_pairs"] = hit
        if hit:
            names = ", ".join(hit[:5]) + (", ..." if len(hit) > 5 else "")
            notes.append(f"{labels[m]} was trained on {len(hit)} of the {len(res.per_pair)} pairs scored ({names}): "
                         f"its scores there are not test scores.")
    return notes


def eval_report(res: EvalResult, ms: MethodSet, methods: Sequence[str], split: str,
                lstsq_fit: dict[str, Any] | None) -> dict[str, Any]:
    """The whole evaluation as one JSON-safe object (`json.dumps(..., allow_nan=False)` succeeds)."""
    described = {m: describe_method(m, ms) for m in methods}
    labels = {m: d["label"] for m, d in described.items()}
    training = _training_pair_notes(res, ms, methods, labels, described)
    means = {}
    for m in methods:
        got = res.methods.get(m, {})
        means[m] = {**described[m], **{k: _finite(got.get(k)) for k in SCORES}, "pairs": int(got.get("pairs", 0))}
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "scale": res.scale, "pairs": res.pairs, "crop": res.crop, "convention": res.convention(),
        "split": {"name": split, "pairs": list(res.per_pair)},
        "lstsq_fit": lstsq_fit,
        "methods": means,
        "per_pair": {pair: {m: {k: _finite(v.get(k)) for k in SCORES} for m, v in scores.items()}
                     for pair, scores in res.per_pair.items()},
        "problems": {pair: dict(p) for pair, p in res.problems.items()},
        "notes": _nonfinite_notes(res, methods, labels) + training,
    }


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    return _CSV_FORMATS[key].format(value) if key in _CSV_FORMATS else str(value)


def eval_csv(report: dict[str, Any]) -> str:
    """One row per (pair, method), then one mean row per method (its `pair` empty); columns are JSON keys."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    methods = report["methods"]
    for pair in report["split"]["pairs"]:
        scores, problems = report["per_pair"].get(pair, {}), report["problems"].get(pair, {})
        for m, d in methods.items():
            row = {"pair": pair, "method": m, "label": d["label"], "kind": d["kind"], **scores.get(m, {}),
                   "problem": problems.get(m)}
            w.writerow([_cell(k, row.get(k)) for k in CSV_COLUMNS])
    for m, d in methods.items():
        row = {"pair": "", "method": m, **d}
        w.writerow([_cell(k, row.get(k)) for k in CSV_COLUMNS])
    return buf.getvalue()


def shipped_lstsq_note(given: str | os.PathLike | None, n_train: int, scale: int) -> str | None:
    """Where "Least-squares" will be the shipped fit (no fit given, no train split to fit on), that sentence: the
    baseline a new camera's pairs are to be judged against is a fit of those pairs, not of RealSR's."""
    from .methods import shipped_lstsq

    path = None if given or n_train else shipped_lstsq(scale)
    if path is None:
        return None
    return f"Least-squares is the shipped fit ({_fitted_on(str(path), os.stat(path).st_mtime_ns)}), not one " \
           f"fitted on these pairs"


@functools.lru_cache(maxsize=8)
def _fitted_on(path: str, _mtime: int) -> str:
    """A fit file's "fitted on", read once per file version (the dataset view asks after every pair)."""
    from .baselines import load_lstsq

    return load_lstsq(path).fitted_on


def lstsq_source(path: str | os.PathLike | None, fitted_on_pairs: int = 0) -> dict[str, Any]:
    """Which least-squares fit was scored: a file (with its SHA-256), or one fitted on the train split here."""
    if path is None:
        return {"source": f"fitted on train split ({fitted_on_pairs} pair{'s' if fitted_on_pairs != 1 else ''})",
                "sha256": None}
    return {"source": str(Path(path).resolve()), "sha256": file_sha256(path)}
