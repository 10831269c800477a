"""The Train tab: fine-tune ADK-Net on a person's own HR/LR pairs, with live curves, pause/resume and export.

A thin view. The form's values live in `train_state.TrainSettings` (Qt-free), the pairs table comes from
`train_state.scan_pairs`, and all the work (training, quick calibrate, export) is done by the one engine in
`adk_model.train`, run off the GUI thread by `train_runner.TrainRunner`. The tab shows the runner's signals itself and
holds two views, `CurvesView` (loss and validation plots) and `PreviewPane`; `TrainLayout` builds the widgets, and
two parts still share the tab's attributes: train_form (the form and the pairs table, whose widgets the layout
builds) and train_actions (the buttons); train_widgets holds the small widgets and texts they share,
train_calibrate quick calibrate's stages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from adk_model.method_registry import unique_name
from adk_model.runs import RunInfo
from adk_model.train import TrainConfig

from adkviewer.gui.context import TabContext
from adkviewer.state import weights_registry
from adkviewer.state.messages import PAIRS, TRAIN
from adkviewer.tabs.train.train_runner import (CALIBRATING, EXPORTING, IDLE, PAUSED, PAUSING, RUNNING, STARTING,
                                               STOPPING, TrainRunner)
from adkviewer.tabs.train.train_state import Curves, Eta, PairScan, TrainSettings, format_duration
from adkviewer.tabs.train.train_actions import TrainActions
from adkviewer.tabs.train.train_calibrate import camera_note
from adkviewer.tabs.train.train_form import TrainForm
from adkviewer.tabs.train.train_layout import TrainLayout
from adkviewer.tabs.train.train_widgets import (CALIBRATED_STATUS, CALIBRATING_NOTE, EXPORT_TIP, KEPT_TIP, NO_RUN,
                                                NO_RUN_CALIBRATED, NO_RUN_KEPT, USE_TIP, NO_RUN_READY, PREVIEW_WAITING, STATE_TEXT, WAITING)


class TrainTab(TrainLayout, TrainForm, TrainActions, QWidget):
    """Pairs, validation and settings on the left; run controls on top; curves, preview and log on the right."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.hub, self.settings = ctx.hub, ctx.settings
        self.runner = TrainRunner(self)
        self.curves = Curves()
        self.eta = Eta()
        self.scan: PairScan | None = None
        self.last_message = ""
        self._val_pair = ""
        self._run_validates: bool | None = None  # the run set up has validation pairs (None: no run yet)
        self._init_files: tuple[str, ...] = ()   # weights files chosen under "Start from"
        self._init_prev: str | None = None       # the "Start from" choice before "Weights file…" was picked
        self._calibrated: str | None = None      # weights file of the last model Quick calibrate fitted
        self._camera_note = ""                   # the per-camera models of the last Quick calibrate, in words
        self._kept_for: tuple | None = None      # (pairs, start) whose Quick calibrate kept the model as it was
        self._build()
        r = self.runner
        r.stateChanged.connect(self._on_state)
        r.setupDone.connect(self._on_setup)
        r.progress.connect(self._on_progress)
        r.losses.connect(self._on_losses)
        r.validated.connect(self._on_validated)
        r.baseline.connect(self._on_baseline)
        r.logged.connect(self.log)
        r.checkpointed.connect(self._on_checkpoint)
        r.calibrated.connect(self._on_calibrated)
        r.calibrating.connect(self._on_calibrating)
        r.exported.connect(self._on_exported)
        r.finished.connect(self._on_finished)
        self.runs_panel.overlaysChanged.connect(self.overlays.show)
        self.runs_panel.openRequested.connect(self.open_run_in_compare)
        self.out_edit.textChanged.connect(self.runs_panel.refresh_soon)
        self._runs_listed = False  # the runs are listed when the tab is first shown, not at start-up
        self._scan_timer = QTimer(self)
        self._scan_timer.setSingleShot(True)
        self._scan_timer.setInterval(200)
        self._scan_timer.timeout.connect(self.rescan)
        self.set_form(TrainSettings.load(self.settings))
        self._connect_form()
        self._sync_buttons()
        self._redraw_curves()
        last = self.settings.get_str("train/last_run", "")
        if last and Path(last).is_dir():
            self.log(f"Last run: {last} — “Resume from checkpoint…” continues it.")

    def open_pairs(self, folder: str | Path) -> bool:
        """Use this pairs folder (a folder dropped on the window): the table names each pair's role or problem."""
        if self.runner.busy:
            self.hub.error(f"Training or quick calibrate is running; choose {Path(folder).name} as the pairs folder "
                           "once it has stopped.", PAIRS)
            return False
        self.pairs_edit.setText(str(Path(folder).resolve()))
        self.settings.set("folders/train_pairs", str(Path(folder).resolve().parent))
        scan = self.rescan()
        self.hub.info(f"Pairs folder {Path(folder).name}: {scan.summary if scan is not None else 'scanned'}", PAIRS)
        return scan is not None and not scan.error

    def offer_pairs(self, folder: str | Path) -> bool:
        """Take a folder opened elsewhere (the dataset view) as the pairs, if none is chosen and nothing runs."""
        if self.runner.busy or self.pairs_edit.text().strip():
            return False
        return self.open_pairs(folder)

    def log(self, text: str) -> None:
        self.log_view.appendPlainText(text)

    def ask(self, text: str) -> bool:
        """Yes/no question on closing mid-run (a method, so tests can answer it)."""
        return self._question("Training is running", text, "Stop, save and close")

    def ask_train_without_validation(self, text: str) -> bool:
        """Start with no validation pair only when the person says so (a method, so tests can answer it)."""
        return self._question("No validation pairs", text, "Train without validation")

    def _question(self, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.NoButton, self)
        accept = box.addButton(yes, QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        return box.clickedButton() is accept

    def confirm_close(self) -> bool:
        """Window closing: while training, ask first, then stop (the engine writes a checkpoint) and wait."""
        r = self.runner
        if not r.busy:
            self.runs_panel.queue.wait()
            return True
        if r.training or r.exporting_paused:
            it = r.trainer.iteration if r.trainer is not None else 0
            if not self.ask(f"Training is at iteration {it}. Stop it, save a checkpoint and close? "
                            "“Resume from checkpoint…” continues it later."):
                return False
            self.ctx.shell.show_status("Stopping training and saving a checkpoint…")
        r.shutdown()
        self.runs_panel.queue.wait()
        return True

    def save_state(self, settings, prefix: str) -> None:
        for name, sp in (("hsplit", self.hsplit), ("vsplit", self.vsplit), ("plots", self.plots_split),
                         ("bottom", self.bottom_split)):
            settings.set(prefix + name, sp.saveState())
        if not self.runner.busy:
            self.remembered_form().save(settings, prefix)

    def restore_state(self, settings, prefix: str) -> None:
        for name, sp in (("hsplit", self.hsplit), ("vsplit", self.vsplit), ("plots", self.plots_split),
                         ("bottom", self.bottom_split)):
            state = settings.get_bytes(prefix + name)
            if state is not None:
                sp.restoreState(state)

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        if not self.runner.busy:
            self._sync_init_choices()  # weights exported or chosen elsewhere meanwhile (File → ADK-Net weights)
        if not self._runs_listed:
            self._runs_listed = True
            self.runs_panel.refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(1280, 760)

    # ------------------------------------------------------------------ the runner's signals shown

    def _reset_run_view(self, total: int) -> None:
        self.curves.clear()
        self.eta.reset()
        self._run_validates = None
        self.preview.caption.setText(PREVIEW_WAITING)
        self._redraw_curves()
        self.plots.clear_refs()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.setFormat(f"0 / {total}")
        self.eta_label.setText("")

    def _on_state(self, state: str) -> None:
        self._sync_buttons()
        self.plots.sync_notes()
        if state == PAUSED:
            self.eta_label.setText("paused")
        elif state == STOPPING:
            self.eta_label.setText("stopping…")
        elif state in (CALIBRATING, EXPORTING, STARTING, PAUSING):
            self.eta_label.setText(STATE_TEXT[state])

    def _sync_buttons(self) -> None:
        st = self.runner.state
        idle = st == IDLE and not self.runner.busy
        usable = self.runner.can_export  # also while a run holds paused: try or export the model as it is
        self.start_button.setEnabled(idle)
        self.pause_button.setEnabled(st in (STARTING, RUNNING, PAUSING, PAUSED))
        self.pause_button.setText("Resume" if st in (PAUSING, PAUSED) else "Pause")
        self.stop_button.setEnabled(st in (STARTING, RUNNING, PAUSING, PAUSED, CALIBRATING))
        self.stop_button.setText("Cancel" if st == CALIBRATING else "Stop")
        self.stop_button.setToolTip("Cancel quick calibrate: the model stays as it was" if st == CALIBRATING else
                                    "Stop and write a checkpoint that “Resume from checkpoint…” continues")
        self.resume_ckpt_button.setEnabled(idle)
        self.calibrate_button.setEnabled(idle)
        self.use_button.setEnabled(usable)
        best = self.best_weights() if idle or st == PAUSED else None
        self.use_best_button.setEnabled(best is not None)
        t = self.runner.trainer
        self.use_best_button.setToolTip(
            f"Switch the Compare tab to the best validated weights: iteration {t.best['it']}, "
            f"val PSNR {t.best['psnr']:.2f} dB ({best.name})" if best is not None and t is not None else
            "This run has no validation pairs, so no best validated model" if self._run_validates is False else
            "Switch the Compare tab to the weights of the best validation PSNR, once the run has gone past them")
        self.export_button.setEnabled(usable)
        # after a Quick calibrate that kept the model (and no training since), these hand over that same model
        kept = t is not None and not t.iteration and self._calibration_kept()
        self.use_button.setToolTip(USE_TIP + (KEPT_TIP if kept else ""))
        self.export_button.setToolTip(EXPORT_TIP + (KEPT_TIP if kept else ""))
        self._sync_form_enabled()

    def _on_setup(self, info: dict[str, Any]) -> None:
        cfg: TrainConfig = info["cfg"]
        self.settings.set("train/last_run", cfg.out)
        self.mark_unreadable(info.get("unreadable", {}))
        self._run_validates = bool(info["val"])
        if not self._run_validates:
            self.preview.caption.setText("Validation preview: none (no validation pairs)")
        self.progress.setRange(0, max(1, info["total"]))
        # The setup event can be drained after the first progress update: never move the bar backwards.
        it = max(self.progress.value(), info["iteration"])
        self.progress.setValue(it)
        self.progress.setFormat(f"{it} / {info['total']}")
        if info["history"]:
            self.curves.from_history(info["history"])
        self._redraw_curves()
        self._sync_buttons()

    def _on_progress(self, it: int, total: int, elapsed: float) -> None:
        if self.progress.maximum() != total:
            self.progress.setRange(0, max(1, total))
        self.progress.setValue(it)
        left = self.eta.update(it, total, elapsed)
        self.progress.setFormat(f"{it} / {total}")
        if self.runner.state == RUNNING:
            self.eta_label.setText(f"ETA {format_duration(left)}")

    def _on_losses(self, points: list[tuple[int, float]]) -> None:
        self.curves.add_losses(points)
        self._redraw_curves()

    def _on_validated(self, it: int, metrics: dict, preview, gt) -> None:
        self.curves.add_val(it, metrics["psnr"])
        self._redraw_curves()
        self._show_preview(preview, gt, f"ADK-Net, iteration {it}: {metrics['psnr']:.2f} dB")

    def _show_preview(self, preview, gt, title: str, fitted: bool = False) -> None:
        t = self.runner.trainer
        name = t.val_infos[0].name if t is not None and getattr(t, "val_infos", None) else ""
        self.preview.show_pair(preview, gt, title, name, fitted)

    def _on_baseline(self, name: str, value: float) -> None:
        self.curves.refs[name] = value
        self._redraw_curves()

    def _on_checkpoint(self, path: str, iteration: int) -> None:
        self.log(f"checkpoint {path} (iteration {iteration})")

    def _on_calibrating(self, stage: str, done: int, total: int) -> None:
        """Quick calibrate's own progress, stage by stage, in place of the run's iterations."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage} {done}/{total}")  # short: the bar is narrow in a small window
        self.progress.setToolTip(f"Quick calibrate: {stage}, {done} of {total} pairs")

    def _run_bar(self, outcome: str) -> None:
        """After quick calibrate, the bar shows the run's iterations again (or that there is no run yet)."""
        t = self.runner.trainer
        if t is not None and t.iteration:
            self.progress.setRange(0, max(1, t.cfg.iterations))
            self.progress.setValue(t.iteration)
            self.progress.setFormat(f"{t.iteration} / {t.cfg.iterations}")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("calibrated: Start fine-tunes it" if outcome == "calibrated" else
                                    "failed" if outcome == "crashed" else "idle")

    def _on_calibrated(self, info: dict[str, Any]) -> None:
        """An adopted calibration becomes what Start begins from; one worse on validation changes nothing."""
        if info["preview"] is not None:
            # a cross-validated PSNR pools every pair, not this preview's: the log carries it, the title does not
            score = None if info.get("judged_by") == "cv" else info.get("after" if info["adopted"] else "before")
            label = "ADK-Net calibrated" if info["adopted"] else "ADK-Net as it was"
            self._show_preview(info["preview"], info["gt"], label + ("" if score is None else f": {score:.2f} dB"),
                               fitted=info.get("judged_by") == "cv")
        self._show_camera_models(info.get("cameras", []))
        self._camera_note = camera_note(info.get("cameras"))
        self._kept_for = None if info["adopted"] else (self.pairs_edit.text(), self.init_combo.currentData())
        if not info["adopted"]:
            return  # the model is as it was: the log says why (the runner's message)
        self._calibrated = info["weights"]
        self._sync_init_choices(select=self._calibrated)
        self.calfirst_check.setChecked(False)  # calibrated on these pairs already; the form's schedule stays
        self.plots.sync_notes()
        self.log(f"Start from: {self.init_combo.currentText()} ({self._calibrated})")

    def _show_camera_models(self, cameras: list[dict[str, Any]]) -> None:
        """Each camera's own model in Compare beside ADK-Net, named for its camera (the runner's message says so)."""
        c = self.ctx
        for cam in cameras:
            weights_registry.remember(self.settings, cam["weights"])
            same = Path(cam["weights"]).resolve()  # calibrated anew: its method is replaced, not doubled
            taken = {e.name for e in c.session.extras.values() if Path(e.path).resolve() != same}
            c.commands.add_weights(cam["weights"], name=unique_name(cam["camera"], taken))

    def _on_exported(self, path: str, purpose: str) -> None:
        if purpose == "compare":
            self._switch_compare(Path(path))  # which remembers it
        else:
            weights_registry.remember(self.settings, path)
        if not self.runner.training:
            self._sync_init_choices()  # an exported model can start the next run
        self.runs_panel.refresh()  # the run now has weights to open

    def open_run_in_compare(self, run: RunInfo) -> None:
        """A run from the runs list as its own method in Compare (adknet:RUN), beside the main model."""
        if run.weights is not None:
            self._switch_compare(run.weights, unique_name(run.name, set()), run.scale)

    def _switch_compare(self, path: Path, name: str | None = None, scale: int | None = None) -> None:
        weights_registry.remember(self.settings, str(path))
        c = self.ctx
        t = self.runner.trainer
        if scale is None and t is not None and t.model is not None:
            scale = t.model.cfg.scale
        if scale and c.session.scale != scale:
            c.commands.set_scale(scale)
        key = c.commands.add_weights(path, name=name)  # beside the main model, so the two are compared, not swapped
        if key is not None:
            pairs = (t.val_infos or t.train_infos) if t is not None and t.model is not None else []
            if c.session.hr_full is None and pairs:  # an empty Compare tab shows nothing to compare: a pair of the run
                p = pairs[0]
                c.commands.open_image(p.hr_path, p.lr_path, scale=scale or c.session.scale, pair_name=p.name)
            c.shell.show_tab("compare")
            self.hub.info(f"Compare shows {c.session.label(key)} beside {c.session.label('adknet')}.")

    def _on_finished(self, outcome: str, message: str) -> None:
        self.last_message = message
        if message:
            self.log(message)
        calibration = outcome in ("calibrated", "not adopted", "cancelled")
        if calibration or self.progress.format().startswith("quick calibrate") or self.progress.maximum() == 0:
            self._run_bar(outcome)  # (a failed one too: a busy bar beside "failed" reads as work still going on)
        if outcome == "crashed":
            self.hub.error(message, TRAIN)
        elif outcome in ("calibrated", "not adopted"):  # the sentence is long: the status line gives its gist
            self.hub.info(CALIBRATED_STATUS[outcome] + self._camera_note, TRAIN)
        elif outcome in ("finished", "stopped", "cancelled"):
            self.hub.info(message, TRAIN)
        self.eta_label.setText("paused" if self.runner.state == PAUSED else
                               {"finished": "done", "stopped": "stopped", "crashed": "failed",
                                "cancelled": "cancelled", "not adopted": "not adopted"}.get(outcome, ""))
        self._redraw_curves()  # the notes and legend of a run that ended
        self.runs_panel.refresh()
        self._sync_buttons()

    def _empty_plot_text(self) -> str:
        """What an empty plot says: a run is on its way, quick calibrate runs, or what to do to start one."""
        ready = self.scan is not None and not self.scan.error
        return (WAITING if self.runner.training else CALIBRATING_NOTE if self.runner.state == CALIBRATING else
                NO_RUN if not ready else
                NO_RUN_CALIBRATED if self._calibrated and self.init_combo.currentData() == self._calibrated
                else NO_RUN_KEPT if self._calibration_kept()
                else NO_RUN_READY)

    def _calibration_kept(self) -> bool:
        """The last Quick calibrate, on these pairs from this start, kept the model as it was."""
        return self._kept_for is not None and self._kept_for == (self.pairs_edit.text(), self.init_combo.currentData())

    def _redraw_curves(self) -> None:
        """The curves as they are now, the reference lines across the whole run."""
        self.plots.redraw(self.progress.maximum())
