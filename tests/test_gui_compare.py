"""The Compare tab, driven as a person would: demo on start, ticking, shared camera, flicker, swipe, hover
readout, metrics against the evaluator, saving, bad files, remembered settings and --screenshot."""

from __future__ import annotations

import argparse
import csv
import html
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402

from adkviewer.shell.app import build_window  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from adkviewer.cli.args import build_gui_parser  # noqa: E402
from adkviewer.shell.main_window import MainWindow  # noqa: E402
from adkviewer.widgets.metrics_table import fmt  # noqa: E402
from adkviewer.state.session import GT, Session, find_ground_truth  # noqa: E402
from adkviewer.gui.settings import Settings  # noqa: E402
from adkviewer.gui.workers import CANCELLED  # noqa: E402
from adk_model.imageio import load_image  # noqa: E402
from adk_model.metrics import compute_metrics  # noqa: E402
from adk_model.methods import ALL_METHODS, MethodSet  # noqa: E402

WAIT_MS = 20_000


def _args(*argv: str) -> argparse.Namespace:
    return build_gui_parser().parse_args(list(argv))


def _open(qtbot, *argv: str) -> MainWindow:
    return open_window(qtbot, list(argv), timeout_ms=WAIT_MS)


def _smooth_image(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * x + 3 * y + c) for c in range(3)], axis=2)
    img += 0.08 * rng.standard_normal((h, w, 3))
    return np.clip(img, 0, 1)


def _write_pair(root: Path, name: str = "pic", hr_size: tuple[int, int] = (96, 80), scale: int = 4) -> tuple[Path, Path]:
    """An HR/ and LR/ pair: a box-downscaled, slightly shifted and tinted LR stands in for a camera LR."""
    (root / "HR").mkdir(parents=True, exist_ok=True)
    (root / "LR").mkdir(parents=True, exist_ok=True)
    hr = _smooth_image(*hr_size, seed=1)
    h, w = hr_size[0] // scale, hr_size[1] // scale
    lr = hr[: h * scale, : w * scale].reshape(h, scale, w, scale, 3).mean(axis=(1, 3))
    lr = np.clip(np.roll(lr, 1, axis=1) * [1.02, 0.98, 1.0] + 0.01, 0, 1)
    hp, lp = root / "HR" / f"{name}.png", root / "LR" / f"{name}.png"
    Image.fromarray((hr * 255).round().astype(np.uint8)).save(hp)
    Image.fromarray((lr * 255).round().astype(np.uint8)).save(lp)
    return hp, lp


def _zoom(panel) -> float:
    return panel.vb.width() / panel.vb.viewRect().width()


def _assert_same_camera(win, ref_key: str) -> None:
    grid = win.compare.grid
    ref = grid.panel(ref_key)
    c = ref.vb.viewRect().center()
    for k in grid.order:
        p = grid.panel(k)
        pc = p.vb.viewRect().center()
        assert abs(pc.x() - c.x()) < 1e-6 and abs(pc.y() - c.y()) < 1e-6, k
        assert _zoom(p) == pytest.approx(_zoom(ref), rel=1e-6), k


# ---------------------------------------------------------------------------------------------- tests


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


def test_settings_are_remembered_in_a_private_location(qtbot, tmp_path, _private_qsettings):
    win = _open(qtbot, "--methods", "bicubic")
    assert win.settings.path.startswith(str(_private_qsettings))
    win.commands.set_methods(["box", "lanczos"])
    win.commands.set_device("cpu", 256)
    win.compare.vsplit.setSizes([400, 300])
    sizes = win.compare.vsplit.sizes()
    win.open_image(_write_pair(tmp_path)[0])
    win.close()
    again = MainWindow(Settings())
    qtbot.addWidget(again)
    assert again.session.methods == ["box", "lanczos"]
    assert again.session.device == "cpu" and again.session.budget_mb == 256
    assert "tile budget 256 MB" in again.device_label.text()
    again.resize(1280, 800)
    again.show()
    assert again.compare.vsplit.sizes() == sizes
    recent = again.settings.get_list("recent")
    assert recent and recent[0].endswith("pic.png")
    assert again.settings.get_str("folders/open").endswith("HR")
    assert Path(QSettings(QSettings.IniFormat, QSettings.UserScope, "ADK Viewer", "ADK Viewer").fileName()).is_file()


def test_f1_lists_the_shortcuts(qtbot):
    win = _open(qtbot, "--methods", "nearest")
    act = next(a for m in win.menuBar().actions() for a in m.menu().actions() if a.text() == "&Shortcuts")
    assert act.shortcut().toString() == "F1"
    act.trigger()
    assert win._shortcuts_box.isVisible() and "Space" in win._shortcuts_box.text()
    # every menu shortcut is in the list (zoom in/out were missing)
    listed = win._shortcuts_box.text().replace("−", "-")
    for a in (a for m in win.menuBar().actions() for a in m.menu().actions() if not a.shortcut().isEmpty()):
        assert html.escape(a.shortcut().toString(QKeySequence.PortableText)) in listed, a.text()
    win._shortcuts_box.close()


def test_tabs_are_pluggable_and_share_the_session(qtbot):
    from PySide6.QtWidgets import QLabel

    win = _open(qtbot, "--methods", "nearest", "--tab", "inspect")
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == ["Compare", "Inspect", "Differences", "Train"]
    assert win.tabs.currentWidget() is win.tab("inspect")
    new = win.replace_tab("inspect", QLabel("real inspect"))
    assert win.tab("inspect") is new and win.tabs.tabText(1) == "Inspect"
    assert isinstance(win.session, Session) and win.ctx.session is win.session and win.compare.session is win.session


def test_screenshot_writes_a_png_and_returns_0(tmp_path):
    """The real command line, in a fresh process: waits for every result, writes the PNG, exits 0."""
    import os
    import subprocess

    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "adkviewer", "--methods", "nearest", "bicubic", "--swipe",
                           "nearest,bicubic", "--screenshot", str(shot), "--size", "900x600"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert Image.open(shot).size == (900, 600)
    assert not (tmp_path / "config").exists()  # a screenshot run neither reads nor writes settings


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


def test_settings_dialog_values(qtbot):
    from adkviewer.shell.settings_dialog import SettingsDialog

    dlg = SettingsDialog("cpu", 512)
    qtbot.addWidget(dlg)
    assert dlg.values() == ("cpu", 512)
    assert dlg.device.itemData(0) == "auto" and dlg.device.findData("cpu") >= 0
    dlg.budget.setValue(0)
    assert dlg.budget.text() == "Automatic" and dlg.values() == ("cpu", 0)
    gone = SettingsDialog("mps" if "mps" not in __import__("adk_model.devices").devices.available_devices() else "cpu", 0)
    qtbot.addWidget(gone)
    assert gone.values()[0] in ("mps", "cpu")


def test_many_qt_calls_do_not_exhaust_none_or_true(qtbot):
    """PySide6 6.12 on CPython 3.11 drops a reference to None/True on void calls and emits (see qt_compat)."""
    from PySide6.QtCore import QObject, Signal

    import adkviewer.gui.qt_compat  # noqa: F401

    class O(QObject):
        s = Signal()

    o = O()
    start_none, start_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(30_000):
        o.setObjectName("x")
        o.s.emit()
    assert sys.getrefcount(None) > 1000 and sys.getrefcount(True) > 1000
    assert start_none > 30_000 or sys.getrefcount(None) >= start_none - 10
    assert start_true > 30_000 or sys.getrefcount(True) >= start_true - 10


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
