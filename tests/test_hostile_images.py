"""Round-2 image hardening: only our decoders run, corrupt data is refused, memory stays bounded, every
orientation of every mode comes out upright."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from hostile_files import corrupt_apng, edited_tiff, half_rows_png, huge_frame_jpeg, tall_tiff
from adk_model import data, imageio
from adk_model.errors import ImageLoadError
from adk_model.imageio import load_image

EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n"
       b"newpath 0 0 moveto 32 0 lineto 32 32 lineto closepath fill showpage\n%%EOF\n")


@pytest.fixture
def no_process(monkeypatch, tmp_path):
    """A fake `gs` first on PATH and every subprocess start recorded: opening an image must start none."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "gs-ran"
    gs = bin_dir / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {marker}\n")
    gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    started: list = []
    real = subprocess.Popen.__init__

    def record(self, *a, **kw):
        started.append(a[0] if a else kw.get("args"))
        return real(self, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", record)
    yield started
    assert not marker.exists()


@pytest.mark.parametrize("name", ["x.eps", "x.png", "x.jpg", "x.tiff", "x"])
def test_postscript_with_any_name_is_refused_and_starts_no_process(tmp_path, no_process, name):
    p = tmp_path / name
    p.write_bytes(EPS)
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    msg = str(exc.value)
    assert str(p) in msg and "PostScript" in msg and "\n" not in msg
    assert no_process == []


def test_dos_eps_binary_header_is_refused_too(tmp_path, no_process):
    import struct
    body = EPS
    p = tmp_path / "dos.png"
    p.write_bytes(b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIIIH", 30, len(body), 0, 0, 0, 0, 0xFFFF) + body)
    with pytest.raises(ImageLoadError, match="PostScript"):
        load_image(p)
    assert no_process == []


def test_pairs_scan_reads_headers_with_our_decoders_only(tmp_path, no_process):
    (tmp_path / "HR").mkdir()
    (tmp_path / "LR").mkdir()
    (tmp_path / "HR" / "a.png").write_bytes(EPS)
    Image.new("RGB", (8, 8)).save(tmp_path / "LR" / "a.png")
    (info,) = data.discover_pairs(tmp_path, 4)
    assert not info.ok and "PostScript" in info.problem
    assert no_process == []


def test_only_the_supported_formats_are_opened(tmp_path):
    p = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(p, format="PPM")  # a format Pillow reads but we do not offer
    with pytest.raises(ImageLoadError, match=r"not an image in a supported format \(PNG, JPEG, WebP, TIFF, BMP or GIF\)"):
        load_image(p)
    assert imageio.FORMATS == ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")


# ---------------------------------------------------------------------------------------------- missing data
import io  # noqa: E402
import struct  # noqa: E402
import zlib  # noqa: E402


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(w: int, h: int, rows: bytes, interlace: int = 0) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, interlace))
            + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b""))


def _noise(h: int, w: int, c: int = 3) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (h, w, c), dtype=np.uint8).squeeze()


def _refused(p: Path, *words: str) -> str:
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    msg = str(exc.value)
    assert str(p) in msg and "\n" not in msg and "truncated or corrupt" in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_png_whose_data_holds_half_the_rows_is_refused(tmp_path):
    p = tmp_path / "half.png"
    p.write_bytes(half_rows_png(64, 64))
    _refused(p, "ends after 50% of the image")
    rows = b"".join(b"\x00" + bytes([y]) * (3 * 64) for y in range(64))
    full = tmp_path / "full.png"
    full.write_bytes(_png(64, 64, rows))
    assert load_image(full).array.shape == (64, 64, 3)


def _adam7_rows(arr: np.ndarray) -> bytes:
    """The seven interlace passes of an RGB image as filter-0 scanlines (Pillow reads Adam7 but cannot write it)."""
    out = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        sub = arr[y0::dy, x0::dx]
        if sub.size:
            out += b"".join(b"\x00" + row.tobytes() for row in sub)
    return out


