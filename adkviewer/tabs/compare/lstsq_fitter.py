"""Compare's "fit a least-squares kernel from a pairs folder": where no fit ships (×2, ×3) the baseline can still be
shown. The fit (`adk_model.lstsq_pairs`, the engine behind `adkviewer fit-lstsq`) runs as a JobQueue job with progress
and Cancel; the file goes to the runs folder and is remembered for its scale."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from adk_model.errors import UserError
from adk_model.lstsq_pairs import fit_on_folder, save_new_fit
from adk_model.train_config import default_runs_root

from adkviewer.gui.context import TabContext
from adkviewer.gui.jobs import Job, JobQueue
from adkviewer.state.messages import FIT
from adkviewer.widgets.side_panel import tool_button

FIT_FOLDER = "lstsq"  # inside the runs folder (~/adkviewer-runs)


class LstsqFitter(QWidget):
    """A link while the scale has no fit, then a progress bar with Cancel while one is fitted."""

    def __init__(self, ctx: TabContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.jobs = JobQueue(self)
        self.job: Job | None = None
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.linkActivated.connect(lambda _l: self.ask_folder())
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(True)
        self.cancel_button = tool_button(self, "Cancel", "Stop fitting; nothing is saved", self.cancel)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.note)
        lay.addLayout(row)
        self.sync()

    @property
    def busy(self) -> bool:
        return self.job is not None

    def sync(self) -> None:
        """Show the link when the shown scale has no fit, the progress while fitting, else nothing."""
        s = self.ctx.session
        fitting = self.busy
        missing = s.hr_full is not None and "lstsq" in s.methods and s.lstsq_path() is None
        if not fitting:
            self.note.setText(f"<span style='color:#b05000'>No least-squares fit for ×{s.scale}.</span> "
                              "<a href='fit'>Fit one from a pairs folder…</a>")
            self.note.setToolTip(f"Fits the global {4 * s.scale}×{4 * s.scale} kernel in closed form on ×{s.scale} "
                                 "pairs (split.json's train list, else every pair), as 'adkviewer fit-lstsq' does")
        self.note.setVisible(missing or fitting)
        self.bar.setVisible(fitting)
        self.cancel_button.setVisible(fitting)
        self.setVisible(missing or fitting)

    def ask_folder(self) -> None:
        start = self.ctx.settings.get_str("folders/lstsq_pairs", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, f"Pairs for a ×{self.ctx.session.scale} least-squares fit "
                                                "(HR/ and LR/, or RealSR names)", start)
        if path:
            self.ctx.settings.set("folders/lstsq_pairs", str(Path(path).parent))
            self.fit_from(path)

    def fit_from(self, folder: str | Path) -> None:
        """Fit at the current scale on the pairs in `folder`, off the GUI thread; its result is used at once."""
        if self.busy:
            return
        hub, scale, folder = self.ctx.hub, self.ctx.session.scale, Path(folder)
        hub.supersede(FIT)
        self.note.setText(f"Fitting the ×{scale} least-squares kernel on {folder.name}…")
        self.bar.setRange(0, 0)
        self.bar.setFormat("reading the pairs…")

        def work(job: Job) -> Path:
            fit = fit_on_folder(folder, scale, cancelled=job.cancelled, progress=job.progress)
            if job.cancelled():
                raise InterruptedError("fit cancelled")
            return save_new_fit(fit, default_runs_root() / FIT_FOLDER, folder.name)

        def done(path: Path | None, error: BaseException | None) -> None:
            self.job = None
            if isinstance(error, InterruptedError):
                hub.info(f"Least-squares fit on {folder.name} cancelled; nothing was saved.", FIT)
            elif isinstance(error, UserError):
                hub.error(str(error), FIT)
            elif error is not None:
                hub.error(f"The least-squares fit failed: {type(error).__name__}: {error}", FIT)
            else:
                self.ctx.commands.set_lstsq(scale, path)
                hub.info(f"Least-squares kernel for ×{scale} fitted on {folder.name}, saved as {path}.", FIT)
            self.sync()

        self.job = self.jobs.submit(work, done, progress=self._on_progress)
        self.sync()

    def _on_progress(self, done: int, total: int) -> None:
        if self.job is None:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.bar.setFormat(f"pair {done}/{total}")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.bar.setFormat("cancelling…")

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait (the window closes)."""
        self.cancel()
        self.jobs.wait(timeout_ms)

