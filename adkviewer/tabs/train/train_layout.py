"""The Train tab's widgets and their places: run controls, pairs, validation, settings, curves, preview, log."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFrame,
                               QGridLayout, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QRadioButton, QScrollArea, QSpinBox, QSplitter, QTableWidget, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from adk_model.devices import available_devices

from adkviewer.widgets.log_view import LogView
from adkviewer.widgets.wrap_bar import WrapBar
from adkviewer.state.session import SCALES
from adkviewer.tabs.train.train_state import CAMERA_CHOICES, DEVICES, PRESETS, TrainSettings
from adkviewer.tabs.train.run_overlays import RunOverlays
from adkviewer.tabs.train.runs_panel import RunsPanel
from adkviewer.tabs.train.train_curves import CurvesView, PreviewPane
from adkviewer.tabs.train.train_widgets import EXPORT_TIP, PAIR_COLUMNS, USE_TIP, _group, _path_row


class TrainLayout:
    """Builds TrainTab's widgets (its attributes are the tab's own), with the curves and preview as views it holds."""

    def _build(self) -> None:
        # -- run controls
        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train with these settings (defaults: fine-tune the shipped weights)")
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Pause after the current iteration; press again to resume")
        self.stop_button = QPushButton("Stop", self)
        self.resume_ckpt_button = QPushButton("Resume from checkpoint…", self)
        self.resume_ckpt_button.setToolTip("Continue a run from its checkpoint_*.pt (also after a restart)")
        self.calibrate_button = QPushButton("Quick calibrate", self)
        self.calibrate_button.setToolTip("Re-fit in closed form, in seconds, what a global linear downscaler can "
                                         "express: the linear kernel over R, G and B, the colour mix and bias (older "
                                         "weights: the mix and bias). Kept only where held-out pairs say it is not "
                                         "worse: a split.json's val pairs, or else cross-validation over all the "
                                         "pairs; the log says which, with the PSNR")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(90)
        self.eta_label = QLabel(self)
        self.eta_label.setMinimumWidth(60)
        self.use_button = QPushButton("Use in Compare", self)
        self.use_button.setToolTip(USE_TIP)
        self.use_best_button = QPushButton("Use best", self)  # its tooltip names the iteration and PSNR
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip(EXPORT_TIP)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.resume_ckpt_button.clicked.connect(self.resume_dialog)
        self.calibrate_button.clicked.connect(self.quick_calibrate)
        self.use_button.clicked.connect(self.use_in_compare)
        self.use_best_button.clicked.connect(self.use_best_in_compare)
        self.export_button.clicked.connect(self.export_dialog)
        bar = WrapBar([[self.start_button, self.pause_button, self.stop_button, 8,
                        self.calibrate_button, 8,  # always in sight; its cameras choice is under the form
                        self.progress, self.eta_label],
                       [self.use_button, self.use_best_button, self.export_button]], self, stretch=(0, 6))
        self.button_bar = bar

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
        self.few_pairs_note = QLabel(side)  # under the pair count: fine-tuning a small folder is unreliable
        self.few_pairs_note.setWordWrap(True)
        self.few_pairs_note.setStyleSheet("color:#6c5200;")
        self.few_pairs_note.hide()
        lay.addWidget(self.few_pairs_note)
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
        self.split_file_note = QLabel(side)  # why the split.json choice is off (the folder has none)
        self.split_file_note.setWordWrap(True)
        self.split_file_note.setStyleSheet("color:#6c5200; margin-left:18px;")
        self.split_file_note.hide()
        lay.addWidget(self.split_file_note)
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
        self.init_combo.setToolTip("What the run starts from: the shipped weights, the model Quick calibrate just "
                                   "fitted, an exported model or a weights file (fine-tune), or scratch")
        self.calfirst_check = QCheckBox("quick calibrate first", side)
        self.calfirst_check.setToolTip("Fine-tuning: Quick calibrate first (the linear part, colour mix and bias, "
                                       "fitted in closed form and kept only where held-out pairs allow), so training "
                                       "goes to the kernels")
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
        self.cameras_combo = QComboBox(side)
        for label, by in CAMERA_CHOICES:
            self.cameras_combo.addItem(label, by)
        self.cameras_combo.setToolTip("Cameras. A folder that mixes cameras: Quick calibrate also fits one model per "
                                      "camera on that camera's pairs (each kept only where its val pairs allow) and "
                                      "shows them in Compare beside ADK-Net. The camera is a pair name's prefix "
                                      "(Canon_001: Canon) or its files' EXIF make and model")
        # under the form (the run controls keep a small window's width): what Quick calibrate fits per camera
        self.cameras_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.cameras_combo.setMinimumContentsLength(14)
        row = QHBoxLayout()
        row.addWidget(QLabel("Quick calibrate:", side))
        row.addWidget(self.cameras_combo, 1)
        row.addWidget(self.resume_ckpt_button)
        sl.addLayout(row)
        self._form_widgets = [self.pairs_edit, browse, self.split_file_radio, self.split_fraction_radio,
                              self.fraction_spin, self.seed_spin, self.init_combo, self.calfirst_check,
                              self.scale_combo, self.preset_combo,
                              self.k_spin, self.lr_spin, self.batch_spin, self.patch_spin, self.iter_spin,
                              self.val_spin, self.ckpt_spin, self.device_combo, self.out_edit, out_browse,
                              self.defaults_button, self.cameras_combo]

        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setMinimumWidth(260)  # a small window scrolls the form sideways rather than clipping it
        self.side = scroll
        side_width = side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4

        # -- right: curves, preview, log
        self.plots = CurvesView(self.curves, lambda: self.runner.training, lambda: self._run_validates,
                                self._empty_plot_text, self)
        self.preview = PreviewPane(self)
        self.overlays = RunOverlays(self.plots)
        self.runs_panel = RunsPanel(lambda: self.out_edit.text().strip() or TrainSettings().out_root,
                                    lambda: self.runner.trainer.cfg.out if self.runner.trainer is not None else "",
                                    self)

        self.log_view = LogView(self)
        self.log_view.setPlaceholderText("Log")

        self.plots_split = QSplitter(Qt.Horizontal, self)
        self.plots_split.addWidget(self.plots.loss_plot)
        self.plots_split.addWidget(self.plots.val_plot)
        self.bottom_split = QSplitter(Qt.Horizontal, self)
        self.bottom_split.addWidget(self.preview)
        self.bottom_split.addWidget(self.log_view)
        self.bottom_split.setSizes([480, 420])
        # this run's preview and log; the earlier runs to overlay or open, over the full width their table needs
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.bottom_split, "This run")
        self.bottom_tabs.addTab(self.runs_panel, "Runs")
        self.vsplit = QSplitter(Qt.Vertical, self)
        self.vsplit.addWidget(self.plots_split)
        self.vsplit.addWidget(self.bottom_tabs)
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
        lay.addWidget(bar)
        lay.addWidget(self.hsplit, 1)

    def _spin(self, lo: int, hi: int, tip: str) -> QSpinBox:
        s = QSpinBox(self)
        s.setRange(lo, hi)
        s.setToolTip(tip)
        s.setGroupSeparatorShown(False)
        return s
