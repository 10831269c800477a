"""Pillow image of any supported mode -> float32 (H, W, 3) RGB in [0, 1], written into ONE preallocated array.

The conversion runs in row bands (a few MB each), so peak memory is the decoded image plus the float RGB
result plus one band: a 12000x12000 LA PNG once made five full-size float temporaries (6.8 GB).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

BAND_PIXELS = 1 << 20  # pixels per band: ~16 MB of float RGBA temporaries at most

_INT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")
_TO_RGB = ("CMYK", "RGBX", "YCbCr", "HSV")


class ModeError(ValueError):
    """The mode or the values of an image have no defined RGB reading; the message is a clause for a sentence."""


def has_transparency(img: Image.Image) -> bool:
    has = getattr(img, "has_transparency_data", None)  # Pillow >= 10.1
    if has is not None:
        return bool(has)
    return "transparency" in img.info or (img.palette is not None and img.palette.mode == "RGBA")


def to_rgb_float(img: Image.Image, notes: list[str]) -> np.ndarray:
    """Convert a loaded image to float32 RGB in [0, 1]; appends what was done to `notes`."""
    mode = img.mode
    if mode == "RGB":
        return _banded(img, lambda b: _unit(np.asarray(b), 255.0))
    if mode in ("L", "1"):
        notes.append("1-bit black-and-white image expanded to RGB" if mode == "1" else "greyscale expanded to RGB")
        return _banded(img, lambda b: _unit(np.asarray(b.convert("L")), 255.0)[..., None])
    if mode in _INT_MODES:
        notes += ["16-bit image converted to float (divided by 65535)", "greyscale expanded to RGB"]
        return _banded(img, _sixteen_bit)
    if mode == "F":
        clipped: list[bool] = []
        out = _banded(img, lambda b: _float_grey(b, clipped))
        if any(clipped):
            notes.append("32-bit float image clipped to [0, 1]")
        notes.append("32-bit float greyscale expanded to RGB")
        return out
    if mode == "P" and not has_transparency(img):
        notes.append("palette expanded to RGB")
        return _banded(img, lambda b: _unit(np.asarray(b.convert("RGB")), 255.0))
    if mode in _ALPHA_MODES or mode == "P":
        if mode in ("P", "PA"):
            notes.append("palette expanded to RGB")
        elif mode in ("LA", "La"):
            notes.append("greyscale expanded to RGB")
        composited: list[bool] = []
        out = _banded(img, lambda b: _over_white(b, composited))
        if any(composited):
            notes.append("alpha composited over white")
        return out
    if mode in _TO_RGB:
        notes.append(f"{mode} converted to RGB")
        return _banded(img, lambda b: _unit(np.asarray(b.convert("RGB")), 255.0))
    raise ModeError(f"its pixel mode '{mode}' is not supported")


def _banded(img: Image.Image, convert: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    """Fill one (H, W, 3) float32 array band by band; `convert` gives (h, W, 3) or (h, W, 1) for a band."""
    w, h = img.size
    out = np.empty((h, w, 3), np.float32)
    rows = max(1, BAND_PIXELS // max(w, 1))
    for y in range(0, h, rows):
        band = img.crop((0, y, w, min(h, y + rows)))
        out[y : y + rows] = convert(band)  # a (h, W, 1) band broadcasts to the three channels
    return out


def _unit(values: np.ndarray, full: float) -> np.ndarray:
    return values.astype(np.float32) / np.float32(full)


def _sixteen_bit(band: Image.Image) -> np.ndarray:
    values = np.asarray(band)
    if band.mode == "I" and values.size and (values.min() < 0 or values.max() > 65535):
        raise ModeError("it is a 32-bit integer image with values outside 0-65535, which has no defined brightness scale")
    return _unit(values, 65535.0)[..., None]


def _float_grey(band: Image.Image, clipped: list[bool]) -> np.ndarray:
    grey = np.asarray(band, dtype=np.float32)
    if not np.all(np.isfinite(grey)):
        raise ModeError("it is a floating-point image containing NaN or infinite values")
    if grey.size and (grey.min() < 0.0 or grey.max() > 1.0):
        clipped.append(True)
        grey = np.clip(grey, 0.0, 1.0)
    return grey[..., None]


def _over_white(band: Image.Image, composited: list[bool]) -> np.ndarray:
    """Composite straight (non-premultiplied) colour over white: out = a*rgb + (1 - a)."""
    rgba = _unit(np.asarray(band.convert("RGBA")), 255.0)
    rgb, a = rgba[..., :3], rgba[..., 3:]
    if np.all(a >= 1.0):
        return rgb
    composited.append(True)
    return rgb * a + (1.0 - a)
