"""The runner's signals shown: state, buttons, progress, curves, preview, exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer

from adk_model.train import TrainConfig

from adkviewer.state import weights_registry
from adkviewer.state.messages import TRAIN
from adkviewer.tabs.train.train_runner import (CALIBRATING, EXPORTING, IDLE, PAUSED, PAUSING, RUNNING, STARTING,
                                               STOPPING)
from adkviewer.tabs.train.train_state import format_duration
from adkviewer.tabs.train.train_widgets import (ADK_COLOUR, CALIBRATING_NOTE, NO_RUN, NO_RUN_CALIBRATED, NO_RUN_READY,
                                                NO_VAL, PLOT_FG, PREVIEW_WAITING, REF_COLOURS, REF_LABELS, STATE_TEXT,
                                                WAITING)


class TrainProgress:
    """A part of TrainTab (its attributes are the tab's own)."""

    def _reset_run_view(self, total: int) -> None:
        self.curves.clear()
        self.eta.reset()
        self._run_validates = None
        self.preview_caption.setText(PREVIEW_WAITING)
        self._redraw_curves()
        for item in self.ref_items.values():
            self.val_plot.removeItem(item)
        self.ref_items.clear()
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.setFormat(f"0 / {total}")
        self.eta_label.setText("")

    def _on_state(self, state: str) -> None:
        self._sync_buttons()
        self._sync_notes()
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
        self._sync_form_enabled()

    def _on_setup(self, info: dict[str, Any]) -> None:
        cfg: TrainConfig = info["cfg"]
        self.settings.set("train/last_run", cfg.out)
        self._run_validates = bool(info["val"])
        if not self._run_validates:
            self.preview_caption.setText("Validation preview: none (no validation pairs)")
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

    def _show_preview(self, preview, gt, title: str) -> None:
        t = self.runner.trainer
        name = t.val_infos[0].name if t is not None and getattr(t, "val_infos", None) else ""
        self.preview_caption.setText(f"Validation preview{': ' + name if name else ''}")
        self.preview_model_title.setText(title)
        self.preview_model.set_array(preview)
        self.preview_gt.set_array(gt)

    def _on_baseline(self, name: str, value: float) -> None:
        self.curves.refs[name] = value
        self._redraw_curves()

    def _on_checkpoint(self, path: str, iteration: int) -> None:
        self.log(f"checkpoint {path} (iteration {iteration})")

    def _on_calibrating(self, stage: str, done: int, total: int) -> None:
        """Quick calibrate's own progress, stage by stage, in place of the run's iterations."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"quick calibrate: {stage}, {done} / {total} pairs")

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
            self.progress.setFormat("calibrated: Start fine-tunes it" if outcome == "calibrated" else "idle")

    def _on_calibrated(self, info: dict[str, Any]) -> None:
        self._show_preview(info["preview"], info["gt"], f"ADK-Net calibrated: {info['after']:.2f} dB")
        self._calibrated = info["weights"]
        self._sync_init_choices(select=self._calibrated)
        self.calfirst_check.setChecked(False)  # calibrated on these pairs already; the form's schedule stays
        self._sync_notes()
        self.log(f"Start from: {self.init_combo.currentText()} ({self._calibrated})")

    def _on_exported(self, path: str, purpose: str) -> None:
        if purpose == "compare":
            self._switch_compare(Path(path))  # which remembers it
        else:
            weights_registry.remember(self.settings, path)
        if not self.runner.training:
            self._sync_init_choices()  # an exported model can start the next run

    def _switch_compare(self, path: Path) -> None:
        weights_registry.remember(self.settings, str(path))
        c = self.ctx
        t = self.runner.trainer
        if t is not None and t.model is not None and c.session.scale != t.model.cfg.scale:
            c.commands.set_scale(t.model.cfg.scale)
        c.commands.set_weights(path)
        c.shell.show_tab("compare")
        self.hub.info(f"Compare now uses {path.name}.")

    def _on_finished(self, outcome: str, message: str) -> None:
        self.last_message = message
        if message:
            self.log(message)
        if outcome in ("calibrated", "cancelled") or self.progress.format().startswith("quick calibrate"):
            self._run_bar(outcome)
        if outcome == "crashed":
            self.hub.error(message, TRAIN)
        elif outcome in ("finished", "stopped", "calibrated", "cancelled"):
            self.hub.info(message, TRAIN)
        self.eta_label.setText("paused" if self.runner.state == PAUSED else
                               {"finished": "done", "stopped": "stopped", "crashed": "failed",
                                "cancelled": "cancelled"}.get(outcome, ""))
        self._redraw_curves()  # the notes and legend of a run that ended
        self._sync_buttons()

    def _redraw_curves(self) -> None:
        c = self.curves
        if c.loss:
            it = np.asarray(c.loss_it, float)
            self.loss_raw.setData(it, np.maximum(np.asarray(c.loss), 1e-8))
            self.loss_smooth.setData(it, np.maximum(np.asarray(c.smoothed_loss()), 1e-8))
        else:
            self.loss_raw.setData([], [])
            self.loss_smooth.setData([], [])
        self.val_curve.setData(np.asarray(c.val_it, float), np.asarray(c.val_psnr, float))
        x1 = max([self.progress.maximum()] + c.val_it + c.loss_it[-1:])
        for name, value in c.refs.items():
            item = self.ref_items.get(name)
            if item is None:
                pen = pg.mkPen(REF_COLOURS.get(name, "#555555"), width=1.5, style=Qt.DashLine)
                item = self.ref_items[name] = self.val_plot.plot([], [], pen=pen)
            item.setData([0, x1], [value, value])
        self._sync_notes()
        self.set_val_title()

    def _sync_notes(self) -> None:
        c = self.curves
        ready = self.scan is not None and not self.scan.error
        empty = (WAITING if self.runner.training else CALIBRATING_NOTE if self.runner.state == CALIBRATING else
                 NO_RUN if not ready else
                 NO_RUN_CALIBRATED if self._calibrated and self.init_combo.currentData() == self._calibrated
                 else NO_RUN_READY)
        self.loss_note.set_text("" if c.loss else empty)
        self.val_note.set_text("" if c.val_psnr or c.refs else NO_VAL if self._run_validates is False else empty)

    def set_val_title(self) -> None:
        """The title with its legend on one line, or on two where one line is wider than the plot (pyqtgraph then
        made the whole plot wider than its widget: the right part of the curves and the legend were cut off)."""
        item = self.val_plot.getPlotItem()
        item.setTitle(self.val_title(), color=PLOT_FG, size="10pt")  # pyqtgraph: title row and label 30 px high
        one_line = item.titleLabel.item.boundingRect()
        if one_line.width() > self.val_plot.width() - 8:
            item.setTitle(self.val_title(wrap=True), color=PLOT_FG, size="10pt")
            height = 30 + item.titleLabel.item.boundingRect().height() - one_line.height()
            item.titleLabel.setMaximumHeight(height)  # the legend's second line pushes the plot down
            item.layout.setRowFixedHeight(0, height)
        # a wider title grew the plot past its widget and pyqtgraph only fits it back on a resize: fit it now
        item.setGeometry(self.val_plot.range)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.val_plot and ev.type() == QEvent.Resize:
            QTimer.singleShot(0, self, self.set_val_title)
        return False

    def val_title(self, wrap: bool = False) -> str:
        """The PSNR plot's title, with a legend line under it (never drawn over the curves); wrap: the
        reference lines on a line of their own."""
        c = self.curves
        if not c.val_psnr and not c.refs and (not self.runner.training or self._run_validates is False):
            return "Validation PSNR (dB)<br><span style='font-size:8pt'>&nbsp;</span>"
        parts = [f"<span style='color:{ADK_COLOUR}'>● ADK-Net"
                 + (f" {c.val_psnr[-1]:.2f}" if c.val_psnr else "") + "</span>"]
        for name in ("bicubic", "lstsq"):
            value = c.refs.get(name)
            text = f"{value:.2f}" if value is not None else "…"
            parts.append(f"<span style='color:{REF_COLOURS[name]}'>- - {REF_LABELS[name]} {text}</span>")
        if wrap:
            return ("Validation PSNR (dB)<br><span style='font-size:8pt'>" + parts[0] + "<br>"
                    + " &nbsp; ".join(parts[1:]) + "</span>")
        return "Validation PSNR (dB)<br><span style='font-size:8pt'>" + " &nbsp; ".join(parts) + "</span>"
