"""The Differences tab's widgets and their places (the tab's one builder part), the remembered layout, the shared
camera."""

from __future__ import annotations

from dataclasses import asdict

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSlider, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from adk_model.metrics import ERROR_CHANNELS, ERROR_MODES

from adkviewer.state.camera import Camera
from adkviewer.tabs.diff.diff_state import CHANNEL_LABELS, MODE_LABELS, NO_GT_NOTE
from adkviewer.widgets import colormaps
from adkviewer.widgets.image_panel import BACKGROUND
from adkviewer.widgets.side_panel import readout_label, section_label, side_by_main, tool_button
from adkviewer.widgets.view_grid import ViewGrid, camera_controls
from adkviewer.tabs.diff.diff_widgets import AXIS_PEN, GAIN_STEPS, KEY, ErrorHistogram, StatsTable


class DiffLayout:
    """Builds DiffTab's widgets (its attributes are the tab's own); the behaviour is the tab's and its helpers'."""

    def _build(self) -> None:
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 4, 6, 4)
        sl.setSpacing(3)

        sl.addWidget(section_label("Difference"))
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(3)
        self.image_combo = QComboBox(side)
        self.image_combo.setToolTip("The method whose error is shown (methods not ticked in Compare are computed "
                                    "when chosen)")
        self.ref_combo = QComboBox(side)
        self.ref_combo.setToolTip("What it is compared with: the ground-truth LR, or another method")
        self.mode_combo = QComboBox(side)
        for m in ERROR_MODES:
            self.mode_combo.addItem(MODE_LABELS[m], m)
        self.mode_combo.setToolTip("signed: image − reference; absolute: |image − reference|; squared: "
                                   "(image − reference)²; relative: |image − reference| / (reference + 0.01)")
        self.channel_combo = QComboBox(side)
        for c in ERROR_CHANNELS:
            self.channel_combo.addItem(CHANNEL_LABELS[c], c)
        self.channel_combo.setToolTip("Colour channel compared; luma is the Y of Compare's PSNR Y (BT.601 studio "
                                      "swing, 16/255 + 219/255 · (0.299 R + 0.587 G + 0.114 B)), so the squared "
                                      "luma's mean gives that PSNR")
        for combo in (self.image_combo, self.ref_combo, self.mode_combo, self.channel_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        form.addRow("Image", self.image_combo)
        form.addRow("vs", self.ref_combo)
        form.addRow("Mode", self.mode_combo)
        form.addRow("Channel", self.channel_combo)
        sl.addLayout(form)
        self.ref_note = QLabel(side)
        self.ref_note.setWordWrap(True)
        self.ref_note.setStyleSheet("color:#b05000;")
        self.ref_note.setText(NO_GT_NOTE)
        sl.addWidget(self.ref_note)

        gain_row = QHBoxLayout()
        gain_row.addWidget(QLabel("Gain"))
        self.gain_slider = QSlider(Qt.Horizontal, side)
        self.gain_slider.setRange(0, GAIN_STEPS)
        self.gain_slider.setToolTip("Display range = largest error / gain: raise it to see small errors "
                                    "(larger ones saturate). Double-click the value to reset.")
        gain_row.addWidget(self.gain_slider, 1)
        self.gain_label = QLabel("×1", side)
        self.gain_label.setMinimumWidth(44)
        self.gain_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        gain_row.addWidget(self.gain_label)
        sl.addLayout(gain_row)
        self.range_label = QLabel(side)
        self.range_label.setStyleSheet("color:gray;")
        self.range_label.setWordWrap(True)
        sl.addWidget(self.range_label)

        self.stats_title = section_label("Statistics")
        sl.addWidget(self.stats_title)
        self.stats = StatsTable(side)
        self.stats.cellClicked.connect(lambda row, _c: self._pick_channel(ERROR_CHANNELS[row]))
        sl.addWidget(self.stats)

        sl.addWidget(section_label("Pixel under the mouse"))
        self.readout = readout_label(side)
        self.readout.setMinimumHeight(90)
        sl.addWidget(self.readout)

        sl.addWidget(section_label("Export"))
        zoom_row = QHBoxLayout()
        zoom_row.addWidget(QLabel("Saved maps: zoom ×"))
        self.map_zoom = QSpinBox(side)
        self.map_zoom.setRange(1, 32)
        self.map_zoom.setToolTip("Each LR pixel becomes N×N pixels in saved maps (nearest neighbour, no smoothing)")
        self.map_zoom.valueChanged.connect(lambda v: setattr(self.export, "zoom", int(v)))
        zoom_row.addWidget(self.map_zoom, 1)
        sl.addLayout(zoom_row)
        self.save_map_button = QPushButton("Save map as PNG…", side)
        self.save_map_button.setToolTip("The colour-mapped difference at the zoom (×1: one pixel per LR pixel), "
                                        "its scale in a .json beside it")
        self.save_map_button.clicked.connect(self.export.save_map_dialog)
        self.save_bar_button = QPushButton("Save map with colour bar…", side)
        self.save_bar_button.setToolTip("The map at the zoom with its colour bar in data units, as PNG or SVG")
        self.save_bar_button.clicked.connect(self.export.save_map_with_bar_dialog)
        self.save_view_button = QPushButton("Save view as PNG…", side)
        self.save_view_button.setToolTip("The view as on screen, with its colour bar")
        self.save_view_button.clicked.connect(self.export.save_view_dialog)
        self.save_csv_button = QPushButton("Save statistics as CSV…", side)
        self.save_csv_button.clicked.connect(self.export.save_csv_dialog)
        for b in (self.save_map_button, self.save_bar_button, self.save_view_button, self.save_csv_button):
            sl.addWidget(b)
        sl.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setMinimumWidth(230)  # narrower than the statistics need: the table scrolls sideways
        scroll.setMaximumWidth(440)
        self.side = scroll

        # toolbar above the view
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(6)
        self.swipe_button = tool_button(self, "Swipe with image", "The image left of a draggable split, its "
                                        "difference right of it", checkable=True)
        self.swipe_button.toggled.connect(self._on_swipe_toggled)
        self.link_box = QCheckBox("Same view as Compare", self)
        self.link_box.setChecked(True)
        self.link_box.setToolTip("Pan and zoom together with the Compare tab (same centre and zoom)")
        self.link_box.toggled.connect(self._link_camera)
        self.grid = ViewGrid(self, camera=self.ctx.camera)
        cam = camera_controls(self, self.grid, "Fit the image in the view", "One screen pixel per LR pixel")
        self.fit_button, self.one_button, self.zoom_label = cam.fit, cam.one, cam.zoom
        bar.addWidget(self.swipe_button)
        bar.addStretch(1)
        for w in (self.link_box, self.fit_button, self.one_button, self.zoom_label):
            bar.addWidget(w)

        self.grid.set_keys([KEY])
        self.panel = self.grid.panel(KEY)
        self.panel.menu_button.setToolTip("Save the map, the view or the statistics")
        self.panel.image_item.setAutoDownsample(False)
        self.grid.hovered.connect(self._on_hover)
        self.grid.clicked.connect(self._on_click)
        self.grid.menuRequested.connect(lambda _key, pos: self.export.menu(self, pos))
        self._link_camera(True)

        self.cbar_view = pg.GraphicsLayoutWidget(self)
        self.cbar_view.setBackground(BACKGROUND)
        self.cbar = pg.ColorBarItem(values=(0, 1), colorMap=colormaps.colormap(self._cmap), interactive=False,
                                    width=16, colorMapMenu=False)
        self.cbar_label = self.cbar.getAxis("left")  # the label left of the bar, the values right of it
        for axis in (self.cbar.axis, self.cbar_label):
            axis.setPen(AXIS_PEN)
            axis.setTextPen(AXIS_PEN)
        self.cbar.axis.enableAutoSIPrefix(False)  # ticks in the error's own units, never "(x0.001)"
        self.cbar.axis.setWidth(None)  # as wide as its tick labels need
        self.cbar_view.addItem(self.cbar)
        self.cbar_view.setFixedWidth(120)
        self.cbar_view.setToolTip("Colour bar, in the units of the error (see its label)")

        view_row = QHBoxLayout()
        view_row.setContentsMargins(0, 0, 0, 0)
        view_row.setSpacing(2)
        view_row.addWidget(self.grid, 1)
        view_row.addWidget(self.cbar_view)

        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(2)
        tl.addLayout(bar)
        tl.addLayout(view_row, 1)

        self.hist = ErrorHistogram(self)

        self.vsplit = QSplitter(Qt.Vertical, self)
        self.vsplit.addWidget(top)
        self.vsplit.addWidget(self.hist)
        self.vsplit.setStretchFactor(0, 3)
        self.vsplit.setStretchFactor(1, 1)
        self.vsplit.setChildrenCollapsible(False)
        stats_width = self._stats_width()
        self.side.setMaximumWidth(max(440, stats_width))  # signed error's five columns, none elided
        self.hsplit = side_by_main(self, self.side, self.vsplit, max(280, stats_width))
        self.vsplit.setSizes([540, 190])

        self.image_combo.activated.connect(lambda _i: self._pick(image=self.image_combo.currentData()))
        self.ref_combo.activated.connect(lambda _i: self._pick(reference=self.ref_combo.currentData()))
        self.mode_combo.activated.connect(lambda _i: self._pick(mode=self.mode_combo.currentData()))
        self.channel_combo.activated.connect(lambda _i: self._pick_channel(self.channel_combo.currentData()))
        self.gain_slider.valueChanged.connect(self._on_gain_slider)
        self.gain_label.mouseDoubleClickEvent = lambda _ev: self.set_gain(1.0)

    def _stats_width(self) -> int:
        """The side panel's width at which the statistics show their widest value whole rather than elided."""
        margins = self.side.widget().layout().contentsMargins()
        return (self.stats.full_width() + margins.left() + margins.right()
                + self.side.verticalScrollBar().sizeHint().width())

    def save_state(self, settings, prefix: str) -> None:
        settings.set(prefix + "hsplit", self.hsplit.saveState())
        settings.set(prefix + "vsplit", self.vsplit.saveState())
        settings.set(prefix + "mode", self.state.mode)
        settings.set(prefix + "channel", self.state.channel)
        settings.set(prefix + "gain_pos", self.gain_slider.value())
        settings.set(prefix + "linked", int(self.link_box.isChecked()))

    def restore_state(self, settings, prefix: str) -> None:
        for name, splitter in (("hsplit", self.hsplit), ("vsplit", self.vsplit)):
            state = settings.get_bytes(prefix + name)
            if state is not None:
                splitter.restoreState(state)
        mode, channel = settings.get_str(prefix + "mode"), settings.get_str(prefix + "channel")
        self.state.choose(mode=mode if mode in ERROR_MODES else None,
                          channel=channel if channel in ERROR_CHANNELS else None)
        if settings.has(prefix + "gain_pos"):
            self.gain_slider.setValue(settings.get_int(prefix + "gain_pos", 0))
        if settings.has(prefix + "linked"):
            self.link_box.setChecked(bool(settings.get_int(prefix + "linked", 1)))
        self.refresh()

    def _link_camera(self, on: bool) -> None:
        """Share the context's camera (the Compare tab's: same centre and zoom), or take a copy and go on alone."""
        shared = self.ctx.camera
        self.grid.camera = shared if on else Camera(**asdict(shared))
        if self.isVisible():
            self.grid.apply_camera()

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        """With the shared camera, coming into view shows where the other views are (a fitted one fits here)."""
        super().showEvent(ev)
        if self.link_box.isChecked():
            QTimer.singleShot(0, self.grid.apply_camera)
