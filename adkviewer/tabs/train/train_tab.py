"""The Train tab: fine-tune ADK-Net on a person's own HR/LR pairs, with live curves, pause/resume and export.

A thin view. The form's values live in `train_state.TrainSettings` (Qt-free), the pairs table comes from
`train_state.scan_pairs`, and all the work (training, quick calibrate, export) is done by the one engine in
`model.train`, run off the GUI thread by `train_runner.TrainRunner`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QFrame, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QProgressBar, QPushButton, QRadioButton, QScrollArea, QSizePolicy,
                               QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from superqt import QElidingLabel

from model.devices import available_devices
from model.errors import UserError
from model.train import TrainConfig, read_checkpoint
from model.weights import shipped_weights
from model.methods import SHORT_LABELS

from adkviewer.gui.context import TabContext
from adkviewer.state import weights_registry
from adkviewer.widgets.log_view import LogView
from adkviewer.state.messages import PAIRS, TRAIN
from adkviewer.state.session import SCALES, display_uint8
from adkviewer.tabs.train.train_runner import CALIBRATING, EXPORTING, IDLE, PAUSED, RUNNING, STARTING, STOPPING, TrainRunner
from adkviewer.tabs.train.train_state import (DEVICES, FINE_TUNE_DEFAULTS, PRESETS, SCRATCH_DEFAULTS, SPLIT_FILE, SPLIT_FRACTION,
                          Curves, Eta, PairScan, TrainSettings, format_duration, scan_pairs)
from adkviewer.gui.workers import run_off_gui_thread

PLOT_BG, PLOT_FG = "#ffffff", "#333333"
ADK_COLOUR = "#d95f02"
REF_COLOURS = {"bicubic": "#2e7d32", "lstsq": "#7b1fa2"}
REF_LABELS = {m: SHORT_LABELS[m] for m in ("bicubic", "lstsq")}
PAIR_COLUMNS = ("Pair", "Use", "HR", "LR", "Status")
NO_RUN = "No run yet: choose a pairs folder and press Start"
WAITING = "Waiting for the first values…"
STATE_TEXT = {IDLE: "", STARTING: "Loading the pairs…", RUNNING: "Training", PAUSED: "Paused", STOPPING:
              "Stopping (saving a checkpoint)…", CALIBRATING: "Quick calibrate…", EXPORTING: "Exporting…"}


class PreviewImage(QLabel):
    """An LR image shown whole, scaled with square pixels (no smoothing), with a caption above it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._arr: np.ndarray | None = None
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(80, 60)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.setStyleSheet("background:#1e1e1e; color:#bbbbbb;")

    def set_array(self, arr: np.ndarray | None) -> None:
        self._arr = None if arr is None else np.ascontiguousarray(display_uint8(arr))
        self._render()

    @property
    def array(self) -> np.ndarray | None:
        return self._arr

    def _render(self) -> None:
        if self._arr is None:
            self.setPixmap(QPixmap())
            return
        h, w = self._arr.shape[:2]
        img = QImage(self._arr.data, w, h, 3 * w, QImage.Format_RGB888).copy()
        size = self.contentsRect().size()
        f = min(size.width() / w, size.height() / h)
        if f >= 3:
            f = float(np.floor(f))  # whole-number zoom keeps pixels square once they are big enough to see
        self.setPixmap(QPixmap.fromImage(img).scaled(max(1, int(w * f)), max(1, int(h * f)), Qt.KeepAspectRatio,
                                                     Qt.FastTransformation))

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._render()


def _group(title: str, parent: QWidget) -> tuple[QGroupBox, QVBoxLayout]:
    box = QGroupBox(title, parent)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(6, 4, 6, 6)
    lay.setSpacing(4)
    return box, lay


def _path_row(parent: QWidget, tooltip: str,
              browse: Callable[[], None]) -> tuple[QHBoxLayout, QLineEdit, QToolButton]:
    """A folder field with its Browse… button (pairs folder, output folder)."""
    row = QHBoxLayout()
    edit = QLineEdit(parent)
    edit.setToolTip(tooltip)
    button = QToolButton(parent)
    button.setText("Browse…")
    button.clicked.connect(browse)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row, edit, button


