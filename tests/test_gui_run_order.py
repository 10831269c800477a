"""The headline method first: ADK-Net starts at once, the classical filters run beside it where there are two
cores, and the least-squares kernel (torch on every core, 5 s at 12 MP) waits until ADK-Net is done."""

from __future__ import annotations

import os
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from model.methods import ALL_METHODS, MethodSet  # noqa: E402

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
