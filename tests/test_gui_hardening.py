"""The GUI under hostile input and load: every odd file gets a result or a banner, 200 quick clicks, method toggles
during a running job, and closing the window mid-computation leave it responsive with no thread left behind."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF, QThreadPool, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from adkviewer.shell.app import build_window  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from adkviewer.cli.args import build_gui_parser  # noqa: E402
from hostile_files import make_corpus  # noqa: E402
from adk_model.baselines import classical_downscale  # noqa: E402

WAIT_MS = 60_000


def _open(qtbot, *argv: str):
    return open_window(qtbot, list(argv), timeout_ms=WAIT_MS)


def _photo(path: Path, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w] / 23.0
    img = np.stack([0.5 + 0.4 * np.sin(x * (1 + c) + y) for c in range(3)], axis=2) + 0.05 * rng.random((h, w, 3))
    u8 = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(u8).save(path)
    return u8.astype(np.float32) / 255


def test_every_hostile_file_gives_a_result_or_a_banner(qtbot, tmp_path):
    corpus = make_corpus(tmp_path / "hostile")
    win = _open(qtbot, "--methods", "bicubic")
    for name, (path, expected) in corpus.items():
        ok = win.open_image(path)
        if expected == "ok":
            assert ok, f"{name}: {win.banner.text()}"
            qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
            assert win.session.results["bicubic"].ready, name
            assert Path(win.session.hr_path) == path
        else:
            assert not ok, name
            assert win.banner.level == "error" and path.name in win.banner.text(), name
            assert "Traceback" not in win.banner.text()
    # after all of it the window still works on a good image
    good = tmp_path / "good.png"
    _photo(good, 64, 64)
    assert win.open_image(good)
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)


def test_200_quick_clicks_end_on_the_last_pixel_and_stay_responsive(qtbot, tmp_path):
    path = tmp_path / "pic.png"
    _photo(path, 128, 160)
    win = _open(qtbot, str(path), "--methods", "adknet", "bicubic")
    panel = win.compare.grid.panel("bicubic")
    rng = np.random.default_rng(0)
    last = None
    t0 = time.perf_counter()
    for _ in range(200):
        row, col = int(rng.integers(0, 32)), int(rng.integers(0, 40))
        scene = panel.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))
        qtbot.mouseClick(panel.view.viewport(), Qt.LeftButton, pos=panel.view.mapFromScene(scene))
        last = (row, col)
    assert win.session.selected_pixel == last
    insp = win.tab("inspect")
    qtbot.waitUntil(insp.all_shown, timeout=WAIT_MS)
    rep = insp.current_report()
    assert (rep.row, rep.col) == last and rep.max_abs_diff < 1e-4
    # responsive: a zero-delay timer fires promptly once the clicks are done
    fired = []
    from PySide6.QtCore import QTimer
    QTimer.singleShot(0, lambda: fired.append(time.perf_counter()))
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    assert time.perf_counter() - t0 < 120


def test_toggling_methods_while_a_job_runs_gives_correct_results(qtbot, tmp_path):
    path = tmp_path / "big.png"
    hr = _photo(path, 512, 640)
    win = _open(qtbot, str(path), "--methods", "bicubic")
    win.commands.set_methods(["adknet", "bicubic", "box"])
    for methods in (["bicubic"], ["adknet", "lanczos"], ["box", "bicubic", "adknet"], ["nearest"],
                    ["adknet", "bicubic", "box", "nearest"]):
        win.commands.set_methods(methods)
        QApplication.processEvents()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    res = win.session.results
    for m in ("bicubic", "box", "nearest"):
        np.testing.assert_allclose(res[m].lr, classical_downscale(hr, 4, m), atol=1e-6)
    assert res["adknet"].ready and res["adknet"].lr.shape == (128, 160, 3)


def test_closing_the_window_while_work_runs_leaves_no_thread_behind(qtbot, tmp_path):
    path = tmp_path / "big.png"
    _photo(path, 1024, 1024)
    before = threading.active_count()
    win = build_window(build_gui_parser().parse_args([str(path), "--methods", "adknet", "bicubic"]))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.controller.busy, timeout=WAIT_MS)
    t0 = time.perf_counter()
    win.close()
    assert time.perf_counter() - t0 < 10, "closing waited for the whole computation"
    assert QThreadPool.globalInstance().waitForDone(10_000)
    assert win.controller.pool.activeThreadCount() == 0
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    assert threading.active_count() <= before
    win.deleteLater()


def test_every_bad_weights_file_gives_one_banner_line(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from adkviewer.shell import weights_menu
    from hostile_files import make_bad_weights

    win = _open(qtbot, "--methods", "bicubic")
    for name, path in make_bad_weights(tmp_path / "weights").items():
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, p=path, **k: (str(p), ""))
        weights_menu.choose_file(win, win.ctx)
        text = win.banner.text()
        assert win.banner.level == "error" and path.name in text and "Traceback" not in text, name
        assert win.session.weights_path != str(path), name
