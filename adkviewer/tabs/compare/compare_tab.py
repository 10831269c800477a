"""The Compare tab: ticked methods side by side on one camera, flicker and swipe, hover readout, metrics table.

A thin view built from a `TabContext`: it reads the shared `Session`, listens to the `SessionHub`, changes the
session through `ctx.commands` and asks `ctx.jobs` for work. Nothing here computes an image or a metric.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QTextDocument
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QButtonGroup, QComboBox, QHBoxLayout,
                               QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem, QMenu, QProgressBar,
                               QSizePolicy, QSplitter, QTextEdit, QToolButton, QVBoxLayout, QWidget)

from model.errors import UserError
from model.imageio import save_image
from model.methods import ALL_METHODS, SHORT_LABELS
from model.weights import shipped_weights

from adkviewer.gui.context import TabContext
from adkviewer.widgets.metrics_table import MetricsTable
from adkviewer.state.session import GT, SCALES, NO_GT_MESSAGE, best_values, metrics_csv, weights_name
from adkviewer.widgets.views import ViewGrid, camera_controls, readout_label, section_label, side_by_main
from adkviewer.gui.workers import CANCELLED

TITLES = {"adknet": "ADK-Net", "nearest": "Nearest", "box": "Box (area)", "bilinear": "Bilinear", "bicubic": "Bicubic",
          "lanczos": "Lanczos-3", "lstsq": "Least-squares"}
METRICS_MIN_HEIGHT = 120  # the metrics pane's least height, unless its rows need less


def readout_table(rows: list[tuple[str, tuple[float, float, float] | None]]) -> str:
    """The readout's rows as HTML: a colour swatch, the method's short name (never wrapped), then R, G and B."""
    lines = ["<table cellspacing='0' cellpadding='1'>"
             "<tr><td></td><td></td><td align='right'><span style='color:#c00'>R</span></td>"
             "<td align='right'><span style='color:#080'>G</span></td>"
             "<td align='right'><span style='color:#00c'>B</span></td></tr>"]
    for name, rgb in rows:
        name_cell = f"<td style='white-space:nowrap'>{name}</td>"
        if rgb is None:
            lines.append(f"<tr><td></td>{name_cell}<td colspan='3' style='color:gray'>—</td></tr>")
            continue
        hexcol = "#%02x%02x%02x" % tuple(int(round(min(max(v, 0), 1) * 255)) for v in rgb)
        cells = "".join(f"<td align='right' style='font-family:monospace'>&nbsp;{v:.4f}</td>" for v in rgb)
        lines.append(f"<tr><td style='color:{hexcol}'>■&nbsp;</td>{name_cell}{cells}</tr>")
    return "".join(lines) + "</table>"


def readout_width(font: QFont) -> int:
    """Pixels the readout table needs for the longest short name and negative values (the side panel's width)."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml(readout_table([(name, (-0.5, -0.5, -0.5)) for name in SHORT_LABELS.values()]))
    return math.ceil(doc.idealWidth())


class CompareTab(QWidget):
    """Methods, scale, view grid and metrics for the session's image."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub, self.controller = ctx.session, ctx.hub, ctx.jobs
        self._space_prev: tuple[str | None, str] | None = None
        self._hover = (-1, -1)
        self._readout_plain = ""
        self._build()
        h = self.hub
        h.imageChanged.connect(self._on_image_changed)
        h.groundTruthChanged.connect(self._on_gt_changed)
        h.resultsCleared.connect(self._on_results_cleared)
        h.resultChanged.connect(self._on_result)
        h.resultPartial.connect(self._on_partial)
        h.methodsChanged.connect(self._on_methods_changed)
        h.scaleChanged.connect(lambda _s: self._sync_scale_widgets())
        h.weightsChanged.connect(self._sync_scale_widgets)
        h.busyChanged.connect(self._on_busy)
        h.progressChanged.connect(self._on_progress)
        h.pixelSelected.connect(self._on_pixel_selected)
        QApplication.instance().installEventFilter(self)
        self._on_image_changed()

    # ------------------------------------------------------------------ layout

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

        sl.addWidget(section_label("Methods"))
        self.method_list = QListWidget(side)
        self.method_list.setToolTip("Tick the methods to compare; keys 1–9 show one of them alone")
        for m in ALL_METHODS:
            it = QListWidgetItem(self.session.label(m))
            it.setData(Qt.UserRole, m)
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked if m in self.session.methods else Qt.Unchecked)
            self.method_list.addItem(it)
        self.method_list.setFixedHeight(self.method_list.sizeHintForRow(0) * len(ALL_METHODS) + 6)
        # a long weights name ('ADK-Net (… fine-tuned 1500 it, calibrated)') is elided, its tooltip whole: a
        # horizontal scroll bar would cover the last row of this fixed-height list
        self.method_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.method_list.setTextElideMode(Qt.ElideMiddle)
        self.method_list.setResizeMode(QListView.Adjust)
        self.method_list.itemChanged.connect(self._on_ticks_changed)
        sl.addWidget(self.method_list)

        sl.addWidget(section_label("Pixel under the mouse"))
        self.readout = readout_label(side)
        self.readout.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        sl.addWidget(self.readout, 1)
        margins = sl.contentsMargins()
        side_width = readout_width(self.readout.font()) + margins.left() + margins.right()

        # toolbar above the views
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(4)
        self.grid_button = QToolButton(self)
        self.grid_button.setText("Grid")
        self.grid_button.setCheckable(True)
        self.grid_button.setChecked(True)
        self.grid_button.setToolTip("One view per method (G); keys 1–9 show one alone, Space the ground truth")
        self.swipe_button = QToolButton(self)
        self.swipe_button.setText("Swipe")
        self.swipe_button.setCheckable(True)
        self.swipe_button.setToolTip("Two methods in one view with a draggable split (W)")
        group = QButtonGroup(self)
        group.addButton(self.grid_button)
        group.addButton(self.swipe_button)
        group.setExclusive(True)
        self.grid_button.clicked.connect(lambda: self.set_mode("grid"))
        self.swipe_button.clicked.connect(lambda: self.set_mode("swipe"))
        self.swipe_a = QComboBox(self)
        self.swipe_b = QComboBox(self)
        for combo in (self.swipe_a, self.swipe_b):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
        self.swipe_a.setToolTip("Left of the split")
        self.swipe_b.setToolTip("Right of the split")
        self.swipe_a.activated.connect(lambda _i: self._update_swipe())
        self.swipe_b.activated.connect(lambda _i: self._update_swipe())
        self.swipe_sep = QLabel("◀ | ▶", self)
        self.solo_hint = QLabel(self)
        self.solo_hint.setStyleSheet("color:#084298;")
        self.solo_hint.hide()
        self._swipe_picked = [False, False]  # a person chose A / B: keep it; else follow the defaults
        self.swipe_a.activated.connect(lambda _i: self._swipe_picked.__setitem__(0, True))
        self.swipe_b.activated.connect(lambda _i: self._swipe_picked.__setitem__(1, True))
        self.grid = ViewGrid(self, camera=self.ctx.camera)
        cam = camera_controls(self, self.grid, "Fit the image in the views (F)",
                              "One screen pixel per LR pixel (Ctrl+0)")
        self.fit_button, self.one_button, self.zoom_label = cam.fit, cam.one, cam.zoom
        self.progress = _Progress(self)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setMinimumWidth(60)
        self.progress.setTextVisible(True)
        self.compute_button = QToolButton(self)
        self.compute_button.setText("Compute")
        self.compute_button.setToolTip("Compute the ticked methods that have no result (after a Cancel)")
        self.compute_button.clicked.connect(self.compute_missing)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the running computation (Esc)")
        self.cancel_button.clicked.connect(self.controller.cancel)
        for w in (self.grid_button, self.swipe_button, self.swipe_a, self.swipe_sep, self.swipe_b, self.solo_hint):
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
        self._metrics_fitted = False  # True while the pane follows its rows (until the user drags the handle)
        self._on_busy(False)
        self._set_swipe_visible(False)

    # ------------------------------------------------------------------ remembered layout

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

    # ------------------------------------------------------------------ state -> widgets

    def view_keys(self) -> list[str]:
        if self.session.hr_full is None:
            return []
        return ([GT] if self.session.has_gt else []) + list(self.session.methods)

    def _on_image_changed(self) -> None:
        s = self.session
        if s.hr_full is None:
            self.hr_label.setText("No image. File → Open… or drop one here.")
        else:
            h, w = s.hr_full.shape[:2]
            self.hr_label.setText(f"<b>{_esc(Path(s.hr_path).name)}</b><br>{w}×{h} HR → "
                                  f"{w // s.scale}×{h // s.scale} LR")
            self.hr_label.setToolTip(s.hr_path or "")
        self._sync_scale_widgets()
        self._sync_gt_widgets()
        self.grid.set_image_size(s.lr_shape)
        self.grid.set_selection(*(s.selected_pixel or (-1, -1)))
        self._rebuild_views()

    def _on_gt_changed(self) -> None:
        self._sync_gt_widgets()
        self._rebuild_views()

    def _sync_gt_widgets(self) -> None:
        s = self.session
        self.gt_label.setVisible(s.hr_full is not None)
        if s.has_gt:
            how = "found beside the HR" if s.gt_auto else "chosen"
            self.gt_label.setText(f"Ground truth: <b>{_esc(Path(s.gt_path).name)}</b> ({how})")
            self.gt_label.setToolTip(s.gt_path or "")
        elif (aside := s.gt_for_another_scale()) is not None:
            name, sc = aside
            self.gt_label.setText(f"<span style='color:#b05000'>Ground truth <b>{_esc(name)}</b> is for ×{sc}: "
                                  f"metrics off at ×{s.scale}.</span>")
            self.gt_label.setToolTip("It comes back when the scale is set to fit it")
            self.no_gt_banner.setText(f"⚠ ground truth {name} is for ×{sc}, not ×{s.scale}: metrics off "
                                      f"(set the scale to ×{sc} for them)")
        else:
            self.gt_label.setText("<span style='color:#b05000'>No ground-truth LR: metrics off.</span> "
                                  "<a href='gt'>Open ground truth…</a>")
            self.gt_label.setToolTip("")
            self.no_gt_banner.setText(f"⚠ {NO_GT_MESSAGE}")
        self.no_gt_banner.setVisible(s.hr_full is not None and not s.has_gt)

    def _sync_scale_widgets(self) -> None:
        s = self.session
        self.scale_combo.blockSignals(True)
        for i in range(self.scale_combo.count()):
            sc = self.scale_combo.itemData(i)
            w = s.adknet_weights(sc)
            self.scale_combo.setItemText(i, f"×{sc}" + (f" · {weights_name(w)}" if w else " · no ADK-Net weights"))
            self.scale_combo.setItemData(i, f"ADK-Net weights: {w}" if w else "no ADK-Net weights for this scale",
                                         Qt.ToolTipRole)
        self.scale_combo.setCurrentIndex(self.scale_combo.findData(s.scale))
        self.scale_combo.blockSignals(False)
        if s.adknet_weights() is None:
            have = sorted({sc for sc in SCALES if shipped_weights(sc)})
            others = f" Weights exist for {', '.join(f'×{x}' for x in have)}." if have else ""
            self.weights_note.setText(f"<span style='color:#b05000'>No ADK-Net weights for ×{s.scale}.</span>"
                                      f"{others} <a href='train'>Train some in the Train tab</a>.")
            self.weights_note.show()
        else:
            self.weights_note.hide()
        self.method_list.blockSignals(True)
        for i in range(self.method_list.count()):
            it = self.method_list.item(i)
            it.setText(s.label(it.data(Qt.UserRole)))
            it.setToolTip(it.text())
        self.method_list.blockSignals(False)

    def _rebuild_views(self) -> None:
        keys = self.view_keys()
        self.grid.set_keys(keys)
        if self.session.hr_full is None:
            self.grid.set_empty_message("No image open. File → Open… (Ctrl+O), drop an image here, "
                                        "or File → Open the demo image.")
        else:
            self.grid.set_empty_message(None)
        for k in keys:
            self._refresh_panel(k)
        self._refresh_titles()
        self._refresh_swipe_choices()
        self.metrics.refresh()
        self._show_readout()

    def _refresh_panel(self, key: str) -> None:
        p = self.grid.panel(key)
        if p is None:
            return
        s = self.session
        if key == GT:
            p.set_image(s.gt)
            return
        r = s.results.get(key)
        if r is None:
            p.set_message("computing…" if self.controller.busy or s.hr_full is not None else "")
        elif r.message:
            p.set_message(r.message)
        elif r.partial:
            p.start_partial(r.lr.shape[:2])
            p.update_tile((0, r.lr.shape[0], 0, r.lr.shape[1]), r.lr)
        else:
            p.set_image(r.lr)

    def _refresh_titles(self) -> None:
        s = self.session
        best = best_values(s.metrics_rows())
        for i, m in enumerate(s.methods):
            p = self.grid.panel(m)
            if p is None:
                continue
            r = s.results.get(m)
            score = ""
            if r is not None and r.metrics:
                v = r.metrics["psnr"]
                score = f"<b>{v:.2f} dB</b>" + (" ★" if best.get("psnr") == v else "")
            elif r is not None and r.partial:
                score = f"tile {r.tiles_done}/{r.tiles_total}"
            key = str(i + 1) if i < 9 else ""
            tip = s.label(m) + (f" — press {key} to show it alone" if key else "")
            p.set_title(TITLES.get(m) or s.label(m), key, score, tip)
        gp = self.grid.panel(GT)
        if gp is not None:
            gp.set_title("Ground truth LR", "Space", "", f"{s.gt_path} — hold Space to show it alone")
        self._update_solo_hint()

    def _update_solo_hint(self) -> None:
        s = self.session
        solo = self.grid.solo
        if solo is not None and self.grid.mode == "grid":
            name = "the ground truth" if solo == GT else s.label(solo)
            self.solo_hint.setText(f"Showing {_esc(name)} alone — 0 or Esc: all views")
            self.solo_hint.show()
        else:
            self.solo_hint.hide()

    def _on_results_cleared(self) -> None:
        self.grid.set_image_size(self.session.lr_shape)
        self._rebuild_views()

    def _on_result(self, m: str) -> None:
        self._refresh_panel(m)
        self._refresh_titles()
        self.metrics.refresh()
        self._refresh_swipe_choices()
        self._show_readout()

    def _on_partial(self, m: str, box) -> None:
        p = self.grid.panel(m)
        r = self.session.results.get(m)
        if p is None or r is None:
            return
        if not p.showing_image or r.tiles_done <= 1:
            p.start_partial(r.lr.shape[:2])
        y0, y1, x0, x1 = box
        p.update_tile(box, r.lr[y0:y1, x0:x1])
        self._refresh_titles()
        self.metrics.refresh()

    def _on_methods_changed(self) -> None:
        self.method_list.blockSignals(True)
        for i in range(self.method_list.count()):
            it = self.method_list.item(i)
            it.setCheckState(Qt.Checked if it.data(Qt.UserRole) in self.session.methods else Qt.Unchecked)
        self.method_list.blockSignals(False)
        self._rebuild_views()
        if self.isVisible():
            self.fit_metrics()

    def _on_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.compute_button.setVisible(not busy and any(
            r.message == CANCELLED for r in self.session.results.values()))
        if not busy:
            self.progress.setValue(0)

    def _on_progress(self, text: str, frac: float) -> None:
        self.progress.setValue(int(frac * 1000))
        self.progress.setFormat(text or "%p%")

    # ------------------------------------------------------------------ user actions

    def _on_ticks_changed(self, _item: QListWidgetItem) -> None:
        ticked = [self.method_list.item(i).data(Qt.UserRole) for i in range(self.method_list.count())
                  if self.method_list.item(i).checkState() == Qt.Checked]
        self.ctx.commands.set_methods(ticked)

    def _on_scale_picked(self, idx: int) -> None:
        self.ctx.commands.set_scale(int(self.scale_combo.itemData(idx)))

    def compute_missing(self) -> None:
        s = self.session
        for m, r in list(s.results.items()):
            if r.message == CANCELLED:
                del s.results[m]
        self.controller.compute()
        self._on_busy(self.controller.busy)

    def set_mode(self, mode: str) -> None:
        self.grid_button.setChecked(mode == "grid")
        self.swipe_button.setChecked(mode == "swipe")
        self._set_swipe_visible(mode == "swipe")
        if mode == "swipe":
            self._update_swipe(reset_split=self.grid.mode != "swipe")
        self.grid.set_mode(mode)

    def set_swipe(self, a: str, b: str) -> None:
        """Swipe between two methods (or 'gt'); unknown names raise UserError."""
        for key, combo in ((a, self.swipe_a), (b, self.swipe_b)):
            if combo.findData(key) < 0:
                choices = ", ".join(combo.itemData(i) for i in range(combo.count()))
                raise UserError(f"Cannot swipe with '{key}': choose from {choices}.")
        self.swipe_a.setCurrentIndex(self.swipe_a.findData(a))
        self.swipe_b.setCurrentIndex(self.swipe_b.findData(b))
        self._swipe_picked = [True, True]
        self.set_mode("swipe")

    def _set_swipe_visible(self, on: bool) -> None:
        for w in (self.swipe_a, self.swipe_b, self.swipe_sep):
            w.setVisible(on)

    def _refresh_swipe_choices(self) -> None:
        """Fill the A/B lists; unless a person chose, A is the first method with an output (ADK-Net when it has
        one) and B the ground truth, else the next method with an output."""
        s = self.session
        keys = self.view_keys()
        shown = [k for k in keys if k != GT and s.image_of(k) is not None] or [k for k in keys if k != GT]
        want_a = shown[0] if shown else None
        rest = [k for k in shown if k != want_a]
        want_b = GT if GT in keys else (rest[0] if rest else want_a)
        before = (self.swipe_a.currentData(), self.swipe_b.currentData())
        for i, (combo, want) in enumerate(((self.swipe_a, want_a), (self.swipe_b, want_b))):
            cur = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for k in keys:
                combo.addItem(SHORT_LABELS.get(k, k), k)
            pick = cur if (self._swipe_picked[i] and cur in keys) else want
            if pick in keys:
                combo.setCurrentIndex(keys.index(pick))
            combo.blockSignals(False)
        if self.grid.mode == "swipe":
            after = (self.swipe_a.currentData(), self.swipe_b.currentData())
            self._update_swipe()
            if after != before:
                self.grid.swipe.split.setValue((s.lr_shape or (0, 0))[1] / 2)

    def _update_swipe(self, reset_split: bool = False) -> None:
        s = self.session
        a, b = self.swipe_a.currentData(), self.swipe_b.currentData()
        self.grid.swipe.set_pair(s.image_of(a) if a else None, s.image_of(b) if b else None,
                                 keep_split=not reset_split)
        self.grid.swipe.set_title(f"Swipe: {s.label(a) if a else '—'} ◀ | ▶ {s.label(b) if b else '—'} "
                                  "(drag the yellow line)")

    def flicker(self, n: int) -> None:
        """Key N: method N alone at the same camera; 0 goes back to the grid."""
        if n == 0:
            self.grid.show_solo(None)
        elif 1 <= n <= len(self.session.methods):
            if self.grid.mode == "swipe":
                self.set_mode("grid")
            self.grid.show_solo(self.session.methods[n - 1])
        else:  # a key beyond the shown methods says why nothing happened
            k = len(self.session.methods)
            shown = "Only 1 method is shown (key 1)" if k == 1 else f"Only {k} methods are shown (keys 1–{k})"
            self.hub.info(f"{shown}; 0 goes back to the grid." if k else
                          "No methods are shown: tick some under Methods.")

    def _space(self, down: bool) -> None:
        if down:
            if not self.session.has_gt:
                self.hub.info("No ground truth to show: " + NO_GT_MESSAGE)
                return
            if self._space_prev is None:
                self._space_prev = (self.grid.solo, self.grid.mode)
                self.grid.mode = "grid"
                self.grid.show_solo(GT)
        elif self._space_prev is not None:
            solo, mode = self._space_prev
            self._space_prev = None
            if mode == "swipe":
                self.grid.set_mode("swipe")
            else:
                self.grid.show_solo(solo)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        """Number keys, Space (held), G, W, F, Esc while the Compare tab is shown and no text field has focus."""
        t = ev.type()
        if t not in (QEvent.KeyPress, QEvent.KeyRelease) or not self.isVisible():
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window():
            return False
        focus = QApplication.focusWidget()
        if isinstance(focus, (QLineEdit, QTextEdit, QAbstractSpinBox)) or (
                isinstance(focus, QComboBox) and focus.isEditable()) or QApplication.activePopupWidget():
            return False
        key, mods = ev.key(), ev.modifiers() & ~Qt.KeypadModifier
        if mods not in (Qt.NoModifier,):
            return False
        if key == Qt.Key_Space:
            if not ev.isAutoRepeat():
                self._space(t == QEvent.KeyPress)
            return True
        if t != QEvent.KeyPress:
            return False
        if Qt.Key_0 <= key <= Qt.Key_9:
            self.flicker(key - Qt.Key_0)
            return True
        if key == Qt.Key_Escape:
            if self.controller.busy:
                self.controller.cancel()
            self.grid.show_solo(None)
            return True
        if key == Qt.Key_G:
            self.set_mode("grid")
            self.grid.show_solo(None)
            return True
        if key == Qt.Key_W:
            self.set_mode("swipe")
            return True
        if key == Qt.Key_F:
            self.grid.fit()
            return True
        return False

    # ------------------------------------------------------------------ hover readout and clicks

    def _on_hover(self, row: int, col: int) -> None:
        self._hover = (row, col)
        self._show_readout()
        if row >= 0:
            self.hub.hoverChanged.emit(row, col)

    def _on_click(self, row: int, col: int) -> None:
        shape = self.session.lr_shape
        if shape and 0 <= row < shape[0] and 0 <= col < shape[1]:
            self.session.selected_pixel = (row, col)
            self.hub.pixelSelected.emit(row, col)
            self._show_readout()

    def _on_pixel_selected(self, row: int, col: int) -> None:
        """The selection (a click here, the arrow keys, Inspect) is marked in every view."""
        self.grid.set_selection(row, col)
        if self._hover[0] < 0:
            self._show_readout()

    def readout_pixel(self) -> tuple[int, int] | None:
        if self._hover[0] >= 0:
            return self._hover
        return self.session.selected_pixel

    def _show_readout(self) -> None:
        s = self.session
        px = self.readout_pixel()
        if s.hr_full is None or px is None:
            self._readout_plain = ""
            self.readout.setText("<span style='color:gray'>Move the mouse over a view to read the decimal RGB "
                                 "of every method here.</span>")
            return
        row, col = px
        sc = s.scale
        where = f"LR x={col}, y={row}" + ("" if self._hover[0] >= 0 else " (selected)")
        hr_span = f"HR x {col * sc}–{col * sc + sc - 1}, y {row * sc}–{row * sc + sc - 1}"
        plain = [where, hr_span]
        rows = [(SHORT_LABELS.get(key, key), rgb) for key, _label, rgb in s.readout(row, col)]
        for name, rgb in rows:
            plain.append(f"{name} " + (" ".join(f"{v:.4f}" for v in rgb) if rgb is not None else "—"))
        self._readout_plain = "\n".join(plain)
        self.readout.setText(f"{where}<br><span style='color:gray'>{hr_span}</span>{readout_table(rows)}")

    def readout_text(self) -> str:
        """The readout as plain text, one line per image (for tests and copying)."""
        return self._readout_plain

    # ------------------------------------------------------------------ saving

    def _panel_menu(self, key: str, pos) -> None:
        menu = QMenu(self)
        label = self.session.label(key)
        act = QAction(f"Save {label} as PNG…", menu)
        act.setEnabled(self.session.image_of(key) is not None and not (
            key in self.session.results and self.session.results[key].partial))
        act.triggered.connect(lambda: self.ctx.shell.save_output_dialog(key))
        menu.addAction(act)
        view = QAction("Save the views as PNG…", menu)
        view.triggered.connect(self.ctx.shell.save_view_dialog)
        menu.addAction(view)
        if key in self.session.methods:
            n = self.session.methods.index(key) + 1
            alone = QAction(f"Show alone ({n})" if n <= 9 else "Show alone", menu)
            alone.triggered.connect(lambda: self.grid.show_solo(key))
            menu.addAction(alone)
        menu.popup(pos)

    def save_output(self, key: str, path: str | Path) -> None:
        arr = self.session.image_of(key)
        r = self.session.results.get(key)
        if arr is None or (r is not None and r.partial):
            raise UserError(f"{self.session.label(key)} has no finished output to save.")
        save_image(path, arr)

    def save_view(self, path: str | Path) -> None:
        """Save the views as they are on screen (QWidget.grab)."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.grid.grab().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        text = metrics_csv(self.session.metrics_rows())
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def all_shown(self) -> bool:
        """Every ticked method shows its final output or message (for --screenshot)."""
        s = self.session
        if s.hr_full is None:  # nothing to compute (no image, or it could not be opened)
            return not self.controller.busy
        if not s.complete() or self.controller.busy:
            return False
        return all(self.grid.panel(k) is not None for k in self.view_keys())


class _Progress(QProgressBar):
    """A progress bar that asks for room for its text but can shrink in a narrow window."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(220, super().sizeHint().height())


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

