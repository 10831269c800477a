"""gui.jobs.JobQueue, the one idiom for background work: results, errors and progress arrive in the GUI thread,
and a cancelled job still reports (with the InterruptedError its work raised), like every other job."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
from PySide6.QtWidgets import QWidget  # noqa: E402

from adkviewer.gui.jobs import JobQueue  # noqa: E402


def test_results_errors_and_progress_come_back_in_the_gui_thread(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    queue = JobQueue(holder)
    gui = threading.current_thread()
    seen = []

    def work(job):
        assert threading.current_thread() is not gui  # off the GUI thread
        for i in range(3):
            job.progress(i)
        return "answer"

    queue.submit(work, lambda r, e: seen.append(("done", r, e, threading.current_thread() is gui)),
                 progress=lambda i: seen.append(("progress", i, threading.current_thread() is gui)))
    queue.submit(lambda job: 1 / 0, lambda r, e: seen.append(("failed", type(e).__name__)))
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=5000)
    assert seen == [("progress", 0, True), ("progress", 1, True), ("progress", 2, True),
                    ("done", "answer", None, True), ("failed", "ZeroDivisionError")]


def test_a_cancelled_job_stops_at_its_next_check_and_still_reports(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    queue = JobQueue(holder)
    started, seen = threading.Event(), []

    def work(job):
        started.set()
        while not job.cancelled():
            time.sleep(0.005)
        raise InterruptedError("cancelled")

    job = queue.submit(work, lambda r, e: seen.append(type(e).__name__))
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: seen == ["InterruptedError"], timeout=5000)
    assert queue.wait(1000) and queue.pool.activeThreadCount() == 0


def test_run_blocking_returns_or_raises_here_and_keeps_the_event_loop_running(qtbot):
    from PySide6.QtCore import QTimer

    from adkviewer.gui.jobs import run_off_gui_thread

    gui = threading.current_thread()
    assert run_off_gui_thread(lambda: threading.current_thread() is not gui)  # quick: off the GUI thread too
    with pytest.raises(ZeroDivisionError):
        run_off_gui_thread(lambda: 1 / 0)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    assert run_off_gui_thread(lambda: time.sleep(0.3) or "read") == "read"
    timer.stop()
    assert len(ticks) >= 5  # the window went on painting (its timers fired) while the slow read ran
