"""Work off the GUI thread checked against the one staleness key (Session.generation), tabs built alone:
the Differences statistics, and method results that land after the ground truth changed."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

pytest.importorskip("pytestqt")

from adk_model.metrics import compute_metrics, to_y  # noqa: E402

from adkviewer.tabs.diff import diff_state as diff_state_mod  # noqa: E402
from adkviewer.tabs.diff.diff_tab import COMPUTING, DiffTab  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_difference_statistics_are_computed_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    gui, threads = threading.current_thread(), []
    real = diff_state_mod.error_map

    def slow(img, ref, mode, channel):
        threads.append(threading.current_thread())
        time.sleep(0.25)  # a big image: four of these would hold the window for a second
        return real(img, ref, mode, channel)

    monkeypatch.setattr(diff_state_mod, "error_map", slow)
    ctx = tab_context(qtbot, tmp_path, methods=["nearest", "bicubic"])
    tab = show_tab(qtbot, DiffTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(lambda: ctx.session.complete() and not ctx.jobs.busy, timeout=WAIT_MS)
    assert tab.computing and COMPUTING in tab.panel.message.text()  # the first map: said, not a blank view
    qtbot.waitUntil(lambda: not tab.computing, timeout=WAIT_MS)
    first = tab.panel.image_item.image.copy()
    t0 = time.perf_counter()
    i = tab.mode_combo.findData("absolute")
    tab.mode_combo.setCurrentIndex(i)
    tab.mode_combo.activated.emit(i)
    took = time.perf_counter() - t0
    assert took < 0.5, took  # the GUI thread only asked for the maps
    # the statistics shown are still the signed ones, and say that the absolute ones are on their way
    assert tab.computing and "signed error" in tab.stats_title.text() and "computing absolute…" in tab.stats_title.text()
    np.testing.assert_array_equal(tab.panel.image_item.image, first)  # the previous map stays until the new one
    qtbot.waitUntil(lambda: not tab.computing, timeout=WAIT_MS)
    s = ctx.session
    lr_a, lr_b = s.results[tab.state.image].lr, s.results[tab.state.reference].lr
    want = np.abs(to_y(lr_a) - to_y(lr_b))  # luma is PSNR Y's Y
    np.testing.assert_allclose(tab.panel.image_item.image, want, atol=2e-6)
    assert "computing" not in tab.stats_title.text() and tab.stats.item(3, 1).data(0x0100) == pytest.approx(want.max())
    assert threads and all(t is not gui for t in threads) and len(threads) == 8  # 4 channels x 2 modes


def test_a_result_that_lands_after_a_new_ground_truth_is_scored_against_it(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    gate = threading.Event()
    ctx.jobs.queue.submit(lambda job: gate.wait(30), lambda result, error: None)  # hold the worker thread
    hr = textured_image(tmp_path)
    assert ctx.commands.open_image(hr)  # bicubic is queued, its batch made without a ground truth
    rng = np.random.default_rng(5)
    lr = tmp_path / "lr.png"
    Image.fromarray(rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)).save(lr)
    assert ctx.commands.open_ground_truth(lr)  # nothing finished yet, so nothing to score now
    gate.set()
    s = ctx.session
    qtbot.waitUntil(lambda: s.results.get("bicubic") is not None and s.results["bicubic"].metrics is not None
                    and not ctx.jobs.busy, timeout=WAIT_MS)
    assert s.results["bicubic"].metrics == pytest.approx(compute_metrics(s.results["bicubic"].lr, s.gt))
