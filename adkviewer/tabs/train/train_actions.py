"""What the buttons do: start, pause, stop, resume, quick calibrate, use in Compare, export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from adk_model.errors import UserError
from adk_model.train import TrainConfig, read_checkpoint

from adkviewer.state.messages import PAIRS, TRAIN
from adkviewer.tabs.train.train_runner import CALIBRATING, IDLE, PAUSED, PAUSING
from adkviewer.tabs.train.train_state import TrainSettings
from adkviewer.tabs.train.train_widgets import no_val_text
from adkviewer.gui.jobs import run_off_gui_thread


class TrainActions:
    """A part of TrainTab (its attributes are the tab's own)."""

    def _check_ready(self) -> TrainSettings | None:
        scan = self.rescan()
        if scan is None:
            self.hub.error("Choose a pairs folder first (a folder with HR/ and LR/, or RealSR-named pairs).", PAIRS)
            return None
        if scan.error:
            self.hub.error(scan.error, PAIRS)
            return None
        self.remembered_form().save(self.settings)
        return self.form()  # as scanned: a folder without split.json validates on the fraction it shows

    def _begin(self) -> TrainSettings | None:
        """A new run or calibration: nothing while one is busy; the previous one's messages go; the form checked."""
        if self.runner.busy:
            return None
        self.hub.supersede(TRAIN)
        return self._check_ready()

    def start(self) -> None:
        """Start a run with the form's settings ("Start from" may name the model just calibrated)."""
        s = self._begin()
        if s is None:
            return
        if self.scan.no_val and not self.ask_train_without_validation(no_val_text(self.scan.no_val)):
            self.log("not started: no validation pairs")
            return
        try:
            cfg = s.to_config(s.run_dir())
            self._reset_run_view(cfg.iterations)
            self.log(f"run folder: {cfg.out}")
            self.runner.start(cfg)
        except UserError as e:
            self.hub.error(str(e), TRAIN)

    def toggle_pause(self) -> None:
        if self.runner.state in (PAUSING, PAUSED):
            self.eta.reset()
            self.runner.resume()
        else:
            self.runner.pause()

    def stop(self) -> None:
        """Stop the run, or (the button reads Cancel then) quick calibrate."""
        if self.runner.state == CALIBRATING:
            self.runner.cancel_calibration()
        else:
            self.runner.stop()

    def resume_dialog(self) -> None:
        start = self.settings.get_str("train/last_run", "") or self.out_edit.text()
        path, _ = QFileDialog.getOpenFileName(self, "Resume from a checkpoint", start,
                                              "Checkpoints (checkpoint_*.pt *.pt);;All files (*)")
        if path:
            self.resume_from(path)

    def resume_from(self, path: str | Path) -> bool:
        """Continue a run from its checkpoint (its own settings and run folder), e.g. after a restart."""
        if self.runner.busy:
            return False
        self.hub.supersede(TRAIN)  # a new run: the previous one's messages go
        try:
            ckpt = run_off_gui_thread(lambda: read_checkpoint(path))
            cfg = TrainConfig.from_dict(ckpt["train_config"])
        except UserError as e:
            self.hub.error(str(e), TRAIN)
            return False
        self.set_form(TrainSettings.from_config(cfg))
        self._reset_run_view(cfg.iterations)
        self.log(f"resuming {path} at iteration {int(ckpt['iteration'])} of {cfg.iterations}")
        try:
            self.runner.start(resume=str(path))
        except UserError as e:
            self.hub.error(str(e), TRAIN)
            return False
        return True

    def quick_calibrate(self) -> None:
        """Quick calibrate the current model (trained or calibrated, same pairs), else a new one."""
        s = self._begin()
        if s is None:
            return
        t = self.runner.trainer
        # the current model, unless "Start from" now names another one (neither its start nor what it became)
        keep = t is not None and t.model is not None and t.cfg.pairs == s.pairs and t.cfg.scale == s.scale \
            and t.cfg.split == s.split_string() and s.init in (t.cfg.init, self._calibrated)
        try:
            if keep:
                self.log(f"quick calibrate of the current model (iteration {t.iteration}, started from "
                         f"{self.init_combo.currentText()})")
                self.runner.calibrate(per_camera=s.per_camera)
            else:
                self._reset_run_view(s.iterations)
                cfg = s.to_config(s.run_dir())
                cfg.calibrate_first = False  # "before" is the model as it starts; calibrate() then fits the head
                self.runner.calibrate(cfg, s.per_camera)
            self.progress.setRange(0, 0)  # busy until the first stage reports its pairs
            self.progress.setFormat("loading pairs…" if not keep else "calibrating…")
        except UserError as e:
            self.hub.error(str(e), TRAIN)

    def _model_tag(self) -> tuple[str, str]:
        """(file stem, card name) for the current model: what it was trained on and how far."""
        t = self.runner.trainer
        cfg = t.cfg
        pairs = Path(cfg.pairs).name or "pairs"
        how = f"ft{t.iteration}" if t.iteration else "init"
        if self.runner.calibration is not None:
            how += "-cal"
        name = f"{pairs} {'fine-tuned' if cfg.init != 'scratch' else 'trained'} {t.iteration} it" + (
            ", calibrated" if self.runner.calibration is not None else "")
        if not t.iteration:
            name = f"{pairs} calibrated" if self.runner.calibration is not None else f"{pairs} (untrained)"
        elif t.finished:  # what a finished run hands over (decided when it finished: Trainer.export_choice)
            choice = t.export_choice()
            verb = "fine-tuned" if cfg.init != "scratch" else "trained"
            if choice.which == "halfway":
                how, name = f"ft{t.iteration}-halfway{choice.iteration}", (
                    f"{pairs} {verb}, halfway to it {choice.iteration} of {t.iteration}")
            elif choice.which != "last" and choice.iteration == 0:
                how, name = f"ft{t.iteration}-start", f"{pairs}: start kept (no iteration beat it)"
            elif choice.which != "last":
                how, name = f"ft{t.iteration}-best{choice.iteration}", (
                    f"{pairs} {verb}, best it {choice.iteration} of {t.iteration}")
        mc = t.model.cfg
        return f"adknet_x{mc.scale}_{pairs}_{how}", name

    def use_in_compare(self) -> None:
        """Save the current model into its run folder and switch the Compare tab to it at once."""
        t = self.runner.trainer
        if not self.runner.can_export:
            return
        stem, name = self._model_tag()
        try:
            self.runner.export(Path(t.cfg.out) / f"{stem}.safetensors", "compare", {"name": name})
        except UserError as e:
            self.hub.error(str(e), TRAIN)

    def best_weights(self) -> Path | None:
        """The run's best validated weights when they differ from the model as it is now (else None)."""
        t = self.runner.trainer
        if t is None or not t.best or t.best.get("it") == t.iteration or not t.best_weights_path().is_file():
            return None
        return t.best_weights_path()

    def use_best_in_compare(self) -> None:
        """Switch Compare to the weights of the best validation PSNR (a run can end past its best)."""
        path = self.best_weights()
        if path is not None and self.runner.state in (IDLE, PAUSED):
            self._switch_compare(path)

    def export_dialog(self) -> None:
        t = self.runner.trainer
        if not self.runner.can_export:
            return
        stem, name = self._model_tag()
        path, _ = QFileDialog.getSaveFileName(self, "Export the model", str(Path(t.cfg.out) / f"{stem}.safetensors"),
                                              "ADK-Net weights (*.safetensors)")
        if path:
            self.export_to(path, name)

    def export_to(self, path: str | Path, name: str | None = None, score: bool = True) -> None:
        """Write safetensors plus a model card; `score` adds every method's validation metrics to the card."""
        path = Path(path)
        if path.suffix.lower() != ".safetensors":
            path = path.with_suffix(".safetensors")
        try:
            self.runner.export(path, "export", {"name": name or path.stem}, score=score)
        except UserError as e:
            self.hub.error(str(e), TRAIN)

