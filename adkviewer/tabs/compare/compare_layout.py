"""The Compare tab's widgets and their places (the tab's one builder part), and the remembered splitter sizes."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem,
                               QSizePolicy, QSplitter, QVBoxLayout, QWidget)


from adkviewer.widgets.metrics_table import MetricsTable
from adkviewer.state.session import SCALES
from adkviewer.widgets.side_panel import readout_label, section_label, side_by_main, tool_button
from adkviewer.widgets.view_grid import ViewGrid, camera_controls
from adkviewer.tabs.compare.compare_figure import open_figure
from adkviewer.tabs.compare.compare_hr import HrReference
from adkviewer.widgets.region_overlay import RegionOverlay
from adkviewer.tabs.compare.compare_swipe import SwipePicker
from adkviewer.tabs.compare.compare_widgets import METRICS_MIN_HEIGHT, ModelNote, _Progress, readout_width
from adkviewer.tabs.compare.lstsq_fitter import LstsqFitter


class CompareLayout:
    """Builds CompareTab's widgets (its attributes are the tab's own); the behaviour is the tab's and its helpers'."""

    def fill_method_list(self) -> None:
        """One row per method that can be ticked (the added ones too), sized so none scrolls away."""
        keys = self.session.known_methods()
        self.method_list.blockSignals(True)
        self.method_list.clear()
        for m in keys:
            it = QListWidgetItem(self.session.label(m))
            it.setData(Qt.UserRole, m)
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked if m in self.session.methods else Qt.Unchecked)
            self.method_list.addItem(it)
        self.method_list.blockSignals(False)
        self.method_list.setFixedHeight(self.method_list.sizeHintForRow(0) * len(keys) + 6)

    def _build(self) -> None:
        side = QWidget(self)
        side.setMinimumWidth(200)  # the smallest window (900 px) may wrap the readout; the usual sizes do not
        side.setMaximumWidth(420)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 4, 6, 4)
        sl.setSpacing(3)

        sl.addWidget(section_label("Image"))
        self.hr_label = QLabel(side)
        self.hr_label.setWordWrap(True)
        self.hr_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        sl.addWidget(self.hr_label)
        self.gt_label = QLabel(side)
        self.gt_label.setWordWrap(True)
        self.gt_label.linkActivated.connect(lambda _l: self.ctx.shell.open_ground_truth_dialog())
        sl.addWidget(self.gt_label)

        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Scale</b>"))
        self.scale_combo = QComboBox(side)
        for s in SCALES:
            self.scale_combo.addItem(f"×{s}", s)
        self.scale_combo.activated.connect(self._on_scale_picked)
        self.scale_combo.setToolTip("Downscaling factor. Classical methods work at any scale; ADK-Net needs "
                                    "weights trained for it.")
        row.addWidget(self.scale_combo, 1)
        sl.addLayout(row)
        self.weights_note = QLabel(side)
        self.weights_note.setWordWrap(True)
        self.weights_note.linkActivated.connect(lambda _l: self.ctx.shell.show_tab("train"))
        sl.addWidget(self.weights_note)
        self.model_label = ModelNote(self.ctx, side)  # what the model reproduces (why it may look unlike bicubic)
        sl.addWidget(self.model_label)

        sl.addWidget(section_label("Methods"))
        self.method_list = QListWidget(side)
        self.method_list.setToolTip("Tick the methods to compare; keys 1–9 show one of them alone")
        self.fill_method_list()
        self.method_list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.method_list.customContextMenuRequested.connect(self._method_menu)
        # a long weights name ('ADK-Net (… fine-tuned 1500 it, calibrated)') is elided, its tooltip whole: a
        # horizontal scroll bar would cover the last row of this fixed-height list
        self.method_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.method_list.setTextElideMode(Qt.ElideMiddle)
        self.method_list.setResizeMode(QListView.Adjust)
        self.method_list.itemChanged.connect(self._on_ticks_changed)
        sl.addWidget(self.method_list)
        self.hr_ref = HrReference(self, side)  # the HR on the same camera, beside the methods
        hr_row = QHBoxLayout()
        hr_row.addWidget(self.hr_ref.check, 1)
        # in the side panel: the toolbar has no room left at the smallest window width (900 px)
        self.figure_button = tool_button(side, "Figure…", "A figure for a paper: crops of one region from the "
                                         "ticked methods, enlarged without interpolation, as PNG or SVG",
                                         lambda: open_figure(self))
        hr_row.addWidget(self.figure_button)
        sl.addLayout(hr_row)
        self.lstsq_fitter = LstsqFitter(self.ctx, side)  # where no least-squares fit ships (×2, ×3)
        sl.addWidget(self.lstsq_fitter)

        sl.addWidget(section_label("Pixel under the mouse"))
        self.readout = readout_label(side)
        self.readout.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        sl.addWidget(self.readout, 1)
        margins = sl.contentsMargins()
        self.readout_full_width = readout_width(self.readout.font())  # once: the readout redraws on every hover
        side_width = self.readout_full_width + margins.left() + margins.right()

        # toolbar above the views
        bar = self.tool_row = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(4)
        self.grid_button = tool_button(self, "Grid", "One view per method (G); keys 1–9 show one alone, Space the "
                                       "ground truth", checkable=True)
        self.grid_button.setChecked(True)
        self.swipe_button = tool_button(self, "Swipe", "Two methods in one view with a draggable split (W)",
                                        checkable=True)
        group = QButtonGroup(self)
        group.addButton(self.grid_button)
        group.addButton(self.swipe_button)
        group.setExclusive(True)
        self.grid_button.clicked.connect(lambda: self.set_mode("grid"))
        self.swipe_button.clicked.connect(lambda: self.set_mode("swipe"))
        self.swipe = SwipePicker(self)
        self.swipe.picked.connect(self._update_swipe)
        self.solo_hint = QLabel(self)
        self.solo_hint.setStyleSheet("color:#084298;")
        self.solo_hint.hide()
        self.grid = ViewGrid(self, camera=self.ctx.camera)
        cam = camera_controls(self, self.grid, "Fit the image in the views (F)",
                              "One screen pixel per LR pixel (Ctrl+0)")
        self.fit_button, self.one_button, self.zoom_label = cam.fit, cam.one, cam.zoom
        self.progress = _Progress(self)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setMinimumWidth(60)
        self.progress.setTextVisible(True)
        self.compute_button = tool_button(self, "Compute", "Compute the ticked methods that have no result (after a "
                                          "Cancel)", self.compute_missing)
        self.cancel_button = tool_button(self, "Cancel", "Stop the running computation (Esc)", self.controller.cancel)
        self.region = RegionOverlay(self.grid, self)  # the figure's region, on every view
        for w in (self.grid_button, self.swipe_button, self.swipe, self.solo_hint):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.progress, self.compute_button, self.cancel_button, self.fit_button, self.one_button,
                  self.zoom_label):
            bar.addWidget(w)

        self.no_gt_banner = QLabel(self)
        self.no_gt_banner.setWordWrap(True)
        self.no_gt_banner.setStyleSheet("background:#fff3cd; color:#664d03; padding:3px 6px; border-radius:3px;")
        self.no_gt_banner.setToolTip("Metrics need a real low-resolution photo of the same scene; "
                                     "open one with File → Open ground truth…")

        self.grid.hovered.connect(self._on_hover)
        self.grid.menuRequested.connect(self._panel_menu)
        self.grid.clicked.connect(self._on_click)
        self.grid.layoutChanged.connect(self._update_solo_hint)

        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(2)
        tl.addLayout(bar)
        tl.addWidget(self.no_gt_banner)
        tl.addWidget(self.grid, 1)

        self.metrics = MetricsTable(self.session, self)
        self.metrics.exportRequested.connect(self.ctx.shell.export_metrics_dialog)
        self.metrics.fittedHeightChanged.connect(  # the rows stay whole while the pane follows them
            lambda: QTimer.singleShot(0, self.fit_metrics) if self._metrics_fitted else None)
        self.metrics.setMinimumHeight(METRICS_MIN_HEIGHT)

        self.vsplit = QSplitter(Qt.Vertical, self)
        self.vsplit.addWidget(top)
        self.vsplit.addWidget(self.metrics)
        self.vsplit.setStretchFactor(0, 1)
        self.vsplit.setStretchFactor(1, 0)  # a taller window gives the views the room, the table keeps its rows
        self.vsplit.setChildrenCollapsible(False)
        self.hsplit = side_by_main(self, side, self.vsplit, max(260, side_width))
        self.vsplit.setSizes([520, 230])
        self.vsplit.splitterMoved.connect(self._on_vsplit_dragged)
        self._vsplit_restored = False
        self._metrics_trimmed = False
        self._metrics_fitted = False  # True while the pane follows its rows (until the user drags the handle)
        self._on_busy(False)
        self.swipe.setVisible(False)

    def save_state(self, settings, prefix: str) -> None:
        settings.set(prefix + "hsplit", self.hsplit.saveState())
        settings.set(prefix + "vsplit", self.vsplit.saveState())

    def restore_state(self, settings, prefix: str) -> None:
        for name, splitter in (("hsplit", self.hsplit), ("vsplit", self.vsplit)):
            state = settings.get_bytes(prefix + name)
            if state is not None:
                splitter.restoreState(state)
                self._vsplit_restored |= splitter is self.vsplit

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        QTimer.singleShot(0, self.grid.apply_camera)  # the shared camera may have moved in another tab
        if not self._vsplit_restored:  # the first time (nothing remembered): once laid out, fit the metrics
            self._vsplit_restored = True
            QTimer.singleShot(0, self.fit_metrics)
        elif not self._metrics_trimmed:  # remembered for more rows than are ticked now: no empty band below them
            self._metrics_trimmed = True
            QTimer.singleShot(0, lambda: self.fit_metrics() if self.vsplit.sizes()[1] > self.metrics.fitted_height()
                              + 4 else None)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if self._metrics_fitted:  # a narrower window may wrap the heading onto another line
            QTimer.singleShot(0, self.fit_metrics)

    def fit_metrics(self) -> None:
        """Give the metrics pane the height its rows need (at most half the tab) and the views the rest."""
        total = sum(self.vsplit.sizes())
        need = min(self.metrics.fitted_height(), total // 2)
        self.metrics.setMinimumHeight(min(METRICS_MIN_HEIGHT, need))  # two rows need less: no grey band below
        self.vsplit.setSizes([total - need, need])
        self._metrics_fitted = True

    def _on_vsplit_dragged(self, *_args) -> None:
        self._metrics_fitted = False
