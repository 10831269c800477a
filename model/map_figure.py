"""A value map saved on its own (a Differences error map, a kernel field map): at an integer nearest-neighbour
zoom, with its colour bar in data units (a figure, PNG or SVG) or with a JSON sidecar that holds its scale."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes
from .errors import UserError
from .figure_layout import CAPTION_SIZE, PAD, Block, Figure, Text, place_colour_bar, text_width, zoom_nearest


def map_figure(rgb: np.ndarray, lut: np.ndarray, levels: tuple[float, float], label: str, zoom: int = 1,
               title: str = "") -> Figure:
    """The colour-mapped map (uint8 (h, w, 3)) enlarged `zoom` times, its colour bar (the table `lut`, from
    levels[0] to levels[1]) under it labelled `label`, and the title under that."""
    if zoom < 1:
        raise UserError(f"Zoom must be a whole number of at least 1, not {zoom}.")
    pixels = zoom_nearest(np.ascontiguousarray(rgb), zoom)
    fig = Figure(0, 0, title=title)
    fig.blocks.append(Block(PAD, PAD, pixels, "map"))
    bottom = place_colour_bar(fig, lut, levels, label, PAD, PAD + pixels.shape[0] + PAD,
                              min(max(pixels.shape[1], 240), 480))
    y = bottom + CAPTION_SIZE + 4
    if title:
        fig.texts.append(Text(PAD, y, title + (f" (each LR pixel {zoom}×{zoom} page pixels)" if zoom > 1 else ""),
                              CAPTION_SIZE, "start"))
        y += CAPTION_SIZE + 4
    fig.width = int(max(PAD + max(pixels.shape[1], 240) + PAD,
                        max((t.x + text_width(t.text, t.size) for t in fig.texts if t.anchor == "start"),
                            default=0) + PAD))
    fig.height = int(y - CAPTION_SIZE + PAD)
    return fig


def sidecar_path(image_path: str | Path) -> Path:
    """Where the scale of a saved map goes: beside it, NAME.json."""
    return Path(image_path).with_suffix(".json")


def write_sidecar(image_path: str | Path, levels: tuple[float, float], colormap: str, label: str, zoom: int,
                  **about: object) -> Path:
    """The map's scale as JSON beside the image: the values at the first and last colour, what they measure, the
    colour map and the zoom (each LR pixel a zoom x zoom block), and what was compared."""
    data = {"value_at_first_colour": float(levels[0]), "value_at_last_colour": float(levels[1]),
            "measures": label, "colormap": colormap, "zoom": int(zoom), **about}
    path = sidecar_path(image_path)
    try:
        atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as e:
        raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None
    return path