def _plot(title: str, ylabel: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background=PLOT_BG)
    w.setTitle(title, color=PLOT_FG, size="10pt")
    for ax in ("left", "bottom"):
        w.getAxis(ax).setPen(pg.mkPen(PLOT_FG))
        w.getAxis(ax).setTextPen(pg.mkPen(PLOT_FG))
    w.setLabel("bottom", "iteration", color=PLOT_FG)
    w.setLabel("left", ylabel, color=PLOT_FG)
    w.getAxis("left").enableAutoSIPrefix(False)
    w.showGrid(x=True, y=True, alpha=0.15)
    w.setMenuEnabled(False)
    w.setMinimumSize(160, 120)
    return w


class PlotNote:
    """A line of text in place of an empty plot's axes: pyqtgraph's default 0–1 axes over nothing look like data."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.item = plot.getPlotItem()
        self.label = pg.TextItem(color="#777777", anchor=(0.5, 0.5))
        self.label.setTextWidth(230)  # wraps in a narrow plot
        doc = self.label.textItem.document()
        option = doc.defaultTextOption()
        option.setAlignment(Qt.AlignCenter)
        doc.setDefaultTextOption(option)
        self.item.addItem(self.label, ignoreBounds=True)
        self.label.setPos(0.5, 0.5)  # the middle of the empty plot's 0–1 range
        self.text: str | None = None

    def set_text(self, text: str) -> None:
        """Show `text` instead of the axes, or ("") the axes, fitted to the data that has arrived."""
        if text == self.text:
            return  # the data is redrawn every 60 ms: keep the person's zoom
        self.text = text
        self.label.setText(text)
        self.label.setVisible(bool(text))
        for ax in ("left", "bottom"):
            self.item.showAxis(ax, not text)
        vb = self.item.getViewBox()
        vb.setMouseEnabled(not text, not text)
        if text:
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        else:
            vb.enableAutoRange()


class TrainTab(QWidget):
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

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        # -- run controls
        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train with these settings (defaults: fine-tune the shipped weights)")
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Pause after the current iteration; press again to resume")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop and write a checkpoint that “Resume from checkpoint…” continues")
        self.resume_ckpt_button = QPushButton("Resume from checkpoint…", self)
        self.resume_ckpt_button.setToolTip("Continue a run from its checkpoint_*.pt (also after a restart)")
        self.calibrate_button = QPushButton("Quick calibrate", self)
        self.calibrate_button.setToolTip("Re-fit only the colour-response head (3×3 mix + bias) on the train pairs, "
                                         "in seconds, and show validation PSNR before and after")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(90)
        self.eta_label = QLabel(self)
        self.eta_label.setMinimumWidth(60)
        self.use_button = QPushButton("Use in Compare", self)
        self.use_button.setToolTip("Switch the Compare tab to the model as it is now, at its last iteration "
                                   "(its weights are saved in the run folder)")
        self.use_best_button = QPushButton("Use best", self)  # its tooltip names the iteration and PSNR
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Write the model as .safetensors plus a model card (data, split, settings, "
                                      "metrics)")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.resume_ckpt_button.clicked.connect(self.resume_dialog)
        self.calibrate_button.clicked.connect(self.quick_calibrate)
        self.use_button.clicked.connect(self.use_in_compare)
        self.use_best_button.clicked.connect(self.use_best_in_compare)
        self.export_button.clicked.connect(self.export_dialog)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 2)
        bar.setSpacing(4)
        for w in (self.start_button, self.pause_button, self.stop_button):
            bar.addWidget(w)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.eta_label)
        bar.addWidget(self.use_button)
        bar.addWidget(self.use_best_button)
        bar.addWidget(self.export_button)

        # -- left: pairs, validation, settings
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(4, 2, 4, 4)
        sl.setSpacing(6)

        box, lay = _group("Pairs", side)
        row, self.pairs_edit, browse = _path_row(side, "HR/ and LR/ matched by file name, or RealSR naming "
                                                 "(NAME_HR beside NAME_LR4)", self.browse_pairs)
        self.pairs_edit.setPlaceholderText("folder with HR/ and LR/, or NAME_HR.png + NAME_LR4.png")
        lay.addLayout(row)
        self.pairs_summary = QLabel(side)
        self.pairs_summary.setWordWrap(True)
        self.pairs_summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.pairs_summary)
        self.pairs_table = QTableWidget(0, len(PAIR_COLUMNS), side)
        self.pairs_table.setHorizontalHeaderLabels(PAIR_COLUMNS)
        self.pairs_table.verticalHeader().hide()
        self.pairs_table.verticalHeader().setDefaultSectionSize(20)
        self.pairs_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.pairs_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.pairs_table.setWordWrap(False)
        hh = self.pairs_table.horizontalHeader()
        for c in range(len(PAIR_COLUMNS) - 1):
            hh.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(len(PAIR_COLUMNS) - 1, QHeaderView.Stretch)
        self.pairs_table.setMinimumHeight(130)
        lay.addWidget(self.pairs_table, 1)
        sl.addWidget(box, 1)

        box, lay = _group("Validation", side)
        self.split_file_radio = QRadioButton("split.json in the folder", side)
        self.split_fraction_radio = QRadioButton("Seeded fraction", side)
        self._split_group = QButtonGroup(self)
        self._split_group.addButton(self.split_file_radio)
        self._split_group.addButton(self.split_fraction_radio)
        self.fraction_spin = QDoubleSpinBox(side)
        self.fraction_spin.setRange(0.0, 0.9)
        self.fraction_spin.setSingleStep(0.05)
        self.fraction_spin.setDecimals(2)
        self.fraction_spin.setToolTip("Share of the usable pairs held out for validation")
        self.seed_spin = QSpinBox(side)
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setToolTip("Seed of the split (and of the training run)")
        lay.addWidget(self.split_file_radio)
        row = QHBoxLayout()
        row.addWidget(self.split_fraction_radio)
        row.addWidget(self.fraction_spin)
        row.addWidget(QLabel("seed", side))
        row.addWidget(self.seed_spin)
        row.addStretch(1)
        lay.addLayout(row)
        sl.addWidget(box)

        box, lay = _group("Settings", side)
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        self.init_combo = QComboBox(side)
        self.init_combo.addItem("Shipped weights (fine-tune)", "shipped")
        self.init_combo.addItem("Scratch", "scratch")
        self.init_combo.setToolTip("Fine-tune the shipped model of this scale, or train a new one")
        self.calfirst_check = QCheckBox("re-fit the colour head first", side)
        self.calfirst_check.setToolTip("Fine-tuning: fit the colour response (3×3 mix + bias) to these pairs in "
                                       "closed form before the first step, so training goes to the kernels")
        self.scale_combo = QComboBox(side)
        for s in SCALES:
            self.scale_combo.addItem(f"×{s}", s)
        self.preset_combo = QComboBox(side)
        for p in PRESETS:
            self.preset_combo.addItem(p, p)
        self.preset_combo.setToolTip("lite: sized for 2 CPU cores; paper: larger, for a GPU (scratch only)")
        self.k_spin = QSpinBox(side)
        self.k_spin.setRange(0, 32)
        self.k_spin.setSpecialValueText("preset")
        self.k_spin.setToolTip("Kernel size k×k in HR pixels (scratch only; 'preset' keeps the preset's)")
        self.lr_spin = QDoubleSpinBox(side)
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(0.00001, 0.1)
        self.lr_spin.setSingleStep(0.0001)
        self.lr_spin.setToolTip("Peak learning rate (warm-up, then cosine decay)")
        self.batch_spin = self._spin(1, 256, "Patches per iteration")
        self.patch_spin = self._spin(4, 512, "LR patch side in pixels (the HR patch is patch × scale)")
        self.iter_spin = self._spin(1, 10_000_000, "Iterations in the run")
        self.val_spin = self._spin(0, 1_000_000, "Validate every N iterations and at the end (0: never)")
        self.ckpt_spin = self._spin(0, 1_000_000, "Write checkpoint_last.pt every N iterations and at the end (0: only on Stop)")
        self.device_combo = QComboBox(side)
        have = available_devices()
        for d in DEVICES:
            self.device_combo.addItem(d if d in have or d == "auto" else f"{d} (not available)", d)
            self.device_combo.model().item(self.device_combo.count() - 1).setEnabled(d in have or d == "auto")
        self.device_combo.setToolTip("auto: CUDA, then MPS, then the CPU")
        fields = [("Start from", self.init_combo), ("Scale", self.scale_combo), ("Preset", self.preset_combo),
                  ("k", self.k_spin), ("Learning rate", self.lr_spin), ("Batch", self.batch_spin),
                  ("Patch", self.patch_spin), ("Iterations", self.iter_spin), ("Validate every", self.val_spin),
                  ("Checkpoint every", self.ckpt_spin), ("Device", self.device_combo)]
        # "Start from" spans the width; the rest go two per row
        grid.addWidget(QLabel(fields[0][0], side), 0, 0)
        grid.addWidget(fields[0][1], 0, 1, 1, 3)
        grid.addWidget(self.calfirst_check, 1, 1, 1, 3)
        for i, (label, w) in enumerate(fields[1:]):
            r, c = 2 + i // 2, (i % 2) * 2
            grid.addWidget(QLabel(label, side), r, c)
            grid.addWidget(w, r, c + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        lay.addLayout(grid)
        row, self.out_edit, out_browse = _path_row(
            side, "Each run writes its checkpoints and weights to a new folder inside this one", self.browse_out)
        row.insertWidget(0, QLabel("Output", side))
        lay.addLayout(row)
        self.defaults_button = QToolButton(side)
        self.defaults_button.setText("Defaults")
        self.defaults_button.setToolTip("Back to the defaults for the chosen start (fine-tune or scratch)")
        self.defaults_button.clicked.connect(self.reset_defaults)
        row.addWidget(self.defaults_button)
        sl.addWidget(box)
        row = QHBoxLayout()
        row.addWidget(self.calibrate_button)
        row.addWidget(self.resume_ckpt_button)
        row.addStretch(1)
        sl.addLayout(row)
        self._form_widgets = [self.pairs_edit, browse, self.split_file_radio, self.split_fraction_radio,
                              self.fraction_spin, self.seed_spin, self.init_combo, self.calfirst_check,
                              self.scale_combo, self.preset_combo,
                              self.k_spin, self.lr_spin, self.batch_spin, self.patch_spin, self.iter_spin,
                              self.val_spin, self.ckpt_spin, self.device_combo, self.out_edit, out_browse,
                              self.defaults_button]

        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setMinimumWidth(260)  # a small window scrolls the form sideways rather than clipping it
        self.side = scroll
        side_width = side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4

        # -- right: curves, preview, log
        self.loss_plot = _plot("Training loss (L1)<br><span style='font-size:8pt'>"
                               "<span style='color:#6baed6'>— per batch</span> &nbsp; "
                               "<span style='color:#08519c'>━ smoothed</span></span>", "loss")
        self.loss_raw = self.loss_plot.plot([], [], pen=pg.mkPen("#9ecae1", width=1))
        self.loss_smooth = self.loss_plot.plot([], [], pen=pg.mkPen("#08519c", width=2))
        self.val_plot = _plot("Validation PSNR (dB)", "PSNR RGB (dB)")
        self.val_curve = self.val_plot.plot([], [], pen=pg.mkPen(ADK_COLOUR, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=ADK_COLOUR, symbolPen=None)
        self.ref_items: dict[str, pg.PlotDataItem] = {}
        self.loss_note, self.val_note = PlotNote(self.loss_plot), PlotNote(self.val_plot)
        self.val_plot.installEventFilter(self)  # a narrower plot wraps its legend (see set_val_title)

        self.preview_model = PreviewImage(self)
        self.preview_gt = PreviewImage(self)
        self.preview_model_title = QElidingLabel("ADK-Net", self)
        self.preview_gt_title = QElidingLabel("Ground truth LR", self)
        for t in (self.preview_model_title, self.preview_gt_title):
            t.setAlignment(Qt.AlignCenter)
            t.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        preview = QWidget(self)
        pl = QGridLayout(preview)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(3)
        self.preview_caption = QElidingLabel("Validation preview: appears at the first validation", preview)
        self.preview_caption.setStyleSheet("font-weight:bold;")
        self.preview_caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        pl.addWidget(self.preview_caption, 0, 0, 1, 2)
        pl.addWidget(self.preview_model_title, 1, 0)
        pl.addWidget(self.preview_gt_title, 1, 1)
        pl.addWidget(self.preview_model, 2, 0)
        pl.addWidget(self.preview_gt, 2, 1)
        pl.setRowStretch(2, 1)

        self.log_view = LogView(self)
        self.log_view.setPlaceholderText("Log")

        self.plots_split = QSplitter(Qt.Horizontal, self)
        self.plots_split.addWidget(self.loss_plot)
        self.plots_split.addWidget(self.val_plot)
        self.bottom_split = QSplitter(Qt.Horizontal, self)
        self.bottom_split.addWidget(preview)
        self.bottom_split.addWidget(self.log_view)
        self.bottom_split.setSizes([480, 420])
        self.vsplit = QSplitter(Qt.Vertical, self)
        self.vsplit.addWidget(self.plots_split)
        self.vsplit.addWidget(self.bottom_split)
        self.vsplit.setSizes([380, 300])
        self.hsplit = QSplitter(Qt.Horizontal, self)
        self.hsplit.addWidget(scroll)
        self.hsplit.addWidget(self.vsplit)
        self.hsplit.setStretchFactor(0, 0)
        self.hsplit.setStretchFactor(1, 1)
        self.hsplit.setSizes([side_width, 1280 - side_width])
        for sp in (self.plots_split, self.bottom_split, self.vsplit, self.hsplit):
            sp.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.hsplit, 1)

    def _spin(self, lo: int, hi: int, tip: str) -> QSpinBox:
        s = QSpinBox(self)
        s.setRange(lo, hi)
        s.setToolTip(tip)
        s.setGroupSeparatorShown(False)
        return s

    def _connect_form(self) -> None:
        self.pairs_edit.editingFinished.connect(self._schedule_scan)
        self.scale_combo.currentIndexChanged.connect(lambda _i: (self._sync_init_choices(), self._schedule_scan()))
        self.split_file_radio.toggled.connect(lambda _on: (self._sync_form_enabled(), self._schedule_scan()))
        self.fraction_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.seed_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.init_combo.activated.connect(lambda _i: self._on_init_picked())

    # ------------------------------------------------------------------ the form <-> TrainSettings

    def form(self) -> TrainSettings:
        """The settings as the form shows them."""
        s = TrainSettings(
            pairs=self.pairs_edit.text().strip(),
            split_mode=SPLIT_FILE if self.split_file_radio.isChecked() else SPLIT_FRACTION,
            val_fraction=round(self.fraction_spin.value(), 4), seed=self.seed_spin.value(),
            scale=int(self.scale_combo.currentData()), preset=self.preset_combo.currentData(), k=self.k_spin.value(),
            init=self.init_combo.currentData(), calibrate_first=self.calfirst_check.isChecked(),
            lr=self.lr_spin.value(), batch=self.batch_spin.value(),
            patch=self.patch_spin.value(), iterations=self.iter_spin.value(), val_every=self.val_spin.value(),
            ckpt_every=self.ckpt_spin.value(), device=self.device_combo.currentData(),
            out_root=self.out_edit.text().strip() or TrainSettings().out_root)
        s.model_overrides = dict(getattr(self, "_model_overrides", {}))
        return s

    def set_form(self, s: TrainSettings) -> None:
        """Show these settings (remembered ones, a checkpoint's, or the defaults); the pairs are scanned again."""
        widgets = [self.split_file_radio, self.fraction_spin, self.seed_spin, self.scale_combo, self.init_combo]
        for w in widgets:
            w.blockSignals(True)
        self.pairs_edit.setText(s.pairs)
        (self.split_file_radio if s.split_mode == SPLIT_FILE else self.split_fraction_radio).setChecked(True)
        self.fraction_spin.setValue(s.val_fraction)
        self.seed_spin.setValue(s.seed)
        self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(s.scale)))
        self._sync_init_choices()
        self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(s.init)))
        if not self.init_combo.model().item(self.init_combo.currentIndex()).isEnabled():
            self.init_combo.setCurrentIndex(self.init_combo.findData("scratch"))
        self.calfirst_check.setChecked(s.calibrate_first)
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(s.preset)))
        self.k_spin.setValue(s.k)
        self.lr_spin.setValue(s.lr)
        self.batch_spin.setValue(s.batch)
        self.patch_spin.setValue(s.patch)
        self.iter_spin.setValue(s.iterations)
        self.val_spin.setValue(s.val_every)
        self.ckpt_spin.setValue(s.ckpt_every)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(s.device)))
        self.out_edit.setText(s.out_root)
        self._model_overrides = dict(s.model_overrides)
        for w in widgets:
            w.blockSignals(False)
        self._sync_form_enabled()
        self._schedule_scan()

    def _sync_init_choices(self) -> None:
        scale = int(self.scale_combo.currentData())
        have = bool(shipped_weights(scale))
        item = self.init_combo.model().item(self.init_combo.findData("shipped"))
        item.setEnabled(have)
        item.setText("Shipped weights (fine-tune)" if have else f"Shipped weights (none for ×{scale})")
        if not have and self.init_combo.currentData() == "shipped":
            self.init_combo.setCurrentIndex(self.init_combo.findData("scratch"))
            self._on_init_picked()
        self._sync_form_enabled()

    def _on_init_picked(self) -> None:
        d = FINE_TUNE_DEFAULTS if self.init_combo.currentData() == "shipped" else SCRATCH_DEFAULTS
        self.lr_spin.setValue(d["lr"])
        self.iter_spin.setValue(d["iterations"])
        self._sync_form_enabled()

    def reset_defaults(self) -> None:
        cur = self.form()
        d = TrainSettings(pairs=cur.pairs, split_mode=cur.split_mode, val_fraction=cur.val_fraction, seed=cur.seed,
                          scale=cur.scale, out_root=cur.out_root, device=cur.device)
        if not shipped_weights(cur.scale) or cur.init == "scratch":
            d.init, d.lr, d.iterations = "scratch", SCRATCH_DEFAULTS["lr"], SCRATCH_DEFAULTS["iterations"]
        self.set_form(d)

    def _sync_form_enabled(self) -> None:
        idle = not self.runner.busy
        for w in self._form_widgets:
            w.setEnabled(idle)
        if idle:
            scratch = self.init_combo.currentData() == "scratch"
            self.preset_combo.setEnabled(scratch)
            self.k_spin.setEnabled(scratch)
            self.calfirst_check.setEnabled(not scratch)
            tip = "" if scratch else " — fine-tuning keeps the shipped model's architecture"
            self.preset_combo.setToolTip("lite: sized for 2 CPU cores; paper: larger, for a GPU" + tip)
            frac = self.split_fraction_radio.isChecked()
            self.fraction_spin.setEnabled(frac)

    # ------------------------------------------------------------------ pairs

    def browse_pairs(self) -> None:
        start = self.pairs_edit.text() or self.settings.get_str("folders/train_pairs", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, "Choose a pairs folder (HR/ and LR/, or RealSR names)", start)
        if path:
            self.pairs_edit.setText(path)
            self.settings.set("folders/train_pairs", str(Path(path).parent))
            self.rescan()

    def browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for training runs", self.out_edit.text())
        if path:
            self.out_edit.setText(path)

    def _schedule_scan(self) -> None:
        self._scan_timer.start()

    def rescan(self) -> PairScan | None:
        """Check the pairs (headers only, off the GUI thread) and fill the table; every problem is named per pair."""
        self._scan_timer.stop()
        self.hub.supersede(PAIRS)  # 'choose a pairs folder first' and the last scan's problem are now stale
        s = self.form()
        if not s.pairs:
            self.scan = None
            self.pairs_table.setRowCount(0)
            self.pairs_summary.setText("<span style='color:gray'>Choose a folder with HR/ and LR/ subfolders "
                                       "(matched by file name), or RealSR-named pairs (NAME_HR.png beside "
                                       "NAME_LR4.png).</span>")
            return None
        scan = run_off_gui_thread(lambda: scan_pairs(s.pairs, s.scale, s.split_mode, s.val_fraction, s.seed))
        if scan.error and s.split_mode == SPLIT_FILE and "split.json" in scan.error and "does not exist" in scan.error:
            # no split file: fall back to a seeded fraction, and say so
            self.split_fraction_radio.blockSignals(True)
            self.split_fraction_radio.setChecked(True)
            self.split_fraction_radio.blockSignals(False)
            self._sync_form_enabled()
            s = self.form()
            scan = run_off_gui_thread(lambda: scan_pairs(s.pairs, s.scale, s.split_mode, s.val_fraction, s.seed))
            scan.split_note = "No split.json in the folder: " + scan.split_note[0].lower() + scan.split_note[1:]
        self.scan = scan
        self._fill_table(scan)
        return scan

    def _fill_table(self, scan: PairScan) -> None:
        t = self.pairs_table
        t.setRowCount(len(scan.rows))
        bad_brush = QBrush(QColor("#b00020"))
        grey = QBrush(QColor("#808080"))
        for i, r in enumerate(scan.rows):
            for c, text in enumerate((r.name, r.role, r.hr, r.lr, r.status)):
                it = QTableWidgetItem(text)
                if not r.ok:
                    it.setForeground(bad_brush)
                elif r.role == "—":
                    it.setForeground(grey)
                if c == 4:
                    it.setToolTip(text)
                t.setItem(i, c, it)
        colour = "#b00020" if scan.error else "#333333"
        text = f"<span style='color:{colour}'>{html.escape(scan.summary)}</span>"
        bad = [r for r in scan.rows if not r.ok]
        if bad:
            more = f"<br>… and {len(bad) - 3} more (see the table)" if len(bad) > 3 else ""
            text += "<br><span style='color:#b00020'>" + "<br>".join(
                f"<b>{html.escape(r.name)}</b>: {html.escape(r.status)}" for r in bad[:3]) + more + "</span>"
        self.pairs_summary.setText(text)

    # ------------------------------------------------------------------ actions

    def _check_ready(self) -> TrainSettings | None:
        s = self.form()
        scan = self.rescan()
        if scan is None:
            self.hub.error("Choose a pairs folder first (a folder with HR/ and LR/, or RealSR-named pairs).", PAIRS)
            return None
        if scan.error:
            self.hub.error(scan.error, PAIRS)
            return None
        s.save(self.settings)
        return s

    def _begin(self) -> TrainSettings | None:
        """A new run or calibration: nothing while one is busy; the previous one's messages go; the form checked."""
        if self.runner.busy:
            return None
        self.hub.supersede(TRAIN)
        return self._check_ready()

    def start(self) -> None:
        """Start a run with the form's settings (or continue the model just calibrated with the same settings)."""
        s = self._begin()
        if s is None:
            return
        r = self.runner
        reuse = None
        t = r.trainer
        if (t is not None and r.calibration is not None and t.iteration == 0
                and _same_run(t.cfg, s.to_config(t.cfg.out))):
            reuse = t
        try:
            cfg = reuse.cfg if reuse else s.to_config(s.run_dir())
            self._reset_run_view(cfg.iterations)
            if reuse:
                self.log("starting from the calibrated model")
            self.log(f"run folder: {cfg.out}")
            r.start(cfg, reuse=reuse)
        except UserError as e:
            self.hub.error(str(e), TRAIN)

    def toggle_pause(self) -> None:
        if self.runner.state == PAUSED:
            self.eta.reset()
            self.runner.resume()
        else:
            self.runner.pause()

    def stop(self) -> None:
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
        """Re-fit the colour head of the current model (trained or calibrated, same pairs), else of a new one."""
        s = self._begin()
        if s is None:
            return
        t = self.runner.trainer
        keep = t is not None and t.model is not None and t.cfg.pairs == s.pairs and t.cfg.scale == s.scale \
            and t.cfg.split == s.split_string()
        try:
            if keep:
                self.log(f"quick calibrate of the current model (iteration {t.iteration})")
                self.runner.calibrate()
            else:
                self._reset_run_view(s.iterations)
                cfg = s.to_config(s.run_dir())
                cfg.calibrate_first = False  # "before" is the model as it starts; calibrate() then fits the head
                self.runner.calibrate(cfg)
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
        mc = t.model.cfg
        return f"adknet_x{mc.scale}_{pairs}_{how}", name

    def use_in_compare(self) -> None:
        """Save the current model into its run folder and switch the Compare tab to it at once."""
        t = self.runner.trainer
        if self.runner.busy or t is None or t.model is None:
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
        if path is not None and not self.runner.busy:
            self._switch_compare(path)

    def export_dialog(self) -> None:
        t = self.runner.trainer
        if self.runner.busy or t is None or t.model is None:
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

    # ------------------------------------------------------------------ runner signals

    def _reset_run_view(self, total: int) -> None:
        self.curves.clear()
        self.eta.reset()
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
        elif state in (CALIBRATING, EXPORTING, STARTING):
            self.eta_label.setText(STATE_TEXT[state])

    def _sync_buttons(self) -> None:
        st = self.runner.state
        idle = st == IDLE and not self.runner.busy
        has_model = self.runner.trainer is not None and self.runner.trainer.model is not None
        self.start_button.setEnabled(idle)
        self.pause_button.setEnabled(st in (STARTING, RUNNING, PAUSED))
        self.pause_button.setText("Resume" if st == PAUSED else "Pause")
        self.stop_button.setEnabled(st in (STARTING, RUNNING, PAUSED))
        self.resume_ckpt_button.setEnabled(idle)
        self.calibrate_button.setEnabled(idle)
        self.use_button.setEnabled(idle and has_model)
        best = self.best_weights() if idle else None
        self.use_best_button.setEnabled(best is not None)
        t = self.runner.trainer
        self.use_best_button.setToolTip(
            f"Switch the Compare tab to the best validated weights: iteration {t.best['it']}, "
            f"val PSNR {t.best['psnr']:.2f} dB ({best.name})" if best is not None and t is not None else
            "Switch the Compare tab to the weights of the best validation PSNR, once the run has gone past them")
        self.export_button.setEnabled(idle and has_model)
        self._sync_form_enabled()

    def _on_setup(self, info: dict[str, Any]) -> None:
        cfg: TrainConfig = info["cfg"]
        self.settings.set("train/last_run", cfg.out)
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

    def _on_calibrated(self, info: dict[str, Any]) -> None:
        on = info["on"].split()[0]
        self._show_preview(info["preview"], info["gt"], f"ADK-Net calibrated: {info['after']:.2f} dB")
        self.log(f"quick calibrate: {on} PSNR {info['before']:.3f} → {info['after']:.3f} dB "
                 f"in {info['seconds']:.1f} s")

    def _on_exported(self, path: str, purpose: str) -> None:
        self.log(f"wrote {path}")
        if purpose == "compare":
            self._switch_compare(Path(path))  # which remembers it
        else:
            weights_registry.remember(self.settings, path)

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
        if outcome == "crashed":
            self.hub.error(message, TRAIN)
        elif outcome in ("finished", "stopped", "calibrated"):
            self.hub.info(message, TRAIN)
        self.eta_label.setText({"finished": "done", "stopped": "stopped", "crashed": "failed"}.get(outcome, ""))
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
        empty = WAITING if self.runner.training else NO_RUN
        self.loss_note.set_text("" if c.loss else empty)
        self.val_note.set_text("" if c.val_psnr or c.refs else empty)

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
        if not c.val_psnr and not c.refs and not self.runner.training:
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

    # ------------------------------------------------------------------ log, closing, layout

    def log(self, text: str) -> None:
        self.log_view.appendPlainText(text)

    def ask(self, text: str) -> bool:
        """Yes/no question (a method, so tests can answer it)."""
        box = QMessageBox(QMessageBox.Question, "Training is running", text, QMessageBox.NoButton, self)
        stop = box.addButton("Stop, save and close", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        return box.clickedButton() is stop

    def confirm_close(self) -> bool:
        """Window closing: while training, ask first, then stop (the engine writes a checkpoint) and wait."""
        r = self.runner
        if not r.busy:
            return True
        if r.training:
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
            self.form().save(settings, prefix)

    def restore_state(self, settings, prefix: str) -> None:
        for name, sp in (("hsplit", self.hsplit), ("vsplit", self.vsplit), ("plots", self.plots_split),
                         ("bottom", self.bottom_split)):
            state = settings.get_bytes(prefix + name)
            if state is not None:
                sp.restoreState(state)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(1280, 760)


def _same_run(a: TrainConfig, b: TrainConfig) -> bool:
    """Same data, split and settings (the run folder and recorded command aside)."""
    da, db = a.to_dict(), b.to_dict()
    for k in ("out", "command", "calibrate_first"):
        da.pop(k, None)
        db.pop(k, None)
    return da == db
