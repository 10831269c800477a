"""The metrics rows as the table shows them, and what leaves the program with them (CSV, clipboard, file names),
each saying which image, ground truth and model they are of. Qt-free."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adk_model.evaluate import EvalResult

# 'adkviewer eval --csv''s columns (method, psnr, psnr_y, ssim, seconds), with what a file on its own needs
CSV_HEADER = ("image", "ground_truth", "scale", "method", "model", "psnr", "psnr_y", "ssim", "seconds")
SHORT_CONVENTION = "RGB/Y(BT.601) PSNR dB, SSIM 11×11 σ1.5 on RGB, data range 1, full image, no border crop"


def metrics_convention(crop: int = 0) -> str:
    """The label of every metrics table: the same sentence as 'adkviewer eval' prints."""
    return EvalResult(scale=0, pairs=0, crop=crop, methods={}).convention()


@dataclass
class MetricsRow:
    method: str
    label: str
    psnr: float | None
    psnr_y: float | None
    ssim: float | None
    seconds: float | None
    message: str | None = None
    model: str = ""          # the weights (ADK-Net) or fit (least-squares) that made the output


def best_values(rows: list[MetricsRow]) -> dict[str, float]:
    """Best value per column: highest PSNR/SSIM, lowest time (NaN and missing values ignored)."""
    best: dict[str, float] = {}
    for key, pick in (("psnr", max), ("psnr_y", max), ("ssim", max), ("seconds", min)):
        vals = [getattr(r, key) for r in rows if getattr(r, key) is not None and not math.isnan(getattr(r, key))]
        if len(vals) > 1 or (vals and key != "seconds"):
            best[key] = pick(vals)
    return best


def metrics_csv(rows: list[MetricsRow], image: str = "", ground_truth: str = "", scale: int | None = None) -> str:
    """CSV with eval's columns and number formats (empty where there is no value), each row naming its image,
    ground truth, scale and model."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    fmts = {"psnr": "{:.4f}", "psnr_y": "{:.4f}", "ssim": "{:.5f}", "seconds": "{:.4f}"}
    for r in rows:
        w.writerow([image, ground_truth, scale or "", r.method, r.model] + [
            fmts[k].format(getattr(r, k)) if getattr(r, k) is not None else ""
            for k in ("psnr", "psnr_y", "ssim", "seconds")])
    return buf.getvalue()


def metrics_tsv(rows: list[MetricsRow], convention: str, about: str = "") -> str:
    """Tab-separated text for the clipboard (pastes into a spreadsheet), with what it is of and the convention
    as last lines."""
    lines = ["\t".join(("Method", "PSNR RGB (dB)", "PSNR Y (dB)", "SSIM", "Time (s)"))]
    for r in rows:
        cells = [r.label] + [f"{v:.4f}" if v is not None else "" for v in (r.psnr, r.psnr_y, r.ssim, r.seconds)]
        lines.append("\t".join(cells))
    lines += [about] if about else []
    lines.append(convention)
    return "\n".join(lines) + "\n"


def file_slug(text: str, limit: int = 48) -> str:
    """A model name as a file-name part: 'canon fine-tuned 200 it' -> 'canon-fine-tuned-200-it'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:limit].strip("-.") or "model"


def export_name(session: Any, what: str, key: str | None = None) -> str:
    """The default file name of an export (of `session`, a Session, which imports this module): the image, the
    scale, and for ADK-Net the weights' name, e.g.
    'photo_x4_adknet-my-canon.png' (a method's output), 'photo_x4_metrics_adknet-my-canon.csv'."""
    stem = f"{Path(session.hr_path).stem if session.hr_path else 'image'}_x{session.scale}"
    model = lambda: f"adknet-{file_slug(session.model_name('adknet'))}"  # noqa: E731
    if key is not None:
        part = model() if key == "adknet" and session.model_name("adknet") else file_slug(key.replace(":", "-"))
        return f"{stem}_{part}.{what}"
    tail = f"_{model()}" if "adknet" in session.methods and session.model_name("adknet") else ""
    return f"{stem}_{'views' if what == 'png' else 'metrics'}{tail}.{what}"


def about_line(session: Any) -> str:
    """What a table of `session` (a Session) is of: image, ground truth, scale."""
    gt = Path(session.gt_path).name if session.gt_path else "no ground truth"
    return f"{Path(session.hr_path).name if session.hr_path else '?'} vs {gt}, x{session.scale}"
