"""The Inspect tab's kernel field map: one kernel statistic for every LR pixel, with its controls and its job.

A pane the tab holds (not a part of the tab's class): its widgets, the whole-image job (`adk_model.kernel_stats.
field_maps` on its own `gui.jobs.JobQueue`, tile by tile, with progress and Cancel), the maps it computed for
one session generation, their export, and the shared camera it reads and writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QProgressBar, QToolButton,
                               QVBoxLayout, QWidget)

from adk_model.errors import UserError
from adk_model.figure_write import write_figure
from adk_model.imageio import save_image
from adk_model.kernel_stats import FIELD_DIVERGING, FIELD_STATS, field_maps
from adk_model.map_figure import map_figure, write_sidecar

from adkviewer.gui.context import TabContext
from adkviewer.gui.jobs import Job, JobQueue
from adkviewer.gui.workers import user_message
from adkviewer.state.generation import Generation
from adkviewer.tabs.inspect.field_map_view import SEQUENTIAL, FieldMapView, colormap_for, render_rgb
from adkviewer.tabs.inspect.kernel_panel import DIVERGING
from adkviewer.tabs.inspect.inspect_state import method_set_or_say
from adkviewer.tabs.inspect.inspect_widgets import FIELD_TIPS
from adkviewer.widgets.side_panel import tool_button


class FieldMapPane(QWidget):
    """Compute, show, read out and save the kernel field maps of the session's image."""

    def __init__(self, ctx: TabContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session, self.hub = ctx, ctx.session, ctx.hub
        self.jobs = JobQueue(self)
        self.maps: dict[str, np.ndarray] = {}
        self.maps_for: Generation | None = None     # the generation the maps were computed for
        self._job: Job | None = None
        self._job_for: Generation | None = None      # the generation the running job computes for
        self._build()
        self._busy(False)

    def _build(self) -> None:
        self.setMinimumWidth(260)
        rl = QVBoxLayout(self)
        rl.setContentsMargins(6, 4, 4, 2)
        rl.setSpacing(3)
        title = QLabel("<b>Kernel field map</b>: one kernel statistic per LR pixel, whole image", self)
        title.setWordWrap(True)
        rl.addWidget(title)
        row = QHBoxLayout()
        self.combo = QComboBox(self)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        for key, (label, _unit) in FIELD_STATS.items():
            self.combo.addItem(label, key)
            self.combo.setItemData(self.combo.count() - 1, FIELD_TIPS[key.split("_")[0]], Qt.ToolTipRole)
        self.combo.setToolTip("Statistic to map (all are computed together: switching is instant)")
        self.combo.currentIndexChanged.connect(lambda _i: self.show_map())
        row.addWidget(self.combo, 1)
        self.compute_button = tool_button(self, "Compute", "Compute the kernel statistics of every LR pixel, tile "
                                          "by tile", self.compute)
        self.cancel_button = tool_button(self, "Cancel", clicked=self.cancel)
        self.save_button = QToolButton(self)
        self.save_button.setText("Save ▾")
        self.save_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.save_button)
        menu.addAction("Field map as PNG (LR size, colour-mapped)…", lambda: self._save_dialog("png"))
        menu.addAction("Field map with its colour bar (PNG or SVG, zoomed)…", lambda: self._save_dialog("bar"))
        menu.addAction("Field map values as .npy…", lambda: self._save_dialog("npy"))
        self.save_button.setMenu(menu)
        for w in (self.compute_button, self.cancel_button, self.save_button):
            row.addWidget(w)
        rl.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        rl.addWidget(self.progress)
        self.view = FieldMapView(self)
        self.view.hovered.connect(self._on_hover)
        self.view.cameraMoved.connect(self.push_camera)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignCenter)
        self.note.setStyleSheet("color: gray;")
        rl.addWidget(self.view, 1)
        rl.addWidget(self.note)
        self.readout = QLabel(self)
        self.readout.setWordWrap(True)
        rl.addWidget(self.readout)

    # ------------------------------------------------------------------ computing

    @property
    def running(self) -> bool:
        return self._job is not None

    def current_stat(self) -> str:
        return self.combo.currentData()

    def show_stat(self, key: str) -> None:
        """Map this statistic (a FIELD_STATS key)."""
        self.combo.setCurrentIndex(self.combo.findData(key))

    def reset(self) -> None:
        """A new image: no maps, no job."""
        self.cancel(quiet=True)
        self.maps, self.maps_for = {}, None
        self.view.set_map(self.current_stat(), None)
        self.view.set_selection(*(self.session.selected_pixel or (-1, -1)))
        self.readout.setText("")
        self.show_map()

    def drop_if_stale(self) -> None:
        """The results went stale (scale, device, weights): maps shown or computing for an older generation go."""
        if {self.maps_for, self._job_for} - {None, self.session.generation.results}:
            self.reset()

    def compute(self) -> None:
        """Compute every field statistic for the whole image, tile by tile, off the GUI thread."""
        s = self.session
        if s.hr_full is None or self.running:
            return
        why = s.unavailable("adknet")
        if why:
            self.note.setText(f"Field maps need ADK-Net: {why}.")
            return
        ms = method_set_or_say(s, self.hub.error)
        if ms is None:
            return
        key, hr = s.generation.results, s.hr
        self._job_for = key
        self._busy(True)
        self.progress.setValue(0)
        self.progress.setFormat("loading the model…")

        def work(job: Job) -> dict:
            return field_maps(ms.runner(), hr, progress=lambda d, n, _t: job.progress(key, d, n),
                              cancelled=job.cancelled)

        def done(maps, error) -> None:
            why = "" if error is None else "cancelled" if isinstance(error, InterruptedError) else user_message(error)
            self._on_done(key, maps, why)

        self._job = self.jobs.submit(work, done, progress=self._on_progress)

    def cancel(self, quiet: bool = False) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self._busy(False)
            if not quiet:
                self.hub.info("Field map cancelled.")
        self._job_for = None

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait for the job (the window closes)."""
        self.cancel(quiet=True)
        self.jobs.wait(timeout_ms)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.compute_button.setEnabled(not busy)

    def _on_progress(self, key: Generation, done: int, total: int) -> None:
        if key == self._job_for:
            self.progress.setValue(int(1000 * done / max(1, total)))
            self.progress.setFormat(f"tile {done}/{total}")

    def _on_done(self, key: Generation, maps, error: str) -> None:
        if key != self._job_for:
            return  # an older, cancelled run
        self._job, self._job_for = None, None
        self._busy(False)
        if key != self.session.generation.results:
            return
        if maps is None:
            self.note.setText(f"Field map: {error}")
            if error != "cancelled":
                self.hub.error(f"Field map: {error}")
            return
        self.maps, self.maps_for = maps, key
        self.show_map(fresh=True)

    # ------------------------------------------------------------------ showing

    def show_map(self, fresh: bool = False) -> None:
        key = self.current_stat()
        vals = self.maps.get(key)
        self.view.set_map(key, vals, keep_view=not fresh)
        if vals is None:
            self.note.setText("Press Compute to map the statistics over the whole image (tile by tile, all "
                              "together; images up to 256×256 LR pixels map themselves when this tab shows)."
                              if self.session.hr_full is not None else "")
            self.note.show()
            return
        lo, hi = self.view.levels
        self.note.setText(f"{FIELD_TIPS[key.split('_')[0]]}. Colour levels {lo:+.3g} … {hi:+.3g}"
                          f"{' (symmetric about 0)' if lo == -hi else ''}; click to select a pixel.")
        self.view.set_selection(*(self.session.selected_pixel or (-1, -1)))
        self.show_readout()  # another statistic, or a new map: not the previous one's number
        if fresh:
            QTimer.singleShot(0, self.pull_camera)

    def _on_hover(self, row: int, col: int) -> None:
        if row < 0:  # off the image: the selected pixel's value, as after the arrow keys
            self.show_readout()
        else:
            self.show_readout(row, col, hovered=True)

    def show_readout(self, row: int | None = None, col: int | None = None, hovered: bool = False) -> None:
        """The map's value under the mouse, else at the selected pixel (the last of the two that moved)."""
        if row is None:
            row, col = self.session.selected_pixel or (-1, -1)
        v = self.view.value_at(row, col)
        if v is None:
            self.readout.setText("")
            return
        label, unit = FIELD_STATS[self.current_stat()]
        unit_txt = " HR px" if unit == "HR px" else ""
        where = f"LR x={col}, y={row}" + ("" if hovered else " (selected)")
        self.readout.setText(f"{where}: {label} = {v:+.5f}{unit_txt}")

    def pull_camera(self) -> None:
        """Show where the shared camera looks (a fitted camera fits the map)."""
        cam = self.ctx.camera
        vals = self.view.values
        if vals is None or self.session.lr_shape != vals.shape[:2]:
            return
        vb = self.view.vb
        if cam.fit or vb.width() < 2:
            vb.setRange(QRectF(0, 0, vals.shape[1], vals.shape[0]), padding=0.0)
            return
        x0, y0, w, h = cam.rect(vb.width(), vb.height())
        vb.setRange(QRectF(x0, y0, w, h), padding=0.0)

    def push_camera(self) -> None:
        """The person panned or zoomed the map: the shared camera follows."""
        vals = self.view.values
        if vals is None or self.session.lr_shape != vals.shape[:2]:
            return
        vb = self.view.vb
        r = vb.viewRect()
        if r.width() <= 0:
            return
        self.ctx.camera.look_at(r.center().x(), r.center().y(), vb.width() / r.width())

    # ------------------------------------------------------------------ saving

    def _map_or_fail(self) -> tuple[str, np.ndarray]:
        key = self.current_stat()
        vals = self.maps.get(key)
        if vals is None:
            raise UserError("No field map to save yet: press Compute in the field map.")
        return key, vals

    def _measures(self, key: str) -> str:
        label, unit = FIELD_STATS[key]
        return f"{label} ({unit})" if unit == "HR px" else label

    def save_png(self, path: str | Path) -> None:
        """The field map colour-mapped at its levels, one PNG pixel per LR pixel, its scale in a JSON sidecar."""
        key, vals = self._map_or_fail()
        save_image(path, render_rgb(key, vals, self.view.levels).astype(np.float32) / 255.0)
        write_sidecar(path, self.view.levels, DIVERGING if key in FIELD_DIVERGING else SEQUENTIAL,
                      self._measures(key), 1, statistic=key, image=Path(self.session.hr_path or "").name)

    def save_with_bar(self, path: str | Path, zoom: int) -> None:
        """The field map at an integer zoom (nearest neighbour) with its colour bar in data units, PNG or SVG."""
        key, vals = self._map_or_fail()
        lut = np.asarray(colormap_for(key).getLookupTable(nPts=256, alpha=False), dtype=np.uint8)[:, :3]
        title = f"{Path(self.session.hr_path or '').stem} ×{self.session.scale}: {FIELD_STATS[key][0]}"
        write_figure(map_figure(render_rgb(key, vals, self.view.levels), lut, self.view.levels, self._measures(key),
                                zoom, title=title), path, overwrite=True)

    def save_npy(self, path: str | Path) -> None:
        """The field map's values, float32 (h, w)."""
        _key, vals = self._map_or_fail()
        try:
            with open(path, "wb") as f:
                np.save(f, vals.astype(np.float32))
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _save_dialog(self, what: str) -> None:
        s = self.session
        stem = Path(s.hr_path).stem if s.hr_path else "image"
        name = f"{stem}_x{s.scale}_field_{self.current_stat()}.{what}"
        if what == "bar":
            zoom, ok = QInputDialog.getInt(self, "Zoom", "Each LR pixel as N×N pixels (nearest neighbour):", 4, 1, 32)
            if not ok:
                return
            self.ctx.shell.save_dialog("Save", name.replace(".bar", f"_x{zoom}_bar.png"),
                                       "PNG image (*.png);;SVG, vector labels (*.svg)",
                                       lambda p: self.save_with_bar(p, zoom))
            return
        filt, fn = {"png": ("PNG images (*.png)", self.save_png), "npy": ("NumPy arrays (*.npy)", self.save_npy)}[what]
        self.ctx.shell.save_dialog("Save", name, filt, fn)
