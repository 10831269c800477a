"""The Inspect tab, driven as a person would: click a pixel in Compare, read its kernels, move with the arrow keys,
map a kernel statistic over the image, export, and reach it all from the command line (--screenshot)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402

from gui_helpers import open_window  # noqa: E402
from adkviewer.shell.main_window import MainWindow  # noqa: E402
from adk_model.kernel_stats import FIELD_STATS, kernel_stats_field  # noqa: E402
from adk_model.resample import unfold_patches  # noqa: E402

WAIT_MS = 20_000
ROOT = Path(__file__).resolve().parent.parent


def _image(tmp_path: Path, h: int = 96, w: int = 112) -> tuple[Path, np.ndarray]:
    """A small textured HR (so kernels differ from pixel to pixel), saved as PNG; returns the stored array."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w] / 16.0
    img = np.stack([0.5 + 0.35 * np.sin(x * (1 + c) + y * (2 - c)) for c in range(3)], axis=2)
    img[h // 3 : h // 2, :] = img[h // 3 : h // 2, :] * 0.3  # an edge
    img = np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1)
    u8 = (img * 255).round().astype(np.uint8)
    path = tmp_path / "pic.png"
    Image.fromarray(u8).save(path)
    return path, u8.astype(np.float32) / 255.0


def _open(qtbot, *argv: str) -> MainWindow:
    return open_window(qtbot, list(argv), ("inspect",), WAIT_MS)


def _full_terms(win: MainWindow, hr: np.ndarray):
    """A direct, untiled forward of the whole image with every term (the reference)."""
    model = win.session.method_set().runner().model
    x = torch.from_numpy(hr).permute(2, 0, 1)[None]
    with torch.inference_mode():
        return model(x, return_terms=True), unfold_patches(x, win.session.scale, model.cfg.k)[0]


def _click(qtbot, panel, row: int, col: int) -> None:
    """A real mouse click on LR pixel (row, col) of a Compare view."""
    scene = panel.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))
    qtbot.mouseClick(panel.view.viewport(), Qt.LeftButton, pos=panel.view.mapFromScene(scene))


def test_clicked_pixel_shows_the_kernels_the_model_computes_and_they_reconstruct_the_output(qtbot, tmp_path):
    path, hr = _image(tmp_path)
    win = _open(qtbot, str(path), "--methods", "adknet", "bicubic")
    insp, grid = win.tab("inspect"), win.compare.grid
    row, col = 13, 9
    _click(qtbot, grid.panel("adknet"), row, col)
    assert win.session.selected_pixel == (row, col)
    for key in ("adknet", "bicubic"):  # the selection is marked in every view
        sel = grid.panel(key).selection
        assert sel.isVisible() and sel.rect().topLeft() == QPointF(col, row)
    qtbot.waitUntil(insp.all_shown, timeout=WAIT_MS)
    rep = insp.current_report()
    assert (rep.row, rep.col) == (row, col)

    terms, patches = _full_terms(win, hr)
    k = rep.k
    ref = terms.kernels[0, :, :, :, row, col].numpy()
    np.testing.assert_allclose(rep.kernels, ref, atol=1e-6)
    # ... and the heat maps show exactly those arrays (plus the bicubic reference).
    for c in range(3):
        np.testing.assert_array_equal(insp.panel.kernel_images[c].image, rep.kernels[c])
    np.testing.assert_array_equal(insp.panel.kernel_images[3].image, rep.bicubic)
    np.testing.assert_allclose(rep.patch, patches[:, :, row, col].reshape(3, k, k).numpy(), atol=1e-6)
    np.testing.assert_allclose(rep.gain, terms.gain[0, :, row, col].numpy(), atol=1e-6)
    np.testing.assert_allclose(rep.output, terms.lr[0, :, row, col].numpy(), atol=1e-5)
    # Softmax kernels: each sums to 1, as the panel's titles and table say.
    assert rep.stats["sum"] == pytest.approx([1, 1, 1], abs=1e-5)
    assert "Σ = 1.0000" in insp.panel.kernel_titles[0].text
    assert insp.panel.stats_table.item(0, 0).text() == "1.0000"
    # The reconstruction from the shown terms reproduces the model's output (and what Compare shows).
    assert rep.max_abs_diff < 1e-4
    np.testing.assert_allclose(np.clip(rep.reconstructed, 0, 1), win.session.results["adknet"].lr[row, col],
                               atol=1e-4)
    check = insp.panel.check.text()
    assert "matches" in check and "Compare shows" in check
    assert insp.panel.recon_table.item(0, 9).text() == f"{rep.output[0]:.6f}"
    # Hovering a tap reads its weight as a decimal.
    assert f"weight {rep.kernels[1, 3, 4]:+.6f}" in insp.panel.describe_tap(1, 3, 4)
    vb = insp.panel.kernel_boxes[1]
    win.show_tab("inspect")
    qtbot.waitUntil(lambda: vb.width() > 10, timeout=WAIT_MS)
    insp.panel._on_heat_hover(vb.mapViewToScene(QPointF(4.5, 3.5)))
    assert f"{rep.kernels[1, 3, 4]:+.6f}" in insp.panel.hover_text()
    assert insp.last_latency is not None


