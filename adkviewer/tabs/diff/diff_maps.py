"""The Differences maps, histograms and statistics, computed off the GUI thread (the one idiom, gui.jobs.JobQueue).

`DiffState.request()` says what the chosen pair and mode lack; one job computes it (`diff_state.compute_maps`),
the newest request wins (an older job is cancelled between channels), and `DiffState.store` keeps a result
only while its sources are the session's (same generation, same arrays), so a stale job never shows.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from adkviewer.gui.jobs import Job, JobQueue
from adkviewer.gui.workers import user_message
from adkviewer.tabs.diff.diff_state import DiffRequest, DiffState, compute_maps


class DiffMapJobs:
    """Starts the job the current choice needs and calls `on_ready` when its maps are in the state's cache."""

    def __init__(self, state: DiffState, parent: QObject, on_ready: Callable[[], None],
                 on_error: Callable[[str], None]) -> None:
        self.state, self.on_ready, self.on_error = state, on_ready, on_error
        self.queue = JobQueue(parent)
        self._job: Job | None = None
        self._req: DiffRequest | None = None
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def busy(self) -> bool:
        """A job for the current choice is running or queued."""
        return self._req is not None

    def ensure(self) -> None:
        """Start the job the current choice needs, unless the same one runs already (nothing when all is cached)."""
        req = self.state.request()
        if req is None or req.same_work(self._req):
            return
        if self._job is not None:
            self._job.cancel()  # a newer choice: the older maps would be dropped anyway
        self._req = req
        self._job = self.queue.submit(lambda job: compute_maps(req, job.cancelled),
                                      lambda maps, error: self._done(req, maps, error))

    def _done(self, req: DiffRequest, maps, error: BaseException | None) -> None:
        if req is self._req:
            self._req, self._job = None, None
        if isinstance(error, InterruptedError):
            return
        if error is not None:
            self.on_error(user_message(error))
        elif self.state.store(req, maps):
            self.on_ready()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait (the application quits)."""
        if self._job is not None:
            self._job.cancel()
        self.queue.wait(timeout_ms)
