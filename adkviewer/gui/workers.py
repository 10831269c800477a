"""Running methods off the GUI thread, with progress, tile-by-tile ADK-Net updates and Cancel.

One worker thread runs the queued jobs in the registry's order (ADK-Net, the headline, first); where the machine
has more than one core, the cheap classical filters run beside it on a second thread (`method_info(m).beside`), so
every view fills in early. Each batch carries the `Session.generation` it was made for: results of an older
image, scale, device, weights (or fit) are dropped, and metrics scored against an older ground truth are scored
again.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np
from PySide6.QtCore import QObject

from adk_model.errors import UserError
from adk_model.metrics import compute_metrics
from adk_model.method_registry import method_info, run_order

from adkviewer.gui.hub import SessionHub
from adkviewer.gui.jobs import Job, JobQueue, run_off_gui_thread
from adkviewer.state.generation import Generation
from adkviewer.state.messages import IMAGE
from adkviewer.state.session import MethodResult, Session

CANCELLED = "cancelled — press Compute to run it"


def user_message(exc: BaseException) -> str:
    """One readable sentence for any failure of a method (the traceback goes to stderr only)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory — lower the tile memory budget in Settings or use a smaller image"
    if type(exc).__name__ == "OutOfMemoryError":
        return "the GPU ran out of memory — lower the tile memory budget in Settings"
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return f"failed: {type(exc).__name__}: {str(exc).strip() or 'no details'}"


class _MethodBatch:
    """Method runs (or metrics) for one session generation; what it needs is snapshotted on the GUI thread."""

    def __init__(self, tasks: list[tuple[str, str]], session: Session) -> None:
        self.generation: Generation = session.generation
        self.tasks = tasks
        # Snapshot what the job needs now, so later session changes cannot reach into a running job.
        self.method_set = session.method_set() if any(k == "run" for k, _ in tasks) else None
        self.hr = session.hr
        self.gt = session.gt
        self.results = {m: r.lr for m, r in session.results.items()}
        self.names = session.names()

    def run(self, job: Job) -> None:
        """Off the GUI thread: each event goes to the controller as job.progress(kind, batch, method, ...)."""
        for kind, m in self.tasks:
            if job.cancelled():
                job.progress("failed", self, m, CANCELLED)
                continue
            if kind == "metrics":
                lr = self.results.get(m)
                if lr is not None and self.gt is not None:
                    job.progress("metrics", self, m, compute_metrics(lr, self.gt))
                continue
            job.progress("started", self, m)
            try:
                self._run_one(job, m)
            except InterruptedError:
                job.progress("failed", self, m, CANCELLED)
            except BaseException as e:  # noqa: BLE001 - every failure becomes one message
                job.progress("failed", self, m, user_message(e))

    def _run_one(self, job: Job, m: str) -> None:
        ms = self.method_set
        progress = None
        ms.prepare(m)  # load the weights or the fit before timing, as 'adkviewer eval' does
        adknet = ms.is_adknet(m)
        if adknet:
            def progress(done: int, total: int, t, arr: np.ndarray) -> None:
                job.progress("tile", self, m, done, total, (t.out_y0, t.out_y1, t.out_x0, t.out_x1), arr.copy())
        notes_before = len(ms.runner(m).notes) if adknet else 0
        t0 = time.perf_counter()
        out = ms.run(m, self.hr, progress=progress, cancelled=job.cancelled, names=self.names)
        secs = time.perf_counter() - t0
        if adknet:
            for text in ms.runner(m).notes[notes_before:]:
                job.progress("note", f"{ms.label(m)}: {text}")
        metrics = compute_metrics(out, self.gt) if self.gt is not None else None
        job.progress("done", self, m, out, secs, metrics)