def test_arrow_keys_move_the_selection_from_the_cache(qtbot, tmp_path):
    path, _hr = _image(tmp_path)
    win = _open(qtbot, str(path), "--methods", "adknet", "--pixel", "10,12")
    insp, grid = win.tab("inspect"), win.compare.grid
    qtbot.waitUntil(insp.all_shown, timeout=WAIT_MS)
    view = grid.panel("adknet").view
    _click(qtbot, grid.panel("adknet"), 12, 10)  # a click gives the view the focus
    qtbot.keyClick(view, Qt.Key_Right)
    assert win.session.selected_pixel == (12, 11)
    assert grid.panel("adknet").selection.rect().topLeft() == QPointF(11, 12)
    # Within the cached neighbourhood the panel updates at once, with no new forward pass.
    assert insp._inflight is None and (insp.current_report().row, insp.current_report().col) == (12, 11)
    qtbot.keyClick(view, Qt.Key_Up)
    qtbot.keyClick(view, Qt.Key_Up, Qt.ShiftModifier)
    assert win.session.selected_pixel == (3, 11)
    win.show_tab("inspect")
    qtbot.keyClick(insp.panel, Qt.Key_Left)
    qtbot.keyClick(insp.panel, Qt.Key_Left)
    assert win.session.selected_pixel == (3, 9)
    for _ in range(5):  # clamped at the image edge
        qtbot.keyClick(insp.panel, Qt.Key_Up)
    assert win.session.selected_pixel == (0, 9)
    qtbot.waitUntil(insp.all_shown, timeout=WAIT_MS)
    assert (insp.current_report().row, insp.current_report().col) == (0, 9)
    assert insp.current_report().max_abs_diff < 1e-4


