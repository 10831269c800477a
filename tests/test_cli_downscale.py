"""`adkviewer downscale`: images and folders in, PNGs out, never an overwrite unasked, nothing written on failure;
progress bars only on a terminal, and --quiet silencing every bar (downscale, eval, fit-lstsq, train)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from core_helpers import one_thread, save_png, smooth_image  # noqa: F401 (fixture)
from cli_helpers import ROOT, S, _one_error, _run, _run_tty, pristine, weights  # noqa: F401,F811 (fixtures)
from adk_model.baselines import classical_downscale
from adk_model.imageio import load_image, to_uint8
from adk_model.inference import AdkRunner
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def test_downscale_writes_files_and_refuses_to_overwrite(tmp_path, capsys):
    a = save_png(tmp_path / "in" / "a.png", smooth_image(70, 90, seed=1))  # 90x70: cropped to 88x68
    b = save_png(tmp_path / "in" / "b.png", smooth_image(32, 48, seed=2))
    out = tmp_path / "out" / "nested"  # created on demand
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic", "--scale", S])
    assert code == 0, err
    assert "cropped from 90x70 to 88x68" in err
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a_x4_bicubic.png", "b_x4_bicubic.png"]
    got = load_image(out / "a_x4_bicubic.png").array
    hr = load_image(a).array[:68, :88]
    assert got.shape == (17, 22, 3)
    np.testing.assert_array_equal(np.rint(got * 255), to_uint8(classical_downscale(hr, S, "bicubic")))

    stamp = (out / "a_x4_bicubic.png").stat().st_mtime_ns
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic"])
    line = _one_error(code, err)
    assert "already exists" in line and "--overwrite" in line
    assert (out / "a_x4_bicubic.png").stat().st_mtime_ns == stamp

    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "box", "--overwrite"])
    assert code == 0, err
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic", "--overwrite"])
    assert code == 0, err


def test_downscale_takes_a_folder_of_images(tmp_path, capsys):
    """A folder on the command line was refused as 'a folder, not an image file': batch work had to glob."""
    save_png(tmp_path / "in" / "b.png", smooth_image(32, 48, seed=2))
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(tmp_path / "in" / "a.jpg")
    (tmp_path / "in" / "notes.txt").write_text("not an image, not read")
    (tmp_path / "in" / "._b.png").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata beside b.png: hidden, skipped
    (tmp_path / "in" / "sub").mkdir()
    code, _, err = _run(capsys, ["downscale", tmp_path / "in", "-o", tmp_path / "out", "--method", "box"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4_box.png", "b_x4_box.png"]
    code, _, err = _run(capsys, ["downscale", tmp_path / "in" / "sub", "-o", tmp_path / "o2", "--method", "box"])
    assert "is a folder with no images" in _one_error(code, err)


def test_downscale_of_only_bad_files_creates_no_folder(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "out"
    code, _, err = _run(capsys, ["downscale", bad, tmp_path / "missing.png", "-o", out, "--method", "box"])
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("adkviewer: error:")]
    assert len(errors) == 2 and "bad.png" in errors[0] and "missing.png" in errors[1]
    assert "nothing written" in err and not out.exists()

    good = save_png(tmp_path / "good.png", smooth_image(16, 16, seed=4))
    code, _, err = _run(capsys, ["downscale", good, bad, "-o", out, "--method", "box"])
    assert code == 1 and "wrote 1 image to" in err
    assert [p.name for p in out.iterdir()] == ["good_x4_box.png"]


def test_downscale_into_an_unwritable_place_is_one_error_before_any_work(tmp_path, monkeypatch, capsys):
    images = [save_png(tmp_path / "in" / f"{c}.png", smooth_image(16, 16, seed=i)) for i, c in enumerate("abc")]
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked and real_access(p, mode, **kw))
    (tmp_path / "afile").write_text("x")
    for out in (locked, locked / "new", tmp_path / "afile" / "new"):
        code, _, err = _run(capsys, ["downscale", *images, "-o", out, "--method", "box"])
        assert ("cannot write in" if "locked" in str(out) else "is a file") in _one_error(code, err)
        assert list(locked.iterdir()) == []

def test_downscale_adknet_single_file(tmp_path, weights, monkeypatch):
    a = save_png(tmp_path / "a.png", smooth_image(48, 64, seed=3))
    dst = tmp_path / "single" / "small.png"
    code, err = _run_tty(monkeypatch, ["downscale", a, "-o", dst, "--weights", weights, "--device", "cpu",
                                       "--tile-budget-mb", 1])
    assert code == 0, err
    assert f"to {dst}" in err and f"{dst}/" not in err
    assert "a.png:   0%" in err and "tile" in err  # one photo shows its tiles' progress (a 20 MP one: ~1 minute)
    expected = AdkRunner(load_weights(weights).model, "cpu").downscale(load_image(a).array)
    np.testing.assert_array_equal(np.rint(load_image(dst).array * 255), to_uint8(expected))


def _has_bar(err: str) -> bool:
    return "%|" in err or "\r" in err


def test_downscale_progress_is_off_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    """A log file or a pipe filled with '\\r'-redrawn tqdm bars; now they draw only on a terminal."""
    images = [save_png(tmp_path / "in" / f"{c}.png", smooth_image(16, 16, seed=i)) for i, c in enumerate("ab")]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "adkviewer", "downscale", *map(str, images), "-o",
                           str(tmp_path / "piped"), "--method", "box"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not _has_bar(proc.stderr) and "wrote 2 images" in proc.stderr
    code, err = _run_tty(monkeypatch, ["downscale", *images, "-o", tmp_path / "tty", "--method", "box"])
    assert code == 0 and _has_bar(err)  # the same batch on a terminal shows its bar
    code, err = _run_tty(monkeypatch, ["downscale", *images, "-o", tmp_path / "quiet", "--method", "box", "--quiet"])
    assert code == 0 and not _has_bar(err) and "wrote 2 images" in err


def test_quiet_silences_every_progress_bar_on_a_terminal(pristine, tmp_path, weights, monkeypatch, capsys):
    a = save_png(tmp_path / "a.png", smooth_image(48, 64, seed=3))
    code, err = _run_tty(monkeypatch, ["downscale", a, "-o", tmp_path / "a.png.out.png", "--weights", weights,
                                       "--device", "cpu", "--tile-budget-mb", 1, "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["eval", "--pairs", pristine, "--methods", "box", "lstsq", "--json", "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["fit-lstsq", "--pairs", pristine, "-o", tmp_path / "f.safetensors", "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["train", "--pairs", pristine, "--device", "cpu", "--batch", 1, "--patch", 8,
                                       "--iterations", 2, "--no-eval", "--out", tmp_path / "run", "--quiet"])
    assert code == 0 and not _has_bar(err), err
    assert (tmp_path / "run" / "adknet_x4_lite.safetensors").is_file()
