"""The Compare tab, driven as a person would: demo on start, ticking, shared camera, flicker keys, swipe, hover
readout, the metrics table against the evaluator and `adkviewer eval`, and ADK-Net filling in tile by tile."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402

from compare_helpers import WAIT_MS, _args, _assert_same_camera, _open, _smooth_image, _write_pair, _zoom  # noqa: E402
from adkviewer.shell.app import build_window  # noqa: E402
from adkviewer.widgets.metrics_table import fmt  # noqa: E402
from adkviewer.state.session import GT, find_ground_truth  # noqa: E402
from adkviewer.gui.workers import CANCELLED  # noqa: E402
from adk_model.imageio import load_image  # noqa: E402
from adk_model.metrics import compute_metrics  # noqa: E402
from adk_model.methods import ALL_METHODS, MethodSet  # noqa: E402


def test_demo_opens_with_every_result_and_says_metrics_are_off(qtbot):
    win = _open(qtbot)
    s = win.session
    assert Path(s.hr_path).name == "astronaut.png"
    assert not s.has_gt
    assert win.compare.no_gt_banner.isVisible()
    assert "no ground-truth LR: metrics off (File → Open ground truth…)" in win.compare.no_gt_banner.text()
    grid = win.compare.grid
    assert grid.order == s.methods and GT not in grid.order
    for m in s.methods:
        r = s.results[m]
        if s.unavailable(m):
            assert grid.panel(m).message.text() == r.message  # e.g. no ADK-Net weights: said, not crashed
        else:
            assert r.ready and r.lr.shape == (126, 126, 3) and grid.panel(m).showing_image
    assert win.device_label.text().startswith("Device: ")
    table = win.compare.metrics.table
    assert table.rowCount() == len(s.methods)
    assert all(table.item(i, 1).text() in ("—",) or s.results[s.methods[i]].message for i in range(table.rowCount()))


def test_adknet_without_weights_points_to_the_train_tab(qtbot, monkeypatch):
    import adkviewer.state.session as session_mod

    monkeypatch.setattr(session_mod, "default_weights", lambda scale=4: None)
    win = _open(qtbot, "--methods", "adknet", "bicubic")
    r = win.session.results["adknet"]
    assert r.message == "no ADK-Net weights for x4 — train some in the Train tab"
    assert win.compare.grid.panel("adknet").message.text() == r.message
    assert win.compare.weights_note.isVisible() and "Train" in win.compare.weights_note.text()
    assert win.session.results["bicubic"].ready


def test_ticking_methods_and_camera_stays_shared_after_toggling(qtbot):
    win = _open(qtbot, "--methods", "nearest", "bicubic", "lanczos")
    grid = win.compare.grid
    assert grid.order == ["nearest", "bicubic", "lanczos"]
    # a person pans/zooms one view: every view follows
    grid.panel("bicubic").vb.setRange(QRectF(20, 30, 16, 16), padding=0)
    _assert_same_camera(win, "bicubic")
    zoom = grid.camera.zoom
    assert zoom > 3 and win.compare.zoom_label.text() == f"{grid.zoom() * 100:.0f}%"

    # untick bicubic in the list, tick it again: its new view takes the camera and stays linked
    lst = win.compare.method_list
    item = next(lst.item(i) for i in range(lst.count()) if lst.item(i).data(Qt.UserRole) == "bicubic")
    item.setCheckState(Qt.Unchecked)
    assert grid.order == ["nearest", "lanczos"] and grid.panel("bicubic") is None
    item.setCheckState(Qt.Checked)
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert grid.order == ["nearest", "bicubic", "lanczos"]
    qtbot.waitUntil(lambda: grid.panel("bicubic").vb.width() > 10)
    assert grid.camera.zoom == pytest.approx(zoom)
    _assert_same_camera(win, "nearest")
    grid.panel("bicubic").vb.setRange(QRectF(5, 5, 40, 40), padding=0)
    _assert_same_camera(win, "bicubic")
    grid.panel("lanczos").vb.translateBy(x=3, y=-2)  # a drag
    _assert_same_camera(win, "lanczos")
    # Fit and 1:1
    win.compare.one_button.click()
    assert _zoom(grid.panel("nearest")) == pytest.approx(1.0, rel=1e-6)
    win.compare.fit_button.click()
    assert grid.camera.fit
    assert win.settings.get_list("compare/methods") == ["nearest", "bicubic", "lanczos"]


def test_flicker_keys_and_space_shows_ground_truth(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic")
    grid = win.compare.grid
    assert grid.order == [GT, "nearest", "bicubic"]
    zoom = grid.camera.zoom
    grid.panel("nearest").vb.setRange(QRectF(2, 2, 8, 8), padding=0)
    zoom = grid.camera.zoom
    qtbot.keyClick(win, Qt.Key_2)
    assert grid.solo == "bicubic"
    assert [p.key for p in grid.visible_panels()] == ["bicubic"]
    qtbot.waitUntil(lambda: grid.panel("bicubic").isVisible() and not grid.panel("nearest").isVisible())
    assert grid.camera.zoom == pytest.approx(zoom)  # same zoom in the large view
    qtbot.keyPress(win, Qt.Key_Space)
    assert grid.solo == GT
    qtbot.keyRelease(win, Qt.Key_Space)
    assert grid.solo == "bicubic"
    qtbot.keyClick(win, Qt.Key_1)
    assert grid.solo == "nearest"
    qtbot.keyClick(win, Qt.Key_0)
    assert grid.solo is None and len(grid.visible_panels()) == 3


def test_metrics_table_agrees_with_compute_metrics_and_eval(qtbot, tmp_path, capsys):
    import torch

    from adk_model.adknet import ADKNet, preset
    from adk_model.weights import save_weights

    hr_path, lr_path = _write_pair(tmp_path / "pairs")
    assert find_ground_truth(hr_path) == lr_path
    torch.manual_seed(1)
    weights = save_weights(ADKNet(preset("lite", scale=4)), tmp_path / "w_x4.safetensors", {"name": "w-test"})
    methods = ["adknet", "nearest", "box", "bicubic", "lanczos"]
    win = _open(qtbot, str(hr_path), "--weights", str(weights), "--device", "cpu", "--methods", *methods)
    s = win.session
    assert s.has_gt and s.gt_auto and s.scale == 4
    assert not win.compare.no_gt_banner.isVisible()
    hr = load_image(hr_path).array
    gt = load_image(lr_path).array
    ms = MethodSet(scale=4, weights_path=weights)
    table = win.compare.metrics.table
    expected = {}
    for i, m in enumerate(methods):
        want = compute_metrics(ms.run(m, hr), gt)
        expected[m] = want
        for col, key in ((1, "psnr"), (2, "psnr_y"), (3, "ssim")):
            assert table.item(i, col).text().rstrip(" ★") == fmt(key, want[key]), (m, key)
    best = max(methods, key=lambda m: expected[m]["psnr"])
    assert table.item(methods.index(best), 1).text().endswith("★")
    assert table.item(methods.index(best), 1).font().bold()
    assert f"{expected[best]['psnr']:.2f} dB" in win.compare.grid.panel(best).title_text()

    # CSV export has the same numbers as `adkviewer eval --csv` on the same pair
    out = tmp_path / "metrics.csv"
    win.compare.export.export_csv(out)
    from adkviewer.cli.entry import main as cli_main

    assert cli_main(["eval", "--pairs", str(tmp_path / "pairs"), "--split", "all", "--csv", "--weights",
                     str(weights), "--device", "cpu", "--methods", *methods]) == 0
    eval_rows = {r["method"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    gui_rows = {r["method"]: r for r in csv.DictReader(out.open())}
    for m in methods:
        for key in ("psnr", "psnr_y", "ssim"):
            assert gui_rows[m][key] == eval_rows[m][key], (m, key)
    text = win.compare.metrics.text_for_clipboard()
    assert text.splitlines()[0].startswith("Method\tPSNR RGB (dB)") and "no border crop" in text
    win.compare.metrics.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == text


def test_hover_readout_shows_decimal_rgb_of_every_method_and_ground_truth(qtbot, tmp_path):
    hr_path, lr_path = _write_pair(tmp_path)
    win = _open(qtbot, str(hr_path), "--methods", "nearest", "bicubic")
    grid = win.compare.grid
    panel = grid.panel("bicubic")
    row, col = 7, 11
    grid._on_mouse(panel, panel.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5)))
    text = win.compare.readout_text()
    assert f"LR x={col}, y={row}" in text
    gt = load_image(lr_path).array
    for key, arr in (("GT", gt), ("Bicubic", win.session.results["bicubic"].lr),
                     ("Nearest", win.session.results["nearest"].lr)):
        line = next(ln for ln in text.splitlines() if key in ln)
        for v in arr[row, col]:
            assert f"{v:.4f}" in line
    assert panel.marker.isVisible() and grid.panel(GT).marker.rect().topLeft() == QPointF(col, row)


def test_swipe_between_two_methods(qtbot):
    win = _open(qtbot, "--methods", "nearest", "bicubic", "--swipe", "nearest,bicubic")
    grid = win.compare.grid
    assert grid.mode == "swipe" and grid.visible_panels() == [grid.swipe]
    sw = grid.swipe
    assert sw.split_x() == pytest.approx(63)  # centred once the results arrive, not left at the image edge
    sw.split.setValue(40.2)
    assert sw.image_item.image.shape[1] == 40  # nearest left of the split
    assert sw.image_b.image.shape[1] == 126    # bicubic under it
    assert np.array_equal(sw.image_item.image, sw._a[:, :40])
    qtbot.keyClick(win, Qt.Key_G)
    assert grid.mode == "grid"

def test_adknet_fills_in_tile_by_tile_and_cancel(qtbot, tmp_path):
    from adk_model.adknet import ADKNet, preset
    from adk_model.weights import save_weights

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    wpath = save_weights(ADKNet(preset("lite", scale=4)), tmp_path / "tiny_x4.safetensors", {"name": "test-net"})
    img = tmp_path / "img.png"
    Image.fromarray((_smooth_image(256, 256, 3) * 255).astype(np.uint8)).save(img)
    win = build_window(_args(str(img), "--weights", str(wpath), "--methods", "adknet", "bicubic"))
    qtbot.addWidget(win)
    tiles = []
    win.hub.resultPartial.connect(lambda m, box: tiles.append((m, box)))
    win.show()
    win.commands.set_device("cpu", 1, remember=False)  # a 1 MB tile budget: tiny tiles, many progress callbacks
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    r = win.session.results["adknet"]
    assert r.ready and r.lr.shape == (64, 64, 3), r.message
    assert len(tiles) > 1 and all(m == "adknet" for m, _ in tiles)
    assert win.session.label("adknet") == "ADK-Net (test-net)"
    assert "ADK-Net (test-net)" in win.compare.method_list.item(0).text()
    # Cancel stops it; the result says so and Compute runs it again
    win.controller.restart()
    win.controller.cancel()
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=WAIT_MS)
    assert any(r.message == CANCELLED for r in win.session.results.values())
    assert win.compare.compute_button.isVisible()
    win.compare.compute_button.click()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert win.session.results["adknet"].ready and win.session.results["bicubic"].ready


def _metrics_fit(table) -> bool:
    """No vertical scroll bar and the last row wholly inside the viewport."""
    last = table.visualItemRect(table.item(table.rowCount() - 1, 0))
    return not table.verticalScrollBar().isVisible() and table.viewport().rect().contains(last)


def test_metrics_table_shows_every_default_method_without_scrolling_at_1100x700(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr))
    assert win.session.methods == list(ALL_METHODS) and win.session.has_gt
    win.resize(1100, 700)
    table = win.compare.metrics.table
    qtbot.waitUntil(lambda: win.height() == 700 and _metrics_fit(table))
    assert table.rowCount() == len(ALL_METHODS)
    assert table.height() <= win.compare.metrics.table_height()  # no empty table body below the rows
    win.commands.set_methods(["nearest", "bicubic"])  # fewer rows: the views get the room back
    qtbot.waitUntil(lambda: table.rowCount() == 2 and _metrics_fit(table))
    assert win.compare.vsplit.sizes()[1] < 150


def test_a_number_key_beyond_the_shown_methods_says_so(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path)
    win = _open(qtbot, str(hr), "--methods", "nearest", "bicubic", "lanczos")
    qtbot.keyClick(win, Qt.Key_9)
    assert win.compare.grid.solo is None
    assert "Only 3 methods are shown (keys 1–3)" in win.statusBar().currentMessage()
    qtbot.keyClick(win, Qt.Key_3)
    assert win.compare.grid.solo == "lanczos"
