"""adk_model.imageio: every mode converts to float32 RGB in [0, 1], every failure is one clear ImageLoadError."""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adk_model import imageio
from adk_model.errors import ImageLoadError, UserError
from adk_model.imageio import LoadedImage, crop_to_multiple, load_image, save_image, to_uint8


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _rgb(h: int = 6, w: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _check_array(im: LoadedImage, h: int, w: int) -> None:
    assert isinstance(im, LoadedImage)
    assert im.array.dtype == np.float32
    assert im.array.shape == (h, w, 3)
    assert im.array.flags.c_contiguous
    assert float(im.array.min()) >= 0.0 and float(im.array.max()) <= 1.0


def _assert_clear_error(exc: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    msg = str(exc.value)
    assert isinstance(exc.value, ImageLoadError) and isinstance(exc.value, UserError)
    assert str(path) in msg
    assert "\n" not in msg and msg.endswith(".")
    for w in words:
        assert w in msg.lower(), msg


# ---------------------------------------------------------------------------------------------- modes


def test_rgb_png_exact(tmp_path: Path) -> None:
    data = _rgb()
    p = tmp_path / "rgb.png"
    Image.fromarray(data).save(p)
    im = load_image(p)
    _check_array(im, 6, 5)
    np.testing.assert_array_equal(im.array, data.astype(np.float32) / 255.0)
    assert im.notes == [] and im.path == str(p)


def test_greyscale_expanded(tmp_path: Path) -> None:
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5) * 12
    p = tmp_path / "grey.png"
    Image.fromarray(grey, mode="L").save(p)
    im = load_image(p)
    _check_array(im, 4, 5)
    for c in range(3):
        np.testing.assert_array_equal(im.array[..., c], grey / np.float32(255))
    assert "greyscale expanded to RGB" in im.notes


def test_one_bit(tmp_path: Path) -> None:
    bits = Image.new("1", (3, 2), 0)
    bits.putpixel((1, 0), 1)
    p = tmp_path / "bits.png"
    bits.save(p)
    im = load_image(p)
    _check_array(im, 2, 3)
    assert im.array[0, 1].tolist() == [1.0, 1.0, 1.0] and im.array[0, 0].tolist() == [0.0, 0.0, 0.0]
    assert any("1-bit" in n for n in im.notes)


def test_palette_with_transparency_goes_over_white(tmp_path: Path) -> None:
    pal = Image.new("P", (2, 2), 0)
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * (254 * 3))
    pal.putpixel((1, 1), 1)
    pal.info["transparency"] = 0  # colour 0 is fully transparent
    p = tmp_path / "pal.png"
    pal.save(p, transparency=0)
    im = load_image(p)
    _check_array(im, 2, 2)
    assert im.array[0, 0].tolist() == [1.0, 1.0, 1.0]  # transparent -> white
    np.testing.assert_allclose(im.array[1, 1], np.array([200, 100, 50]) / 255.0, atol=1e-7)
    assert "palette expanded to RGB" in im.notes and "alpha composited over white" in im.notes


def test_palette_without_transparency(tmp_path: Path) -> None:
    pal = Image.new("P", (2, 1), 0)
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * (254 * 3))
    pal.putpixel((1, 0), 1)
    p = tmp_path / "pal.bmp"
    pal.save(p)
    im = load_image(p)
    np.testing.assert_allclose(im.array[0], np.array([[10, 20, 30], [200, 100, 50]]) / 255.0, atol=1e-7)
    assert im.notes == ["palette expanded to RGB"]


