"""Every category of odd or hostile image gets a correct result or one clear CLI error line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adkviewer.cli.entry import main
from hostile_files import make_corpus



@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return make_corpus(tmp_path_factory.mktemp("hostile"))


NAMES = ["empty.png", "not_an_image.png", "postscript.png", "half_rows.png", "huge_frame.jpg",
         "tall.tiff", "corrupt_apng.png", "l_orientation6.tiff", "p_orientation8.tiff", "rgba_orientation5.tiff", "truncated.png", "truncated.jpg", "bomb.png", "grey.png", "palette.png",
         "rgba.png", "cmyk.jpg", "grey16.png", "exif_rotated.jpg", "one_pixel.png", "three_pixels.png",
         "not_divisible.png", "photo.webp", "photo.tiff", "photo.bmp"]


def test_the_corpus_covers_every_name(corpus):
    assert sorted(corpus) == sorted(NAMES)


@pytest.mark.parametrize("method", ["bicubic", "adknet"])
@pytest.mark.parametrize("name", NAMES)
def test_downscale_gives_a_result_or_one_clear_line(corpus, tmp_path, capsys, name, method):
    path, expected = corpus[name]
    out = tmp_path / "out.png"
    rc = main(["downscale", str(path), "-o", str(out), "--scale", "4", "--method", method, "--device", "cpu"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if expected == "ok":
        assert rc == 0, err
        with Image.open(path) as im:
            w, h = im.size if "orientation" not in name and name != "exif_rotated.jpg" else (32, 48)
        with Image.open(out) as lr:
            assert lr.size == (w // 4, h // 4) and lr.mode == "RGB"
            assert np.asarray(lr).std() > 0  # never a silently blank output
    else:
        assert rc != 0
        lines = [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")]
        assert len(lines) == 1, err
        assert path.name in lines[0]
        assert not out.exists()