def test_field_map_equals_direct_computation_selects_pixels_and_exports(qtbot, tmp_path):
    path, hr = _image(tmp_path)
    win = _open(qtbot, str(path), "--methods", "adknet", "--tab", "inspect", "--pixel", "5,6")
    insp = win.tab("inspect")
    insp.field.compute()
    qtbot.waitUntil(lambda: bool(insp.field.maps), timeout=WAIT_MS)
    terms, _ = _full_terms(win, hr)
    kern = terms.kernels[0]
    st = kernel_stats_field(kern)
    assert set(insp.field.maps) == set(FIELD_STATS)
    for key, arr in insp.field.maps.items():
        if key == "rb_diff":
            ref = (kern[0] - kern[2]).abs().sum(dim=(0, 1))
        else:
            name, ch = key.rsplit("_", 1)
            ref = st[name]["rgb".index(ch)]
        np.testing.assert_allclose(arr, ref.numpy(), atol=1e-4, err_msg=key)
    insp.field.combo.setCurrentIndex(insp.field.combo.findData("spread_b"))
    np.testing.assert_array_equal(insp.field.view.values, insp.field.maps["spread_b"])
    assert insp.field.view.colorbar.isVisible()
    # Clicking the map selects a pixel, marked there and in Compare.
    fv = insp.field.view
    qtbot.waitUntil(lambda: fv.vb.width() > 10, timeout=WAIT_MS)
    scene = fv.vb.mapViewToScene(QPointF(7.5, 4.5))
    qtbot.mouseClick(fv.viewport(), Qt.LeftButton, pos=fv.mapFromScene(scene))
    assert win.session.selected_pixel == (4, 7)
    assert fv.marker.isVisible() and win.compare.grid.panel("adknet").selection.isVisible()
    qtbot.waitUntil(insp.all_shown, timeout=WAIT_MS)

    # Panning / zooming the map moves the Compare views too (one camera).
    fv.vb.setRange(QRectF(3, 2, 10, 10), padding=0.0)
    fv.cameraMoved.emit()
    cam = win.compare.grid.camera
    assert not cam.fit and abs(cam.cx - fv.vb.viewRect().center().x()) < 1e-6
    assert abs(cam.cy - fv.vb.viewRect().center().y()) < 1e-6

    rep = insp.current_report()
    insp.export.save_panel(tmp_path / "panel.png")
    insp.export.save_kernels_npy(tmp_path / "k.npy")
    insp.export.save_kernels_csv(tmp_path / "k.csv")
    insp.field.save_png(tmp_path / "field.png")
    insp.field.save_npy(tmp_path / "field.npy")
    assert Image.open(tmp_path / "panel.png").size[0] > 300
    np.testing.assert_array_equal(np.load(tmp_path / "k.npy"), rep.kernels)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "k.csv").read_text())))
    assert len(rows) == 3 * rep.k * rep.k
    g = next(r for r in rows if r["channel"] == "G" and r["tap_row"] == "2" and r["tap_col"] == "5")
    assert float(g["weight"]) == pytest.approx(float(rep.kernels[1, 2, 5]), rel=1e-6)
    assert Image.open(tmp_path / "field.png").size == (hr.shape[1] // 4, hr.shape[0] // 4)
    np.testing.assert_array_equal(np.load(tmp_path / "field.npy"), insp.field.maps["spread_b"])


def test_command_line_pixel_and_field_and_out_of_range_pixel(qtbot, tmp_path):
    path, _hr = _image(tmp_path)
    win = _open(qtbot, str(path), "--methods", "adknet", "--tab", "inspect", "--pixel", "300,2",
                "--field", "spread_g")
    insp = win.tab("inspect")
    assert win.tabs.currentWidget() is insp
    qtbot.waitUntil(lambda: insp.all_shown() and bool(insp.field.maps), timeout=WAIT_MS)
    assert win.session.selected_pixel == (2, 27)  # x clamped to the 28-pixel-wide LR image
    assert "outside" in win.banner.text()
    assert insp.field.combo.currentData() == "spread_g"
    assert (insp.current_report().row, insp.current_report().col) == (2, 27)


def test_screenshot_of_the_inspect_tab_waits_for_the_panel_and_the_field_map(tmp_path):
    """The real command line in a fresh process: --tab inspect --pixel X,Y --field STAT --screenshot."""
    path, _hr = _image(tmp_path, 64, 64)
    shot = tmp_path / "insp.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path)}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "adkviewer", str(path), "--methods", "adknet", "--tab", "inspect",
                           "--pixel", "3,4", "--field", "rb_diff", "--screenshot", str(shot), "--size", "1280x800"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "not all ready" not in proc.stderr
    assert Image.open(shot).size == (1280, 800)
    assert time.monotonic() - t0 < 60


def test_without_weights_or_when_the_forward_fails_the_panel_says_why(qtbot, tmp_path, monkeypatch):
    import adkviewer.state.session as session_mod
    from adk_model.inference import AdkRunner

    path, _hr = _image(tmp_path)
    monkeypatch.setattr(AdkRunner, "neighbourhood", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    win = _open(qtbot, str(path), "--methods", "bicubic", "--pixel", "4,4")
    insp = win.tab("inspect")
    assert insp.all_shown() and insp.current_report() is None
    assert "Could not compute the kernels: out of memory" in insp.panel.message.text()
    assert "Kernel panel" in win.banner.text()
    monkeypatch.setattr(session_mod, "default_weights", lambda scale=4: None)
    win.commands.set_scale(2)
    qtbot.waitUntil(lambda: win.compare.all_shown() and insp.all_shown(), timeout=WAIT_MS)
    assert win.session.selected_pixel == (9, 9)  # the same HR spot at the new scale
    assert "no ADK-Net weights for x2" in insp.panel.message.text()


def test_panel_titles_are_not_clipped_at_1100x700(qtbot, tmp_path):
    path, _hr = _image(tmp_path)
    win = _open(qtbot, str(path), "--methods", "adknet", "--tab", "inspect", "--pixel", "5,6")
    win.resize(1100, 700)
    panel = win.tab("inspect").panel
    qtbot.waitUntil(lambda: win.height() == 700 and panel.showing_report(), timeout=WAIT_MS)
    assert panel.patch_box.title.text == "HR patch (12×12)"
    for box in (panel.patch_box, panel.foot_box):
        qtbot.waitUntil(lambda b=box: b.width() >= b.title.item.boundingRect().width() + 4)
        assert box.minimumWidth() >= box.title.item.boundingRect().width()  # stays true in a narrower window
