"""A generated corpus of odd and hostile image files, one per category, shared by the CLI and GUI hardening tests.

Each entry says what a correct program does with it: "ok" (a result, maybe with a note) or "error" (one clear
message). Nothing here is shipped; every file is made in the test's temporary folder.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"")) + \
        _png_chunk(b"IEND", b"")


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 3 + y) % 256, (y * 2) % 256, (x + 2 * y) % 256], -1).astype(np.float32)
    return np.clip(base * 0.8 + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def half_rows_png(w: int = 64, h: int = 64) -> bytes:
    """A complete PNG whose zlib stream holds only the top half of the rows (Pillow blacks out the rest)."""
    rows = b"".join(b"\x00" + bytes([y * 4 % 256]) * (3 * w) for y in range(h // 2))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(rows)) + \
        _png_chunk(b"IEND", b"")


def huge_frame_jpeg() -> bytes:
    """A 16x16 JPEG whose frame header says 6000x4000 (under 1.5 KB; libjpeg fills the rest with grey)."""
    buf = io.BytesIO()
    Image.fromarray(_photo(16, 16)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 4000, 6000)
    return bytes(data)


def corrupt_apng() -> bytes:
    """A two-frame APNG whose IHDR (CRC fixed) says 3061x3061: its data holds a 24x20 frame (once a flat image)."""
    frames = [Image.fromarray(_photo(20, 24)), Image.fromarray(255 - _photo(20, 24, seed=1))]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", 3061, 3061)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def edited_tiff(tag: int, value: int, compression: str | None = None) -> bytes:
    """A 100x16 greyscale TIFF with one header tag overwritten (e.g. its height or width), its data unchanged."""
    buf = io.BytesIO()
    Image.fromarray(_photo(16, 100)[..., 0]).save(buf, "TIFF", compression=compression)
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        e = ifd + 2 + 12 * i
        found, typ = struct.unpack("<HH", data[e:e + 4])
        if found == tag:
            data[e + 8:e + 12] = struct.pack("<I", value) if typ == 4 else struct.pack("<HH", value, 0)
    return bytes(data)


def tall_tiff() -> bytes:
    """An uncompressed 100x16 TIFF whose ImageLength says 25000: its one strip covers 16 rows."""
    return edited_tiff(257, 25000)


def make_corpus(folder: Path) -> dict[str, tuple[Path, str]]:
    """file name -> (path, expected outcome)."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = _photo(32, 48)
    files: dict[str, tuple[Path, str]] = {}

    def save(name: str, img: Image.Image, outcome: str = "ok", **kw) -> None:
        p = folder / name
        img.save(p, **kw)
        files[name] = (p, outcome)

    def raw(name: str, data: bytes, outcome: str = "error") -> None:
        p = folder / name
        p.write_bytes(data)
        files[name] = (p, outcome)

    raw("empty.png", b"")
    raw("not_an_image.png", b"hello, this is text and not a PNG\n" * 20)
    png = io.BytesIO(); Image.fromarray(rgb).save(png, "PNG")
    raw("truncated.png", png.getvalue()[: len(png.getvalue()) // 2])
    jpg = io.BytesIO(); Image.fromarray(rgb).save(jpg, "JPEG", quality=90)
    raw("truncated.jpg", jpg.getvalue()[: len(jpg.getvalue()) // 2])
    raw("bomb.png", _bomb_png(100_000, 100_000))
    # PostScript named as a PNG: Pillow's EPS plugin would run it through Ghostscript.
    raw("postscript.png", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n0 0 moveto 32 32 lineto stroke\n")
    raw("half_rows.png", half_rows_png())
    raw("huge_frame.jpg", huge_frame_jpeg())
    raw("tall.tiff", tall_tiff())
    raw("corrupt_apng.png", corrupt_apng())
    for mode, orientation in (("L", 6), ("P", 8), ("RGBA", 5)):  # Pillow 13 scrambled these TIFFs
        img = Image.fromarray(rgb).convert(mode)
        save(f"{mode.lower()}_orientation{orientation}.tiff", img, tiffinfo={0x0112: orientation})
    save("grey.png", Image.fromarray(rgb[..., 0]))
    save("palette.png", Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16))
    rgba = np.dstack([rgb, np.linspace(0, 255, 48, dtype=np.uint8)[None, :].repeat(32, 0)])
    save("rgba.png", Image.fromarray(rgba, "RGBA"))
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"), quality=95)
    save("grey16.png", Image.fromarray(rgb[..., 1].astype(np.uint16) * 257))
    exif = Image.Exif(); exif[0x0112] = 6
    save("exif_rotated.jpg", Image.fromarray(rgb), exif=exif.tobytes(), quality=95)
    save("one_pixel.png", Image.fromarray(rgb[:1, :1]), outcome="error")
    save("three_pixels.png", Image.fromarray(rgb[:3, :3]), outcome="error")
    save("not_divisible.png", Image.fromarray(_photo(33, 50)))
    save("photo.webp", Image.fromarray(rgb), lossless=True)
    save("photo.tiff", Image.fromarray(rgb))
    save("photo.bmp", Image.fromarray(rgb))
    return files


def make_bad_weights(folder: Path) -> dict[str, Path]:
    """Weights files that must each be refused in one sentence: absurd stored configs (which once allocated
    tens of GB before failing), NaN/Inf values, non-float tensors. Tensors are those of a tiny model."""
    import json

    import torch
    from safetensors.torch import save_file

    from core_helpers import perturbed, tiny_config
    from adk_model.weights import FORMAT

    folder.mkdir(parents=True, exist_ok=True)
    cfg = tiny_config()
    clean = {k: v.clone().contiguous() for k, v in perturbed(cfg).state_dict().items()}
    out: dict[str, Path] = {}

    def write(name: str, state: dict, config: dict) -> None:
        p = folder / f"{name}.safetensors"
        save_file(state, str(p), metadata={"format": FORMAT, "arch": cfg.arch, "config": json.dumps(config)})
        out[name] = p

    for field, value in [("k", 10000), ("width", 10**6), ("gen_blocks", 100000), ("width", 4096)]:
        write(f"{field}_{value}", clean, {**cfg.to_dict(), field: value})
    nan = {k: v.clone() for k, v in clean.items()}
    nan["head.weight"].view(-1)[0] = float("nan")
    write("nan", nan, cfg.to_dict())
    inf = {k: v.clone() for k, v in clean.items()}
    inf["mix"][1, 1] = float("-inf")
    write("inf", inf, cfg.to_dict())
    write("int8", {**clean, "mix": clean["mix"].to(torch.int8)}, cfg.to_dict())
    return out
