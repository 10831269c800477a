"""What a figure for a paper is made of, before it is written: pixel blocks, text and boxes at page positions.

Qt-free. `figure.py` fills a `Figure` from images; `figure_write.py` writes one as PNG (Pillow) or SVG (vector
text, the pixel blocks embedded as PNG). Every block is drawn 1:1 on the page: the crops were enlarged by an
integer nearest-neighbour factor beforehand (`zoom_nearest`), so no writer interpolates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .errors import UserError

PAD = 12            # page pixels between cells and around the page
LABEL_SIZE = 15     # font size of a crop's label (page pixels)
CAPTION_SIZE = 13
LINE_GAP = 5        # between a block and its label
MAX_LABEL_WIDTH = 320  # a column widens for its labels up to this
BOX_COLOUR = (255, 32, 32)


@dataclass(frozen=True)
class Region:
    """A rectangle in LR pixels: columns x..x+w-1, rows y..y+h-1."""

    x: int
    y: int
    w: int
    h: int

    def lr_slice(self) -> tuple[slice, slice]:
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)

    def hr_slice(self, scale: int) -> tuple[slice, slice]:
        """The same rectangle in HR pixels: one LR pixel is its scale x scale cell."""
        return slice(self.y * scale, (self.y + self.h) * scale), slice(self.x * scale, (self.x + self.w) * scale)

    def text(self) -> str:
        return f"x={self.x}, y={self.y}, {self.w}×{self.h}"


def parse_region(text: str) -> Region:
    """'X,Y,W,H' in LR pixels (the CLI's --region)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise UserError(f"--region {text!r}: write X,Y,W,H in LR pixels (whole numbers), e.g. 40,30,32,24.") from None
    return Region(x, y, w, h)


def check_region(region: Region, lr_hw: tuple[int, int]) -> Region:
    """The region lies inside an LR image of this (height, width) and is not empty, or one sentence says why."""
    h, w = lr_hw
    if region.w < 1 or region.h < 1:
        raise UserError(f"Region {region.text()} is empty: its width and height must be at least 1 LR pixel.")
    if region.x < 0 or region.y < 0 or region.x + region.w > w or region.y + region.h > h:
        raise UserError(f"Region {region.text()} is not inside the {w}×{h} LR image (x + width ≤ {w}, "
                        f"y + height ≤ {h}, x and y ≥ 0).")
    return region


def zoom_nearest(img: np.ndarray, k: int) -> np.ndarray:
    """Each pixel becomes a k x k block (no interpolation)."""
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)


@dataclass
class Block:
    """Pixels drawn 1:1 at (x, y) on the page; `name` says which crop or map it is."""

    x: int
    y: int
    pixels: np.ndarray  # (h, w, 3) uint8
    name: str = ""

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.pixels.shape[1], self.pixels.shape[0]


@dataclass
class Text:
    """One line of text; `y` is its baseline, `anchor` 'start', 'middle' or 'end' (where x is)."""

    x: float
    y: float
    text: str
    size: int = LABEL_SIZE
    anchor: str = "start"


@dataclass
class Box:
    """An outline (the region on the overview), drawn inside the rectangle."""

    x: int
    y: int
    w: int
    h: int
    colour: tuple[int, int, int] = BOX_COLOUR
    width: int = 2


@dataclass
class Figure:
    """A page of `width` x `height` pixels on white; `crops` maps each block's name to its rectangle."""

    width: int
    height: int
    blocks: list[Block] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    title: str = ""

    @property
    def crops(self) -> dict[str, tuple[int, int, int, int]]:
        return {b.name: b.rect for b in self.blocks}


SYSTEM_FONTS = ("DejaVuSans.ttf", "Arial.ttf", "LiberationSans-Regular.ttf", "Helvetica.ttc")
# Pillow's bundled font lacks these; with it the PNG spells them in ASCII (the SVG keeps them)
_ASCII = str.maketrans({"×": "x", "−": "-", "–": "-", "∞": "inf", "²": "^2", "·": "-"})