def test_interlaced_and_animated_pngs_with_all_their_data_still_load(tmp_path):
    arr = _noise(37, 29)
    rows = _adam7_rows(arr)
    p = tmp_path / "adam7.png"
    p.write_bytes(_png(29, 37, rows, interlace=1))
    np.testing.assert_array_equal(np.rint(load_image(p).array * 255).astype(np.uint8), arr)
    cut = tmp_path / "adam7_cut.png"
    cut.write_bytes(_png(29, 37, rows[: len(rows) * 9 // 10], interlace=1))
    _refused(cut, "ends after 90% of the image")
    frames = [Image.fromarray(_noise(20, 24)), Image.fromarray(255 - _noise(20, 24))]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    assert load_image(tmp_path / "anim.png").array.shape == (20, 24, 3)


def test_corrupt_apng_with_a_large_frame_is_refused(tmp_path):
    p = tmp_path / "big.apng.png"
    p.write_bytes(corrupt_apng())
    _refused(p, "ends after 0% of the image")


def _jpeg(arr: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_small_jpeg_with_a_huge_frame_is_refused(tmp_path):
    p = tmp_path / "grey.jpg"
    p.write_bytes(huge_frame_jpeg())
    assert p.stat().st_size < 1500
    _refused(p, "6000x4000")


@pytest.mark.parametrize("kw", [{}, {"optimize": True}, {"progressive": True, "optimize": True},
                                {"subsampling": 0, "quality": 5}])
def test_flat_jpegs_are_complete_and_load(tmp_path, kw):
    p = tmp_path / "flat.jpg"
    p.write_bytes(_jpeg(np.full((1000, 1500, 3), 128, np.uint8), **kw))
    assert load_image(p).array.shape == (1000, 1500, 3)


def test_tiff_whose_strips_cover_part_of_its_height_is_refused(tmp_path):
    p = tmp_path / "tall.tif"
    p.write_bytes(tall_tiff())
    _refused(p, "100x25000")


# ---------------------------------------------------------------------------------------------- memory on load
from limited_run import run_limited  # noqa: E402

# Pillow holds LA, RGB and RGBA images in 4 bytes per pixel, 1-bit and L in 1; the result is float32 RGB.
_DECODED_BYTES = {"LA": 4, "RGBA": 4, "RGB": 4, "1": 1}


@pytest.mark.parametrize("mode, orientation", [("LA", 1), ("RGBA", 1), ("1", 1), ("RGB", 6)])
def test_peak_memory_on_load_is_the_decoded_image_plus_one_float_copy(tmp_path, mode, orientation):
    """16 MP; measured for 12000x12000 (144 MP) LA PNG: 2245 MB peak RSS above the interpreter, against 6593 MB
    before (the decoded image is 549 MB in Pillow, the float32 RGB copy 1648 MB)."""
    n = 4000
    grad = np.linspace(0, 255, n, dtype=np.float32).astype(np.uint8)
    grey = Image.fromarray(np.repeat(grad[:, None], n, 1))
    bands = {"LA": (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)), "RGBA": (grey, grey, grey, grey),
             "RGB": (grey, grey, grey)}
    img = grey.convert("1") if mode == "1" else Image.merge(mode, bands[mode])
    p = tmp_path / ("big.jpg" if orientation != 1 else "big.png")
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(p, quality=90, exif=exif.tobytes())
    else:
        img.save(p)
    code = f"""
from adk_model.imageio import load_image
base = peak_mb()
a = load_image({str(p)!r}).array
print(json.dumps({{"delta_mb": peak_mb() - base, "shape": list(a.shape)}}))
"""
    res = run_limited(code, 4 << 30)
    assert res["rc"] == 0, res["stderr"][-2000:]
    assert res["shape"] == [n, n, 3]
    bound_mb = n * n * (_DECODED_BYTES[mode] + 12) / 2**20 + 48  # + a band of temporaries
    assert res["delta_mb"] <= bound_mb, f"{mode}: peak {res['delta_mb']:.0f} MB above the start, bound {bound_mb:.0f} MB"


def _bomb(path: Path, w: int, h: int) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b""))
    return path


@pytest.fixture
def default_limit():
    yield
    imageio.set_max_megapixels(imageio.DEFAULT_MAX_PIXELS / 1e6)


def test_the_limit_message_gives_the_real_size_and_the_memory(tmp_path, default_limit):
    p = _bomb(tmp_path / "just_over.png", 12247, 12248)
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    msg = str(exc.value)
    assert "12247x12248 (150,001,256 pixels), above the limit of 150,000,000 pixels" in msg
    assert "about 2.4 GB of memory" in msg and "--max-megapixels" in msg and "\n" not in msg
    size, problem = data._header_size(p)
    assert size is None and "150,001,256 pixels" in problem


def test_the_limit_can_be_raised_deliberately_past_pillows_own_guard(tmp_path, default_limit, capsys):
    from adkviewer.cli import main

    p = _bomb(tmp_path / "huge.png", 20000, 10000)  # 200 MP: above Pillow's 179 MP guard too
    with pytest.raises(ImageLoadError, match="200,000,000 pixels"):
        load_image(p)
    imageio.set_max_megapixels(250)
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):  # past the limit: on to its (empty) data
        load_image(p)
    imageio.set_max_megapixels(150)
    rc = main(["downscale", str(p), "-o", str(tmp_path / "o.png"), "--method", "box", "--max-megapixels", "250"])
    err = capsys.readouterr().err
    assert rc == 1 and "truncated or corrupt" in err and "above the limit" not in err


