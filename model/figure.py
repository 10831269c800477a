"""Figures for papers: crops of the same LR region from several methods, enlarged by nearest neighbour, labelled
with their scores, optionally beside the HR crop, the whole image with the region boxed, and error maps.

Qt-free, so `adkviewer figure` and the Compare tab's Figure… action draw the same figure. Scores come from the one
metric path (`metrics.compute_metrics`), error maps from `metrics.error_map` with the Differences tab's display
range and colours (`error_display`, `colormaps`). `figure_write.py` writes the result as PNG or SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import colormaps
from .error_display import CHANNEL_LABELS, axis_label, display_levels
from .errors import UserError
from .figure_layout import (CAPTION_SIZE, LABEL_SIZE, PAD, Block, Box, Cell, Figure, Region, Text, check_region,
                            column_width, place_colour_bar, place_rows, text_width, zoom_nearest)
from .imageio import to_uint8
from .metrics import ERROR_CHANNELS, ERROR_MODES, compute_metrics, error_map

GT, HR = "gt", "hr"  # the ground-truth LR and the HR, placed among the methods like any other crop
SCORES = ("crop", "image", "none")


def figure_keys(methods: Sequence[str], hr: bool = False, gt: bool = False) -> list[str]:
    """The crops' order, the same in Compare's Figure… and `adkviewer figure`: the HR, the ground truth, then the
    methods (which may hold gt or hr themselves, where they stay)."""
    keys = ([HR] if hr and HR not in methods else []) + ([GT] if gt and GT not in methods else [])
    return keys + list(methods)


@dataclass(frozen=True)
class Source:
    """One crop to show: a method's whole LR output (or the ground truth; for HR, the whole HR) and its label."""

    key: str
    label: str
    image: np.ndarray


@dataclass(frozen=True)
class FigureOptions:
    """What the figure shows: the region, zoom (page pixels per LR pixel), columns (0: one row), which scores,
    error maps (mode, channel) against the ground truth, and the whole image with the region boxed."""

    region: Region
    zoom: int = 4
    cols: int = 0
    scores: str = "crop"
    diff: tuple[str, str] | None = None
    overview: bool = False


def parse_diff(text: str | None) -> tuple[str, str] | None:
    """'MODE[:CHANNEL]' (the CLI's --diff): absolute, absolute:luma, signed:R ... (channel default luma)."""
    if not text:
        return None
    mode, _, channel = text.partition(":")
    mode, channel = mode.strip().lower(), (channel.strip() or "luma")
    channel = {"r": "R", "g": "G", "b": "B", "y": "luma"}.get(channel.lower(), channel.lower())
    if mode not in ERROR_MODES or channel not in ERROR_CHANNELS:
        raise UserError(f"--diff {text!r}: write MODE[:CHANNEL], MODE one of {', '.join(ERROR_MODES)} and CHANNEL "
                        f"one of R, G, B, luma (e.g. absolute:luma).")
    return mode, channel


def _score_text(m: dict[str, float]) -> str:
    psnr = "∞ dB" if math.isinf(m["psnr"]) else f"{m['psnr']:.2f} dB"
    ssim = "n/a" if math.isnan(m["ssim"]) else f"{m['ssim']:.4f}"
    return f"{psnr} / {ssim}"


def _crop(src: Source, region: Region, scale: int, zoom: int) -> np.ndarray:
    if src.key == HR:
        if zoom % scale:
            raise UserError(f"The HR crop needs a zoom that is a multiple of the scale ({scale}, e.g. {scale} or "
                            f"{2 * scale}) to be shown at the size of the LR crops without interpolation; "
                            f"zoom {zoom} is not.")
        return zoom_nearest(to_uint8(src.image[region.hr_slice(scale)]), zoom // scale)
    return zoom_nearest(to_uint8(src.image[region.lr_slice()]), zoom)


def _caption(title: str, opts: FigureOptions, scale: int, gt: np.ndarray | None) -> str:
    r = opts.region
    parts = [title] if title else []
    parts.append(f"LR region {r.text()} at ×{scale}; each LR pixel shown as {opts.zoom}×{opts.zoom} page pixels "
                 f"(nearest neighbour)")
    if gt is None:
        parts.append("no ground-truth LR, so no scores")
    elif opts.scores != "none":
        where = "of the crop" if opts.scores == "crop" else "of the whole image"
        parts.append(f"PSNR (RGB, dB) / SSIM {where} against the ground-truth LR")
    if opts.diff is not None:
        parts.append(f"error maps: {opts.diff[0]} error, {CHANNEL_LABELS[opts.diff[1]]}, against the ground truth, "
                     f"one colour scale")
    return "; ".join(parts) + "."


def _wrap(text: str, size: int, width: float) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}".strip()
        if line and text_width(trial, size) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


