"""The Differences tab, driven as a person would: every mode x channel against NumPy, method A vs method B
without a ground truth, the cache, per-channel statistics, gain and colour bar, hover, swipe, shared
camera, exports and `--diff` on the command line."""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF, QRectF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from adkviewer.widgets import colormaps  # noqa: E402
from adkviewer.tabs.diff import diff_state as diff_state_mod  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from adkviewer.tabs.diff.diff_state import DiffSpec, parse_diff_spec  # noqa: E402
from adkviewer.state.session import GT, MethodResult  # noqa: E402
from adk_model.errors import UserError  # noqa: E402
from adk_model.imageio import load_image  # noqa: E402
from adk_model.metrics import ERROR_CHANNELS, ERROR_MODES  # noqa: E402

WAIT_MS = 20_000
LUMA = np.array([65.481, 128.553, 24.966]) / 255  # the Y of PSNR Y, plus 16/255 (which a difference drops)


def _smooth_image(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * x + 3 * y + c) for c in range(3)], axis=2)
    return np.clip(img + 0.08 * rng.standard_normal((h, w, 3)), 0, 1)


def _save(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((arr * 255).round().astype(np.uint8)).save(path)
    return path


def _write_pair(root: Path, hr_size=(96, 80), scale=4) -> tuple[Path, Path]:
    """HR/ and LR/ with a shifted, tinted box-downscaled LR standing in for a camera LR."""
    hr = _smooth_image(*hr_size, seed=1)
    h, w = hr_size[0] // scale, hr_size[1] // scale
    lr = hr[: h * scale, : w * scale].reshape(h, scale, w, scale, 3).mean(axis=(1, 3))
    lr = np.clip(np.roll(lr, 1, axis=1) * [1.02, 0.98, 1.0] + 0.01, 0, 1)
    return _save(root / "HR" / "pic.png", hr), _save(root / "LR" / "pic.png", lr)


def _open(qtbot, *argv: str):
    return open_window(qtbot, list(argv), ("diff",), WAIT_MS)


def _settle(tab, timeout_s: float = 20.0) -> None:
    """The maps are computed off the GUI thread: let that job finish and the tab show its result."""
    deadline = time.monotonic() + timeout_s
    while tab.computing and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.002)
    assert not tab.computing


def _pick(combo, value) -> None:
    """Choose an entry as a person would (the tab listens to `activated`), and wait for what it shows."""
    i = combo.findData(value)
    assert i >= 0, (value, [combo.itemData(k) for k in range(combo.count())])
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    tab = combo.parentWidget()
    while not hasattr(tab, "computing"):
        tab = tab.parentWidget()
    _settle(tab)


def _expected(img: np.ndarray, ref: np.ndarray, mode: str, channel: str) -> np.ndarray:
    """The error written out in NumPy, independently of adk_model.metrics."""
    img, ref = img.astype(np.float64), ref.astype(np.float64)
    if channel == "luma":
        a, b = 16 / 255 + img @ LUMA, 16 / 255 + ref @ LUMA
    else:
        a, b = img[..., "RGB".index(channel)], ref[..., "RGB".index(channel)]
    d = a - b
    return {"signed": d, "absolute": np.abs(d), "squared": d * d, "relative": np.abs(d) / (b + 0.01)}[mode]


# ---------------------------------------------------------------------------------------------- tests


def test_parse_diff_spec() -> None:
    assert parse_diff_spec("adknet") == DiffSpec("adknet", None, "signed", "luma")
    assert parse_diff_spec("adknet:abs:R") == DiffSpec("adknet", None, "absolute", "R")
    assert parse_diff_spec("adknet-bicubic:absolute:luma") == DiffSpec("adknet", "bicubic", "absolute", "luma")
    assert parse_diff_spec("adknet:signed:g:GT") == DiffSpec("adknet", GT, "signed", "G")
    for bad, words in (("foo", "unknown method"), ("adknet:wrong", "unknown mode"), ("adknet:signed:X", "channel"),
                       ("adknet-bar", "unknown reference"), ("a:b:c:d:e", r"METHOD\[:MODE")):
        with pytest.raises(UserError, match=words):
            parse_diff_spec(bad)


