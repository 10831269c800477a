"""The headline method first: ADK-Net starts at once, the classical filters run beside it where there are two
cores, and the least-squares kernel (torch on every core, 5 s at 12 MP) waits until ADK-Net is done."""

from __future__ import annotations

import os
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from adk_model.methods import ALL_METHODS, MethodSet  # noqa: E402

from tests.tab_helpers import tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_adknet_runs_first_with_the_classical_filters_beside_it(qtbot, tmp_path, monkeypatch):
    runs: dict[str, tuple[int, float, float]] = {}
    real = MethodSet.run

    def timed(self, method, hr, **kw):
        t0 = time.perf_counter()
        out = real(self, method, hr, **kw)
        runs[method] = (threading.get_ident(), t0, time.perf_counter())
        return out

    monkeypatch.setattr(MethodSet, "run", timed)
    ctx = tab_context(qtbot, tmp_path, methods=list(ALL_METHODS))
    progress: list[str] = []
    ctx.hub.progressChanged.connect(lambda text, _f: progress.append(text))
    assert ctx.commands.open_image(textured_image(tmp_path, 256, 256))
    qtbot.waitUntil(lambda: ctx.session.complete() and not ctx.jobs.busy, timeout=WAIT_MS)
    assert set(runs) == set(ALL_METHODS)
    adk_thread, adk_start, adk_end = runs["adknet"]
    assert runs["lstsq"][0] == adk_thread and runs["lstsq"][1] >= adk_end  # after ADK-Net, on its thread
    classical = [m for m in ALL_METHODS if m not in ("adknet", "lstsq")]
    if (os.cpu_count() or 1) > 1:
        assert ctx.jobs.beside is not None
        assert all(runs[m][0] != adk_thread and runs[m][1] < adk_end for m in classical)  # beside, not after
    else:
        assert ctx.jobs.beside is None and all(runs[m][1] >= adk_end for m in classical)
    # one progress line for both threads, its count never above the methods asked for
    assert progress[0].startswith(("ADK-Net", "Nearest")) and all("/7 done" in t for t in progress if t)


def test_compare_fits_a_least_squares_kernel_for_x2_from_a_pairs_folder(qtbot, tmp_path, monkeypatch):
    from core_helpers import make_pairs

    from adkviewer.tabs.compare.compare_tab import CompareTab
    from adk_model import lstsq_pairs
    from tests.tab_helpers import show_tab

    monkeypatch.setenv("HOME", str(tmp_path))  # the fit is saved in ~/adkviewer-runs/lstsq
    pairs = make_pairs(tmp_path / "x2cam", scale=2, n_train=3, n_val=1, lr_size=(12, 14))
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic", "lstsq"])
    tab = show_tab(qtbot, CompareTab(ctx))
    ctx.commands.set_scale(2)
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    s, fitter = ctx.session, tab.lstsq_fitter
    assert s.results["lstsq"].message.startswith("no least-squares fit for x2")
    assert fitter.isVisible() and "Fit one from a pairs folder" in fitter.note.text()

    # Cancel: nothing is saved, nothing changes
    real = lstsq_pairs.load_pair
    monkeypatch.setattr(lstsq_pairs, "load_pair", lambda p, sc: (time.sleep(0.3), real(p, sc))[1])
    fitter.fit_from(pairs)
    assert fitter.busy and fitter.bar.isVisible() and fitter.cancel_button.isVisible()
    fitter.cancel_button.click()
    qtbot.waitUntil(lambda: not fitter.busy, timeout=WAIT_MS)
    assert not (tmp_path / "adkviewer-runs" / "lstsq").exists() or not any((tmp_path / "adkviewer-runs" / "lstsq").iterdir())
    assert "lstsq" not in s.lstsq_paths and fitter.note.isVisible()

    progress = []
    fitter.jobs._progressed.connect(lambda _fn, args: progress.append(args))
    fitter.fit_from(pairs)
    qtbot.waitUntil(lambda: not fitter.busy, timeout=WAIT_MS)
    saved = tmp_path / "adkviewer-runs" / "lstsq" / "lstsq_x2_x2cam.safetensors"
    assert s.lstsq_paths[2] == str(saved.resolve()) and saved.is_file()
    assert progress[-1] == (3, 3)  # pair by pair, on the JobQueue
    qtbot.waitUntil(lambda: "lstsq" in s.results and s.results["lstsq"].ready, timeout=WAIT_MS)
    assert s.label("lstsq") == "Least-squares kernel (lstsq_x2_x2cam)" and not fitter.isVisible()
    assert ctx.settings.get_str("lstsq/x2") == str(saved.resolve())  # and on the next start
