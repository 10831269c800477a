"""The one image loader and saver of ADK Viewer: every file becomes float32 (H, W, 3) RGB in [0, 1].

Rules (shown to users through `LoadedImage.notes`):
- EXIF orientation is applied, so arrays are upright the way viewers show them.
- Transparency (LA, RGBA, palette with transparency) is composited over **white**.
- 16-bit greyscale is divided by 65535; 8-bit by 255; 32-bit float greyscale is clipped to [0, 1].
- Greyscale, 1-bit, palette and CMYK images are converted to RGB.
- Animated / multi-page files use their first frame only.
- An embedded ICC profile is converted to sRGB (ImageCms); outputs are sRGB, with its profile and the source's EXIF.
- Images above `MAX_PIXELS` are refused from their header, before any pixel is decoded (`set_max_megapixels`).
- Only the decoders of FORMATS ever see a file; pixel data that covers only part of the frame is refused.
Every failure raises `adk_model.errors.ImageLoadError` with one sentence naming the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from adk_model import native_stderr
from adk_model.atomic import atomic_open
from adk_model.errors import ImageLoadError, UserError
from adk_model.image_colour import output_exif, png16_bytes, png_bit_depth, srgb_profile_bytes, to_srgb
from adk_model.image_convert import ModeError, to_rgb_float
from adk_model.image_integrity import missing_data

# Largest image accepted, in pixels. Pillow's own bomb guard refuses above ~179 MP (2 x its
# MAX_IMAGE_PIXELS), so this is kept below it to make our check, with our message, the one users see.
DEFAULT_MAX_PIXELS = 150_000_000
MAX_PIXELS = DEFAULT_MAX_PIXELS  # the limit in force: set_max_megapixels (--max-megapixels, the GUI's Settings)
_PILLOW_MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS
# Peak memory of a load per pixel: Pillow's decoded image (at most 4 bytes for 8-bit modes) + float32 RGB.
LOAD_BYTES_PER_PIXEL = 4 + 12
BROKEN_LINK = "it is a symbolic link to nothing (its target is missing, or the links loop)"
RAISE_HINT = "raise the limit with --max-megapixels or in Settings if it is meant"

# Truncated files must raise, never load as partially grey images.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow logs decoder trouble at ERROR level with no handler, so Python's last-resort handler printed it beside
# our one error line; a NullHandler keeps it out of the terminal (an application that configures logging sees it).
logging.getLogger("PIL").addHandler(logging.NullHandler())

_EXIF_ORIENTATION = 0x0112

# The only decoders ever used (Pillow's format ids; APNG is PNG, MPO is JPEG). Pillow would otherwise try every
# plugin it has, and its EPS plugin hands PostScript, whatever the file's name, to Ghostscript: a program.
FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")
_POSTSCRIPT_MAGIC = (b"%!", b"\xc5\xd0\xd3\xc6")  # PostScript text, DOS EPS binary header


def open_image(path: str | os.PathLike) -> Image.Image:
    """Image.open restricted to FORMATS: reads the header only, and no other plugin ever sees the file."""
    return Image.open(path, formats=FORMATS)


def unsupported_reason(path: str | os.PathLike) -> str:
    """Why a file no decoder of FORMATS accepted was refused, naming PostScript (which would run as a program)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        head = b""
    if head.startswith(_POSTSCRIPT_MAGIC):
        return "it is a PostScript (EPS/PS) file, which is never opened because it is a program, not an image"
    return "it is not an image in a supported format (PNG, JPEG, WebP, TIFF, BMP or GIF)"


@dataclass
class LoadedImage:
    """An image as float32 (H, W, 3) RGB in [0, 1], with the conversions done to get there."""

    array: np.ndarray
    path: str
    notes: list[str] = field(default_factory=list)
    exif: bytes | None = None  # the source's EXIF for outputs, orientation reset to 1 (image_colour.output_exif)


def _fail(path: str | os.PathLike, what: str) -> ImageLoadError:
    return ImageLoadError(f"Cannot load image '{os.fspath(path)}': {what}.")


def set_max_megapixels(megapixels: float) -> None:
    """Raise (or lower) the size limit for this process, deliberately: a person's choice, not a file's."""
    global MAX_PIXELS
    if not megapixels > 0:
        raise UserError(f"The image size limit must be above 0 megapixels, got {megapixels}.")
    MAX_PIXELS = int(megapixels * 1e6)
    Image.MAX_IMAGE_PIXELS = max(_PILLOW_MAX_IMAGE_PIXELS, MAX_PIXELS)  # Pillow refuses at twice this


def load_memory_text(pixels: int) -> str:
    return f"{pixels * LOAD_BYTES_PER_PIXEL / 1e9:.1f} GB"


