"""What Compare's Figure… action draws, with no Qt in it: the crops (the HR view, the ground truth, then the ticked
methods in their order), the region (dragged or typed, in LR pixels) and the options, taken from the session at
the moment of the request so a later change cannot mix into a figure being drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adk_model.errors import UserError
from adk_model.figure import GT, HR, FigureOptions, Source, build_figure, figure_keys as crop_order
from adk_model.figure_layout import Figure, Region, check_region
from adk_model.figure_write import write_figure

from adkviewer.state.session import Session


@dataclass(frozen=True)
class FigureRequest:
    """Everything one figure needs, copied from the session (arrays are never modified in place there)."""

    sources: tuple[Source, ...]
    gt: np.ndarray | None
    scale: int
    options: FigureOptions
    title: str


def figure_keys(session: Session, with_hr: bool, with_gt: bool) -> list[str]:
    """The crops in the order Compare shows them: the HR, the ground truth, the ticked methods with a result."""
    done = [m for m in session.methods if (r := session.results.get(m)) is not None and r.lr is not None
            and not r.partial and not r.message]
    return crop_order(done, hr=with_hr and session.hr_full is not None, gt=with_gt and session.has_gt)


def clip_region(x0: float, y0: float, x1: float, y1: float, lr_shape: tuple[int, int]) -> Region:
    """Whole LR pixels of a rectangle (a camera's view or a dragged box) inside the image; at least one pixel."""
    h, w = lr_shape
    xa, ya = min(max(int(np.floor(x0)), 0), w - 1), min(max(int(np.floor(y0)), 0), h - 1)
    xb, yb = min(max(int(np.ceil(x1)), xa + 1), w), min(max(int(np.ceil(y1)), ya + 1), h)
    return Region(xa, ya, xb - xa, yb - ya)


def figure_request(session: Session, keys: list[str], options: FigureOptions) -> FigureRequest:
    """The request for these crops; one sentence when there is nothing to draw or the region is outside."""
    if session.hr_full is None:
        raise UserError("Open an image first: the figure shows crops of its methods.")
    check_region(options.region, session.lr_shape)
    sources = []
    for k in keys:
        if k == HR:
            sources.append(Source(HR, f"HR (×{session.scale})", session.hr))
        elif k == GT:
            sources.append(Source(GT, "Ground truth LR", session.gt))
        else:
            sources.append(Source(k, session.label(k), session.results[k].lr))
    if not sources:
        raise UserError("Nothing to show: tick methods in Compare and wait for their results.")
    title = Path(session.hr_path).stem if session.hr_path else ""
    return FigureRequest(tuple(sources), session.gt, session.scale, options, title)


def draw_and_write(req: FigureRequest, path: str | Path, cancelled=None) -> tuple[Path, Figure]:
    """Off the GUI thread: the figure drawn by the renderer the CLI uses, written as PNG or SVG."""
    fig = build_figure(list(req.sources), req.gt, req.scale, req.options, title=req.title, cancelled=cancelled)
    return write_figure(fig, path, overwrite=True), fig


def default_name(session: Session, region: Region) -> str:
    stem = Path(session.hr_path).stem if session.hr_path else "figure"
    return f"{stem}_x{session.scale}_figure_{region.x}-{region.y}-{region.w}x{region.h}.png"
