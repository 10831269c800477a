"""The Inspect tab: the kernels that produced the selected LR pixel, and whole-image kernel field maps.

A thin view over the shared `Session` (selected pixel, image, scale, weights). Kernels come only from
`AdkRunner.neighbourhood`, computed off the GUI thread for a small window around the selection (radius
`CACHE_RADIUS`) and cached, so the arrow keys move through them without a new forward pass. Field maps are
computed tile by tile off the GUI thread (`model.kernel_stats.field_maps`), with progress and Cancel.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, QRunnable, QThreadPool, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox,
                               QHBoxLayout, QLabel, QLineEdit, QMenu, QProgressBar, QSplitter,
                               QTextEdit, QToolButton, QVBoxLayout, QWidget)

from model.errors import UserError
from model.imageio import save_image
from model.kernel_stats import FIELD_STATS, field_maps, parse_field_stat

from adkviewer.gui.context import TabContext
from adkviewer.gui.workers import user_message
from adkviewer.tabs.inspect.field_map_view import FieldMapView, render_rgb
from adkviewer.tabs.inspect.inspect_state import CACHE_RADIUS, NeighbourhoodCache, PixelReport, pixel_report
from adkviewer.tabs.inspect.kernel_panel import KernelPanel
from adkviewer.widgets.views import ViewGrid

ARROWS = {Qt.Key_Left: (0, -1), Qt.Key_Right: (0, 1), Qt.Key_Up: (-1, 0), Qt.Key_Down: (1, 0)}
SHIFT_STEP = 8
AUTO_FIELD_PIXELS = 256 * 256  # field maps of images up to this many LR pixels compute when the tab is shown
SHORTCUTS = [
    ("Click (Compare, Inspect)", "Select an LR pixel: its kernels show in the Inspect tab"),
    ("Arrow keys", f"Move the selected pixel (Shift: {SHIFT_STEP} pixels) in the Compare views or Inspect"),
]
FIELD_TIPS = {
    "dx": "Centroid x of the channel's kernel, HR pixels from the cell centre (+ = right): where it samples",
    "dy": "Centroid y of the channel's kernel, HR pixels from the cell centre (+ = down): where it samples",
    "spread": "Radial standard deviation of |kernel| about its centroid, HR pixels: how wide it blurs",
    "rb": "Σ over taps of |K_R − K_B|: 0 where R and B use the same kernel, up to 2 where they share no tap",
}


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn = fn

    def run(self) -> None:  # noqa: D401 - QRunnable API
        self.fn()


class _Emitter(QObject):
    """Signals from the worker threads, delivered in the GUI thread."""

    kernelsDone = Signal(object, object, object, float, str)   # cache key, centre, Neighbourhood|None, s, error
    fieldProgress = Signal(object, int, int)                    # key, done, total
    fieldDone = Signal(object, object, float, str)              # key, maps|None, seconds, error ('' if none)


class InspectTab(QWidget):
    """Kernel panel for the selected pixel beside a kernel field map."""

    shortcuts = SHORTCUTS  # listed by the window's F1 help

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub = ctx.session, ctx.hub
        self.cache = NeighbourhoodCache()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.field_pool = QThreadPool(self)
        self.field_pool.setMaxThreadCount(1)
        self.em = _Emitter(self)
        self.em.kernelsDone.connect(self._on_kernels_done)
        self.em.fieldProgress.connect(self._on_field_progress)
        self.em.fieldDone.connect(self._on_field_done)
        self._inflight: object | None = None       # centre being computed
        self._failed: tuple | None = None           # (key, pixel) whose kernels could not be computed
        self._t_select = 0.0
        self.last_latency: float | None = None      # seconds from selection to the panel showing it
        self.last_compute: float | None = None      # seconds of the last neighbourhood forward pass
        self._field_cancel = threading.Event()
        self._field_running = False
        self._field_key: object | None = None
        self.maps: dict[str, np.ndarray] = {}
        self._field_job: object | None = None      # key of the running field-map job
        self._image_token = 0
        self._scale = self.session.scale
        self._build()
        h = self.hub
        h.pixelSelected.connect(self._on_pixel_selected)
        h.imageChanged.connect(self._on_image_changed)
        h.resultsCleared.connect(self._on_results_cleared)
        h.scaleChanged.connect(self._on_scale_changed)
        h.resultChanged.connect(self._on_result)
        QApplication.instance().installEventFilter(self)
        QApplication.instance().aboutToQuit.connect(self.shutdown)
        self._on_image_changed()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.panel = KernelPanel(self)
        self.panel.hrClicked.connect(self._on_hr_clicked)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        self.pixel_label = QLabel(self)
        self.pixel_label.setTextFormat(Qt.RichText)
        self.pixel_label.setWordWrap(True)
        bar.addWidget(self.pixel_label, 1)
        self.save_button = QToolButton(self)
        self.save_button.setText("Save ▾")
        self.save_button.setToolTip("Save the kernel panel as PNG, or the kernels as .npy / CSV")
        self.save_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.save_button)
        menu.addAction("Kernel panel as PNG…", lambda: self._save_dialog("panel"))
        menu.addAction("Kernels as .npy…", lambda: self._save_dialog("npy"))
        menu.addAction("Kernels as CSV…", lambda: self._save_dialog("csv"))
        self.save_button.setMenu(menu)
        bar.addWidget(self.save_button)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addLayout(bar)
        ll.addWidget(self.panel, 1)

        # ---- field map
        right = QWidget(self)
        right.setMinimumWidth(260)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 4, 4, 2)
        rl.setSpacing(3)
        title = QLabel("<b>Kernel field map</b>: one kernel statistic per LR pixel, whole image", right)
        title.setWordWrap(True)
        rl.addWidget(title)
        row = QHBoxLayout()
        self.field_combo = QComboBox(right)
        self.field_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.field_combo.setMinimumContentsLength(14)
        for key, (label, _unit) in FIELD_STATS.items():
            self.field_combo.addItem(label, key)
            self.field_combo.setItemData(self.field_combo.count() - 1, FIELD_TIPS[key.split("_")[0]],
                                         Qt.ToolTipRole)
        self.field_combo.setToolTip("Statistic to map (all are computed together: switching is instant)")
        self.field_combo.currentIndexChanged.connect(lambda _i: self._show_field())
        row.addWidget(self.field_combo, 1)
        self.field_button = QToolButton(right)
        self.field_button.setText("Compute")
        self.field_button.setToolTip("Compute the kernel statistics of every LR pixel, tile by tile")
        self.field_button.clicked.connect(self.compute_field)
        self.field_cancel_button = QToolButton(right)
        self.field_cancel_button.setText("Cancel")
        self.field_cancel_button.clicked.connect(self.cancel_field)
        self.field_save = QToolButton(right)
        self.field_save.setText("Save ▾")
        self.field_save.setPopupMode(QToolButton.InstantPopup)
        fmenu = QMenu(self.field_save)
        fmenu.addAction("Field map as PNG (LR size, colour-mapped)…", lambda: self._save_dialog("field_png"))
        fmenu.addAction("Field map values as .npy…", lambda: self._save_dialog("field_npy"))
        self.field_save.setMenu(fmenu)
        for w in (self.field_button, self.field_cancel_button, self.field_save):
            row.addWidget(w)
        rl.addLayout(row)
        self.field_progress = QProgressBar(right)
        self.field_progress.setRange(0, 1000)
        self.field_progress.setTextVisible(True)
        rl.addWidget(self.field_progress)
        self.field_view = FieldMapView(right)
        self.field_view.clicked.connect(self.select)
        self.field_view.hovered.connect(self._on_field_hover)
        self.field_view.cameraMoved.connect(self._push_camera)
        self.field_note = QLabel(right)
        self.field_note.setWordWrap(True)
        self.field_note.setAlignment(Qt.AlignCenter)
        self.field_note.setStyleSheet("color: gray;")
        rl.addWidget(self.field_view, 1)
        rl.addWidget(self.field_note)
        self.field_readout = QLabel(right)
        self.field_readout.setWordWrap(True)
        rl.addWidget(self.field_readout)

        self.split = QSplitter(Qt.Horizontal, self)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([880, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.split)
        self._field_busy(False)

    def save_state(self, settings, prefix: str) -> None:
        settings.set(prefix + "split", self.split.saveState())
        settings.set(prefix + "field", self.field_combo.currentData())

    def restore_state(self, settings, prefix: str) -> None:
        state = settings.get_bytes(prefix + "split")
        if state is not None:
            self.split.restoreState(state)
        i = self.field_combo.findData(settings.get_str(prefix + "field", ""))
        if i >= 0:
            self.field_combo.setCurrentIndex(i)

    # ------------------------------------------------------------------ session changes

    def _key(self) -> tuple:
        """What kernels depend on: the image (a token bumped per opened image), scale, weights and device."""
        s = self.session
        return (self._image_token, s.scale, str(s.adknet_weights()), s.device, s.budget_mb)

    def _on_image_changed(self) -> None:
        self._image_token += 1
        self.cache.reset(self._key())
        self._scale = self.session.scale
        self._reset_field()
        pending = self.ctx.launch.take("field") if self.session.hr_full is not None else None
        if pending:
            try:
                key = parse_field_stat(str(pending))
            except ValueError as e:
                self.hub.error(f"--field: {e}.")
            else:
                self.field_combo.setCurrentIndex(self.field_combo.findData(key))
                self.compute_field()
        self._update_pixel_label()
        self._show_selected()

    def _on_results_cleared(self) -> None:
        if self.cache.key != self._key():
            self.cache.reset(self._key())
            if self._field_key is not None and self._field_key != self._key():
                self._reset_field()
            self._show_selected()

    def _on_scale_changed(self, scale: int) -> None:
        """Keep the selection on the same HR spot when the scale changes."""
        old, self._scale = self._scale, scale
        px = self.session.selected_pixel
        if px is None or old == scale or self.session.lr_shape is None:
            return
        row, col = (int((v * old + old / 2) // scale) for v in px)
        self.select(row, col)

    def _on_result(self, method: str) -> None:
        if method == "adknet" and self.panel.report is not None:
            self._show_selected(quiet=True)

    # ------------------------------------------------------------------ selection

    def select(self, row: int, col: int) -> None:
        """Select an LR pixel (clamped to the image) for every tab."""
        shape = self.session.lr_shape
        if shape is None:
            return
        row, col = min(max(int(row), 0), shape[0] - 1), min(max(int(col), 0), shape[1] - 1)
        self.session.selected_pixel = (row, col)
        self.hub.pixelSelected.emit(row, col)

    def move_selection(self, drow: int, dcol: int) -> None:
        shape = self.session.lr_shape
        if shape is None:
            return
        row, col = self.session.selected_pixel or (shape[0] // 2, shape[1] // 2)
        self.select(row + drow, col + dcol)

    def _on_hr_clicked(self, hy: int, hx: int) -> None:
        s = self.session.scale
        shape = self.session.lr_shape
        if shape and 0 <= hy < shape[0] * s and 0 <= hx < shape[1] * s:
            self.select(hy // s, hx // s)

    def _on_pixel_selected(self, row: int, col: int) -> None:
        shape = self.session.lr_shape
        if shape is not None and not (0 <= row < shape[0] and 0 <= col < shape[1]):
            r2, c2 = min(max(row, 0), shape[0] - 1), min(max(col, 0), shape[1] - 1)
            self.hub.warning(f"Pixel x={col}, y={row} is outside the {shape[1]}×{shape[0]} LR image; "
                             f"selected x={c2}, y={r2} instead.")
            QTimer.singleShot(0, lambda: self.select(r2, c2))
            return
        self._t_select = time.perf_counter()
        self.field_view.set_selection(row, col)
        self._update_pixel_label()
        self._show_selected()

    def _update_pixel_label(self) -> None:
        s = self.session
        px = s.selected_pixel
        if s.hr_full is None:
            text = "No image open."
        elif px is None:
            text = "No pixel selected: click one in a Compare view or in the field map."
        else:
            text = (f"Selected LR pixel <b>x={px[1]}, y={px[0]}</b> &nbsp;<span style='color:gray'>(click any "
                    f"view to pick another; arrow keys move it, Shift+arrows by {SHIFT_STEP})</span>")
        self.pixel_label.setText(text)

    def _show_selected(self, quiet: bool = False) -> None:
        s = self.session
        px = s.selected_pixel
        if s.hr_full is None:
            self.panel.show_message("No image open. File → Open… or drop one on the window.")
            return
        if px is None:
            self.panel.show_message("No pixel selected. Click a pixel in a Compare view or in the field map "
                                    "(the arrow keys then move it).")
            return
        why = s.unavailable("adknet")
        if why:
            self.panel.show_message(f"The kernel panel shows ADK-Net's kernels: {why}.")
            return
        key = self._key()
        if self.cache.key != key:
            self.cache.reset(key)
        if self._failed == (key, px):
            return  # the panel already says why; selecting another pixel tries again
        nb = self.cache.find(*px)
        if nb is not None:
            self._display(nb, px, None)
            if self.cache.near_edge(*px, s.lr_shape):
                self._request(px)
        else:
            if not quiet and self.panel.showing_report():
                self.panel.header.setText(self.panel.header.text().split("<br>")[0] +
                                          f"<br><span style='color:#084298'>computing the kernels of x={px[1]}, "
                                          f"y={px[0]}…</span>")
            elif not self.panel.showing_report():
                self.panel.show_message(f"Computing the kernels of LR pixel x={px[1]}, y={px[0]}…")
            self._request(px)

    def _request(self, px: tuple[int, int]) -> None:
        """Compute the neighbourhood around px off the GUI thread (one at a time; the latest wish wins)."""
        if self._inflight is not None:
            return
        s = self.session
        try:
            ms = s.method_set()
        except UserError as e:
            self.panel.show_message(str(e))
            return
        key, hr, em = self._key(), s.hr, self.em
        self._inflight = px

        def work() -> None:
            t0 = time.perf_counter()
            try:
                runner = ms.runner()
                t0 = time.perf_counter()
                nb = runner.neighbourhood(hr, px[0], px[1], radius=CACHE_RADIUS)
                em.kernelsDone.emit(key, px, nb, time.perf_counter() - t0, "")
            except BaseException as e:  # noqa: BLE001 - shown as one sentence
                em.kernelsDone.emit(key, px, None, time.perf_counter() - t0, user_message(e))

        self.pool.start(_Task(work))

    def _on_kernels_done(self, key, centre, nb, seconds: float, error: str) -> None:
        self._inflight = None
        if key != self._key():
            self._show_selected(quiet=True)
            return
        if error:
            self._failed = (key, centre)
            self.panel.show_message(f"Could not compute the kernels: {error}")
            self.hub.error(f"Kernel panel: {error}")
            return
        nb.seconds = seconds
        self.cache.add(key, nb)
        self.last_compute = seconds
        px = self.session.selected_pixel
        if px is None:
            return
        if self.cache.find(*px) is nb:
            self._display(nb, px, seconds)
        elif self.cache.find(*px) is None:
            self._show_selected(quiet=True)

    def _display(self, nb, px: tuple[int, int], seconds: float | None) -> None:
        s = self.session
        rep = pixel_report(nb, px[0], px[1], s.scale, seconds)
        r = s.results.get("adknet")
        shown = r.lr[px[0], px[1]].astype(np.float32) if r is not None and r.ready else None
        h, w = nb.terms.lr.shape[-2:]
        secs = getattr(nb, "seconds", None)
        note = (f"Kernels of the {w}×{h} LR pixels around LR x={nb.x0}–{nb.x0 + w - 1}, y={nb.y0}–{nb.y0 + h - 1} "
                f"computed together" + (f" in {secs * 1000:.0f} ms" if secs is not None else "") +
                " (one forward pass on a crop); the arrow keys move through them without another.")
        self.panel.show_report(rep, s.hr, title=s.label("adknet"), shown=shown, note=note)
        if self._t_select:
            self.last_latency = time.perf_counter() - self._t_select
            self._t_select = 0.0

    def current_report(self) -> PixelReport | None:
        return self.panel.report

    # ------------------------------------------------------------------ keys

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel the field map and wait for the worker threads (the window closes or the app quits)."""
        self.cancel_field(quiet=True)
        self.pool.waitForDone(timeout_ms)
        self.field_pool.waitForDone(timeout_ms)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        """Arrow keys move the selection while the Compare views or the Inspect tab have the focus."""
        t = ev.type()
        if t == QEvent.Close and obj is self.window():
            self.shutdown()
            return False
        if t != QEvent.KeyPress or ev.key() not in ARROWS:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window() or QApplication.activePopupWidget():
            return False
        mods = ev.modifiers() & ~Qt.KeypadModifier
        if mods not in (Qt.NoModifier, Qt.ShiftModifier):
            return False
        focus = QApplication.focusWidget()
        if self.isVisible():
            if isinstance(focus, (QLineEdit, QTextEdit, QAbstractSpinBox, QComboBox, QAbstractItemView,
                                  QAbstractSlider)):
                return False
        elif self.ctx.shell.current_tab() != "compare" or (focus is not None and not _in_image_views(focus)):
            return False
        if self.session.hr_full is None:
            return False
        dr, dc = ARROWS[ev.key()]
        step = SHIFT_STEP if mods == Qt.ShiftModifier else 1
        self.move_selection(dr * step, dc * step)
        return True

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        s = self.session
        if s.hr_full is not None and s.selected_pixel is None:
            h, w = s.lr_shape
            self.select(h // 2, w // 2)
        if (s.hr_full is not None and not self.maps and not self._field_running and not s.unavailable("adknet")
                and s.lr_shape[0] * s.lr_shape[1] <= AUTO_FIELD_PIXELS):
            self.compute_field()  # small image: a few seconds at most
        QTimer.singleShot(0, self._pull_camera)

    # ------------------------------------------------------------------ field maps

    def _reset_field(self) -> None:
        self.cancel_field(quiet=True)
        self.maps, self._field_key = {}, None
        self.field_view.set_map(self.field_combo.currentData(), None)
        self.field_view.set_selection(*(self.session.selected_pixel or (-1, -1)))
        self.field_readout.setText("")
        self._show_field()

    def compute_field(self) -> None:
        """Compute every field statistic for the whole image, tile by tile, off the GUI thread."""
        s = self.session
        if s.hr_full is None or self._field_running:
            return
        why = s.unavailable("adknet")
        if why:
            self.field_note.setText(f"Field maps need ADK-Net: {why}.")
            return
        try:
            ms = s.method_set()
        except UserError as e:
            self.hub.error(str(e))
            return
        self._field_cancel = threading.Event()
        cancel, key, hr, em = self._field_cancel, self._key(), s.hr, self.em
        self._field_running, self._field_job = True, key
        self._field_busy(True)
        self.field_progress.setValue(0)
        self.field_progress.setFormat("loading the model…")

        def work() -> None:
            t0 = time.perf_counter()
            try:
                runner = ms.runner()
                maps = field_maps(runner, hr, progress=lambda d, n, _t: em.fieldProgress.emit(key, d, n),
                                  cancelled=cancel.is_set)
                em.fieldDone.emit(key, maps, time.perf_counter() - t0, "")
            except InterruptedError:
                em.fieldDone.emit(key, None, time.perf_counter() - t0, "cancelled")
            except BaseException as e:  # noqa: BLE001
                em.fieldDone.emit(key, None, time.perf_counter() - t0, user_message(e))

        self.field_pool.start(_Task(work))

    def cancel_field(self, quiet: bool = False) -> None:
        if self._field_running:
            self._field_cancel.set()
            self._field_running = False
            self._field_busy(False)
            if not quiet:
                self.hub.info("Field map cancelled.")
        self._field_job = None

    def _field_busy(self, busy: bool) -> None:
        self.field_progress.setVisible(busy)
        self.field_cancel_button.setVisible(busy)
        self.field_button.setEnabled(not busy)

    def _on_field_progress(self, key, done: int, total: int) -> None:
        if key == self._field_job:
            self.field_progress.setValue(int(1000 * done / max(1, total)))
            self.field_progress.setFormat(f"tile {done}/{total}")

    def _on_field_done(self, key, maps, seconds: float, error: str) -> None:
        if key != self._field_job:
            return  # an older, cancelled run
        self._field_running, self._field_job = False, None
        self._field_busy(False)
        if key != self._key():
            return
        if maps is None:
            self.field_note.setText(f"Field map: {error}")
            if error != "cancelled":
                self.hub.error(f"Field map: {error}")
            return
        self.maps, self._field_key = maps, key
        self.field_seconds = seconds
        self._show_field(fresh=True)

    def _show_field(self, fresh: bool = False) -> None:
        key = self.field_combo.currentData()
        vals = self.maps.get(key)
        self.field_view.set_map(key, vals, keep_view=not fresh)
        if vals is None:
            self.field_note.setText("Press Compute to map the statistics over the whole image (tile by tile, all "
                                    "together; images up to 256×256 LR pixels map themselves when this tab shows)."
                                    if self.session.hr_full is not None else "")
            self.field_note.show()
            return
        lo, hi = self.field_view.levels
        label, unit = FIELD_STATS[key]
        self.field_note.setText(f"{FIELD_TIPS[key.split('_')[0]]}. Colour levels {lo:+.3g} … {hi:+.3g}"
                                f"{' (symmetric about 0)' if lo == -hi else ''}; click to select a pixel.")
        self.field_view.set_selection(*(self.session.selected_pixel or (-1, -1)))
        if fresh:
            QTimer.singleShot(0, self._pull_camera)

    def _on_field_hover(self, row: int, col: int) -> None:
        v = self.field_view.value_at(row, col)
        key = self.field_combo.currentData()
        if v is None:
            self.field_readout.setText("")
            return
        label, unit = FIELD_STATS[key]
        unit_txt = " HR px" if unit == "HR px" else ""
        self.field_readout.setText(f"LR x={col}, y={row}: {label} = {v:+.5f}{unit_txt}")

    # ------------------------------------------------------------------ the camera shared with Compare

    def _pull_camera(self) -> None:
        cam = self.ctx.camera
        vals = self.field_view.values
        if vals is None or self.session.lr_shape != vals.shape[:2]:
            return
        vb = self.field_view.vb
        if cam.fit or vb.width() < 2:
            vb.setRange(QRectF(0, 0, vals.shape[1], vals.shape[0]), padding=0.0)
            return
        x0, y0, w, h = cam.rect(vb.width(), vb.height())
        vb.setRange(QRectF(x0, y0, w, h), padding=0.0)

    def _push_camera(self) -> None:
        vals = self.field_view.values
        if vals is None or self.session.lr_shape != vals.shape[:2]:
            return
        vb = self.field_view.vb
        r = vb.viewRect()
        if r.width() <= 0:
            return
        self.ctx.camera.look_at(r.center().x(), r.center().y(), vb.width() / r.width())

    # ------------------------------------------------------------------ saving

    def save_panel(self, path: str | Path) -> None:
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.panel.grab().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def _report_or_fail(self) -> PixelReport:
        rep = self.panel.report
        if rep is None:
            raise UserError("No kernels to save yet: select a pixel first.")
        return rep

    def save_kernels_npy(self, path: str | Path) -> None:
        """The three kernels as one float32 array (3, k, k): channel, tap row, tap column."""
        rep = self._report_or_fail()
        try:
            with open(path, "wb") as f:
                np.save(f, rep.kernels.astype(np.float32))
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def save_kernels_csv(self, path: str | Path) -> None:
        rep = self._report_or_fail()
        try:
            Path(path).write_text(rep.kernels_csv())
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _map_or_fail(self) -> tuple[str, np.ndarray]:
        key = self.field_combo.currentData()
        vals = self.maps.get(key)
        if vals is None:
            raise UserError("No field map to save yet: press Compute in the field map.")
        return key, vals

    def save_field_png(self, path: str | Path) -> None:
        """The field map colour-mapped at its levels, one PNG pixel per LR pixel."""
        key, vals = self._map_or_fail()
        save_image(path, render_rgb(key, vals, self.field_view.levels).astype(np.float32) / 255.0)

    def save_field_npy(self, path: str | Path) -> None:
        _key, vals = self._map_or_fail()
        try:
            with open(path, "wb") as f:
                np.save(f, vals.astype(np.float32))
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _save_dialog(self, what: str) -> None:
        s = self.session
        stem = Path(s.hr_path).stem if s.hr_path else "image"
        px = s.selected_pixel or (0, 0)
        field = self.field_combo.currentData()
        name, filt, fn = {
            "panel": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.png", "PNG images (*.png)", self.save_panel),
            "npy": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.npy", "NumPy arrays (*.npy)", self.save_kernels_npy),
            "csv": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.csv", "CSV files (*.csv)", self.save_kernels_csv),
            "field_png": (f"{stem}_x{s.scale}_field_{field}.png", "PNG images (*.png)", self.save_field_png),
            "field_npy": (f"{stem}_x{s.scale}_field_{field}.npy", "NumPy arrays (*.npy)", self.save_field_npy),
        }[what]
        self.ctx.shell.save_dialog("Save", name, filt, fn)

    # ------------------------------------------------------------------ screenshots

    def all_shown(self) -> bool:
        """The panel shows the selected pixel (or why it cannot) and a requested field map is done."""
        s = self.session
        if self._field_running:
            return False
        if s.hr_full is None or s.selected_pixel is None or s.unavailable("adknet"):
            return self._inflight is None
        if self._failed == (self._key(), s.selected_pixel):
            return self._inflight is None  # the panel says why
        rep = self.panel.report
        return self._inflight is None and rep is not None and (rep.row, rep.col) == s.selected_pixel


def _in_image_views(widget: QWidget | None) -> bool:
    """True inside the image views (a ViewGrid), where the arrow keys move the selection."""
    while widget is not None:
        if isinstance(widget, ViewGrid):
            return True
        widget = widget.parentWidget()
    return False
