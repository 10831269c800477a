"""The Qt bridge of the Train tab: runs the one training engine (`adk_model.train.Trainer`) off the GUI thread.

Its jobs go through the one worker idiom, `gui.jobs.JobQueue`: training and quick calibrate are jobs of
`jobs` (one at a time), exports of `export_jobs` (also while a run holds paused, beside its job), the
reference lines (bicubic and least-squares PSNR) of `reference_jobs`. The engine is Qt-free and reports
through plain callbacks on the worker thread, which only call `job.progress`, so the signals below are
emitted in the GUI thread. A training run is a long job and differs from the session's short ones in two
ways: per-iteration losses are not events but one merged list, which a GUI-thread timer delivers every
`poll_ms` while a job runs (and every other event delivers first), so a fast model cannot flood the event
loop; and Pause / Stop are the engine's own thread-safe requests (a Stop writes a checkpoint before the job
ends; the state is PAUSING until the engine holds between steps, then PAUSED, when an export may read the
model), not `job.cancel()`, which quick calibrate and the reference lines use. Every failure, including a
crash of the training loop (NaN loss, out of memory, a file that vanished), ends in
`finished("crashed", sentence)`, with the engine's resumable crash checkpoint named in the sentence.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

from adk_model.baselines import fit_lstsq
from adk_model.devices import describe_device
from adk_model.evaluate import card_metrics, reference_psnr
from adk_model.errors import UserError
from adk_model.train import Callbacks, TrainConfig, Trainer

from adkviewer.gui.jobs import Job, JobQueue
from adkviewer.tabs.train.train_calibrate import camera_note, quick_calibrate

IDLE, STARTING, RUNNING, PAUSING, PAUSED, STOPPING, CALIBRATING, EXPORTING = (
    "idle", "starting", "running", "pausing", "paused", "stopping", "calibrating", "exporting")


def crash_message(exc: BaseException, trainer: Trainer | None, since: float = 0.0) -> str:
    """One or two sentences for a failed run, naming the checkpoint to resume from when the engine wrote one."""
    it = trainer.iteration if trainer is not None else 0
    saved = ""
    if trainer is not None and trainer.model is not None:
        for suffix in ("crash", "last"):
            ck = trainer.checkpoint_path(suffix)
            if ck.is_file() and ck.stat().st_mtime >= since - 1:
                saved = f" A checkpoint was saved at iteration {it}: {ck} (Resume from checkpoint… continues it)."
                break
    if isinstance(exc, FloatingPointError):
        return f"Training diverged: {exc}. Lower the learning rate and resume.{saved}"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return (f"Out of memory at iteration {it}: lower the batch or patch size, or train on another device."
                f"{saved}")
    if isinstance(exc, UserError):
        return f"{exc}{saved}"
    if isinstance(exc, OSError):
        what = f"'{exc.filename}'" if exc.filename else "a file"
        return f"Training stopped: {what} could not be read or written ({exc.strerror or exc}).{saved}"
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return f"Training failed: {type(exc).__name__}: {str(exc).strip() or 'no details'}.{saved}"


class TrainRunner(QObject):
    """Start / pause / resume / stop a run, quick-calibrate and export, all off the GUI thread."""

    stateChanged = Signal(str)
    setupDone = Signal(object)                       # dict: cfg, iteration, total, history, train/val names, device
    progress = Signal(int, int, float)               # iteration, total, elapsed seconds (pauses excluded)
    losses = Signal(object)                          # [(iteration, loss), ...] since the last update
    validated = Signal(int, object, object, object)  # iteration, metrics, preview (ADK-Net), ground truth
    baseline = Signal(str, float)                    # "bicubic" / "lstsq", mean validation PSNR
    logged = Signal(str)
    checkpointed = Signal(str, int)                  # path, iteration
    calibrated = Signal(object)                      # dict: before, after (val PSNR), seconds, pairs
    calibrating = Signal(str, int, int)              # quick calibrate's stage, pairs done, pairs in the stage
    exported = Signal(str, str)                      # path, purpose ("compare" or "export")
    finished = Signal(str, str)                      # outcome (finished, stopped, crashed, calibrated, ...), message

    def __init__(self, parent: QObject | None = None, poll_ms: int = 60) -> None:
        super().__init__(parent)
        self.trainer: Trainer | None = None
        self.calibration: dict[str, Any] | None = None   # of the current trainer's model, if it was calibrated
        self.baselines: dict[tuple, dict[str, float]] = {}  # by (pairs, scale, train names, val names)
        self.lstsq_fits: dict[tuple, Any] = {}
        self.jobs = JobQueue(self)             # training and quick calibrate: one at a time
        self.export_jobs = JobQueue(self)      # exports: also while a run holds paused, beside its job
        self.reference_jobs = JobQueue(self)   # the reference lines, beside a run
        self._state = IDLE
        self._job: Job | None = None           # the running training or calibrate job
        self._reference: Job | None = None
        self._after_export = IDLE              # the state an export returns to (IDLE, or PAUSED mid-run)
        self._lock = threading.Lock()
        self._pending_losses: list[tuple[int, float]] = []
        self._progress: tuple[int, int, float] | None = None
        self._timer = QTimer(self)  # delivers the merged losses while a job runs
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._tick)
        self._events = {"log": self.logged.emit, "val": self.validated.emit, "ckpt": self.checkpointed.emit,
                        "baseline": self.baseline.emit, "setup": self.setupDone.emit, "state": self._on_running,
                        "calprogress": self.calibrating.emit, "calibrated": self._on_calibrated}

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        return self._state

    @property
    def busy(self) -> bool:
        """A job (training, calibrating, exporting) is running off the GUI thread."""
        return self._job is not None or self._state != IDLE

    @property
    def training(self) -> bool:
        return self._state in (STARTING, RUNNING, PAUSING, PAUSED, STOPPING)

    @property
    def exporting_paused(self) -> bool:
        """An export of a paused run's model is being written (the run holds until it is done)."""
        return self._state == EXPORTING and self._after_export == PAUSED

    @property
    def can_export(self) -> bool:
        """The model can be written now: nothing runs, or the run holds paused."""
        has_model = self.trainer is not None and self.trainer.model is not None
        return has_model and (self._state == PAUSED or (self._state == IDLE and not self.busy))

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _callbacks(self, job: Job) -> Callbacks:
        """The engine's callbacks for one job: each becomes job.progress, but losses are merged (see the module doc)."""
        def on_iter(it: int, loss: float, lr: float) -> None:
            t = self.trainer
            with self._lock:
                self._pending_losses.append((it, loss))
                self._progress = (it, t.cfg.iterations if t else it, t.elapsed if t else 0.0)

        return Callbacks(
            on_iter=on_iter,
            on_val=lambda it, m, preview, gt: job.progress("val", it, dict(m), preview, gt),
            on_log=lambda msg: job.progress("log", msg),
            on_checkpoint=lambda path: job.progress("ckpt", path, self.trainer.iteration if self.trainer else 0),
            on_stop=lambda it, ckpt: None)  # the finished message says it, once

    def _launch(self, state: str, work: Callable[[Job], tuple[str, str]]) -> None:
        """Run `work(job)`, which returns (outcome, message), as the one job; its events arrive in _on_event."""
        if self.busy:
            raise UserError("Training is busy; wait until it has finished or stop it first.")
        with self._lock:
            self._pending_losses, self._progress = [], None
        self._set_state(state)
        self._job = self.jobs.submit(work, self._on_done, progress=self._on_event)
        self._timer.start()

    # ------------------------------------------------------------------ training

    def start(self, cfg: TrainConfig | None = None, resume: str | None = None) -> None:
        """A new run from `cfg` (a calibrated model starts from the weights file its calibration saved), or a
        checkpoint (`resume`)."""
        trainer = Trainer(cfg or TrainConfig())
        self.calibration = None
        self.trainer = trainer
        if self._reference is not None:
            self._reference.cancel()  # an older run's reference fit is not needed any more
        self._launch(STARTING, lambda job: self._train_job(job, trainer, resume))

    def _train_job(self, job: Job, trainer: Trainer, resume: str | None) -> tuple[str, str]:
        t0 = time.time()
        trainer.cb = self._callbacks(job)
        try:
            trainer.setup(resume=resume)
            job.progress("setup", self._setup_info(trainer))
            job.progress("state", RUNNING)
            trainer.run()
            if trainer.finished:
                best = (f"best val PSNR {trainer.best['psnr']:.3f} dB" if "psnr" in trainer.best
                        else "no validation pairs")
                # decided here, off the GUI thread (halfway is validated once): Export and Use in Compare hand it over
                handed = trainer.export_choice().sentence()
                return "finished", (f"Training finished: {trainer.iteration} iterations in {trainer.elapsed:.0f} s, "
                                    f"{best}. Export and Use in Compare now hand over {handed}.")
            return "stopped", f"Stopped at iteration {trainer.iteration}; checkpoint {trainer.checkpoint_path('last')}."
        except BaseException as e:  # noqa: BLE001 - every failure becomes one message, never a hung window
            return "crashed", crash_message(e, trainer, t0)

    def _setup_info(self, t: Trainer) -> dict[str, Any]:
        return {"cfg": TrainConfig.from_dict(t.cfg.to_dict()), "iteration": t.iteration, "total": t.cfg.iterations,
                "elapsed": t.elapsed, "history": list(t.history), "train": [p.name for p in t.train_infos],
                "val": [p.name for p in t.val_infos], "device": describe_device(t.device),
                "unreadable": dict(t.unreadable)}

    def _on_running(self, _state: str) -> None:
        """Set-up done: the run goes on (a pause or stop asked for meanwhile keeps its state); reference lines start."""
        if self._state == STARTING:
            self._set_state(RUNNING)
        if self.trainer is not None:
            self._start_baselines(self.trainer)

    def _start_baselines(self, t: Trainer) -> None:
        """Bicubic and least-squares PSNR on the same validation pairs, as their own job (lstsq can take a while)."""
        if not t.val:
            return
        key = (t.cfg.pairs, t.cfg.scale, tuple(p.name for p in t.train_infos), tuple(p.name for p in t.val_infos))

        def work(job: Job) -> None:
            done = self.baselines.setdefault(key, {})
            try:
                scale = t.cfg.scale
                if "bicubic" not in done:
                    done["bicubic"] = reference_psnr("bicubic", t.val, scale)
                job.progress("baseline", "bicubic", done["bicubic"])
                if "lstsq" not in done:
                    job.progress("log", f"fitting the least-squares kernel on {len(t.train_pairs)} train pairs "
                                        f"(reference line)…")

                    def pairs():
                        for p in t.train_pairs:
                            if job.cancelled():
                                raise InterruptedError
                            yield p

                    fit = fit_lstsq(pairs(), scale, taps=4 * scale, fitted_on=f"{Path(t.cfg.pairs).name} train split "
                                                                             f"({len(t.train_pairs)} pairs)")
                    self.lstsq_fits[key] = fit
                    done["lstsq"] = reference_psnr("lstsq", t.val, scale, fit)
                job.progress("baseline", "lstsq", done["lstsq"])
            except InterruptedError:
                pass
            except Exception as e:  # noqa: BLE001 - a missing reference line is not worth stopping training for
                job.progress("log", f"reference PSNR not computed: {type(e).__name__}: {e}")

        self._reference = self.reference_jobs.submit(work, lambda _result, _error: None, progress=self._on_event)

    def pause(self) -> None:
        """Ask the run to pause: PAUSING until the step in flight has finished and the engine holds, then PAUSED."""
        if self.trainer is not None and self._state in (STARTING, RUNNING):
            self.trainer.request_pause()
            self._set_state(PAUSING)

    def resume(self) -> None:
        if self.trainer is not None and self._state in (PAUSING, PAUSED):
            self.trainer.request_resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        """Ask the run to stop; the engine writes a checkpoint and the job ends with finished('stopped', …)."""
        if self.trainer is not None and self.training:
            self.trainer.request_stop()
            if self._reference is not None:
                self._reference.cancel()
            self._set_state(STOPPING)

    # ------------------------------------------------------------------ quick calibrate and export

    def calibrate(self, cfg: TrainConfig | None = None, per_camera: str = "") -> None:
        """Quick calibrate on the train pairs (adk_model.calibrate): the current model, or a new one built from cfg;
        `per_camera` ("prefix", "exif") also fits one model per camera (adk_model.camera_models)."""
        fresh = cfg is not None or self.trainer is None
        trainer = Trainer(cfg or TrainConfig()) if fresh else self.trainer
        self.trainer = trainer
        if fresh:
            self.calibration = None
        self._launch(CALIBRATING, lambda job: self._calibrate_job(job, trainer, fresh, per_camera))

    def _calibrate_job(self, job: Job, trainer: Trainer, fresh: bool, per_camera: str) -> tuple[str, str]:
        trainer.cb = self._callbacks(job)
        try:
            if fresh:
                trainer.setup(calibrate_next=True)  # the same run may go on to fine-tune: it keeps its split
                job.progress("setup", self._setup_info(trainer))
            if job.cancelled():
                raise InterruptedError
            info = quick_calibrate(trainer, self.calibration is not None,
                                   lambda *a: job.progress("calprogress", *a), job.cancelled, per_camera)
            job.progress("calibrated", info)
            said = f"{info['sentence'].rstrip('.')} ({info['seconds']:.1f} s)." + camera_note(info.get("cameras"))
            return ("calibrated" if info["adopted"] else "not adopted"), said
        except InterruptedError:
            if fresh:
                self.trainer = None
            return "cancelled", "Quick calibrate cancelled: the model is as it was."
        except BaseException as e:  # noqa: BLE001
            if fresh:
                self.trainer = None
            return "crashed", crash_message(e, None)

    def _on_calibrated(self, info: dict[str, Any]) -> None:
        if info["adopted"]:  # else the model is as it was (and so is what it was calibrated by before)
            self.calibration = info
        self.calibrated.emit(info)

    def cancel_calibration(self) -> None:
        """Stop quick calibrate at the next pair; the model keeps its values from before."""
        if self._state == CALIBRATING and self._job is not None:
            self._job.cancel()

    def export(self, path: str | Path | None = None, purpose: str = "export", extra_card: dict | None = None,
               score: bool = False) -> None:
        """Write safetensors plus a model card (Trainer.export); `score` adds every method's val metrics to the card."""
        trainer = self.trainer
        if trainer is None or trainer.model is None:
            raise UserError("There is no trained or calibrated model yet: press Start or Quick calibrate first.")
        if not self.can_export:
            raise UserError("Training is busy; pause or stop it first.")
        self._after_export = self._state
        self._set_state(EXPORTING)
        self._timer.start()  # the engine's log lines while it scores
        extra = dict(extra_card or {})
        if self.calibration is not None:
            extra["calibration"] = {k: round(v, 4) if isinstance(v, float) else v
                                    for k, v in self.calibration.items() if k not in ("preview", "gt")}
        key = (trainer.cfg.pairs, trainer.cfg.scale, tuple(p.name for p in trainer.train_infos),
               tuple(p.name for p in trainer.val_infos))
        fit = self.lstsq_fits.get(key)
        # a finished run hands over what `adkviewer train` exports; a paused or stopped one, the model as it is now
        which = None if trainer.finished else "last"

        def work(job: Job) -> Path:  # a paused run holds between steps: its model is only read here
            if score and trainer.val_infos:
                job.progress("log", "scoring ADK-Net and the baselines on the validation pairs for the model card…")
                extra["validation"] = card_metrics(trainer, fit, which)
            return trainer.export(path, extra_card=extra, which=which)

        def done(out: Path | None, error: BaseException | None) -> None:
            self._flush_losses()
            back = self._after_export if self._job is not None else IDLE
            self._after_export = IDLE
            self._set_state(back)
            if self._job is None:
                self._timer.stop()
            if error is None:
                self.exported.emit(str(out), purpose)
                self.finished.emit("exported", f"Wrote {out} and its model card {out.with_suffix('.json').name}.")
            else:
                self.finished.emit("crashed", crash_message(error, None).replace("Training failed", "Export failed"))

        self.export_jobs.submit(work, done, progress=self._on_event)

    # ------------------------------------------------------------------ events (GUI thread), waiting

    def _flush_losses(self) -> None:
        """Deliver the merged losses and the latest progress, before any other event."""
        with self._lock:
            losses, self._pending_losses = self._pending_losses, []
            prog, self._progress = self._progress, None
        if losses:
            self.losses.emit(losses)
        if prog is not None:
            self.progress.emit(*prog)

    def _tick(self) -> None:
        """The timer: losses, and PAUSED once the engine holds (the step in flight has finished)."""
        self._flush_losses()
        if self._state == PAUSING and self.trainer is not None and self.trainer.holding:
            self._set_state(PAUSED)

    def _on_event(self, kind: str, *args: Any) -> None:
        self._flush_losses()
        self._events[kind](*args)
        if self._state == PAUSING and self.trainer is not None and self.trainer.holding:
            self._set_state(PAUSED)

    def _on_done(self, result: tuple[str, str] | None, error: BaseException | None) -> None:
        self._flush_losses()
        self._job = None
        self._timer.stop()
        outcome, message = result if error is None else ("crashed", crash_message(error, None))
        self._set_state(IDLE)
        self.finished.emit(outcome, message)

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Let the running job (and an export) end, the GUI painting meanwhile; True when they have."""
        deadline = time.monotonic() + timeout_s
        while (self._job is not None or self._state == EXPORTING) and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.AllEvents, 20)
            time.sleep(0.01)
        QCoreApplication.processEvents(QEventLoop.AllEvents, 20)
        return self._job is None and self._state != EXPORTING

    def shutdown(self, timeout_s: float = 120.0) -> bool:
        """Stop whatever runs (training writes its checkpoint) and wait for it (window closing)."""
        if self._reference is not None:
            self._reference.cancel()
        deadline = time.monotonic() + timeout_s
        while self._state == EXPORTING and time.monotonic() < deadline:  # a paused run stops once it is written
            time.sleep(0.03)
            QCoreApplication.processEvents(QEventLoop.AllEvents, 20)
        self.stop()
        ended = self.wait(max(1.0, deadline - time.monotonic()))
        self.reference_jobs.wait(5000)
        return ended
