"""Writing a `Figure`: PNG (RGB, exactly width x height pixels, labels drawn by Pillow) or SVG (labels as vector
<text>, each pixel block embedded 1:1 as a PNG). PDF is not written: convert the SVG (Inkscape, rsvg-convert)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image, ImageDraw

from .atomic import atomic_open
from .errors import UserError
from .figure_layout import Figure, font, page_text

FORMATS = (".png", ".svg")
TEXT_COLOUR = (17, 17, 17)
SVG_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_PIL_ANCHOR = {"start": "ls", "middle": "ms", "end": "rs"}  # x at the left / centre / right, y at the baseline


def to_pixels(fig: Figure) -> np.ndarray:
    """The figure as (height, width, 3) uint8 RGB on white."""
    page = Image.new("RGB", (fig.width, fig.height), "white")
    for b in fig.blocks:
        page.paste(Image.fromarray(np.ascontiguousarray(b.pixels)), (b.x, b.y))
    draw = ImageDraw.Draw(page)
    for box in fig.boxes:
        draw.rectangle([box.x, box.y, box.x + box.w - 1, box.y + box.h - 1], outline=box.colour, width=box.width)
    for t in fig.texts:
        draw.text((t.x, t.y), page_text(t.text), fill=TEXT_COLOUR, font=font(t.size), anchor=_PIL_ANCHOR[t.anchor])
    return np.asarray(page)


def _png_bytes(pixels: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def svg_text(fig: Figure) -> str:
    """The figure as SVG 1.1: a white page, the blocks as <image> (drawn 1:1, pixelated), labels as <text>."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
           f'width="{fig.width}" height="{fig.height}" viewBox="0 0 {fig.width} {fig.height}">',
           f"<title>{escape(fig.title or 'ADK Viewer figure')}</title>",
           f'<rect x="0" y="0" width="{fig.width}" height="{fig.height}" fill="#ffffff"/>']
    for b in fig.blocks:
        h, w = b.pixels.shape[:2]
        data = base64.b64encode(_png_bytes(b.pixels)).decode("ascii")
        out.append(f'<image x="{b.x}" y="{b.y}" width="{w}" height="{h}" preserveAspectRatio="none" '
                   f'image-rendering="optimizeSpeed" style="image-rendering:pixelated" id={quoteattr(b.name)} '
                   f'xlink:href="data:image/png;base64,{data}"/>')
    for box in fig.boxes:
        half = box.width / 2
        out.append(f'<rect x="{box.x + half:g}" y="{box.y + half:g}" width="{box.w - box.width:g}" '
                   f'height="{box.h - box.width:g}" fill="none" stroke="rgb{box.colour}" stroke-width="{box.width}"/>')
    fill = "#%02x%02x%02x" % TEXT_COLOUR
    for t in fig.texts:
        out.append(f'<text x="{t.x:g}" y="{t.y:g}" font-family="{SVG_FONT}" font-size="{t.size}" '
                   f'text-anchor="{t.anchor}" fill="{fill}">{escape(t.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def check_figure_path(path: str | Path, overwrite: bool = False) -> Path:
    """A .png or .svg name that may be written (an existing file only with `overwrite`), or one sentence."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        why = " (PDF is not written: convert the SVG, e.g. with rsvg-convert or Inkscape)" \
            if p.suffix.lower() == ".pdf" else ""
        raise UserError(f"Cannot write the figure '{p}': name a .png or .svg file{why}.")
    if p.exists() and not overwrite:
        raise UserError(f"{p} already exists; pass --overwrite to replace it.")
    return p


def write_figure(fig: Figure, path: str | Path, overwrite: bool = False) -> Path:
    """Write the figure as PNG or SVG (by the suffix), atomically; an existing file only with `overwrite`."""
    p = check_figure_path(path, overwrite)
    if p.suffix.lower() == ".png":
        data = _png_bytes(to_pixels(fig), {"Software": "ADK Viewer", "Title": fig.title})
    else:
        data = svg_text(fig).encode("utf-8")
    try:
        with atomic_open(p, overwrite) as f:
            f.write(data)
    except OSError as exc:
        raise UserError(f"Cannot write the figure '{p}': {exc.strerror or exc}.") from exc
    return p
