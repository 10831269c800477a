"""The dataset panel: the pairs table (sortable, filling in), the summary over the split, the split, Prev / Next,
progress with Cancel, and Copy / Export CSV of both tables. A thin view over a DatasetController."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QSplitter, QTableView, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from adkviewer.dataset.dataset_controller import DatasetController
from adkviewer.dataset.pairs_model import TRAINED_MARK, TRAINED_TIP, PairsModel, sorting_proxy
from adkviewer.gui.context import TabContext
from adkviewer.state.dataset_export import per_pair_csv, summary_csv, write_text
from adkviewer.state.metrics_export import SHORT_CONVENTION

SPLITS = ("val", "train", "all")
SUMMARY_HEADERS = ("method", "PSNR RGB (dB)", "PSNR Y (dB)", "SSIM", "pairs", "beaten by ADK-Net")


def _button(text: str, tip: str, slot, parent: QWidget) -> QPushButton:
    b = QPushButton(text, parent)
    b.setToolTip(tip)
    b.clicked.connect(lambda *_: slot())
    return b


class PairsPanel(QWidget):
    """Everything of the dataset view; built from the tabs' narrow context and the controller."""

    def __init__(self, ctx: TabContext, controller: DatasetController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.c = ctx, controller
        self.model = PairsModel(controller, self)
        self.proxy = sorting_proxy(self.model, self)

        self.folder_label = QLabel(controller.state.describe(), self)
        self.folder_label.setWordWrap(True)
        self.split_combo = QComboBox(self)
        self.split_combo.addItems(SPLITS)
        self.split_combo.setToolTip("Which pairs: the val or train list of split.json, or every pair")
        self.split_combo.activated.connect(lambda i: self.c.set_split(self.split_combo.itemText(i)))
        self.prev_button = _button("◀ Prev", "Previous pair (Page Up)", lambda: self.step(-1), self)
        self.next_button = _button("Next ▶", "Next pair (Page Down)", lambda: self.step(1), self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Split:", self))
        top.addWidget(self.split_combo)
        top.addStretch(1)
        top.addWidget(self.prev_button)
        top.addWidget(self.next_button)

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setFormat("no folder")  # until one opens (not "0 / 1 pairs")
        self.progress_bar.setValue(0)
        self.cancel_button = _button("Cancel", "Stop scoring (what is scored stays, and is cached)",
                                     self.c.cancel, self)
        self.cancel_button.setEnabled(False)
        prog = QHBoxLayout()
        prog.addWidget(self.progress_bar, 1)
        prog.addWidget(self.cancel_button)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.AscendingOrder)  # by name until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        # Fixed widths, fitted to the contents once a run ends: resizing to contents on every arriving pair
        # reads every cell each time (seconds for a 100-pair folder answered by the cache).
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(84)
        self.table.clicked.connect(self._on_clicked)
        self.table.activated.connect(self._on_clicked)

        self.summary = QTableWidget(0, len(SUMMARY_HEADERS), self)
        self.summary.setHorizontalHeaderLabels(SUMMARY_HEADERS)
        self.summary.verticalHeader().setVisible(False)
        self.summary.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.summary.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)  # scrolls, never cut
        self.summary.verticalHeader().setDefaultSectionSize(20)  # as the pairs table: more methods in sight
        self.summary_title = QLabel(self)
        self.summary_title.setWordWrap(True)

        # each table's Copy / Export under it: one row of all four made the dock too wide for a 1024-pixel window
        table_exports = QHBoxLayout()
        table_exports.addWidget(_button("Copy table", "The per-pair table as CSV, to the clipboard", self.copy_table,
                                        self))
        table_exports.addWidget(_button("Export table…", "The per-pair table as a CSV file", self.export_table, self))
        table_exports.addStretch(1)
        summary_exports = QHBoxLayout()
        summary_exports.addWidget(_button("Copy summary", "The summary as CSV, to the clipboard", self.copy_summary,
                                          self))
        summary_exports.addWidget(_button("Export summary…", "The summary as a CSV file", self.export_summary, self))
        summary_exports.addStretch(1)

        upper = QWidget(self)
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.table, 1)
        ul.addLayout(table_exports)
        lower = QWidget(self)
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.summary_title)
        ll.addWidget(self.summary, 1)
        ll.addLayout(summary_exports)
        self.splitter = QSplitter(Qt.Vertical, self)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.folder_label)
        lay.addLayout(top)
        lay.addLayout(prog)
        lay.addWidget(self.splitter, 1)

        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(150)  # a burst of pairs (the cache's) redraws the summary once
        self._summary_timer.timeout.connect(self.update_summary)
        controller.opened.connect(self._on_opened)
        controller.scored.connect(lambda _name: self._summary_timer.start())
        controller.progress.connect(self._on_progress)
        controller.busyChanged.connect(self._on_busy)
        controller.current.connect(self._select_row)
        self._on_opened()

    # ------------------------------------------------------------------ updates

    def _on_opened(self) -> None:
        st = self.c.state
        self.folder_label.setText(st.describe())
        self.split_combo.blockSignals(True)
        if self.split_combo.findText(st.split) < 0:
            self.split_combo.addItem(st.split)  # a split .json given on the command line
        self.split_combo.setCurrentText(st.split)
        self.split_combo.blockSignals(False)
        self.progress_bar.setRange(0, max(1, len(st.usable)))
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v / %m pairs" if st.folder else "no folder")
        self.update_summary()
        QTimer.singleShot(0, self._fit_split)

    def _fit_split(self) -> None:
        """A folder of a few pairs leaves the pairs table no taller than its rows: the rest goes to the summary,
        which a 700-px window otherwise showed three methods of."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        t = self.table
        rows = self.proxy.rowCount()
        need = (t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 2 * t.frameWidth()
                + t.horizontalScrollBar().sizeHint().height() + self.splitter.widget(0).layout().spacing()
                + self.splitter.widget(0).layout().itemAt(1).sizeHint().height() + 4)
        upper = min(max(need, 3 * total // 10), 3 * total // 5)  # never less than 3/10, never more than 3/5
        self.splitter.setSizes([upper, total - upper])

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"%v / %m pairs · {text}" if text else "%v / %m pairs")
        if text in ("done", "cancelled", "stopped"):
            self._summary_timer.start()
            self.table.resizeColumnsToContents()

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)

    def update_summary(self) -> None:
        """Means per method over the pairs scored so far (all of them once the bar is full)."""
        st, methods = self.c.state, self.model.methods or self.c.methods()
        means, beaten = st.summary(methods), st.beaten(methods)
        shown = [m for m in methods if m in means]
        self.summary.setRowCount(len(shown))
        for i, m in enumerate(shown):
            v = means[m]
            k, n = beaten.get(m, (None, None))
            trained = sum(1 for r in st.usable if r.name in st.scores and m in st.scores[r.name]
                          and self.c.trained(m, r.name))
            label = self.ctx.session.label(m) + (f" {TRAINED_MARK}" if trained else "")
            cells = [label, f"{v['psnr']:.2f}", f"{v['psnr_y']:.2f}", f"{v['ssim']:.4f}", str(int(v["pairs"])),
                     "—" if k is None else f"{k} of {n}"]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if trained:
                    item.setToolTip(f"{TRAINED_TIP} ({trained} of the {int(v['pairs'])} pairs)")
                self.summary.setItem(i, j, item)
        failed = st.failed()
        where = (f"{st.split} split, x{st.scale}, {st.scored() - failed} of {len(st.usable)} pairs scored"
                 + (f", {failed} failed" if failed else "")) if st.folder else ""
        shipped = "lstsq" in shown and st.shipped_lstsq_note(self.ctx.session.lstsq_paths.get(st.scale))
        fit_it = f" {shipped} (File → Fit a least-squares kernel from a pairs folder…)." if shipped else ""
        # the short form of the convention, as the Compare tab's metrics heading; the sentence in full on hover
        self.summary_title.setText(f"<b>Summary</b> ({where}). <span style='color:gray'>{SHORT_CONVENTION}."
                                   f"</span>{fit_it}" if where else "")
        self.summary_title.setToolTip(f"{st.convention()}." if where else "")

    def _select_row(self, source_row: int) -> None:
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def _on_clicked(self, index) -> None:
        self.c.open_row(self.proxy.mapToSource(index).row())

    # ------------------------------------------------------------------ navigation, exports

    def order(self) -> list[int]:
        """Source rows in the order the table shows them (sorted or not)."""
        return [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount())]

    def step(self, delta: int) -> bool:
        return self.c.step(delta, self.order())

    def all_shown(self) -> bool:
        """Every pair scored by every method (for --screenshot)."""
        return self.c.state.folder is None or self.c.complete()

    def table_csv(self) -> str:
        return per_pair_csv(self.c.state, self.model.methods, self.ctx.session.label, self.c.trained)

    def summary_text(self) -> str:
        return summary_csv(self.c.state, self.model.methods, self.ctx.session.label)

    def copy_table(self) -> None:
        QApplication.clipboard().setText(self.table_csv())
        self.ctx.hub.info("Copied the per-pair table (CSV).")

    def copy_summary(self) -> None:
        QApplication.clipboard().setText(self.summary_text())
        self.ctx.hub.info("Copied the dataset summary (CSV).")

    def _name(self, what: str) -> str:
        st = self.c.state
        return f"{st.folder.name if st.folder else 'pairs'}-{st.split}-{what}.csv".replace("/", "_")

    def export_table(self) -> None:
        text = self.table_csv()
        self.ctx.shell.save_dialog("Export the per-pair table", self._name("pairs"), "CSV files (*.csv)",
                                   lambda path: write_text(path, text))

    def export_summary(self) -> None:
        text = self.summary_text()
        self.ctx.shell.save_dialog("Export the dataset summary", self._name("summary"), "CSV files (*.csv)",
                                   lambda path: write_text(path, text))
