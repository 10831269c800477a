"""Background work off the GUI thread, one idiom: submit a function, get its result (or error) back in the GUI thread.

`JobQueue.submit(work, done, progress)` runs `work(job)` on the queue's worker thread; `job.cancelled()` tells it
to stop early (pass it as a `cancelled=` hook), `job.progress(*args)` reports to `progress(*args)`, and when it
ends `done(result, error)` is called in the GUI thread, a cancelled job included (its error is then the
InterruptedError the work raised, or None), so every caller sees one cancel behaviour. `run_blocking` is the
same queue for a short read whose caller wants the answer at once (the window keeps painting meanwhile).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal


class Job:
    """One submitted piece of work: cancel it, and ask it whether it was cancelled."""

    def __init__(self, queue: "JobQueue", on_progress: Callable[..., None] | None) -> None:
        self._queue, self._on_progress = queue, on_progress
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def progress(self, *args: Any) -> None:
        """From the work function: report progress, delivered in the GUI thread."""
        if self._on_progress is not None:
            self._queue._progressed.emit(self._on_progress, args)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn = fn

    def run(self) -> None:  # noqa: D401 - QRunnable API
        self.fn()


class JobQueue(QObject):
    """Jobs run one after another (or `threads` at a time) on worker threads; callbacks run in the GUI thread."""

    _finished = Signal(object, object, object)   # done callback, result, error (queued into the GUI thread)
    _progressed = Signal(object, object)         # progress callback, args

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._finished.connect(lambda done, result, error: done(result, error))
        self._progressed.connect(lambda fn, args: fn(*args))

    def submit(self, work: Callable[[Job], Any], done: Callable[[Any, BaseException | None], None],
               progress: Callable[..., None] | None = None) -> Job:
        job = Job(self, progress)

        def run() -> None:
            try:
                result, error = work(job), None
            except BaseException as e:  # noqa: BLE001 - handed to `done`, which says it in one sentence
                result, error = None, e
            self._finished.emit(done, result, error)

        self.pool.start(_Runnable(run))
        return job

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Wait for the running and queued jobs (the window closes)."""
        return self.pool.waitForDone(timeout_ms)

    def run_blocking(self, fn: Callable[[], Any], poll_ms: int = 15) -> Any:
        """Run fn() as a job and return (or raise) its result here, a local event loop painting the window meanwhile.

        For short work whose caller wants the answer (reading an image file, scanning a folder): the caller's
        code reads as one synchronous call; work done within 50 ms needs no event loop at all.
        """
        box: dict[str, Any] = {}
        ended = threading.Event()

        def work(_job: Job) -> None:
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread
                box["error"] = e
            finally:
                ended.set()

        self.submit(work, lambda _result, _error: None)
        if not ended.wait(0.05):
            loop = QEventLoop()
            timer = QTimer()
            timer.timeout.connect(lambda: loop.quit() if ended.is_set() else None)
            timer.start(poll_ms)
            loop.exec()
            timer.stop()
        if "error" in box:
            raise box["error"]
        return box.get("value")


_io: list[JobQueue] = []


def io_queue() -> JobQueue:
    """The queue for short blocking reads (`run_blocking`), beside the work queues, made once per application."""
    if not _io:
        _io.append(JobQueue(QCoreApplication.instance(), threads=2))
    return _io[0]


def run_off_gui_thread(fn: Callable[[], Any]) -> Any:
    """`io_queue().run_blocking(fn)`: a short read off the GUI thread, its answer returned here."""
    return io_queue().run_blocking(fn)