def test_every_mode_and_channel_matches_numpy_and_stats_table(qtbot, tmp_path):
    hr, lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic", "--diff", "bicubic:signed:luma")
    tab = win.tab("diff")
    assert win.tabs.currentWidget() is tab and win.tabs.tabText(win.tabs.indexOf(tab)) == "Differences"
    assert win.tabs.indexOf(tab) == win.tabs.indexOf(win.tab("inspect")) + 1
    st = tab.state
    assert (st.image, st.reference) == ("bicubic", GT)  # ground truth found beside the HR is the default
    assert not tab.ref_note.isVisible()
    img, gt = win.session.results["bicubic"].lr, load_image(lr).array
    for mode in ERROR_MODES:
        _pick(tab.mode_combo, mode)
        for channel in ERROR_CHANNELS:
            _pick(tab.channel_combo, channel)
            want = _expected(img, gt, mode, channel)
            shown = tab.panel.image_item.image
            assert shown.shape == gt.shape[:2]
            np.testing.assert_allclose(shown, want, atol=2e-6, err_msg=f"{mode} {channel}")
            # colour: diverging around 0 for signed, sequential from 0 otherwise; range = largest / gain (1)
            m = np.abs(want).max()
            lo, hi = tab.panel.image_item.levels
            if mode == "signed":
                assert (lo, hi) == pytest.approx((-m, m), rel=1e-5)
                assert np.array_equal(tab.panel.image_item.lut, colormaps.lookup_table(colormaps.DIVERGING))
            else:
                assert (lo, hi) == pytest.approx((0, m), rel=1e-5)
                assert np.array_equal(tab.panel.image_item.lut, colormaps.lookup_table(colormaps.SEQUENTIAL))
            assert tuple(tab.cbar.values) == pytest.approx((lo, hi))
        # the statistics table shows every channel of this mode at once
        signed = mode == "signed"  # its negative side too: min and p1 (the largest error may be negative)
        heads = [tab.stats.horizontalHeaderItem(j).text() for j in range(tab.stats.columnCount())]
        assert heads == (["mean", "min", "p1", "p99", "max"] if signed else ["mean", "max", "p99"])
        assert tab.hist.marks["p1"].isVisible() == signed
        for i, c in enumerate(ERROR_CHANNELS):
            e = _expected(img, gt, mode, c)
            want = {"mean": e.mean(), "max": e.max(), "p99": np.percentile(e, 99), "min": e.min(),
                    "p1": np.percentile(e, 1)}
            for j, v in enumerate(want[h] for h in heads):
                item = tab.stats.item(i, j)
                assert item.data(0x0100) == pytest.approx(v, rel=1e-5, abs=1e-9), (mode, c, j)
                assert item.text() == f"{item.data(0x0100):.4g}"
    assert "Statistics · relative error" in tab.stats_title.text()
    # the label of the colour bar and histogram says what is measured, in which units
    assert tab.cbar_label.labelText.startswith("Luma Y |image − reference| / (reference + 0.01)")
    assert "fraction of the reference" in tab.hist.getAxis("bottom").labelText

    # CSV export: same numbers, full precision
    _pick(tab.mode_combo, "squared")
    out = tmp_path / "stats.csv"
    tab.export.export_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert [r["channel"] for r in rows] == list(ERROR_CHANNELS)
    for r in rows:
        e = _expected(img, gt, "squared", r["channel"])
        assert (r["image"], r["reference"], r["mode"]) == ("bicubic", GT, "squared")
        assert float(r["mean"]) == pytest.approx(e.mean(), rel=1e-6)
        assert float(r["max"]) == pytest.approx(e.max(), rel=1e-6)
        assert float(r["p99"]) == pytest.approx(np.percentile(e, 99), rel=1e-6)
        assert float(r["min"]) == pytest.approx(e.min(), rel=1e-6, abs=1e-12)
        assert float(r["p1"]) == pytest.approx(np.percentile(e, 1), rel=1e-6, abs=1e-12)
    # one luma: the squared luma's mean is the MSE behind Compare's PSNR Y (it was full-range luma: 1.32 dB apart)
    luma = next(r for r in rows if r["channel"] == "luma")
    psnr_y = win.session.results["bicubic"].metrics["psnr_y"]
    assert 10 * np.log10(1 / float(luma["mean"])) == pytest.approx(psnr_y, abs=1e-4)