# ---------------------------------------------------------------------------------------------- orientation
# EXIF orientation -> the pixels a viewer shows, rotated by hand (numpy), never through Pillow's transpose.
_UPRIGHT = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
            5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
            8: lambda a: np.rot90(a, 1)}
_MODES = {"TIFF": ["L", "RGB", "RGBA", "P", "I;16", "CMYK", "1", "LA"],
          "JPEG": ["L", "RGB", "CMYK"],
          "PNG": ["L", "RGB", "RGBA", "P", "I;16", "1", "LA"]}


def _in_mode(mode: str) -> Image.Image:
    """A 12-wide, 16-tall image whose every pixel differs, so any transposition shows."""
    rgb = _noise(16, 12)
    rgb[0, 0] = (255, 0, 0)
    img = Image.fromarray(rgb)
    if mode == "I;16":
        return Image.fromarray((rgb[..., 0].astype(np.uint16) * 257 + np.arange(12, dtype=np.uint16)))
    if mode == "RGBA":
        return Image.fromarray(np.dstack([rgb, _noise(16, 12, 1)]), "RGBA")
    if mode == "LA":
        return Image.merge("LA", (img.convert("L"), Image.fromarray(_noise(16, 12, 1))))
    if mode == "P":
        return img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return img.convert(mode)


def _save(img: Image.Image, path: Path, fmt: str, orientation: int | None) -> Path:
    kw = {"quality": 95} if fmt == "JPEG" else {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
        if fmt == "TIFF":
            kw = {"tiffinfo": {0x0112: orientation}}
    img.save(path, fmt, **kw)
    return path


@pytest.mark.parametrize("fmt, mode", [(f, m) for f, ms in _MODES.items() for m in ms])
def test_every_orientation_of_every_mode_loads_upright(tmp_path, fmt, mode):
    img = _in_mode(mode)
    ext = {"TIFF": "tif", "JPEG": "jpg", "PNG": "png"}[fmt]
    plain = load_image(_save(img, tmp_path / f"plain.{ext}", fmt, None)).array
    assert plain.shape == (16, 12, 3)
    for o in range(1, 9):
        p = _save(img, tmp_path / f"o{o}.{ext}", fmt, o)
        with Image.open(p) as check:
            assert check.getexif().get(0x0112) == o  # the tag really is in the file
        got = load_image(p).array
        want = _UPRIGHT[o](plain)
        assert got.shape == want.shape, f"{fmt} {mode} orientation {o}: {got.shape[1]}x{got.shape[0]}"
        np.testing.assert_array_equal(got, want, err_msg=f"{fmt} {mode} orientation {o}")
        size, problem = data._header_size(p)
        assert problem is None and size == (want.shape[1], want.shape[0]), f"{fmt} {mode} {o}: header {size}"


def test_libtiff_messages_go_into_the_one_error_line_not_beside_it(tmp_path, capfd):
    from adkviewer.cli import main

    p = tmp_path / "wide.tif"
    p.write_bytes(edited_tiff(256, 25000, "tiff_deflate"))  # libtiff: "ZIPDecode: Not enough data ..."
    rc = main(["downscale", str(p), "-o", str(tmp_path / "o.png"), "--method", "box"])
    err = capfd.readouterr().err.splitlines()
    assert rc == 1 and len(err) == 2 and err[1] == "nothing written", err
    assert err[0].startswith(f"adkviewer: error: Cannot load image '{p}'") and "ZIPDecode" in err[0], err
