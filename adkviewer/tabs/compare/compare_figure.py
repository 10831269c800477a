"""Compare's Figure… dialog: the region (the rectangle on the views, dragged, or typed), the options, and the
figure drawn and written off the GUI thread by the renderer `adkviewer figure` uses (figure_state)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from adk_model.error_display import CHANNEL_LABELS
from adk_model.errors import UserError
from adk_model.figure import GT, HR, FigureOptions
from adk_model.figure_layout import Region
from adk_model.metrics import ERROR_CHANNELS, ERROR_MODES

from adkviewer.gui.jobs import Job, JobQueue
from adkviewer.gui.workers import user_message
from adkviewer.tabs.compare.figure_state import clip_region, default_name, draw_and_write, figure_keys, figure_request

SCORES = (("crop", "of the crop"), ("image", "of the whole image"), ("none", "no scores"))


def _spin(lo: int, hi: int, value: int, tip: str, parent: QWidget) -> QSpinBox:
    s = QSpinBox(parent)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class FigureDialog(QDialog):
    """Non-modal: the rectangle stays on the views while it is open, and moves with the typed values."""

    def __init__(self, tab) -> None:
        """`tab` is the CompareTab: its session, grid, region overlay, HR view and hub."""
        super().__init__(tab)
        self.tab, self.session = tab, tab.session
        self.setWindowTitle("Figure of a region")
        self.queue = JobQueue(self)
        self.job: Job | None = None
        self.last_crops: dict[str, tuple[int, int, int, int]] = {}  # where the last figure drew each crop
        form = QFormLayout()
        row = QHBoxLayout()
        h, w = self.session.lr_shape or (1, 1)
        self.x, self.y = _spin(0, w - 1, 0, "left column (LR pixels)", self), _spin(0, h - 1, 0, "top row", self)
        self.w, self.h = _spin(1, w, 1, "width (LR pixels)", self), _spin(1, h, 1, "height", self)
        for label, box in (("x", self.x), ("y", self.y), ("w", self.w), ("h", self.h)):
            row.addWidget(QLabel(label, self))
            row.addWidget(box)
            box.valueChanged.connect(self._typed)
        form.addRow("Region", row)
        form.addRow("", QLabel("<span style='color:gray'>Drag the cyan rectangle (or its corner) on any view, "
                               "or type it in LR pixels.</span>", self))
        self.zoom = _spin(1, 64, 4, "page pixels per LR pixel (nearest neighbour)", self)
        self.cols = _spin(0, 16, 0, "crops per row (0: all in one row)", self)
        form.addRow("Zoom ×", self.zoom)
        form.addRow("Columns", self.cols)
        self.scores = QComboBox(self)
        for key, text in SCORES:
            self.scores.addItem(f"PSNR / SSIM {text}" if key != "none" else text, key)
        form.addRow("Scores", self.scores)
        self.diff = QComboBox(self)
        self.diff.addItem("none", None)
        for m in ERROR_MODES:
            self.diff.addItem(f"{m} error", m)
        self.channel = QComboBox(self)
        for c in ERROR_CHANNELS:
            self.channel.addItem(CHANNEL_LABELS[c], c)
        self.channel.setCurrentIndex(self.channel.findData("luma"))  # the Y of PSNR Y, as in Differences
        diff_row = QHBoxLayout()
        diff_row.addWidget(self.diff)
        diff_row.addWidget(self.channel)
        form.addRow("Error maps vs GT", diff_row)
        self.with_hr = QCheckBox("HR crop (zoom a multiple of the scale)", self)
        self.with_gt = QCheckBox("Ground truth crop", self)
        self.overview = QCheckBox("Whole image with the region boxed", self)
        for c in (self.with_hr, self.with_gt, self.overview):
            form.addRow("", c)
            c.toggled.connect(self._sync_text)
        self.crops = QLabel(self)
        self.crops.setWordWrap(True)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.save_button = QPushButton("Save figure…", self)
        buttons.addButton(self.save_button, QDialogButtonBox.AcceptRole)
        self.save_button.clicked.connect(self._ask_path)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.crops)
        lay.addWidget(self.status)
        lay.addWidget(buttons)
        tab.region.changed.connect(self._dragged)

    def start(self) -> None:
        """Open on the rectangle last used, else on the middle of what the views show; sync the choices."""
        s = self.session
        self.with_hr.setChecked(self.tab.hr_ref.shown)
        self.with_gt.setChecked(s.has_gt)
        self.with_gt.setEnabled(s.has_gt)
        self.diff.setEnabled(s.has_gt)
        self.channel.setEnabled(s.has_gt)
        lh, lw = s.lr_shape
        for box, hi in ((self.x, lw - 1), (self.y, lh - 1), (self.w, lw), (self.h, lh)):
            box.blockSignals(True)
            box.setMaximum(hi)
            box.blockSignals(False)
        x, y, w, h = self.tab.region.rect
        if (x, y, w, h) == (0, 0, 1, 1) or x + w > lw or y + h > lh:  # first time, or another image since
            panels = self.tab.grid.visible_panels()
            r = panels[0].vb.viewRect() if panels else QRectF(0, 0, lw, lh)  # no view: the whole image
            cx, cy, qw, qh = r.center().x(), r.center().y(), r.width() / 4, r.height() / 4
            region = clip_region(cx - qw, cy - qh, cx + qw, cy + qh, s.lr_shape)
            self.tab.region.set_rect(region.x, region.y, region.w, region.h)
        self.tab.region.show(True)
        self._dragged(*self.tab.region.rect)
        self._sync_text()

    def region(self) -> Region:
        return Region(self.x.value(), self.y.value(), self.w.value(), self.h.value())

    def options(self) -> FigureOptions:
        mode = self.diff.currentData()
        return FigureOptions(self.region(), zoom=self.zoom.value(), cols=self.cols.value(),
                             scores=self.scores.currentData(), diff=(mode, self.channel.currentData()) if mode else None,
                             overview=self.overview.isChecked())

    def keys(self) -> list[str]:
        return figure_keys(self.session, self.with_hr.isChecked(), self.with_gt.isChecked())

    def _typed(self, *_a) -> None:
        r = self.region()
        if (r.x, r.y, r.w, r.h) != self.tab.region.rect:
            self.tab.region.set_rect(r.x, r.y, r.w, r.h)

    def _dragged(self, x: int, y: int, w: int, h: int) -> None:
        for box, v in ((self.x, x), (self.y, y), (self.w, w), (self.h, h)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)

    def _sync_text(self) -> None:
        names = {HR: "HR", GT: "ground truth"}
        keys = self.keys()
        self.crops.setText("Crops, in Compare's order: " + (", ".join(names.get(k) or self.session.short_label(k)
                                                                     for k in keys) or "none yet"))

    def _ask_path(self) -> None:
        start = str(Path(self.tab.ctx.settings.get_str("folders/save") or Path.home()) /
                    default_name(self.session, self.region()))
        path, _ = QFileDialog.getSaveFileName(self, "Save figure", start, "PNG image (*.png);;SVG, vector labels (*.svg)")
        if path:
            if not Path(path).suffix:
                path += ".png"
            self.export(path)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def export(self, path: str | Path) -> None:
        """Draw the figure of the current choices off the GUI thread and write it to `path` (.png or .svg)."""
        if self.busy:
            self.status.setText("A figure is still being drawn.")
            return
        try:
            req = figure_request(self.session, self.keys(), self.options())
        except UserError as e:
            self.status.setText(f"<span style='color:#b00000'>{e}</span>")
            return
        self.status.setText(f"Drawing {Path(path).name}…")
        self.save_button.setEnabled(False)
        self.job = self.queue.submit(lambda job: draw_and_write(req, path, job.cancelled), self._done)

    def _done(self, result, error: BaseException | None) -> None:
        self.job = None
        self.save_button.setEnabled(True)
        if error is not None:
            msg = user_message(error)
            self.status.setText(f"<span style='color:#b00000'>{msg}</span>")
            self.tab.hub.error(f"Figure not written: {msg}")
            return
        path, fig = result
        self.last_crops = fig.crops
        self.status.setText(f"Wrote {path.name} ({fig.width}×{fig.height} pixels).")
        self.tab.hub.info(f"Wrote the figure {path} ({fig.width}×{fig.height})")

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        self.tab.region.show(False)
        super().closeEvent(ev)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        if self.job is not None:
            self.job.cancel()
        self.queue.wait(timeout_ms)


def open_figure(tab) -> FigureDialog | None:
    """The Figure… button: one dialog per tab, opened on the views' region."""
    if tab.session.hr_full is None:
        tab.hub.info("Open an image first: the figure shows crops of its methods.")
        return None
    if getattr(tab, "figure_dialog", None) is None:
        tab.figure_dialog = FigureDialog(tab)
    tab.figure_dialog.start()
    tab.figure_dialog.show()
    tab.figure_dialog.raise_()
    return tab.figure_dialog
