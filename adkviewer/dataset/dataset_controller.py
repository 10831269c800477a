"""The dataset view's controller: opens a pairs folder, scores it on its own JobQueue, opens pairs in the tabs.

It stands on the tabs' narrow context (session, hub, commands), never on the window. A scoring run is tagged
with the session's `generation.methods` (the one staleness key): when the methods change (other weights, an
added method, another fit, device) the folder is scored again, which the cache makes cheap for the unchanged.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from adk_model.errors import UserError

from adkviewer.gui.context import TabContext
from adkviewer.gui.jobs import JobQueue
from adkviewer.state.dataset import DatasetState
from adkviewer.state.dataset_scoring import MethodsSpec, ScoreCache, ScoringRun, score_rows, spec_from_session
from adkviewer.state.messages import IMAGE
from adkviewer.state.model_info import trained_on

DATASET = "dataset"  # message scope: a new folder supersedes what was said about the previous one


class DatasetController(QObject):
    """State + scoring + navigation of the dataset view; views listen to its signals."""

    opened = Signal()                 # a folder (or split) was opened: rows changed
    scored = Signal(str)              # a pair's scores arrived (its name)
    progress = Signal(int, int, str)  # done, total, text
    busyChanged = Signal(bool)
    current = Signal(int)             # the row opened in the tabs

    def __init__(self, ctx: TabContext, parent: QObject | None = None, cache: ScoreCache | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session, self.hub, self.commands = ctx, ctx.session, ctx.hub, ctx.commands
        self.state = DatasetState()
        self.cache = cache or ScoreCache()
        self.queue = JobQueue(self, threads=1)
        self.spec: MethodsSpec | None = None
        self._trained: dict[tuple[str, str], bool] = {}
        self._job = None
        self._run_generation = None
        self._opening, self._pending = False, None
        for sig in (self.hub.methodsChanged, self.hub.weightsChanged, self.hub.resultsCleared):
            sig.connect(self._maybe_rescore)

    # ------------------------------------------------------------------ opening and scoring

    @property
    def busy(self) -> bool:
        return self._job is not None

    def open_folder(self, folder: str | Path, split: str | None = None) -> bool:
        """Open a pairs folder (and split); the table fills in as pairs are scored. A problem is one message."""
        self.hub.supersede(DATASET)
        try:
            self.state.open(folder, split)
        except UserError as e:
            self.hub.error(str(e), DATASET)
            return False
        bad = len(self.state.rows) - len(self.state.usable)
        if bad:
            self.hub.warning(f"{self.state.describe()}: " + "; ".join(
                f"{r.name}: {r.problem}" for r in self.state.rows if not r.ok)[:600], DATASET)
        self.rescore()
        return True

    def set_split(self, split: str) -> bool:
        if self.state.folder is None or split == self.state.split:
            return False
        return self.open_folder(self.state.folder, split)

    def rescore(self) -> None:
        """Score every pair with every method the session knows (the cache answers what it holds)."""
        self.cancel()
        st = self.state
        if st.folder is None:
            return
        st.restart()
        self.spec = spec_from_session(self.session, st.scale)
        self._trained = {}
        self._run_generation = self.session.generation.methods
        self.opened.emit()
        if not st.usable:
            return
        run = ScoringRun(st.token, [(r.info, st.names_of(r)) for r in st.usable],
                         list(st.pairs.train if st.pairs else []), str(st.folder), self.spec, self.cache)
        total = len(run.rows)
        self.progress.emit(st.scored(), total, "scoring…")
        self._job = self.queue.submit(lambda job: score_rows(run, job.cancelled, job.progress),
                                      lambda result, error, job_token=st.token: self._done(job_token, error),
                                      self._on_progress)
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self.busyChanged.emit(False)
            self.progress.emit(self.state.scored(), len(self.state.usable), "cancelled")

    def _maybe_rescore(self) -> None:
        """The methods changed (not only the open image): score again, in a moment (one run for a burst)."""
        if self.state.folder is not None and self.session.generation.methods != self._run_generation:
            QTimer.singleShot(0, self._rescore_if_stale)

    def _rescore_if_stale(self) -> None:
        if self.session.generation.methods != self._run_generation or (
                self.spec is not None and set(self.spec.methods) != set(self.session.known_methods())):
            self.rescore()

    def _on_progress(self, kind: str, *args) -> None:
        st = self.state
        if kind == "fit":
            i, n = args
            self.progress.emit(st.scored(), len(st.usable), f"fitting the least-squares kernel on the train "
                                                            f"split, pair {i + 1} of {n}…")
        elif kind == "pair":
            token, name, scores, problems = args
            if st.add_scores(token, name, scores, problems):
                self.scored.emit(name)
                self.progress.emit(st.scored(), len(st.usable), "scoring…")

    def _done(self, token: int, error: BaseException | None) -> None:
        if token != self.state.token or self._job is None:
            return  # an older run (another folder, or cancelled)
        self._job = None
        self.busyChanged.emit(False)
        if error is not None and not isinstance(error, InterruptedError):
            self.hub.error(f"Scoring the pairs stopped: {error}", DATASET)
        done = self.state.scored()
        self.progress.emit(done, len(self.state.usable), "done" if error is None else "stopped")

    def complete(self) -> bool:
        return self.spec is not None and not self.busy and self.state.complete(self.spec.methods)

    # ------------------------------------------------------------------ which model trained on a pair

    def trained(self, method: str, pair: str) -> bool:
        """Whether the model of an ADK-Net method lists this pair among its training pairs (not a test score)."""
        if self.spec is None:
            return False
        key = (method, pair)
        if key not in self._trained:  # asked for every cell painted: the card is read once per run
            path = self.spec.weights if method == "adknet" else None
            extra = self.spec.extra_map.get(method)
            if extra is not None and extra.is_adknet:
                path = extra.path
            self._trained[key] = bool(path) and trained_on(path, pair)
        return self._trained[key]

    def methods(self) -> tuple[str, ...]:
        return self.spec.methods if self.spec is not None else tuple(self.session.known_methods())

    # ------------------------------------------------------------------ stepping through the pairs

    def open_row(self, index: int) -> bool:
        """Open a usable row's pair (HR, its LR as ground truth) in every tab; a request made while one opens
        waits and the newest wins, so holding Page Down never queues a backlog."""
        if self._opening:
            self._pending = index
            return True
        row = self.state.go_to(index)
        if row is None or row.info is None:
            return False
        self._opening = True
        try:
            ok = self.commands.open_image(row.info.hr_path, row.info.lr_path, scale=self.state.scale,
                                          pair_name=row.name)
        finally:
            self._opening = False
        self.current.emit(index)
        if ok:
            self.hub.info(f"Pair {row.name} ({self.position(index)})", IMAGE)
        pending, self._pending = self._pending, None
        if pending is not None and pending != index:
            return self.open_row(pending)
        return ok

    def position(self, index: int) -> str:
        usable = [i for i, r in enumerate(self.state.rows) if r.ok]
        return f"{usable.index(index) + 1} of {len(usable)}" if index in usable else ""

    def step(self, delta: int, order: list[int] | None = None) -> bool:
        """The next (+1) / previous (-1) pair in the table's order; at either end, a message."""
        st = self.state
        if st.folder is None:
            self.hub.info("No pairs folder is open (File → Open pairs folder…).")
            return False
        target = st.neighbour(order if order is not None else range(len(st.rows)), delta, start=self._pending)
        if target is None:
            self.hub.info("That was the last pair." if delta > 0 else "That was the first pair.")
            return False
        return self.open_row(target)