def test_rgba_alpha_over_white_rule(tmp_path: Path) -> None:
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 128]  # half-transparent red
    rgba[0, 1] = [0, 0, 255, 0]  # fully transparent blue -> white
    rgba[0, 2] = [0, 255, 0, 255]  # opaque green
    p = tmp_path / "rgba.png"
    Image.fromarray(rgba, mode="RGBA").save(p)
    im = load_image(p)
    _check_array(im, 1, 3)
    a = 128 / 255
    np.testing.assert_allclose(im.array[0, 0], [1.0, 1 - a, 1 - a], atol=1e-6)
    np.testing.assert_allclose(im.array[0, 1], [1.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(im.array[0, 2], [0.0, 1.0, 0.0], atol=1e-6)
    assert "alpha composited over white" in im.notes
    assert "white" in (imageio.load_image.__doc__ or "")


def test_opaque_rgba_has_no_alpha_note(tmp_path: Path) -> None:
    rgba = np.concatenate([_rgb(), np.full((6, 5, 1), 255, np.uint8)], axis=2)
    p = tmp_path / "opaque.png"
    Image.fromarray(rgba, mode="RGBA").save(p)
    im = load_image(p)
    np.testing.assert_array_equal(im.array, rgba[..., :3] / np.float32(255))
    assert im.notes == []


def test_grey_alpha(tmp_path: Path) -> None:
    la = Image.new("LA", (1, 1), (0, 0))
    p = tmp_path / "la.png"
    la.save(p)
    im = load_image(p)
    assert im.array[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert "greyscale expanded to RGB" in im.notes and "alpha composited over white" in im.notes


def test_cmyk_jpeg(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(p, quality=95)  # pure red in CMYK
    im = load_image(p)
    _check_array(im, 8, 16)
    np.testing.assert_allclose(im.array.mean(axis=(0, 1)), [1.0, 0.0, 0.0], atol=0.03)
    assert "CMYK converted to RGB" in im.notes


def test_16bit_grey_png_precise(tmp_path: Path) -> None:
    values = np.array([[0, 1, 257, 32768], [40000, 65534, 65535, 12345]], dtype=np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(values).save(p)
    im = load_image(p)
    _check_array(im, 2, 4)
    expected = values.astype(np.float32) / np.float32(65535)
    for c in range(3):
        np.testing.assert_array_equal(im.array[..., c], expected)
    assert im.array[0, 1, 0] == np.float32(1 / 65535)  # finer than any 8-bit step
    assert any("16-bit image" in n for n in im.notes) and "greyscale expanded to RGB" in im.notes
    assert not any("reduced to 8 bits" in n for n in im.notes)


def test_16bit_rgb_png_notes_precision_loss(tmp_path: Path) -> None:
    px = struct.pack(">6H", 65535, 0, 32896, 0, 65535, 0)
    p = tmp_path / "rgb16.png"
    p.write_bytes(_raw_png(2, 1, 16, 2, b"\x00" + px))
    im = load_image(p)
    _check_array(im, 1, 2)
    np.testing.assert_allclose(im.array[0, 0], [1.0, 0.0, 128 / 255], atol=1e-6)
    assert any("16-bit colour" in n for n in im.notes)


def test_float_tiff_clipped(tmp_path: Path) -> None:
    p = tmp_path / "f.tif"
    Image.fromarray(np.array([[0.25, 2.0], [-1.0, 1.0]], dtype=np.float32), mode="F").save(p)
    im = load_image(p)
    np.testing.assert_allclose(im.array[..., 0], [[0.25, 1.0], [0.0, 1.0]])
    assert any("clipped" in n for n in im.notes)


def test_32bit_int_out_of_range_refused(tmp_path: Path) -> None:
    p = tmp_path / "i32.tif"
    Image.fromarray(np.array([[0, 100000]], dtype=np.int32), mode="I").save(p)
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "32-bit")


def test_exif_orientation_6_transposes(tmp_path: Path) -> None:
    data = np.zeros((20, 40, 3), dtype=np.uint8)  # stored 40 wide, 20 high
    data[:10, :10] = [255, 0, 0]  # red block at the stored top-left
    img = Image.fromarray(data)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    p = tmp_path / "rot.jpg"
    img.save(p, exif=exif, quality=95)
    im = load_image(p)
    _check_array(im, 40, 20)  # displayed 20 wide, 40 high
    assert im.array[2:8, 12:18, 0].mean() > 0.9 and im.array[2:8, 12:18, 1].mean() < 0.1  # now top-right
    assert im.array[2:8, 2:8, 0].mean() < 0.1
    assert "EXIF orientation applied" in im.notes


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (4, 4), c) for c in [(255, 0, 0), (0, 0, 255)]]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50)
    im = load_image(p)
    assert im.array[0, 0, 0] > 0.9 and im.array[0, 0, 2] < 0.1
    assert "first of 2 frames used" in im.notes


def test_one_by_one(tmp_path: Path) -> None:
    p = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1), (0, 128, 255)).save(p)
    im = load_image(p)
    _check_array(im, 1, 1)
    np.testing.assert_allclose(im.array[0, 0], [0, 128 / 255, 1.0])
    with pytest.raises(ImageLoadError, match="smaller than the scale x4"):
        crop_to_multiple(im.array, 4, name=str(p))


@pytest.mark.parametrize(
    "fmt, suffix, kwargs",
    [("WEBP", ".webp", {"lossless": True}), ("TIFF", ".tiff", {}), ("TIFF", ".tif", {"compression": "tiff_deflate"}), ("BMP", ".bmp", {})],
)
def test_lossless_format_roundtrip(tmp_path: Path, fmt: str, suffix: str, kwargs: dict) -> None:
    data = _rgb(9, 7, seed=3)
    p = tmp_path / f"img{suffix}"
    Image.fromarray(data).save(p, format=fmt, **kwargs)
    im = load_image(p)
    np.testing.assert_array_equal(to_uint8(im.array), data)


