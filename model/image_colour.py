"""Colour and metadata of images: an embedded ICC profile converted to sRGB on load (Pillow's ImageCms), the
source's EXIF kept for outputs with its orientation reset, and 16-bit PNG output (pypng: Pillow writes 16-bit
greyscale only). Every program path works in sRGB, so every output is sRGB and says so with its profile."""

from __future__ import annotations

import functools
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

_EXIF_ORIENTATION = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Profile colour space -> the image modes it describes, converted to RGB (RGBA keeps its alpha).
_CONVERTS = {"RGB": ("RGB", "RGBA"), "GRAY": ("L",), "CMYK": ("CMYK",)}


@functools.lru_cache(maxsize=1)
def srgb_profile_bytes() -> bytes:
    """The ICC profile written into every output: littlecms's built-in sRGB, as ImageCms makes it, with the header's
    creation time fixed, so that the same image gives the same file in any process (its profile ID is unset)."""
    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    return bytes(profile)


def _description(profile) -> str:
    from PIL import ImageCms

    try:
        text = ImageCms.getProfileDescription(profile).strip()
    except Exception:  # a profile with no readable description is still a profile
        text = ""
    return text or "an unnamed ICC profile"


def to_srgb(img: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    """`img` with its embedded profile `icc` converted to sRGB (in place for RGB); without a profile, or one that
    is sRGB already, as it is. A profile that cannot be read or applied is a note, and the colours are taken
    as sRGB: never an error, since the pixels themselves are fine."""
    if not icc:
        return img
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except Exception:  # ImageCms.PyCMSError, OSError, ...: a corrupt or truncated profile
        notes.append("the embedded ICC profile could not be read, so the colours are taken as sRGB")
        return img
    name = _description(src)
    if name.lower().startswith("srgb"):
        return img
    space = str(getattr(src.profile, "xcolor_space", "")).strip()
    mode = "RGBA" if img.mode == "P" and "transparency" in img.info else "RGB" if img.mode == "P" else img.mode
    if mode not in _CONVERTS.get(space, ()):
        notes.append(f"the embedded ICC profile ({name}, {space or 'unknown'} colours) does not fit a {img.mode} "
                     f"image, so the colours are taken as sRGB")
        return img
    try:
        if img.mode != mode:
            img = img.convert(mode)
        out_mode = "RGBA" if mode == "RGBA" else "RGB"
        srgb = ImageCms.createProfile("sRGB")
        if mode == out_mode:
            ImageCms.profileToProfile(img, src, srgb, outputMode=out_mode, inPlace=True)
            converted = img
        else:
            converted = ImageCms.profileToProfile(img, src, srgb, outputMode=out_mode)
    except Exception as exc:  # littlecms refuses some profiles it can parse (e.g. no usable tags)
        notes.append(f"the embedded ICC profile ({name}) could not be applied ({str(exc).strip() or type(exc).__name__}), "
                     f"so the colours are taken as sRGB")
        return img
    notes.append(f"converted from {name} to sRGB")
    return converted


def output_exif(img: Image.Image) -> bytes | None:
    """The source's EXIF for its outputs, orientation reset to 1 (the loader has applied it); None where the
    file has no EXIF block of its own (a TIFF's tags describe its own pixel layout, not the photo)."""
    raw = img.info.get("exif")
    if not raw or img.format == "TIFF":
        return None
    try:
        exif = Image.Exif()
        exif.load(raw)
        if _EXIF_ORIENTATION in exif:
            exif[_EXIF_ORIENTATION] = 1
        return exif.tobytes()
    except Exception:  # malformed EXIF: the output goes without it rather than not at all
        return None


def png_bit_depth(path: str | os.PathLike) -> int:
    """A PNG's bits per sample from its IHDR (the file's own header, not Pillow's reading of it); 0 if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return 0
    return head[24]


def png16_bytes(arr: np.ndarray, exif: bytes | None = None, text: dict[str, str] | None = None) -> bytes:
    """A float [0, 1] (H, W, 3) array as a 16-bit RGB PNG with the sRGB profile, `exif` and iTXt `text`."""
    import png  # pypng

    h, w = arr.shape[:2]
    rows = np.rint(np.clip(arr, 0.0, 1.0) * 65535.0).astype(">u2").reshape(h, w * 3)
    buf = io.BytesIO()
    png.Writer(w, h, greyscale=False, bitdepth=16).write_packed(buf, (bytearray(r.tobytes()) for r in rows))
    chunks = list(png.Reader(bytes=buf.getvalue()).chunks())
    extra = [(b"iCCP", b"sRGB\x00\x00" + zlib.compress(srgb_profile_bytes()))]
    if exif:
        extra.append((b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif))
    for key, value in (text or {}).items():
        extra.append((b"iTXt", key.encode("latin-1")[:79] + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")))
    out = io.BytesIO()
    png.write_chunks(out, [chunks[0], *extra, *chunks[1:]])  # after IHDR, before the pixel data
    return out.getvalue()
