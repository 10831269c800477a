"""Files in and out of the Compare tab: bad images and ground truths give a message and leave a usable window,
odd files open with a note, drops and RealSR names pair up, a scale change sets the ground truth aside, and the
output, view and CSV save."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from compare_helpers import WAIT_MS, _open, _smooth_image, _write_pair  # noqa: E402
from adkviewer.state.session import GT, find_ground_truth  # noqa: E402
from adk_model.imageio import load_image  # noqa: E402


def test_bad_files_give_a_message_and_the_window_stays_usable(qtbot, tmp_path):
    win = _open(qtbot, "--methods", "bicubic")
    demo = win.session.hr_path
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not an image")
    good = tmp_path / "good.png"
    Image.fromarray((_smooth_image(64, 64, 2) * 255).astype(np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:300])
    for bad in (not_image, truncated, tmp_path / "missing.png"):
        assert win.open_image(bad) is False
        assert win.banner.isVisible() and win.banner.level == "error"
        assert bad.name in win.banner.text() and "Traceback" not in win.banner.text()
        assert win.session.hr_path == demo and win.session.results["bicubic"].ready
    # an LR that does not fit the HR at this scale
    wrong = tmp_path / "wrong_lr.png"
    Image.fromarray(np.zeros((10, 13, 3), np.uint8)).save(wrong)
    assert win.commands.open_ground_truth(wrong) is False
    assert "wrong_lr.png" in win.banner.text() and "not HR size / scale" in win.banner.text()
    assert not win.session.has_gt
    # odd but readable files open, with the loader's note in the status bar
    rgba = tmp_path / "rgba.png"
    a = np.zeros((66, 70, 4), np.uint8)
    a[..., 0], a[..., 3] = 200, 128
    Image.fromarray(a, "RGBA").save(rgba)
    assert win.open_image(rgba)
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    msg = win.statusBar().currentMessage()
    assert "alpha composited over white" in msg and "cropped from 70x66 to 68x64" in msg
    grey16 = tmp_path / "grey16.png"
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(grey16)
    assert win.open_image(grey16)
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert "16-bit" in win.statusBar().currentMessage()
    assert win.session.results["bicubic"].ready
    win.open_dropped([str(good)])  # drag and drop goes the same way
    assert Path(win.session.hr_path) == good


def test_opening_an_image_from_the_train_tab_shows_it(qtbot, tmp_path):
    """File > Open while the Train tab was showing stayed there, so the opened image was nowhere to be seen."""
    win = _open(qtbot, "--methods", "bicubic")
    img = tmp_path / "pic.png"
    Image.fromarray((_smooth_image(64, 64, 1) * 255).astype(np.uint8)).save(img)
    win.show_tab("inspect")
    assert win.open_image(img) and win.tabs.currentWidget() is win.tab("inspect")  # tabs that show it stay
    win.show_tab("train")
    assert win.open_image(img) and win.tabs.currentWidget() is win.compare


def test_save_output_view_and_csv(qtbot, tmp_path):
    win = _open(qtbot, "--methods", "nearest", "bicubic")
    out = tmp_path / "bicubic.png"
    win.compare.export.save_output("bicubic", out)
    saved = load_image(out).array
    assert saved.shape == (126, 126, 3)
    assert np.abs(saved - win.session.results["bicubic"].lr).max() <= 0.5 / 255 + 1e-6
    view = tmp_path / "view.png"
    win.compare.export.save_view(view)
    assert Image.open(view).size[0] > 100
    win._guard(lambda: win.compare.export.save_view(tmp_path / "view.jpg"), "ok")
    assert win.banner.isVisible() and "only .png" in win.banner.text()
    csv_path = tmp_path / "m.csv"
    win.compare.export.export_csv(csv_path)
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["method"] for r in rows] == ["nearest", "bicubic"] and rows[0]["psnr"] == ""


def test_scale_change_sets_the_ground_truth_aside_and_back(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "bicubic", "lstsq")
    c, s = win.compare, win.session
    assert s.has_gt and s.scale == 4
    c.scale_combo.setCurrentIndex(c.scale_combo.findData(2))
    c.scale_combo.activated.emit(c.scale_combo.findData(2))
    qtbot.waitUntil(c.all_shown, timeout=WAIT_MS)
    assert s.scale == 2 and not s.has_gt
    assert win.banner.isVisible() and "another scale" in win.banner.text()
    # the side panel and the strip over the views say the ground truth is set aside, not that there is none
    assert "is for ×4: metrics off at ×2" in c.gt_label.text() and "Open ground truth" not in c.gt_label.text()
    assert "is for ×4, not ×2" in c.no_gt_banner.text() and "off: ground truth at ×4" in c.metrics.heading.text()
    assert s.results["bicubic"].lr.shape == (48, 40, 3) and s.results["bicubic"].metrics is None
    if s.unavailable("lstsq"):
        assert c.grid.panel("lstsq").message.text().startswith("no least-squares fit for x2")
    assert "no adk-net weights" in c.weights_note.text().lower() or not c.weights_note.isVisible()
    win.commands.set_scale(4)
    qtbot.waitUntil(c.all_shown, timeout=WAIT_MS)
    assert s.has_gt and s.results["bicubic"].metrics is not None
    assert GT in c.grid.order


def test_unreadable_ground_truth_beside_the_hr_leaves_metrics_off_with_a_warning(qtbot, tmp_path):
    hr, lr = _write_pair(tmp_path)
    lr.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    win = _open(qtbot, str(hr), "--methods", "bicubic")
    assert win.session.hr_path == str(hr) and not win.session.has_gt
    assert win.banner.level == "warning" and "Ground truth not used" in win.banner.text() and lr.name in win.banner.text()
    assert win.compare.no_gt_banner.isVisible()


def test_realsr_names_and_two_dropped_files(qtbot, tmp_path):
    hr, lr = _write_pair(tmp_path / "a")
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "Cam_1_HR.png").write_bytes(hr.read_bytes())
    (flat / "Cam_1_LR4.png").write_bytes(lr.read_bytes())
    assert find_ground_truth(flat / "Cam_1_HR.png") == flat / "Cam_1_LR4.png"
    win = _open(qtbot, "--methods", "nearest")
    win.open_dropped([str(lr), str(hr)])  # the larger file is the HR, the other its ground truth
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert win.session.hr_path == str(hr) and win.session.gt_path == str(lr) and not win.session.gt_auto


def test_a_bad_image_on_the_command_line_leaves_a_usable_empty_window(qtbot, tmp_path):
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"GIF89a nonsense")
    win = _open(qtbot, str(bad))
    assert win.banner.level == "error" and "photo.png" in win.banner.text() and "&#" not in win.banner.text()
    assert win.compare.grid.order == [] and win.compare.grid.empty.isVisible()
    assert win.compare.metrics.table.rowCount() == 0
    demo = next(a for a in win.menuBar().actions()[0].menu().actions() if "demo" in a.text())
    demo.trigger()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert Path(win.session.hr_path).name == "astronaut.png" and not win.compare.grid.empty.isVisible()
    assert not win.banner.isVisible()
