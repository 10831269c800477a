"""Does an image file hold pixel data for its whole frame? Pillow fills what is missing with black or grey and
reports nothing in three cases, even with LOAD_TRUNCATED_IMAGES off (measured with Pillow 13):

- PNG (and APNG) whose zlib stream ends before the last row: the rest is black;
- JPEG whose entropy-coded data stops at an early EOI marker: libjpeg warns (silenced) and fills grey;
- uncompressed TIFF whose strips cover only some of the rows its header gives: the rest is black.

Each check reads the header structures only (PNG streams its inflate through a small buffer), so it adds no
image-sized memory. Truncations Pillow does report (a cut-off file) still raise from the decoder.
"""

from __future__ import annotations

import math
import os
import struct
import zlib

from PIL import Image

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_HUFFMAN_SOF = (0xC0, 0xC1, 0xC2)  # baseline, extended, progressive: every 8x8 block costs at least one bit
_CHUNK = 1 << 20


def missing_data(path: str | os.PathLike, img: Image.Image) -> str | None:
    """A clause saying what is missing, or None when the file has data for every pixel (as far as can be told)."""
    try:
        if img.format == "PNG":
            return _png_missing(path)
        if img.format in ("JPEG", "MPO"):
            return _jpeg_missing(path)
        if img.format == "TIFF":
            return _tiff_missing(img)
    except (OSError, struct.error, ValueError, IndexError):
        return None  # a structure we cannot parse is left to the decoder, which reports its own errors
    return None


def _png_row_bytes(width: int, height: int, bits: int, colour_type: int, interlace: int) -> int:
    bpp = bits * _PNG_CHANNELS[colour_type]
    if not interlace:
        return height * (1 + math.ceil(width * bpp / 8))
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        cols, rows = math.ceil((width - x0) / dx), math.ceil((height - y0) / dy)
        if cols > 0 and rows > 0:
            total += rows * (1 + math.ceil(cols * bpp / 8))
    return total


def _png_missing(path: str | os.PathLike) -> str | None:
    with open(path, "rb") as f:
        f.seek(8)
        need = None
        inflater = zlib.decompressobj()
        got = 0
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IHDR":
                w, h, bits, colour, _, _, interlace = struct.unpack(">IIBBBBB", f.read(13))
                need = _png_row_bytes(w, h, bits, colour, interlace)
                f.seek(length - 13 + 4, os.SEEK_CUR)
                continue
            if kind == b"IDAT" and need is not None:
                left = length
                while left and got < need:
                    piece = f.read(min(left, _CHUNK))
                    if not piece:
                        break
                    left -= len(piece)
                    try:
                        got += len(inflater.decompress(piece, _CHUNK))
                        while inflater.unconsumed_tail and got < need:
                            got += len(inflater.decompress(inflater.unconsumed_tail, _CHUNK))
                    except zlib.error:
                        return "its compressed pixel data is corrupt"
                if got >= need:
                    return None
                f.seek(left + 4, os.SEEK_CUR)
                continue
            if kind == b"IEND":
                break
            f.seek(length + 4, os.SEEK_CUR)
    if need is None:
        return None
    return f"its pixel data ends after {got * 100 // max(need, 1)}% of the image"


def _jpeg_missing(path: str | os.PathLike) -> str | None:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            return None
        blocks = None
        while True:
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return None
            code = marker[1]
            if code == 0xFF:
                f.seek(-1, os.SEEK_CUR)
                continue
            if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
                continue
            (length,) = struct.unpack(">H", f.read(2))
            body = f.read(length - 2)
            if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
                if code not in _HUFFMAN_SOF:
                    return None  # arithmetic or lossless coding: no per-block lower bound
                height, width, n = struct.unpack(">HHB", body[1:6])
                comps = [(body[6 + 3 * i + 1] >> 4, body[6 + 3 * i + 1] & 15) for i in range(n)]
                hmax, vmax = max(c[0] for c in comps), max(c[1] for c in comps)
                blocks = sum(math.ceil(math.ceil(width * hs / hmax) / 8) * math.ceil(math.ceil(height * vs / vmax) / 8)
                             for hs, vs in comps)
            if code == 0xDA:  # start of scan: the rest of the file is entropy-coded data (and later scans)
                if blocks is None:
                    return None
                data = size - f.tell()
                if data * 8 < blocks:
                    return (f"it holds {data} bytes of compressed data for its {width}x{height} pixels, "
                            f"less than the {math.ceil(blocks / 8)} bytes any complete JPEG of that size needs")
                return None


def _tiff_missing(img: Image.Image) -> str | None:
    w, h = img.size
    covered = sum((t.extents[2] - t.extents[0]) * (t.extents[3] - t.extents[1]) for t in img.tile)
    if img.tile and covered < w * h:
        return f"its strips hold {covered * 100 // (w * h)}% of the {w}x{h} pixels its header gives"
    return None
