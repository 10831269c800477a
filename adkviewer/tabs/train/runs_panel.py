"""The Train tab's list of the runs in its output folder: a table to tick runs for the curve overlay and to open
a run's model in Compare. Listing reads checkpoints, so it runs off the GUI thread (JobQueue)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)
from superqt import QElidingLabel

from adk_model.errors import UserError
from adk_model.runs import RunInfo, list_runs

from adkviewer.gui.jobs import JobQueue

# What a run is judged by comes first, so a narrow pane shows it before the fold; the rest scrolls sideways
RUN_COLUMNS = ("Overlay", "Run", "Best val", "Last val", "Iterations", "Pairs", "Init", "Date")  # PSNR, dB
INIT = RUN_COLUMNS.index("Init")
INIT_MAX_PX = 200  # a weights-file start is a long path: elided in the middle, whole in the tooltip
LISTING = "Listing the runs…"


def _psnr(psnr: float | None, it: int | None) -> str:
    return "–" if psnr is None else f"{psnr:.2f} dB" + (f" (it {it})" if it is not None else "")


class RunsPanel(QWidget):
    """Runs of `folder()`: ticked ones go out by `overlaysChanged(list[RunInfo])`, Open by `openRequested(run)`."""

    overlaysChanged = Signal(list)
    openRequested = Signal(object)

    def __init__(self, folder: Callable[[], str], current: Callable[[], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder, self.current = folder, current  # the output folder; the tab's run folder ("" when none)
        self.runs: list[RunInfo] = []
        self.queue = JobQueue(self)
        self._asked = 0           # a newer listing makes the answer of an older one stale
        self.listing = False      # a listing is on its way
        self._ticked: set[str] = set()  # run folders ticked, kept across listings
        self.title = QElidingLabel("Runs", self)
        self.title.setStyleSheet("font-weight:bold;")
        self.refresh_button = QToolButton(self)
        self.refresh_button.setText("Refresh")
        self.refresh_button.setToolTip("List the runs in the output folder again")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button = QPushButton("Open in Compare", self)
        self.open_button.setToolTip("Show the selected run's model in Compare beside the main ADK-Net")
        self.open_button.clicked.connect(self.open_selected)
        self.table = QTableWidget(0, len(RUN_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        for c in range(len(RUN_COLUMNS)):  # a narrow pane scrolls sideways rather than eliding the names
            hh.setSectionResizeMode(c, QHeaderView.Interactive if c == INIT else QHeaderView.ResizeToContents)
        hh.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.horizontalHeaderItem(RUN_COLUMNS.index("Best val")).setToolTip(
            "Best validation PSNR (RGB) and its iteration")
        self.table.horizontalHeaderItem(RUN_COLUMNS.index("Last val")).setToolTip(
            "Validation PSNR (RGB) at the run's last validation")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._sync)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.note = QLabel(self)  # the selected run's missing fields, or why the list is empty
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#6c5200;")
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.open_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.note)
        self._later = QTimer(self)  # the output folder typed: list once the typing stops
        self._later.setSingleShot(True)
        self._later.setInterval(400)
        self._later.timeout.connect(self.refresh)
        self._sync()

    # ------------------------------------------------------------------ listing
    def refresh_soon(self) -> None:
        self._later.start()

    def refresh(self) -> None:
        """List the runs of the output folder off the GUI thread; the table fills when they are read."""
        self._asked += 1
        asked, folder = self._asked, self.folder()
        self.listing = True
        self.title.setText(f"Runs in {folder}")
        self.note.setText(LISTING)
        self.queue.submit(lambda job: list_runs(folder), lambda runs, error: self._listed(asked, runs, error))

    def _listed(self, asked: int, runs: list[RunInfo] | None, error: BaseException | None) -> None:
        if asked != self._asked:
            return
        self.listing = False
        if error is not None and not isinstance(error, UserError):
            error = UserError(f"The runs could not be listed ({error}).")
        self.runs = runs or []
        self._fill()
        self.note.setText(str(error) if error else "" if self.runs else "No training runs in this folder yet.")
        self.overlaysChanged.emit(self.overlaid())

    def _fill(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            tick = QTableWidgetItem()
            curves = bool(run.loss or run.val_psnr)
            if curves:
                tick.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                tick.setCheckState(Qt.Checked if str(run.folder) in self._ticked else Qt.Unchecked)
                tick.setToolTip("Draw this run's loss and validation PSNR over the current run's plots")
            else:
                tick.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                tick.setToolTip("No curves to draw: " + (run.problem or "; ".join(run.missing) or
                                                         f"no training step was made ({run.exported or 'no export'})"))
            name = run.name + ("  (this run)" if self._is_current(run) else "")
            cells = [name, _psnr(run.best_psnr, run.best_it), _psnr(run.last_psnr, run.last_it),
                     run.iterations_text, run.pairs_text, run.init, run.date]
            if run.problem:
                cells = [run.name, "unreadable", run.problem]
            for col, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                exported = [f"exported: {run.exported}"] if run.exported else []
                said = [run.problem] if run.problem else exported + run.missing
                item.setToolTip("\n".join([*([f"init: {text}"] if col == INIT else []), str(run.folder), *said]))
                if run.problem:
                    item.setForeground(QBrush(QColor("#a33")))
                self.table.setItem(row, col, item)
            if run.problem:
                self.table.setSpan(row, 3, 1, len(RUN_COLUMNS) - 3)
            self.table.setItem(row, 0, tick)
        self.table.resizeColumnToContents(INIT)
        self.table.setColumnWidth(INIT, min(self.table.columnWidth(INIT), INIT_MAX_PX))
        self.table.blockSignals(False)
        self._sync()

    def _is_current(self, run: RunInfo) -> bool:
        current = self.current()
        return bool(current) and Path(current).resolve() == run.folder.resolve()

    # ------------------------------------------------------------------ overlay and open
    def overlaid(self) -> list[RunInfo]:
        return [r for r in self.runs if str(r.folder) in self._ticked and (r.loss or r.val_psnr)]

    def set_overlaid(self, run: RunInfo, on: bool) -> None:
        """Tick or untick a run's overlay (as a click on its box does)."""
        self.table.item(self.runs.index(run), 0).setCheckState(Qt.Checked if on else Qt.Unchecked)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or not item.flags() & Qt.ItemIsUserCheckable:
            return
        key = str(self.runs[item.row()].folder)
        (self._ticked.add if item.checkState() == Qt.Checked else self._ticked.discard)(key)
        self.overlaysChanged.emit(self.overlaid())

    def selected(self) -> RunInfo | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.runs[rows.pop()] if len(rows) == 1 else None

    def select(self, run: RunInfo) -> None:
        self.table.selectRow(self.runs.index(run))

    def open_selected(self) -> None:
        run = self.selected()
        if run is not None and run.weights is not None:
            self.openRequested.emit(run)

    def _sync(self) -> None:
        run = self.selected()
        self.open_button.setEnabled(run is not None and run.weights is not None)
        if run is not None:
            self.open_button.setToolTip(f"Show {run.weights.name} of {run.name} in Compare beside the main ADK-Net"
                                        if run.weights else "This run has no weights file yet")
            lines = [run.problem] if run.problem else [f"missing: {m}" for m in run.missing]
            self.note.setText(f"{run.name}: " + "; ".join(lines) if lines else "")