def test_a_vs_b_without_ground_truth(qtbot, tmp_path):
    hr = _save(tmp_path / "alone.png", _smooth_image(64, 72, seed=3))
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic", "box",
                "--diff", "nearest-box:absolute:G")
    tab, s = win.tab("diff"), win.session
    assert not s.has_gt
    # no ground truth: the reference list holds only methods, and the tab says why
    refs = [tab.ref_combo.itemData(i) for i in range(tab.ref_combo.count())]
    assert GT not in refs and "bicubic" in refs and "box" in refs
    assert tab.ref_note.isVisible() and "No ground-truth LR" in tab.ref_note.text()
    assert tab.ref_combo.currentData() == "box"
    np.testing.assert_allclose(tab.panel.image_item.image,
                               _expected(s.results["nearest"].lr, s.results["box"].lr, "absolute", "G"), atol=2e-6)
    # another pair from the combos; a method not ticked in Compare is ticked and computed when chosen
    _pick(tab.ref_combo, "bicubic")
    np.testing.assert_allclose(tab.panel.image_item.image,
                               _expected(s.results["nearest"].lr, s.results["bicubic"].lr, "absolute", "G"),
                               atol=2e-6)
    _pick(tab.image_combo, "lanczos")
    assert "lanczos" in s.methods
    qtbot.waitUntil(lambda: s.results.get("lanczos") is not None and s.results["lanczos"].ready, timeout=WAIT_MS)
    _settle(tab)
    np.testing.assert_allclose(tab.panel.image_item.image,
                               _expected(s.results["lanczos"].lr, s.results["bicubic"].lr, "absolute", "G"),
                               atol=2e-6)
    # the default with nothing chosen is method vs bicubic; asking for the ground truth is a clear error
    with pytest.raises(UserError, match="no ground-truth LR"):
        tab.show_diff("nearest:signed:luma:gt")
    win.ctx.launch.diff = "nearest:signed:luma:gt"
    tab.apply_pending()
    assert win.banner.isVisible() and "no ground-truth LR" in win.banner.text() and "Traceback" not in win.banner.text()
    # the same method on both sides: said, not a black map
    tab.state.choose(image="box", reference="box")
    tab.refresh()
    assert "compared with itself" in tab.panel.message.text()


def test_cache_is_hit_on_reselection_and_follows_recomputation(qtbot, tmp_path, monkeypatch):
    calls = []
    real = diff_state_mod.error_map

    def counting(img, ref, mode, channel):
        calls.append((mode, channel))
        return real(img, ref, mode, channel)

    monkeypatch.setattr(diff_state_mod, "error_map", counting)
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic", "--diff", "nearest:absolute:R")
    tab = win.tab("diff")
    assert sorted(calls) == sorted(("absolute", c) for c in ERROR_CHANNELS)  # shown map + the stats table
    calls.clear()
    _pick(tab.mode_combo, "signed")
    assert len(calls) == 4
    calls.clear()
    _pick(tab.mode_combo, "absolute")
    _pick(tab.channel_combo, "luma")
    _pick(tab.channel_combo, "R")
    assert calls == []  # re-selection: every map comes from the cache
    # a recomputed method gets a new key: the stale map is not used
    s = win.session
    old = s.results["nearest"].lr
    s.results["nearest"] = MethodResult("nearest", lr=np.clip(old + 0.1, 0, 1).astype(np.float32), seconds=0.0)
    win.hub.resultChanged.emit("nearest")
    _settle(tab)
    assert len(calls) == 4
    np.testing.assert_allclose(tab.panel.image_item.image,
                               _expected(s.results["nearest"].lr, s.gt, "absolute", "R"), atol=2e-6)
    # reopening the image clears the cache too
    calls.clear()
    assert win.open_image(hr)
    qtbot.waitUntil(lambda: win.compare.all_shown() and tab.state.result() is not None, timeout=WAIT_MS)
    assert len(calls) >= 1


