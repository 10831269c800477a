"""The Train tab: fine-tune ADK-Net on a person's own HR/LR pairs, with live curves, pause/resume and export.

A thin view. The form's values live in `train_state.TrainSettings` (Qt-free), the pairs table comes from
`train_state.scan_pairs`, and all the work (training, quick calibrate, export) is done by the one engine in
`adk_model.train`, run off the GUI thread by `train_runner.TrainRunner`. The class is assembled from one part per job:
train_layout (widgets), train_form (form and pairs), train_actions (buttons), train_progress (runner signals,
curves); train_widgets holds the small widgets and texts they share, train_calibrate quick calibrate's stages.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from adkviewer.gui.context import TabContext
from adkviewer.state.messages import PAIRS
from adkviewer.tabs.train.train_runner import TrainRunner
from adkviewer.tabs.train.train_state import Curves, Eta, PairScan, TrainSettings
from adkviewer.tabs.train.train_actions import TrainActions
from adkviewer.tabs.train.train_form import TrainForm
from adkviewer.tabs.train.train_layout import TrainLayout
from adkviewer.tabs.train.train_progress import TrainProgress


class TrainTab(TrainLayout, TrainForm, TrainActions, TrainProgress, QWidget):
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
            return True
        if r.training or r.exporting_paused:
            it = r.trainer.iteration if r.trainer is not None else 0
            if not self.ask(f"Training is at iteration {it}. Stop it, save a checkpoint and close? "
                            "“Resume from checkpoint…” continues it later."):
                return False
            self.ctx.shell.show_status("Stopping training and saving a checkpoint…")
        r.shutdown()
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

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(1280, 760)