def over_limit(width: int, height: int) -> str | None:
    """The clause refusing an image above the limit (its real size and the memory it would take), or None."""
    n = width * height
    if n <= MAX_PIXELS:
        return None
    return (f"it is {width}x{height} ({n:,} pixels), above the limit of {MAX_PIXELS:,} pixels, and would take about "
            f"{load_memory_text(n)} of memory to load, so it is refused as a possible decompression bomb "
            f"({RAISE_HINT})")


def _check_pixels(path: str | os.PathLike, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _fail(path, f"its header gives an empty size {width}x{height}")
    refused = over_limit(width, height)
    if refused:
        raise _fail(path, refused)


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def header_orientation(img: Image.Image, notes: list[str] | None = None) -> int:
    """The EXIF orientation the header gives (1 if none or unreadable, or a PNG that keeps it after its pixels,
    where reading it would decode the whole image)."""
    if img.format == "PNG" and "exif" not in img.info:
        return 1
    try:
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # malformed EXIF must not make an otherwise good image unreadable
        if notes is not None:
            notes.append("EXIF data could not be read, so orientation was left as stored")
        return 1
    return orientation if orientation in _TRANSPOSE else 1


def stored_size(img: Image.Image) -> tuple[int, int]:
    """(width, height) as stored: Pillow 13 already gives a TIFF with orientation 5-8 its upright size."""
    if img.format == "TIFF":
        return int(img.tag_v2[256]), int(img.tag_v2[257])
    return img.size


def upright_size(img: Image.Image) -> tuple[int, int]:
    """(width, height) as displayed, from the header only (the pairs scan's sizes)."""
    w, h = stored_size(img)
    return (h, w) if header_orientation(img) in (5, 6, 7, 8) else (w, h)


def _decode_as_stored(img: Image.Image, notes: list[str]) -> int:
    """Take a TIFF's orientation out of Pillow's hands before it decodes: Pillow 13 decodes orientation 5-8 into
    an image of the upright shape, which scrambles L, P, RGBA, I;16 and CMYK. Returns the orientation."""
    orientation = header_orientation(img, notes)
    if img.format == "TIFF" and orientation != 1:
        img._size = stored_size(img)  # Pillow's private field: the size it decodes into (no public setter)
        img.tag_v2.pop(_EXIF_ORIENTATION, None)
        img.getexif().pop(_EXIF_ORIENTATION, None)
    return orientation


def _orient(img: Image.Image, orientation: int, late: bool, notes: list[str]) -> Image.Image:
    """Rotate/flip a loaded image as its EXIF orientation says (`late`: a PNG whose EXIF, if any, follows its
    pixel data, so it is read now that load() has reached it)."""
    if late:
        orientation = header_orientation(img, notes)
    if orientation == 1:
        return img
    notes.append("EXIF orientation applied")
    return img.transpose(_TRANSPOSE[orientation])


def load_image(path: str | os.PathLike) -> LoadedImage:
    """Read any common image file as upright float32 RGB in [0, 1]; transparency goes over white.

    Raises ImageLoadError (one sentence naming the file) for every failure; no Pillow error escapes.
    """
    path_str = os.fspath(path)
    p = Path(path_str)
    try:
        if not p.exists():
            raise _fail(path_str, BROKEN_LINK if p.is_symlink() else "the file does not exist")
        if p.is_dir():
            raise _fail(path_str, "it is a folder, not an image file")
        if p.stat().st_size == 0:
            raise _fail(path_str, "the file is empty (0 bytes)")
    except OSError as exc:
        raise _fail(path_str, f"the file cannot be accessed ({exc.strerror or exc})") from exc

    notes: list[str] = []
    native: list[str] = []  # what libtiff prints while decoding: kept for the error sentence, never printed
    try:
        with warnings.catch_warnings():
            # Sizes between Pillow's warning level and MAX_PIXELS are fine (we check the size ourselves), and
            # Pillow's other warnings are about files we either convert (with a note) or refuse (in one sentence).
            warnings.simplefilter("ignore")
            with open_image(path_str) as src:
                # Image.open only parsed the header: refuse huge images before decoding any pixel.
                _check_pixels(path_str, *src.size)
                missing = missing_data(path_str, src)  # data Pillow would silently fill with black or grey
                if missing:
                    raise _fail(path_str, f"the file is truncated or corrupt ({missing})")
                n_frames = getattr(src, "n_frames", 1)
                orientation = _decode_as_stored(src, notes)
                late_exif = src.format == "PNG" and "exif" not in src.info
                with native_stderr.captured(native) if src.format == "TIFF" else contextlib.nullcontext():
                    src.load()
                if src.format == "PNG" and src.mode in ("RGB", "RGBA") and png_bit_depth(path_str) == 16:
                    notes.append("16-bit colour reduced to 8 bits per channel (Pillow decodes 16-bit colour PNGs "
                                 "to 8-bit RGB)")
                icc, exif = src.info.get("icc_profile"), output_exif(src)
                img = _orient(src, orientation, late_exif, notes)
                if img is not src:
                    src.close()  # the decoded original goes before the float copy is made
                img = to_srgb(img, icc, notes)
                array = to_rgb_float(img, notes)
    except ModeError as exc:
        raise _fail(path_str, str(exc)) from None
    except UserError:
        raise
    except PermissionError as exc:
        raise _fail(path_str, "permission to read the file was denied") from exc
    except UnidentifiedImageError as exc:
        raise _fail(path_str, unsupported_reason(path_str)) from exc
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow: "Image size (N pixels) exceeds limit ..."
        n = int(found.group(1)) if found else 0
        size = f"{n:,} pixels (about {load_memory_text(n)} to load)" if n else "more pixels than Pillow allows"
        raise _fail(
            path_str,
            f"its header gives {size}, above the limit of {MAX_PIXELS:,} pixels, "
            f"so it is refused as a possible decompression bomb ({RAISE_HINT})",
        ) from exc
    except MemoryError as exc:
        raise _fail(path_str, "there is not enough memory to decode it") from exc
    except Exception as exc:  # OSError, SyntaxError, ValueError, EOFError, ... from decoders
        detail = "; ".join(native[:2]).rstrip(".") or str(exc).strip().rstrip(".") or type(exc).__name__
        raise _fail(path_str, f"the file is truncated or corrupt ({detail})") from exc

    if n_frames > 1:
        notes.append(f"first of {n_frames} frames used")
    return LoadedImage(array=array, path=path_str, notes=notes, exif=exif)


def distinct_inputs(paths: list[Path], note: Callable[[str], None]) -> list[Path]:
    """Each input file once (the same file named twice, or by two paths, is processed and counted once)."""
    seen: dict[Path, Path] = {}
    for p in paths:
        key = p.resolve() if p.exists() else p
        if key in seen:
            note(f"{p} is the same file as {seen[key]}; it is processed once")
            continue
        seen[key] = p
    return list(seen.values())


def output_name(src: Path, scale: int, method: str) -> str:
    """NAME_xS_METHOD.png for an input; never a hidden name (an input called '..png' has the stem '.')."""
    return f"{src.stem.lstrip('.') or 'image'}_x{scale}_{method}.png"


def crop_to_multiple(img: np.ndarray, scale: int, name: str | None = None) -> tuple[np.ndarray, str | None]:
    """Crop (top-left kept) to a multiple of `scale` so LR pixels tile the HR exactly; returns (view, note or None).

    `name` (a file name) is only used to make the error message name the file.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    scale = int(scale)
    h, w = img.shape[:2]
    if h < scale or w < scale:
        what = f"Image '{name}'" if name else "The image"
        raise ImageLoadError(
            f"{what} is {w}x{h}, smaller than the scale x{scale} in at least one dimension, "
            "so it has no whole low-resolution pixel."
        )
    nh, nw = h // scale * scale, w // scale * scale
    if (nh, nw) == (h, w):
        return img, None
    return img[:nh, :nw], f"cropped from {w}x{h} to {nw}x{nh} to be a multiple of x{scale}"


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 with rounding (values outside [0, 1] clipped, NaN -> 0)."""
    a = np.nan_to_num(np.asarray(arr, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)


def _save_png8(f, a: np.ndarray, text: dict[str, str] | None, exif: bytes | None) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    extra = {"exif": exif} if exif else {}
    Image.fromarray(to_uint8(a)).save(f, format="PNG", pnginfo=info, icc_profile=srgb_profile_bytes(), **extra)


def save_image(path: str | os.PathLike, arr: np.ndarray, overwrite: bool = True,
               text: dict[str, str] | None = None, exif: bytes | None = None, bits: int = 8) -> None:
    """Write a float [0, 1] (H, W, 3) or (H, W) array as an sRGB PNG (8 bits, or 16 for RGB), atomically;
    without `overwrite` an existing file (even one created while this ran) is a UserError and stays as it was.
    `text`: PNG text chunks (which image, method and model made it); `exif`: the source's (LoadedImage.exif)."""
    path_str = os.fspath(path)
    a = np.asarray(arr)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"save_image expects an (H, W, 3) or (H, W) array, got shape {a.shape}")
    if Path(path_str).suffix.lower() != ".png":
        raise UserError(f"Cannot save image '{path_str}': only .png files can be written.")
    if not np.isfinite(a).all():  # to_uint8 would turn it into a black image passed off as a result
        raise UserError(f"Cannot save image '{path_str}': it holds NaN or infinite values, so it is not a result.")
    if bits not in (8, 16) or (bits == 16 and a.ndim != 3):
        raise ValueError(f"save_image writes 8-bit PNGs, or 16-bit RGB ones; got bits={bits}, shape {a.shape}")
    try:
        with atomic_open(path_str, overwrite) as f:
            if bits == 16:
                f.write(png16_bytes(a, exif=exif, text=text))
            else:
                _save_png8(f, a, text, exif)
    except OSError as exc:
        raise UserError(f"Cannot save image '{path_str}': {exc.strerror or exc}.") from exc
