"""The whole-image kernel field map: computing it off the GUI thread, showing it, its camera."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QTimer

from adk_model.kernel_stats import FIELD_STATS, field_maps

from adkviewer.gui.workers import user_message
from adkviewer.tabs.inspect.inspect_widgets import FIELD_TIPS


class InspectField:
    """A part of InspectTab (its attributes are the tab's own)."""

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
        ms = self._method_set(self.hub.error)
        if ms is None:
            return
        key, hr = self._key(), s.hr
        self._field_running, self._field_job = True, key
        self._field_busy(True)
        self.field_progress.setValue(0)
        self.field_progress.setFormat("loading the model…")

        t0 = time.perf_counter()

        def work(job) -> dict:
            return field_maps(ms.runner(), hr, progress=lambda d, n, _t: job.progress(key, d, n),
                              cancelled=job.cancelled)

        def done(maps, error) -> None:
            why = "" if error is None else "cancelled" if isinstance(error, InterruptedError) else user_message(error)
            self._on_field_done(key, maps, time.perf_counter() - t0, why)

        self._field_task = self.field_jobs.submit(work, done, progress=self._on_field_progress)

    def cancel_field(self, quiet: bool = False) -> None:
        if self._field_running:
            self._field_task.cancel()
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
        self._show_field_readout()  # another statistic, or a new map: not the previous one's number
        if fresh:
            QTimer.singleShot(0, self._pull_camera)

    def _on_field_hover(self, row: int, col: int) -> None:
        if row < 0:  # off the image: the selected pixel's value, as after the arrow keys
            self._show_field_readout()
        else:
            self._show_field_readout(row, col, hovered=True)

    def _show_field_readout(self, row: int | None = None, col: int | None = None, hovered: bool = False) -> None:
        """The map's value under the mouse, else at the selected pixel (the last of the two that moved)."""
        if row is None:
            row, col = self.session.selected_pixel or (-1, -1)
        v = self.field_view.value_at(row, col)
        key = self.field_combo.currentData()
        if v is None:
            self.field_readout.setText("")
            return
        label, unit = FIELD_STATS[key]
        unit_txt = " HR px" if unit == "HR px" else ""
        where = f"LR x={col}, y={row}" + ("" if hovered else " (selected)")
        self.field_readout.setText(f"{where}: {label} = {v:+.5f}{unit_txt}")

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
