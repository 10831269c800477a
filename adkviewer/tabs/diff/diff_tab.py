"""The Differences tab: one method's error against the ground truth or another method, as a colour map with
a colour bar in data units, a gain, a histogram, per-channel statistics, a hover readout and a swipe.

A thin view over `DiffState` (Qt-free): every map comes from `model.metrics.error_map` through its
`MetricCache`. The view is a one-panel `ViewGrid` whose camera can be the shared one of the context (the
Compare tab's: same centre and zoom), so switching tabs keeps the place being looked at.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QMenu, QPushButton, QScrollArea, QSlider,
                               QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from model.errors import UserError
from model.imageio import save_image
from model.methods import SHORT_LABELS
from model.metrics import ERROR_CHANNELS, ERROR_MODES

from adkviewer.gui.context import TabContext
from adkviewer.state.camera import Camera
from adkviewer.state.session import GT
from adkviewer.tabs.diff.diff_state import (CHANNEL_LABELS, GAIN_MAX, GAIN_MIN, MODE_LABELS, NO_GT_NOTE, DiffSpec,
                                            DiffState, parse_diff_spec)
from adkviewer.widgets import colormaps
from adkviewer.widgets.views import (BACKGROUND, ViewGrid, camera_controls, readout_label, section_label,
                                     side_by_main)

KEY = "diff"
GAIN_STEPS = 300  # slider positions: gain = 10 ** (pos / 100), 1 .. 1000
STAT_COLUMNS = ("mean", "max", "p99")
_AXIS_PEN = "#c8c8c8"
HIST_HEADROOM = 1.25  # the tallest bin stops at 80% of the plot's height, below the mean / p99 labels


def fmt_value(v: float) -> str:
    """An error value as shown (table, readout, range): 4 significant digits."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.4g}"


