"""Compare's Image panel says what a person must know about the open files: a ground truth that looks like another
scene, and what the loader did to the image (for as long as it is open, not 15 s in the status bar)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from adkviewer.tabs.compare.compare_tab import CompareTab  # noqa: E402
from tests.core_helpers import box, save_png  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def _said(ctx) -> list[tuple[str, str]]:
    heard: list[tuple[str, str]] = []
    ctx.hub.message.connect(lambda level, text, _scope: heard.append((level, text)))
    return heard


def test_a_same_size_ground_truth_of_another_scene_is_doubted_once_and_a_real_one_is_not(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["nearest", "bicubic"])
    tab = show_tab(qtbot, CompareTab(ctx))
    heard = _said(ctx)
    hr_path = textured_image(tmp_path, 64, 80)
    hr = np.asarray(Image.open(hr_path), np.float32) / 255
    real = save_png(tmp_path / "real_lr.png", box(hr, 4))
    other = save_png(tmp_path / "other_lr.png", np.random.default_rng(1).random((16, 20, 3)))
    assert ctx.commands.open_image(hr_path, gt=real)
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    assert min(r.metrics["ssim"] for r in ctx.session.results.values()) > 0.5
    assert ctx.session.gt_doubt() is None and not [t for lv, t in heard if "may not belong" in t]

    assert ctx.commands.open_ground_truth(other)  # the right size, the wrong scene: accepted, then doubted
    qtbot.waitUntil(lambda: not ctx.jobs.busy and all(r.metrics for r in ctx.session.results.values()),
                    timeout=WAIT_MS)
    doubts = [t for lv, t in heard if lv == "warning" and "may not belong" in t]
    assert len(doubts) == 1 and "Every method scores SSIM below 0.3" in doubts[0] and "other_lr.png" in doubts[0]
    assert "may not belong to this image" in tab.gt_label.text()
    ctx.commands.set_methods(["nearest"])  # more work on the same pair: said once, not again
    qtbot.waitUntil(lambda: not ctx.jobs.busy, timeout=WAIT_MS)
    assert len([t for _lv, t in heard if "may not belong" in t]) == 1
    assert ctx.commands.open_ground_truth(real)
    qtbot.waitUntil(lambda: not ctx.jobs.busy and ctx.session.results["nearest"].metrics is not None,
                    timeout=WAIT_MS)
    assert "may not belong" not in tab.gt_label.text()


def test_the_loaders_notes_stay_in_the_image_panel_while_the_image_is_open(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["nearest"])
    tab = show_tab(qtbot, CompareTab(ctx))
    rgba = np.zeros((70, 66, 4), np.uint8)  # stored 66 wide, 70 high; shown upright as 70 x 66
    rgba[..., 0], rgba[..., 3] = 200, 128
    img = Image.fromarray(rgba, "RGBA")
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(tmp_path / "odd.png", exif=exif)
    assert ctx.commands.open_image(tmp_path / "odd.png")
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    text = tab.hr_label.text()
    for note in ("alpha composited over white", "EXIF orientation applied", "cropped from 70x66 to 68x64"):
        assert note in text, (note, text)
    ctx.commands.set_scale(3)  # the crop is the scale's: the note follows it
    assert "cropped from 70x66 to 69x66" in tab.hr_label.text() and "alpha" in tab.hr_label.text()
    grey16 = tmp_path / "grey16.png"
    Image.fromarray((np.arange(48 * 48).reshape(48, 48) * 16).astype(np.uint16)).save(grey16)
    assert ctx.commands.open_image(grey16)
    text = tab.hr_label.text()
    assert "16-bit" in text and "alpha" not in text and "cropped" not in text  # this image's notes only