def build_figure(sources: Sequence[Source], gt: np.ndarray | None, scale: int, opts: FigureOptions,
                 title: str = "", cancelled: Callable[[], bool] | None = None) -> Figure:
    """The figure of these crops in this order; `gt` (the whole ground-truth LR) scores them and makes the error
    maps. Raises UserError (one sentence) for a region outside the image, a zoom the HR cannot take, or error
    maps asked for without a ground truth."""
    if not sources:
        raise UserError("Choose at least one method (or the ground truth, or the HR) for the figure.")
    if opts.zoom < 1:
        raise UserError(f"Zoom must be a whole number of at least 1, not {opts.zoom}.")
    if opts.scores not in SCORES:
        raise UserError(f"Scores must be one of {', '.join(SCORES)}, not {opts.scores!r}.")
    lr_src = next((s for s in sources if s.key != HR), None)
    lr_hw = (gt if gt is not None else lr_src.image if lr_src else sources[0].image[::scale, ::scale]).shape[:2]
    region = check_region(opts.region, lr_hw)
    if opts.diff is not None and gt is None:
        raise UserError("Error maps need a ground-truth LR to compare against (--lr, or File → Open ground truth…).")
    gt_crop = gt[region.lr_slice()] if gt is not None else None
    cells, errs = [], []
    for src in sources:
        if cancelled is not None and cancelled():
            raise InterruptedError("the figure was cancelled")
        expect = (lr_hw[0] * scale, lr_hw[1] * scale) if src.key == HR else lr_hw
        if src.image.shape[:2] != expect:
            raise UserError(f"{src.label} is {src.image.shape[1]}×{src.image.shape[0]}, not "
                            f"{expect[1]}×{expect[0]}, so its crop would not show the same region.")
        lines = [src.label]
        crop = src.image[region.lr_slice()] if src.key != HR else None
        if gt is not None and src.key not in (GT, HR) and opts.scores != "none":
            m = compute_metrics(crop, gt_crop) if opts.scores == "crop" else compute_metrics(src.image, gt)
            lines.append(_score_text(m))
        cells.append(Cell(_crop(src, region, scale, opts.zoom), src.key, tuple(lines)))
        errs.append(error_map(crop, gt_crop, *opts.diff) if opts.diff is not None and src.key not in (GT, HR)
                    else None)
    fig = Figure(0, 0, title=title)
    left = PAD
    if opts.overview:
        left = _place_overview(fig, gt if gt is not None else lr_src.image if lr_src else None, region, opts, cells)
    diffs, levels, cmap = _diff_cells(sources, errs, opts)
    cols = max(1, min(opts.cols or len(cells), len(cells)))
    col_w = column_width(cells + [d for d in diffs if d is not None])
    rows: list[list[Cell | None]] = []
    for i in range(0, len(cells), cols):  # each row of crops, then (with error maps) their maps under them
        rows.append(list(cells[i:i + cols]))
        if diffs:
            rows.append(diffs[i:i + cols])
    right, bottom = place_rows(fig, rows, col_w, left, PAD)
    if diffs:
        bottom = place_colour_bar(fig, colormaps.lookup_table(cmap), levels, axis_label(*opts.diff), left,
                                  bottom + PAD, min(right - left, 480))
    width = max(right, max((b.x + b.pixels.shape[1] for b in fig.blocks), default=0)) + PAD
    y = bottom + PAD + CAPTION_SIZE
    for line in _wrap(_caption(title, opts, scale, gt), CAPTION_SIZE, max(width - 2 * PAD, 200)):
        fig.texts.append(Text(PAD, y, line, CAPTION_SIZE, "start"))
        y += CAPTION_SIZE + 4
    fig.width = max(width, int(max((t.x + text_width(t.text, t.size) for t in fig.texts if t.anchor == "start"),
                                   default=0)) + PAD)
    fig.height = int(y - CAPTION_SIZE + PAD)
    return fig


def _place_overview(fig: Figure, whole: np.ndarray | None, region: Region, opts: FigureOptions,
                    cells: list[Cell]) -> int:
    """The whole LR image, at the largest integer zoom that keeps it no taller than a row of crops (at least 1),
    with the region boxed; returns the left edge of the crops."""
    if whole is None:
        return PAD
    row_h = max(c.pixels.shape[0] for c in cells)
    k = max(1, min(opts.zoom, row_h // whole.shape[0]))
    pixels = zoom_nearest(to_uint8(whole), k)
    fig.blocks.append(Block(PAD, PAD, pixels, "overview"))
    fig.boxes.append(Box(PAD + region.x * k, PAD + region.y * k, region.w * k, region.h * k))
    fig.texts.append(Text(PAD + pixels.shape[1] / 2, PAD + pixels.shape[0] + 5 + LABEL_SIZE,
                          "whole image" + (f" (×{k})" if k > 1 else ""), LABEL_SIZE, "middle"))
    return PAD + pixels.shape[1] + PAD


def _diff_cells(sources: Sequence[Source], errs: list[np.ndarray | None], opts: FigureOptions,
                ) -> tuple[list[Cell | None], tuple[float, float], str]:
    """Each method's error map (None under the ground truth and the HR) on one colour scale: the Differences
    tab's display range at gain 1, over all the maps; with the levels and the colour map's name."""
    if opts.diff is None or all(e is None for e in errs):
        return [], (0.0, 1.0), ""
    mode = opts.diff[0]
    shown = [e for e in errs if e is not None]
    levels = display_levels(min(float(e.min()) for e in shown), max(float(e.max()) for e in shown), mode)
    name = colormaps.for_values(mode == "signed")
    cells = [None if e is None else Cell(zoom_nearest(colormaps.apply(e, levels, name), opts.zoom),
                                         f"diff:{src.key}", ("error vs GT",)) for src, e in zip(sources, errs)]
    return cells, levels, name


def run_sources(method_set, hr: np.ndarray, keys: Sequence[str], gt: np.ndarray | None,
                names: tuple[str, ...] = (), labels: Callable[[str], str] | None = None) -> list[Source]:
    """The crops' sources for these keys: each method run on the whole HR (as Compare shows it), the ground truth
    and the HR as they are."""
    out = []
    for k in keys:
        if k == GT:
            if gt is None:
                raise UserError("'gt' was asked for, but there is no ground-truth LR (pass --lr).")
            out.append(Source(GT, "Ground truth LR", gt))
        elif k == HR:
            out.append(Source(HR, f"HR (×{method_set.scale})", hr))
        else:
            lr = method_set.run(k, hr, names=names)  # first: ADK-Net's label names its weights once loaded
            out.append(Source(k, labels(k) if labels else method_set.label(k), lr))
    return out