# ---------------------------------------------------------------------------------------------- failures


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.png"
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "does not exist")


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as exc:
        load_image(tmp_path)
    _assert_clear_error(exc, tmp_path, "folder")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "empty")


def test_text_named_png(tmp_path: Path) -> None:
    p = tmp_path / "notes.png"
    p.write_text("this is not an image\n")
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "not an image")


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_truncated_files_raise(tmp_path: Path, fmt: str, suffix: str) -> None:
    full = tmp_path / f"full{suffix}"
    Image.fromarray(_rgb(64, 64, seed=1)).save(full, format=fmt)
    data = full.read_bytes()
    p = tmp_path / f"cut{suffix}"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "truncated")


def test_corrupt_png_crc(tmp_path: Path) -> None:
    full = tmp_path / "ok.png"
    Image.fromarray(_rgb(16, 16)).save(full)
    data = bytearray(full.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # damage compressed data, leaving the CRC wrong
    p = tmp_path / "bad.png"
    p.write_bytes(bytes(data))
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p)


def test_huge_header_refused_quickly(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    p.write_bytes(_raw_png(100_000, 100_000, 8, 2, b""))
    start = time.perf_counter()
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    assert time.perf_counter() - start < 1.0
    _assert_clear_error(exc, p, "decompression bomb", "megapixel")


def test_max_pixels_checked_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Header says 100x100 but there is no pixel data at all: only a header check can give this message.
    p = tmp_path / "big.png"
    p.write_bytes(_raw_png(100, 100, 8, 2, b"")[:-12])
    monkeypatch.setattr(imageio, "MAX_PIXELS", 5000)
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    _assert_clear_error(exc, p, "100x100", "limit")


def test_no_pil_exception_escapes(tmp_path: Path) -> None:
    good = tmp_path / "g.png"
    Image.fromarray(_rgb(32, 32)).save(good)
    data = good.read_bytes()
    rng = np.random.default_rng(5)
    for i in range(30):
        cut = bytearray(data[: int(rng.integers(1, len(data)))])
        if len(cut) > 40:
            j = int(rng.integers(33, len(cut)))
            cut[j] ^= int(rng.integers(1, 256))
        p = tmp_path / f"fuzz{i}.png"
        p.write_bytes(bytes(cut))
        try:
            load_image(p)
        except ImageLoadError:
            pass


# ---------------------------------------------------------------------------------------------- crop / save


def test_crop_to_multiple_note_and_anchor() -> None:
    img = np.random.default_rng(0).random((750, 1001, 3), dtype=np.float32)
    out, note = crop_to_multiple(img, 4)
    assert out.shape == (748, 1000, 3)
    np.testing.assert_array_equal(out, img[:748, :1000])
    assert note == "cropped from 1001x750 to 1000x748 to be a multiple of x4"
    same, none = crop_to_multiple(out, 4)
    assert same.shape == out.shape and none is None


def test_crop_smaller_than_scale() -> None:
    with pytest.raises(ImageLoadError, match="'a.png' is 5x3, smaller than the scale x4"):
        crop_to_multiple(np.zeros((3, 5, 3), np.float32), 4, name="a.png")
    with pytest.raises(UserError):
        crop_to_multiple(np.zeros((8, 2, 3), np.float32), 4)


def test_to_uint8_rounds_and_clips() -> None:
    arr = np.array([0.0, 1.0, -0.1, 1.2, np.nan, 0.5, 0.2 / 255, 0.6 / 255], dtype=np.float32)
    assert to_uint8(arr).tolist() == [0, 255, 0, 255, 0, 128, 0, 1]
    assert to_uint8(arr).dtype == np.uint8


def test_save_image_roundtrip_and_atomic(tmp_path: Path) -> None:
    arr = np.random.default_rng(2).random((7, 9, 3), dtype=np.float32)
    p = tmp_path / "out.png"
    p.write_bytes(b"old content")
    save_image(p, arr)
    back = load_image(p)
    np.testing.assert_array_equal(back.array, to_uint8(arr) / np.float32(255))
    assert sorted(os.listdir(tmp_path)) == ["out.png"]  # no temp file left behind
    assert np.abs(back.array - arr).max() <= 0.5 / 255 + 1e-6


def test_save_image_errors(tmp_path: Path) -> None:
    arr = np.zeros((2, 2, 3), np.float32)
    with pytest.raises(UserError, match="only .png"):
        save_image(tmp_path / "x.jpg", arr)
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(UserError, match="Cannot save image"):
        save_image(tmp_path / "a_file" / "x.png", arr)
    with pytest.raises(ValueError):
        save_image(tmp_path / "x.png", np.zeros((2, 2, 4), np.float32))
    assert os.listdir(tmp_path) == ["a_file"]
    save_image(tmp_path / "new_folder" / "x.png", arr)  # missing folders are created
    assert (tmp_path / "new_folder" / "x.png").is_file()