class ComputeController(QObject):
    """Queues method runs for the session's image, fills `session.results` and notifies through the hub."""

    def __init__(self, session: Session, hub: SessionHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.hub = session, hub
        self.queue = JobQueue(self)  # ADK-Net and the least-squares kernel, one after the other (torch on every core)
        self.beside = JobQueue(self) if (os.cpu_count() or 1) > 1 else None  # the classical filters (Pillow)
        self._events = {"started": self._on_started, "tile": self._on_tile, "done": self._on_done,
                        "failed": self._on_failed, "metrics": self._on_metrics, "note": self.hub.warning}
        self._live: list[Job] = []   # submitted and not finished: what Cancel stops
        self._pending: dict[str, _MethodBatch] = {}  # method -> the batch that runs it now
        self._jobs = 0
        self._batch_total = 0
        self._batch_done = 0
        self._running: dict[str, tuple[int, int]] = {}  # method -> (tiles done, tiles) while it runs
        self._doubted: Generation | None = None  # the image and ground truth already said to look wrong

    # ------------------------------------------------------------------ API

    @property
    def pool(self):
        """The worker thread pool (tests check that closing leaves no thread running)."""
        return self.queue.pool

    @property
    def busy(self) -> bool:
        return self._jobs > 0

    def compute(self, methods: list[str] | None = None) -> None:
        """Run the given (default: every ticked but missing) methods; unavailable ones get their message now."""
        s = self.session
        if s.hr_full is None:
            return
        wanted = [m for m in (methods if methods is not None else s.missing()) if m not in self._pending]
        runnable = []
        for m in wanted:
            why = s.unavailable(m)
            if why:
                s.results[m] = MethodResult(m, message=why)
                self.hub.resultChanged.emit(m)
            else:
                runnable.append(m)
        if not runnable:
            return
        runnable = run_order(runnable, s.extras)
        beside = {m for m in runnable if self.beside is not None and method_info(m, s.extras).beside}
        lanes = [(self.queue, [m for m in runnable if m not in beside]),
                 (self.beside, [m for m in runnable if m in beside])]
        try:
            batches = [(q, _MethodBatch([("run", m) for m in ms], s)) for q, ms in lanes if ms]
        except UserError as e:  # e.g. the saved device is gone
            for m in runnable:
                s.results[m] = MethodResult(m, message=str(e))
                self.hub.resultChanged.emit(m)
            self.hub.error(str(e))
            return
        self._pending.update({m: batch for _q, batch in batches for _kind, m in batch.tasks})
        if not self.busy:
            self._batch_total, self._batch_done, self._running = 0, 0, {}
        self._batch_total += len(runnable)
        for queue, batch in batches:
            self._start(batch, queue)

    def refresh_metrics(self, methods: list[str] | None = None) -> None:
        """Score the results already there (or these) against a newly opened ground truth, off the GUI thread."""
        s = self.session
        done = [m for m, r in s.results.items() if r.lr is not None and not r.partial
                and (methods is None or m in methods)]
        if s.gt is None or not done:
            return
        self._start(_MethodBatch([("metrics", m) for m in done], s))

    def restart(self) -> None:
        """The session's results went stale (a new image, scale, device or weights: the session has already moved
        to its next generation): stop the old work, drop what is shown and compute the ticked methods again."""
        self.cancel(quiet=True)
        self.hub.supersede(IMAGE)
        self.session.results = {}
        self.hub.resultsCleared.emit()
        self.compute()

    def cancel(self, quiet: bool = False) -> None:
        """Stop the running work at the next method or tile; finished results stay."""
        for job in self._live:
            job.cancel()
        self._live = []
        pending, self._pending = self._pending, {}
        self._batch_total, self._batch_done, self._running = 0, 0, {}  # what was running no longer counts
        if not quiet:
            for m in pending:
                r = self.session.results.get(m)
                if r is None or r.partial:
                    self.session.results[m] = MethodResult(m, message=CANCELLED)
                    self.hub.resultChanged.emit(m)
            if pending:
                self.hub.info("Cancelled.")

    # ------------------------------------------------------------------ worker signals (GUI thread)

    def _start(self, batch: _MethodBatch, queue: JobQueue | None = None) -> None:
        self._jobs += 1
        if self._jobs == 1:
            self.hub.busyChanged.emit(True)
        holder: list[Job] = []

        def finished(_result, _error) -> None:
            if holder and holder[0] in self._live:
                self._live.remove(holder[0])
            self._on_job_finished()

        holder.append((queue or self.queue).submit(batch.run, finished,
                                                   progress=lambda kind, *a: self._events[kind](*a)))
        self._live.append(holder[0])

    def _fresh(self, batch: _MethodBatch, m: str) -> bool:
        """The batch was made for what m's output depends on now (image, scale, device, weights, fit)."""
        return batch.generation.output_of(m) == self.session.generation.output_of(m)

    def _current(self, batch: _MethodBatch, m: str) -> bool:
        """The batch is the one that runs m now (not a cancelled or superseded one)."""
        return self._fresh(batch, m) and self._pending.get(m) is batch

    def _on_started(self, batch: _MethodBatch, m: str) -> None:
        if self._current(batch, m):
            self._running[m] = (0, 0)
            self._say_progress()

    def _say_progress(self) -> None:
        """One line for both threads: the method shown first (ADK-Net with its tiles), and how many are done."""
        if not self._running:
            return
        m = run_order([k for k in self._running if k in self.session.known_methods()], self.session.extras)
        m = m[0] if m else next(iter(self._running))
        done, total = self._running[m]
        what = self.session.short_label(m) + (f": tile {done}/{total}" if total > 1 else "")
        frac = (self._batch_done + sum(d / t for d, t in self._running.values() if t)) / max(1, self._batch_total)
        self.hub.progressChanged.emit(f"{what} · {self._batch_done}/{self._batch_total} done", frac)

    def _on_tile(self, batch: _MethodBatch, m: str, done: int, total: int, box, arr) -> None:
        if not self._current(batch, m) or total <= 1:
            return
        s = self.session
        r = s.results.get(m)
        if r is None or not r.partial:
            h, w = s.lr_shape
            r = s.results[m] = MethodResult(m, lr=np.zeros((h, w, 3), np.float32), partial=True)
        y0, y1, x0, x1 = box
        r.lr[y0:y1, x0:x1] = arr
        r.tiles_done, r.tiles_total = done, total
        self._running[m] = (done, total)
        self.hub.resultPartial.emit(m, box)
        self._say_progress()

    def _on_done(self, batch: _MethodBatch, m: str, lr, secs: float, metrics) -> None:
        if not self._fresh(batch, m):
            return
        if self._pending.get(m) is batch:
            del self._pending[m]
        self._running.pop(m, None)
        self._batch_done += 1
        rescore = batch.generation.ground_truth != self.session.generation.ground_truth
        self.session.results[m] = MethodResult(m, lr=lr, seconds=secs, metrics=None if rescore else metrics)
        self.hub.resultChanged.emit(m)
        self._say_progress()
        if rescore:  # the ground truth changed while it ran: score it against the one there now
            self.refresh_metrics([m])

    def _on_failed(self, batch: _MethodBatch, m: str, msg: str) -> None:
        if not self._fresh(batch, m):
            return
        if self._pending.get(m) is batch or msg != CANCELLED:
            self._pending.pop(m, None)
            self._running.pop(m, None)
            self._batch_done += 1
            self.session.results[m] = MethodResult(m, message=msg)
            self.hub.resultChanged.emit(m)

    def _on_metrics(self, batch: _MethodBatch, m: str, metrics) -> None:
        r = self.session.results.get(m)
        same_gt = batch.generation.ground_truth == self.session.generation.ground_truth
        if self._fresh(batch, m) and same_gt and r is not None and r.lr is not None:
            r.metrics = metrics
            self.hub.resultChanged.emit(m)

    def _on_job_finished(self) -> None:
        self._jobs -= 1
        if self._jobs == 0:
            self._pending.clear()
            self._running = {}
            self.hub.progressChanged.emit("", 1.0)
            self.hub.busyChanged.emit(False)
            self._say_gt_doubt()

    def _say_gt_doubt(self) -> None:
        """Warn once per image and ground truth when every method scores as if it were another scene."""
        s = self.session
        why = s.gt_doubt()
        key = s.generation
        if why and key != self._doubted:
            self._doubted = key
            self.hub.warning(why)

    @staticmethod
    def run_blocking(fn):
        """Short blocking work whose caller wants the answer (reading a file), with the window painting."""
        return run_off_gui_thread(fn)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait for the worker (window closing)."""
        self.cancel(quiet=True)
        self.queue.wait(timeout_ms)
        if self.beside is not None:
            self.beside.wait(timeout_ms)