class _LogCountAxis(pg.AxisItem):
    """Histogram counts drawn as log10(1 + n), labelled with the counts themselves (1, 10, 100, 1k …)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph API
        top = max(1, int(math.ceil(maxVal)) + 1)
        return [(1.0, [0.0] + [math.log10(1 + 10 ** k) for k in range(top)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        out = []
        for v in values:
            n = round(10 ** v - 1)
            out.append("0" if n <= 0 else (f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k" if n >= 1e3 else f"{n:g}"))
        return out


class DiffTab(QWidget):
    """Image vs reference error maps for the session's image."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub, self.controller = ctx.session, ctx.hub, ctx.jobs
        self.state = DiffState(self.session)
        self._hover = (-1, -1)
        self._readout_plain = ""
        self._requested = False       # a --diff asked for a map: --screenshot waits for it
        self._levels = (0.0, 1.0)
        self._cmap = colormaps.SEQUENTIAL
        self._build()
        h = self.hub
        h.imageChanged.connect(self._on_image_changed)
        h.resultsCleared.connect(self._on_image_changed)
        h.groundTruthChanged.connect(self._on_gt_changed)
        h.resultChanged.connect(self._on_result)
        h.methodsChanged.connect(self.refresh)
        h.pixelSelected.connect(self._on_pixel_selected)
        self._on_image_changed()

    # ------------------------------------------------------------------ layout

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
        self.channel_combo.setToolTip("Colour channel compared; luma is 0.299 R + 0.587 G + 0.114 B (BT.601 "
                                      "weights, full range), on the same 0–1 scale as R, G and B")
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
        self.stats = QTableWidget(len(ERROR_CHANNELS), len(STAT_COLUMNS), side)
        self.stats.setHorizontalHeaderLabels(list(STAT_COLUMNS))
        self.stats.setVerticalHeaderLabels([CHANNEL_LABELS[c] for c in ERROR_CHANNELS])
        self.stats.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.stats.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.stats.setSelectionMode(QAbstractItemView.SingleSelection)
        self.stats.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.stats.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.stats.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.stats.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.stats.setToolTip("Mean, maximum and 99th percentile of this mode's error in each channel "
                              "(signed: of the signed values, so the mean is the bias and max is the largest "
                              "positive error). Click a row to show it.")
        self.stats.cellClicked.connect(lambda row, _c: self._pick_channel(ERROR_CHANNELS[row]))
        rows_h = sum(self.stats.verticalHeader().sectionSize(i) for i in range(self.stats.rowCount()))
        self.stats.setFixedHeight(rows_h + self.stats.horizontalHeader().sizeHint().height() + 4)
        sl.addWidget(self.stats)

        sl.addWidget(section_label("Pixel under the mouse"))
        self.readout = readout_label(side)
        self.readout.setMinimumHeight(90)
        sl.addWidget(self.readout)

        sl.addWidget(section_label("Export"))
        self.save_map_button = QPushButton("Save map as PNG…", side)
        self.save_map_button.setToolTip("The colour-mapped difference at LR resolution (one pixel per LR pixel)")
        self.save_map_button.clicked.connect(self.save_map_dialog)
        self.save_view_button = QPushButton("Save view as PNG…", side)
        self.save_view_button.setToolTip("The view as on screen, with its colour bar")
        self.save_view_button.clicked.connect(self.save_view_dialog)
        self.save_csv_button = QPushButton("Save statistics as CSV…", side)
        self.save_csv_button.clicked.connect(self.save_csv_dialog)
        for b in (self.save_map_button, self.save_view_button, self.save_csv_button):
            sl.addWidget(b)
        sl.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setMinimumWidth(230)
        scroll.setMaximumWidth(440)
        self.side = scroll

        # toolbar above the view
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(6)
        self.swipe_button = QToolButton(self)
        self.swipe_button.setText("Swipe with image")
        self.swipe_button.setCheckable(True)
        self.swipe_button.setToolTip("The image left of a draggable split, its difference right of it")
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
        self.grid.menuRequested.connect(self._panel_menu)
        self._link_camera(True)

        self.cbar_view = pg.GraphicsLayoutWidget(self)
        self.cbar_view.setBackground(BACKGROUND)
        self.cbar = pg.ColorBarItem(values=(0, 1), colorMap=colormaps.colormap(self._cmap), interactive=False,
                                    width=16, colorMapMenu=False)
        self.cbar_label = self.cbar.getAxis("left")  # the label left of the bar, the values right of it
        for axis in (self.cbar.axis, self.cbar_label):
            axis.setPen(_AXIS_PEN)
            axis.setTextPen(_AXIS_PEN)
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

        self.hist = pg.PlotWidget(self, axisItems={"left": _LogCountAxis("left")}, background=BACKGROUND)
        self.hist.setMenuEnabled(False)
        self.hist.setMouseEnabled(x=False, y=False)
        self.hist.hideButtons()
        for ax in ("left", "bottom"):
            self.hist.getAxis(ax).setPen(_AXIS_PEN)
            self.hist.getAxis(ax).setTextPen(_AXIS_PEN)
            self.hist.getAxis(ax).enableAutoSIPrefix(False)
        self.hist.setLabel("left", "pixels")
        self.hist.setMinimumHeight(130)
        self.hist_bars = pg.BarGraphItem(x0=[0], x1=[1], height=[0], pen=None)
        self.hist.addItem(self.hist_bars)
        self.hist_range = pg.LinearRegionItem(values=(0, 1), movable=False, brush=pg.mkBrush(255, 255, 255, 22),
                                              pen=pg.mkPen(255, 255, 255, 60))
        self.hist_range.setZValue(-10)
        self.hist.addItem(self.hist_range, ignoreBounds=True)
        self.hist_lines = {}
        for name, color, style in (("mean", "#ffffff", Qt.DashLine), ("p99", "#ffd700", Qt.DashLine)):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(color, width=1, style=style),
                                   label=name,
                                   labelOpts={"position": 0.97, "color": color, "anchors": [(0, 0), (0, 0)]})
            self.hist.addItem(line, ignoreBounds=True)
            self.hist_lines[name] = line

        self.vsplit = QSplitter(Qt.Vertical, self)
        self.vsplit.addWidget(top)
        self.vsplit.addWidget(self.hist)
        self.vsplit.setStretchFactor(0, 3)
        self.vsplit.setStretchFactor(1, 1)
        self.vsplit.setChildrenCollapsible(False)
        self.hsplit = side_by_main(self, self.side, self.vsplit, max(280, self._stats_width()))
        self.vsplit.setSizes([540, 190])

        self.image_combo.activated.connect(lambda _i: self._pick(image=self.image_combo.currentData()))
        self.ref_combo.activated.connect(lambda _i: self._pick(reference=self.ref_combo.currentData()))
        self.mode_combo.activated.connect(lambda _i: self._pick(mode=self.mode_combo.currentData()))
        self.channel_combo.activated.connect(lambda _i: self._pick_channel(self.channel_combo.currentData()))
        self.gain_slider.valueChanged.connect(self._on_gain_slider)
        self.gain_label.mouseDoubleClickEvent = lambda _ev: self.set_gain(1.0)

    def _stats_width(self) -> int:
        """The side panel's width at which the statistics show their widest value (fmt_value: '-0.0001234' or
        '-1.234e-05', bold in the shown row) whole rather than elided."""
        bold = QFont(self.stats.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)
        column = max(fm.horizontalAdvance(t) for t in ("-0.0001234", "-1.234e-05")) + 12
        header = self.stats.verticalHeader().sizeHint().width()
        frame = 2 * self.stats.frameWidth() + 4
        margins = self.side.widget().layout().contentsMargins()
        return (len(STAT_COLUMNS) * column + header + frame + margins.left() + margins.right()
                + self.side.verticalScrollBar().sizeHint().width())

    # ------------------------------------------------------------------ remembered layout

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

    # ------------------------------------------------------------------ camera

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

    # ------------------------------------------------------------------ session changes

    def _on_image_changed(self) -> None:
        self.state.image_changed()
        self._hover = (-1, -1)
        self.grid.set_image_size(self.session.lr_shape)
        self.apply_pending()
        self.refresh()

    def _on_gt_changed(self) -> None:
        self.state.source_changed(GT)
        self.refresh()

    def _on_result(self, method: str) -> None:
        self.state.source_changed(method)
        if method in (self.state.image, self.state.reference) or self.state.image is None:
            self.refresh()
        else:
            self._sync_combos()

    def apply_pending(self) -> None:
        """Show the difference asked for with `--diff` (ctx.launch), once the image is open."""
        if not self.ctx.launch.diff or self.session.hr_full is None:
            return
        text = self.ctx.launch.take("diff")
        try:
            spec = parse_diff_spec(str(text))
            self.show_diff(spec)
        except UserError as e:
            self.hub.error(str(e))
            return
        self._requested = True
        self.ctx.shell.show_tab(KEY)

    def show_diff(self, spec: DiffSpec | str) -> None:
        """Choose image, reference, mode and channel (methods not ticked in Compare are ticked and computed)."""
        if isinstance(spec, str):
            spec = parse_diff_spec(spec)
        ref = spec.reference
        if ref is None:
            ref = GT if self.session.has_gt else self.state.default_reference(spec.image)
        if ref == GT and not self.session.has_gt:
            raise UserError(f"This image has no ground-truth LR, so {self.state.label(spec.image)} cannot be "
                            f"compared with it; compare two methods instead, e.g. --diff {spec.image}-bicubic.")
        self._ensure_ticked([spec.image] + ([ref] if ref and ref != GT else []))
        self.state.choose(image=spec.image, reference=ref, mode=spec.mode, channel=spec.channel)
        self.refresh()

    def _ensure_ticked(self, methods: list[str]) -> None:
        missing = [m for m in methods if m not in self.session.methods]
        if missing:
            self.ctx.commands.set_methods(list(self.session.methods) + missing)

    # ------------------------------------------------------------------ user actions

    def _pick(self, image: str | None = None, reference: str | None = None, mode: str | None = None) -> None:
        try:
            self._ensure_ticked([m for m in (image, reference) if m and m != GT])
            self.state.choose(image=image, reference=reference, mode=mode)
        except UserError as e:
            self.hub.error(str(e))
        self.refresh()

    def _pick_channel(self, channel: str) -> None:
        self.state.choose(channel=channel)
        self.refresh()

    def set_gain(self, gain: float) -> None:
        self.gain_slider.setValue(int(round(100 * math.log10(min(max(gain, GAIN_MIN), GAIN_MAX)))))

    def _on_gain_slider(self, pos: int) -> None:
        self.state.set_gain(10 ** (pos / 100))
        self._show_levels()

    def _on_swipe_toggled(self, on: bool) -> None:
        self.grid.set_mode("swipe" if on else "grid")
        if on:
            self._update_swipe(reset_split=True)

    def _on_pixel_selected(self, row: int, col: int) -> None:
        """A pixel selected here, in Compare or in Inspect: marked (where the grid can) and read out."""
        mark = getattr(self.grid, "set_selection", None)
        if mark is not None:
            mark(row, col)
        if self._hover[0] < 0:
            self._show_readout()

    def _on_click(self, row: int, col: int) -> None:
        shape = self.session.lr_shape
        if shape and 0 <= row < shape[0] and 0 <= col < shape[1]:
            self.session.selected_pixel = (row, col)
            self.hub.pixelSelected.emit(row, col)

    # ------------------------------------------------------------------ state -> widgets

    def _sync_combos(self) -> None:
        st = self.state
        for combo, choices, current in ((self.image_combo, st.image_choices(), st.image),
                                        (self.ref_combo, st.reference_choices(), st.reference)):
            combo.blockSignals(True)
            combo.clear()
            for k in choices:
                why = st.status(k)
                text = st.label(k)
                if why == f"{st.label(k)} is not ticked in Compare":
                    text += " (computed when chosen)"
                elif why == "computing…":
                    text += " (computing…)"
                elif why is not None and k != GT:
                    text += " (no output)"
                combo.addItem(text, k)
                if why is not None and k != GT:
                    combo.setItemData(combo.count() - 1, why, Qt.ToolTipRole)
            idx = combo.findData(current)
            combo.setCurrentIndex(idx)
            combo.blockSignals(False)
        for combo, value in ((self.mode_combo, st.mode), (self.channel_combo, st.channel)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(value))
            combo.blockSignals(False)
        has_image = self.session.hr_full is not None
        self.ref_note.setVisible(has_image and not self.session.has_gt)

    def refresh(self) -> None:
        """Show the current choice: map, colour bar, histogram, statistics, readout."""
        st = self.state
        st.ensure_valid()
        self._sync_combos()
        why = st.why_not()
        res = None if why else st.result()
        self.stats_title.setText(f"<b>Statistics · {MODE_LABELS[st.mode].lower()} error</b>")
        for b in (self.save_map_button, self.save_view_button, self.save_csv_button):
            b.setEnabled(res is not None)
        if res is None:
            self.panel.set_message(why or "")
            self.panel.set_title("Difference")
            self._fill_stats({})
            self.hist_bars.setOpts(x0=[0], x1=[1], height=[0], brushes=None, brush=None)
            for line in self.hist_lines.values():
                line.hide()
            self.range_label.setText("")
            if self.grid.mode == "swipe":
                self.grid.swipe.set_pair(None, None)
            self._show_readout()
            return
        self._cmap = colormaps.for_values(st.mode == "signed")
        lut = colormaps.lookup_table(self._cmap)
        self.panel.stack.setCurrentWidget(self.panel.view)
        self.panel.image_item.setImage(res.err, autoLevels=False, levels=st.levels(res), lut=lut)
        self.panel.set_title(st.title(), tooltip=f"{st.label(st.image)} against {st.label(st.reference)}: "
                                                 f"{st.axis_label()}")
        self.cbar.setColorMap(colormaps.colormap(self._cmap))
        self.cbar_label.setLabel(st.axis_label())
        self.hist.setLabel("bottom", st.axis_label())
        for axis in (self.cbar_label, self.hist.getAxis("bottom")):
            axis.resizeEvent()  # pyqtgraph places a label only on resize: centre the new text now
        self._fill_stats(st.channel_stats())
        self._show_levels(res)
        self._show_readout()

    def _show_levels(self, res=None) -> None:
        st = self.state
        pos = self.gain_slider.value()
        self.gain_label.setText(f"×{10 ** (pos / 100):.3g}")
        res = res or st.result()
        if res is None:
            return
        lo, hi = self._levels = st.levels(res)
        self.panel.image_item.setLevels((lo, hi))
        self.cbar.setLevels((lo, hi))
        largest = max(abs(res.lo), abs(res.hi)) if st.mode == "signed" else res.hi
        span = f"±{fmt_value(hi)}" if st.mode == "signed" else f"0 – {fmt_value(hi)}"
        what = "largest |error|" if st.mode == "signed" else "largest error"  # the table's max is signed
        self.range_label.setText(f"Colours span {span} ({what} {fmt_value(largest)} / gain)")
        self._fill_hist(res)
        if self.grid.mode == "swipe":
            self._update_swipe()

    def _fill_hist(self, res) -> None:
        lo, hi = self._levels
        centres = (res.edges[:-1] + res.edges[1:]) / 2
        colours = colormaps.apply(centres, (lo, hi), self._cmap)
        brushes = [pg.mkBrush(QColor(*map(int, c))) for c in colours]
        self.hist_bars.setOpts(x0=res.edges[:-1], x1=res.edges[1:], height=np.log10(1.0 + res.hist),
                               brushes=brushes)
        self.hist_range.setRegion((lo, hi))
        for name, value in (("mean", res.stats.mean), ("p99", res.stats.p99)):
            line = self.hist_lines[name]
            text = f"{name} {fmt_value(value)}"
            line.label.setFormat(text)
            line.setValue(value)
            line.label.setText(text)  # also while the tab is hidden (the label only updates when visible)
            line.show()
        self.hist.setXRange(float(res.edges[0]), float(res.edges[-1]), padding=0.02)
        self.hist.setYRange(0, HIST_HEADROOM * max(1.0, float(np.log10(1.0 + res.hist.max()))), padding=0)

    def _fill_stats(self, stats) -> None:
        bold = QFont()
        bold.setBold(True)
        for i, c in enumerate(ERROR_CHANNELS):
            st = stats.get(c)
            for j, key in enumerate(STAT_COLUMNS):
                v = getattr(st, key) if st is not None else None
                it = QTableWidgetItem(fmt_value(v) if v is not None else "—")
                it.setData(Qt.UserRole, v)
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if c == self.state.channel:
                    it.setFont(bold)
                self.stats.setItem(i, j, it)
        self.stats.selectRow(ERROR_CHANNELS.index(self.state.channel))

    def _update_swipe(self, reset_split: bool = False) -> None:
        st = self.state
        res = st.result()
        img = st.array(st.image)
        coloured = colormaps.apply(res.err, self._levels, self._cmap) / np.float32(255) if res is not None else None
        self.grid.swipe.set_pair(img, coloured, keep_split=not reset_split)
        self.grid.swipe.set_title(f"Swipe: {st.label(st.image)} ◀ | ▶ its difference vs "
                                  f"{SHORT_LABELS.get(st.reference or '', st.label(st.reference))} "
                                  "(drag the yellow line)")

    # ------------------------------------------------------------------ hover readout

    def _on_hover(self, row: int, col: int) -> None:
        self._hover = (row, col)
        self._show_readout()

    def _show_readout(self) -> None:
        st = self.state
        row, col = self._hover
        selected = row < 0 and self.session.selected_pixel is not None
        if selected:
            row, col = self.session.selected_pixel
        v = st.value_at(row, col) if row >= 0 else None
        if v is None:
            self._readout_plain = ""
            self.readout.setText("<span style='color:gray'>Move the mouse over the map to read the error "
                                 "there.</span>")
            return
        where = f"LR x={col}, y={row}" + (" (selected)" if selected else "")
        lines = [where, f"{CHANNEL_LABELS[st.channel]} {st.mode} error: {v:.6g}"]
        html = [where, f"<b>{CHANNEL_LABELS[st.channel]} {st.mode} error: {v:.6g}</b>",
                "<table cellspacing='0' cellpadding='1'><tr><td></td><td align='right' style='color:#c00'>R</td>"
                "<td align='right' style='color:#080'>G</td><td align='right' style='color:#00c'>B</td></tr>"]
        for name in (st.image, st.reference):
            arr = st.array(name)
            rgb = arr[row, col]
            short = SHORT_LABELS.get(name, name)
            lines.append(f"{short} " + " ".join(f"{x:.4f}" for x in rgb))
            cells = "".join(f"<td align='right' style='font-family:monospace'>&nbsp;{x:.4f}</td>" for x in rgb)
            html.append(f"<tr><td>{short}</td>{cells}</tr>")
        html.append("</table>")
        self._readout_plain = "\n".join(lines)
        self.readout.setText("<br>".join(html[:2]) + html[2] + "".join(html[3:]))

    def readout_text(self) -> str:
        """The readout as plain text (for tests and copying)."""
        return self._readout_plain

    # ------------------------------------------------------------------ saving

    def _panel_menu(self, _key: str, pos) -> None:
        menu = QMenu(self)
        for text, slot in (("Save map as PNG…", self.save_map_dialog), ("Save view as PNG…", self.save_view_dialog),
                           ("Save statistics as CSV…", self.save_csv_dialog)):
            act = QAction(text, menu)
            act.setEnabled(self.state.result() is not None)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.popup(pos)

    def coloured_map(self) -> np.ndarray:
        """The map as shown, uint8 (h, w, 3), one pixel per LR pixel."""
        res = self.state.result()
        if res is None:
            raise UserError(f"There is no difference map to save: {self.state.why_not()}")
        return colormaps.apply(res.err, self.state.levels(res), colormaps.for_values(self.state.mode == "signed"))

    def save_map(self, path: str | Path) -> None:
        save_image(path, self.coloured_map() / np.float32(255))

    def save_view(self, path: str | Path) -> None:
        """The view and its colour bar as on screen."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        holder = self.grid.parentWidget()
        if not holder.grab(self.grid.geometry().united(self.cbar_view.geometry())).save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        text = self.state.stats_csv()
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _dialog(self, title: str, suffix: str, filt: str, fn) -> None:
        self.ctx.shell.save_dialog(title, f"{self.state.file_stem()}{suffix}", filt, fn)

    def save_map_dialog(self) -> None:
        self._dialog("Save the difference map as PNG", ".png", "PNG images (*.png)", self.save_map)

    def save_view_dialog(self) -> None:
        self._dialog("Save the difference view as PNG", "_view.png", "PNG images (*.png)", self.save_view)

    def save_csv_dialog(self) -> None:
        self._dialog("Save the error statistics as CSV", "_stats.csv", "CSV files (*.csv)", self.export_csv)

    # ------------------------------------------------------------------ screenshots

    def all_shown(self) -> bool:
        """The difference asked for on the command line shows (or says why not); True when none was asked."""
        if not self._requested:
            return True
        st = self.state
        if self.controller.busy:
            return False
        return not any(st.status(n) == "computing…" for n in (st.image, st.reference) if n)