def test_gain_hover_swipe_export_and_shared_camera(qtbot, tmp_path):
    hr, lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic", "--diff", "nearest:signed:luma")
    tab = win.tab("diff")
    res = tab.state.result()
    m = max(abs(res.lo), abs(res.hi))
    tab.set_gain(10.0)
    assert tab.state.gain == pytest.approx(10.0)
    assert tab.panel.image_item.levels == pytest.approx((-m / 10, m / 10), rel=1e-5)
    assert tuple(tab.cbar.values) == pytest.approx((-m / 10, m / 10), rel=1e-5)
    assert "×10" in tab.gain_label.text() and "±" in tab.range_label.text()

    # hover readout: the error at the pixel, and both images' RGB there
    row, col = 5, 7
    grid = tab.grid
    grid._on_mouse(tab.panel, tab.panel.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5)))
    text = tab.readout_text()
    assert f"LR x={col}, y={row}" in text
    assert f"error: {res.err[row, col]:.4g}" in text  # 4 significant digits, as the statistics table
    gt = load_image(lr).array
    assert " ".join(f"{v:.4f}" for v in gt[row, col]) in text

    # export: the colour-mapped map at LR resolution, the view with its colour bar
    out = tmp_path / "map.png"
    tab.export.save_map(out)
    saved = np.asarray(Image.open(out).convert("RGB"))
    assert saved.shape == (*res.err.shape, 3)
    lut = colormaps.lookup_table(colormaps.DIVERGING)
    big = np.unravel_index(np.argmax(res.err), res.err.shape)
    assert np.array_equal(saved[big], lut[-1])  # beyond the range: saturated at the top colour
    np.testing.assert_array_equal(saved, colormaps.apply(res.err, (-m / 10, m / 10), colormaps.DIVERGING))
    view = tmp_path / "view.png"
    tab.export.save_view(view)
    assert Image.open(view).size[0] > tab.grid.width()
    with pytest.raises(UserError, match="only .png"):
        tab.export.save_view(tmp_path / "view.jpg")

    # swipe: the image left of the split, its coloured difference right of it
    tab.swipe_button.setChecked(True)
    assert grid.mode == "swipe"
    sw = grid.swipe
    sw.split.setValue(10.2)
    assert sw.image_item.image.shape[1] == 10
    assert np.array_equal(sw.image_b.image, colormaps.apply(res.err, (-m / 10, m / 10), colormaps.DIVERGING))
    tab.swipe_button.setChecked(False)
    assert grid.mode == "grid"

    # the camera is the Compare tab's: zoom there, the difference view shows the same place
    win.show_tab("compare")
    cgrid = win.compare.grid
    qtbot.waitUntil(lambda: cgrid.panel("nearest").isVisible())
    cgrid.panel("nearest").vb.setRange(QRectF(4, 3, 8, 8), padding=0)
    win.show_tab("diff")
    qtbot.waitUntil(lambda: abs(tab.panel.vb.viewRect().center().x() - cgrid.camera.cx) < 1e-6)
    assert tab.panel.vb.width() / tab.panel.vb.viewRect().width() == pytest.approx(cgrid.camera.zoom, rel=1e-6)
    tab.link_box.setChecked(False)
    tab.one_button.click()
    assert grid.camera is not cgrid.camera and cgrid.camera.zoom != pytest.approx(grid.camera.zoom)


def test_diff_on_the_command_line_screenshot(tmp_path):
    """--diff opens the tab with that difference and --screenshot waits for it (fresh process)."""
    hr = _save(tmp_path / "alone.png", _smooth_image(64, 64, seed=4))
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "adkviewer", str(hr), "--methods", "nearest", "--diff",
                           "bicubic-nearest:relative:B", "--screenshot", str(shot), "--size", "1280x800"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Image.open(shot).size == (1280, 800)
    assert "message shown in the window" not in proc.stderr, proc.stderr


def test_histogram_leaves_headroom_above_the_tallest_bin(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "bicubic", "--diff", "bicubic:signed:luma", "--tab", "diff")
    tab = win.tab("diff")
    tallest = float(np.max(tab.hist.bars.opts["height"]))
    top = tab.hist.getViewBox().viewRange()[1][1]
    assert tallest > 0 and top >= 1.2 * tallest  # the bars stop well below the top edge (and the line labels)
