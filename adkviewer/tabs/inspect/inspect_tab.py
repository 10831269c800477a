"""The Inspect tab: the kernels that produced the selected LR pixel, and whole-image kernel field maps.

A thin view over the shared `Session` (selected pixel, image, scale, weights). Kernels come only from
`AdkRunner.neighbourhood`, computed off the GUI thread for a small window around the selection (radius
`CACHE_RADIUS`) and cached for the session's generation, so the arrow keys move through them without a new
forward pass. The tab holds its helpers: the kernel panel, the field-map pane (`FieldMapPane`, its own job
and maps) and the kernel exporter.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox,
                               QHBoxLayout, QLabel, QLineEdit, QMenu, QSplitter, QTextEdit, QToolButton, QVBoxLayout,
                               QWidget)

from adk_model.kernel_stats import parse_field_stat

from adkviewer.gui.context import TabContext
from adkviewer.gui.jobs import JobQueue
from adkviewer.gui.workers import user_message
from adkviewer.state.generation import Generation
from adkviewer.tabs.inspect.inspect_export import KernelExporter
from adkviewer.tabs.inspect.kernel_panel import KernelPanel
from adkviewer.tabs.inspect.field_map_pane import FieldMapPane
from adkviewer.tabs.inspect.inspect_state import (CACHE_RADIUS, NeighbourhoodCache, PixelReport, method_set_or_say,
                                                  pixel_report)
from adkviewer.tabs.inspect.inspect_widgets import ARROWS, AUTO_FIELD_PIXELS, SHIFT_STEP, SHORTCUTS, _in_image_views


class InspectTab(QWidget):
    """Kernel panel for the selected pixel beside a kernel field map."""

    shortcuts = SHORTCUTS  # listed by the window's F1 help

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub = ctx.session, ctx.hub
        self.cache = NeighbourhoodCache()
        self.kernel_jobs = JobQueue(self)   # kernels of the selection, one at a time
        self._inflight: object | None = None       # centre being computed
        self._failed: tuple | None = None           # (key, pixel) whose kernels could not be computed
        self._t_select = 0.0
        self.last_latency: float | None = None      # seconds from selection to the panel showing it
        self.last_compute: float | None = None      # seconds of the last neighbourhood forward pass
        self._scale = self.session.scale
        self._build()
        self.export = KernelExporter(self.panel, self.session, ctx.shell)
        h = self.hub
        h.pixelSelected.connect(self._on_pixel_selected)
        h.imageChanged.connect(self._on_image_changed)
        h.resultsCleared.connect(self._on_results_cleared)
        h.scaleChanged.connect(self._on_scale_changed)
        h.resultChanged.connect(self._on_result)
        QApplication.instance().installEventFilter(self)
        QApplication.instance().aboutToQuit.connect(self.shutdown)
        self._on_image_changed()

    def all_shown(self) -> bool:
        """The panel shows the selected pixel (or why it cannot) and a requested field map is done."""
        s = self.session
        if self.field.running:
            return False
        if s.hr_full is None or s.selected_pixel is None or s.unavailable("adknet"):
            return self._inflight is None
        if self._failed == (self._key(), s.selected_pixel):
            return self._inflight is None  # the panel says why
        rep = self.panel.report
        return self._inflight is None and rep is not None and (rep.row, rep.col) == s.selected_pixel

    def _build(self) -> None:
        """The kernel panel under the pixel bar, beside the field-map pane."""
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
        menu.addAction("Kernel panel as PNG…", lambda: self.export.save_dialog("panel"))
        menu.addAction("Kernels as .npy…", lambda: self.export.save_dialog("npy"))
        menu.addAction("Kernels as CSV…", lambda: self.export.save_dialog("csv"))
        self.save_button.setMenu(menu)
        bar.addWidget(self.save_button)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addLayout(bar)
        ll.addWidget(self.panel, 1)

        self.field = FieldMapPane(self.ctx, self)
        self.field.view.clicked.connect(self.select)

        self.split = QSplitter(Qt.Horizontal, self)
        self.split.addWidget(left)
        self.split.addWidget(self.field)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([880, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.split)

    def save_state(self, settings, prefix: str) -> None:
        settings.set(prefix + "split", self.split.saveState())
        settings.set(prefix + "field", self.field.current_stat())

    def restore_state(self, settings, prefix: str) -> None:
        state = settings.get_bytes(prefix + "split")
        if state is not None:
            self.split.restoreState(state)
        i = self.field.combo.findData(settings.get_str(prefix + "field", ""))
        if i >= 0:
            self.field.combo.setCurrentIndex(i)

    def _key(self) -> Generation:
        """What kernels depend on: the session's image, scale, device and weights (its generation)."""
        return self.session.generation.results

    # ------------------------------------------------------------------ the session

    def _on_image_changed(self) -> None:
        self.cache.reset(self._key())
        self._scale = self.session.scale
        self.field.reset()
        pending = self.ctx.launch.take("field") if self.session.hr_full is not None else None
        if pending:
            try:
                key = parse_field_stat(str(pending))
            except ValueError as e:
                self.hub.error(f"--field: {e}.")
            else:
                self.field.show_stat(key)
                self.field.compute()
        if self.isVisible():  # opened while this tab shows: select and map as showing it would
            self._select_centre_if_none()
            self._auto_field()
        self._update_pixel_label()
        self._show_selected()

    def _on_results_cleared(self) -> None:
        if self.cache.key != self._key():
            self.cache.reset(self._key())
            self.field.drop_if_stale()
            if self.isVisible():
                self._auto_field()
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

    # ------------------------------------------------------------------ the selection

    def select(self, row: int, col: int) -> None:
        """Select an LR pixel (clamped to the image) for every tab."""
        shape = self.session.lr_shape
        if shape is None:
            return
        row, col = min(max(int(row), 0), shape[0] - 1), min(max(int(col), 0), shape[1] - 1)
        self.session.selected_pixel = (row, col)
        self.hub.pixelSelected.emit(row, col)

    def move_selection(self, drow: int, dcol: int) -> None:
        """Move the selection by (drow, dcol) LR pixels (from the centre when nothing is selected)."""
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
        self.field.view.set_selection(row, col)
        self.field.show_readout()  # the arrow keys moved it: the readout follows the selection
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

    # ------------------------------------------------------------------ its kernels

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
        ms = method_set_or_say(self.session, self.panel.show_message)
        if ms is None:
            return
        key, hr = self._key(), self.session.hr
        self._inflight = px

        def work(_job) -> tuple:
            runner = ms.runner()
            t0 = time.perf_counter()
            return runner.neighbourhood(hr, px[0], px[1], radius=CACHE_RADIUS), time.perf_counter() - t0

        def done(result, error) -> None:
            nb, seconds = result if error is None else (None, 0.0)
            self._on_kernels_done(key, px, nb, seconds, "" if error is None else user_message(error))

        self.kernel_jobs.submit(work, done)

    def _on_kernels_done(self, key: Generation, centre, nb, seconds: float, error: str) -> None:
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
        border = rep.border_note(s.hr.shape)
        note += f" {border}" if border else ""
        self.panel.show_report(rep, s.hr, title=s.label("adknet"), shown=shown, note=note)
        if self._t_select:
            self.last_latency = time.perf_counter() - self._t_select
            self._t_select = 0.0

    def current_report(self) -> PixelReport | None:
        return self.panel.report

    # ------------------------------------------------------------------ closing, keys, showing

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel the field map and wait for the worker threads (the window closes or the app quits)."""
        self.field.shutdown(timeout_ms)
        self.kernel_jobs.wait(timeout_ms)

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
        self._select_centre_if_none()
        self._auto_field()
        QTimer.singleShot(0, self.field.pull_camera)

    def _select_centre_if_none(self) -> None:
        s = self.session
        if s.hr_full is not None and s.selected_pixel is None:
            h, w = s.lr_shape
            self.select(h // 2, w // 2)

    def _auto_field(self) -> None:
        """Map a small image's field at once (a few seconds at most), as the field note promises."""
        s = self.session
        if (s.hr_full is not None and not self.field.maps and not self.field.running
                and not s.unavailable("adknet") and s.lr_shape[0] * s.lr_shape[1] <= AUTO_FIELD_PIXELS):
            self.field.compute()
