"""Colour and metadata (issue 17 item 7): an ICC profile is converted to sRGB on load, outputs are sRGB with the
profile and the source's EXIF (orientation reset), 16-bit PNG output, and a bad profile is a note, never an error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from icc_profiles import display_p3
from adk_model.imageio import load_image, save_image

SRGB = ImageCms.createProfile("sRGB")
_MAKE, _ORIENTATION = 0x010F, 0x0112


def _photo(h: int = 24, w: int = 32) -> np.ndarray:
    """Smooth, saturated colours (a JPEG keeps them), where P3 and sRGB readings differ clearly."""
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rgb = np.stack([0.2 + 0.75 * x, 0.9 - 0.6 * y, 0.3 + 0.5 * x * y], axis=-1)
    return np.rint(rgb * 255).astype(np.uint8)


def _p3_to_srgb(img: Image.Image) -> np.ndarray:
    """What ImageCms makes of the decoded pixels, read as Display P3: the colours the loader must give."""
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(display_p3()))
    return np.asarray(ImageCms.profileToProfile(img.convert("RGB"), p3, SRGB), np.float32) / 255


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
def test_a_display_p3_image_comes_out_with_the_colours_of_its_srgb_conversion(tmp_path, fmt):
    path = tmp_path / f"p3.{fmt.lower()}"
    lossy = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(_photo()).save(path, format=fmt, icc_profile=display_p3(), **lossy)
    with Image.open(path) as stored:
        stored.load()
        want, as_stored = _p3_to_srgb(stored), np.asarray(stored.convert("RGB"), np.float32) / 255
    im = load_image(path)
    assert "converted from Display P3 to sRGB" in im.notes
    assert np.abs(im.array - want).max() <= 1 / 255 + 1e-6
    assert np.abs(as_stored - want).max() > 8 / 255  # the conversion is not a no-op on these colours


def test_an_srgb_profile_and_no_profile_leave_the_pixels_alone(tmp_path):
    pixels = _photo()
    for name, icc in (("srgb.png", ImageCms.ImageCmsProfile(SRGB).tobytes()), ("none.png", None)):
        Image.fromarray(pixels).save(tmp_path / name, **({"icc_profile": icc} if icc else {}))
        im = load_image(tmp_path / name)
        np.testing.assert_array_equal(np.rint(im.array * 255).astype(np.uint8), pixels)
        assert not any("ICC" in n or "sRGB" in n for n in im.notes)


def test_transparency_keeps_its_alpha_through_the_conversion(tmp_path):
    rgba = np.dstack([_photo(), np.full(_photo().shape[:2], 255, np.uint8)])
    rgba[:, :16, 3] = 0  # left half transparent: white after compositing, whatever the profile
    Image.fromarray(rgba).save(tmp_path / "a.png", icc_profile=display_p3())
    im = load_image(tmp_path / "a.png")
    assert "converted from Display P3 to sRGB" in im.notes and "alpha composited over white" in im.notes
    np.testing.assert_array_equal(im.array[:, :16], 1.0)
    want = _p3_to_srgb(Image.fromarray(rgba[:, 16:, :3]))
    assert np.abs(im.array[:, 16:] - want).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("icc, needle", [
    (b"garbage" * 30, "the embedded ICC profile could not be read, so the colours are taken as sRGB"),
    (display_p3()[:150], "the embedded ICC profile could not be read, so the colours are taken as sRGB"),
    (display_p3(), "the embedded ICC profile (Display P3, RGB colours) does not fit a L image, so the colours are "
                   "taken as sRGB"),
])
def test_a_corrupt_or_unfitting_profile_is_a_note_and_the_pixels_are_read_as_srgb(tmp_path, icc, needle):
    grey = "does not fit" in needle
    pixels = _photo()[..., 0] if grey else _photo()
    Image.fromarray(pixels).save(tmp_path / "x.png", icc_profile=icc)
    im = load_image(tmp_path / "x.png")
    assert needle in im.notes
    stored = pixels[..., None] if grey else pixels
    np.testing.assert_array_equal(np.rint(im.array * 255).astype(np.uint8), np.broadcast_to(stored, im.array.shape))


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[_MAKE], exif[_ORIENTATION] = "TestCam", orientation
    return exif


@pytest.mark.parametrize("bits", [8, 16])
def test_outputs_are_srgb_with_the_sources_exif_and_orientation_1(tmp_path, bits):
    src = tmp_path / "cam.jpg"
    Image.fromarray(_photo()).save(src, exif=_exif(6), icc_profile=display_p3(), quality=95)
    im = load_image(src)
    assert im.array.shape[:2] == (32, 24) and "EXIF orientation applied" in im.notes  # turned upright
    out = tmp_path / "out.png"
    save_image(out, im.array, exif=im.exif, bits=bits, text={"method": "test"})
    with Image.open(out) as o:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(o.info["icc_profile"])))
        exif = o.getexif()
        assert desc.strip().startswith("sRGB") and o.info["method"] == "test"
        assert exif[_MAKE] == "TestCam" and exif[_ORIENTATION] == 1
    again = load_image(out)
    assert again.array.shape == im.array.shape and "EXIF orientation applied" not in again.notes
    assert not any("ICC" in n or "converted from" in n for n in again.notes)  # sRGB in, nothing to convert
    assert np.abs(again.array - im.array).max() <= 0.5 / 255 + 1e-6


def test_16_bit_output_holds_16_bits(tmp_path):
    import png

    ramp = np.linspace(0, 1, 3 * 4 * 5, dtype=np.float32).reshape(4, 5, 3)
    save_image(tmp_path / "r.png", ramp, bits=16)
    width, height, rows, info = png.Reader(filename=str(tmp_path / "r.png")).asDirect()
    got = np.vstack([np.asarray(r, np.uint16) for r in rows]).reshape(height, width, 3)
    assert info["bitdepth"] == 16 and (width, height) == (5, 4)
    np.testing.assert_array_equal(got, np.rint(ramp * 65535).astype(np.uint16))
    assert len(np.unique(got)) == ramp.size  # finer than 8 bits: every step of the ramp is its own value


def test_downscale_bits_16_writes_the_same_picture_finer(tmp_path, capsys):
    from adkviewer.cli import main

    src = tmp_path / "p.png"
    Image.fromarray(_photo(32, 32)).save(src, exif=_exif(1))
    for bits in (8, 16):
        assert main(["downscale", str(src), "-o", str(tmp_path / f"out{bits}.png"), "--method", "bicubic",
                     "--bits", str(bits), "-q"]) == 0
    eight, sixteen = load_image(tmp_path / "out8.png"), tmp_path / "out16.png"
    import png

    width, height, rows, info = png.Reader(filename=str(sixteen)).asDirect()
    fine = np.vstack([np.asarray(r, np.float32) for r in rows]).reshape(height, width, 3) / 65535
    assert info["bitdepth"] == 16 and np.abs(fine - eight.array).max() <= 0.5 / 255 + 1e-6
    assert Image.open(sixteen).getexif()[_MAKE] == "TestCam"
    with pytest.raises(SystemExit) as usage:
        main(["downscale", str(src), "-o", str(tmp_path / "o"), "--bits", "12"])
    assert usage.value.code == 2 and "--bits: invalid choice: 12" in capsys.readouterr().err


def test_the_same_image_gives_the_same_file_in_another_process(tmp_path):
    """littlecms stamps a fresh sRGB profile with the time; outputs must not differ by it (sharded batches)."""
    import subprocess
    import sys
    import time

    arr = np.asarray(_photo(), np.float32) / 255
    save_image(tmp_path / "here.png", arr)
    np.save(tmp_path / "arr.npy", arr)
    time.sleep(1.1)  # the profile's time stamp has a resolution of a second
    code = ("import numpy as np, sys; from adk_model.imageio import save_image; "
            "save_image(sys.argv[2], np.load(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "arr.npy"), str(tmp_path / "there.png")], check=True,
                   timeout=120)
    assert (tmp_path / "here.png").read_bytes() == (tmp_path / "there.png").read_bytes()