@lru_cache(maxsize=8)
def _font(size: int) -> tuple[object, bool]:
    from PIL import ImageFont

    for name in SYSTEM_FONTS:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def font(size: int):
    """A system sans-serif (DejaVu Sans, Arial, ...) or else Pillow's bundled font; it also measures the layout."""
    return _font(size)[0]


def page_text(text: str) -> str:
    """The text as the PNG draws it: as given with a system font, in ASCII with Pillow's bundled one."""
    return text if _font(LABEL_SIZE)[1] else text.translate(_ASCII)


def text_width(text: str, size: int) -> float:
    return float(font(size).getlength(page_text(text)))


def fit_text(text: str, size: int, width: float) -> str:
    """The text, shortened with '…' at its end to fit `width` page pixels."""
    if text_width(text, size) <= width:
        return text
    while len(text) > 1 and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass
class Cell:
    """One grid cell to place: a block and the lines under it."""

    pixels: np.ndarray
    name: str
    lines: tuple[str, ...]


def column_width(cells: list[Cell]) -> int:
    """A column as wide as its widest block or label (a label is cut with '…' only past MAX_LABEL_WIDTH)."""
    blocks_w = max(c.pixels.shape[1] for c in cells)
    labels_w = max((text_width(line, LABEL_SIZE) for c in cells for line in c.lines), default=0)
    return int(max(blocks_w, min(labels_w + 4, MAX_LABEL_WIDTH)))


def place_rows(fig: Figure, rows: list[list[Cell | None]], col_w: int, left: int, top: int) -> tuple[int, int]:
    """Rows of cells (None: an empty slot) from (left, top), each block centred in its column with its lines
    under it; returns (right, bottom)."""
    line_h = LABEL_SIZE + 4
    y, right = top, left
    for row in rows:
        cells = [c for c in row if c is not None]
        if not cells:
            continue
        n_lines = max(len(c.lines) for c in cells)
        row_h = max(c.pixels.shape[0] for c in cells) + (LINE_GAP + n_lines * line_h if n_lines else 0)
        for k, c in enumerate(row):
            if c is None:
                continue
            x = left + k * (col_w + PAD) + (col_w - c.pixels.shape[1]) // 2
            fig.blocks.append(Block(x, y, c.pixels, c.name))
            for j, line in enumerate(c.lines):
                fig.texts.append(Text(x + c.pixels.shape[1] / 2, y + c.pixels.shape[0] + LINE_GAP + LABEL_SIZE
                                      + j * line_h, fit_text(line, LABEL_SIZE, col_w), LABEL_SIZE, "middle"))
        right = max(right, left + len(row) * (col_w + PAD) - PAD)
        y += row_h + PAD
    return right, y - PAD


def colour_bar(lut: np.ndarray, width: int, height: int = 14) -> np.ndarray:
    """A horizontal bar of the table, left = first colour, right = last, `width` page pixels long."""
    idx = np.minimum((np.arange(width) * len(lut)) // max(width, 1), len(lut) - 1)
    return np.ascontiguousarray(np.broadcast_to(lut[idx][None], (height, width, 3)))


def place_colour_bar(fig: Figure, lut: np.ndarray, levels: tuple[float, float], label: str, left: int, top: int,
                     width: int) -> int:
    """The bar with its end (and zero) values in data units and what it measures under it; returns its bottom."""
    width = max(width, 160)
    bar = colour_bar(lut, width)
    fig.blocks.append(Block(left, top, bar, "colour bar"))
    y = top + bar.shape[0] + LINE_GAP + CAPTION_SIZE
    lo, hi = levels
    fig.texts.append(Text(left, y, f"{lo:.4g}", CAPTION_SIZE, "start"))
    fig.texts.append(Text(left + width, y, f"{hi:.4g}", CAPTION_SIZE, "end"))
    if lo < 0 < hi:
        fig.texts.append(Text(left + width * (-lo) / (hi - lo), y, "0", CAPTION_SIZE, "middle"))
    y += CAPTION_SIZE + 4
    fig.texts.append(Text(left, y, label, CAPTION_SIZE, "start"))  # whole: the page widens for it
    return int(y + 4)
