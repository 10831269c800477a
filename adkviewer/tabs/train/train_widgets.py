"""Pieces of the Train tab: the preview image, plot and form helpers, colours and texts."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from adk_model.methods import SHORT_LABELS

from adkviewer.state.session import display_uint8
from adkviewer.tabs.train.train_runner import (CALIBRATING, EXPORTING, IDLE, PAUSED, PAUSING, RUNNING, STARTING,
                                               STOPPING)

PLOT_BG, PLOT_FG = "#ffffff", "#333333"
ADK_COLOUR = "#d95f02"
BEST_COLOUR = "#1565c0"  # the best validated point's star, apart from the curve's orange
REF_COLOURS = {"bicubic": "#2e7d32", "lstsq": "#7b1fa2"}
REF_LABELS = {m: SHORT_LABELS[m] for m in ("bicubic", "lstsq")}
PAIR_COLUMNS = ("Pair", "Use", "HR", "LR", "Status")
NO_RUN = "No run yet: choose a pairs folder and press Start"
NO_RUN_READY = "No run yet: press Start (or Quick calibrate)"  # a usable pairs folder is chosen
NO_RUN_CALIBRATED = "No training run yet: Start fine-tunes the calibrated model"  # after Quick calibrate
USE_TIP = ("Show the model as it is now, at its last iteration, in Compare beside the main ADK-Net (its weights "
           "are saved in the run folder)")
EXPORT_TIP = "Write the model as .safetensors plus a model card (data, split, settings, metrics)"
KEPT_TIP = ": unchanged, since Quick calibrate kept the model as it was"
NO_RUN_KEPT = "No training run yet: Quick calibrate kept the model as it was, and Start fine-tunes it"
CALIBRATING_NOTE = "Quick calibrate is running: its verdict, and the PSNR that decided it, come in the log"
CALIBRATED_STATUS = {
    "calibrated": "Quick calibrate adopted: Start now fine-tunes the calibrated model (the log says what it gained).",
    "not adopted": "Quick calibrate not adopted: no fit beat the model as it is on held-out pairs (the log says why).",
}
WAITING = "Waiting for the first values…"
PREVIEW_WAITING = "Preview: at the first validation"  # short: the pane is narrow in a 1024-pixel window
PREVIEW_EMPTY = "no image yet"
NO_VAL = "This run has no validation pairs: no validation PSNR (the export is the last iteration's)"


def no_val_text(reason: str) -> str:
    """The warning under the pairs table, and the question Start asks, when no pair validates."""
    return (f"No validation pairs: {reason}. The run can then neither keep its best model nor stop early, and "
            "the validation chart stays empty; raise the fraction or add pairs to validate on.")
STATE_TEXT = {IDLE: "", STARTING: "Loading the pairs…", RUNNING: "Training", PAUSING: "pausing…", PAUSED: "Paused",
              STOPPING:
              "Stopping (saving a checkpoint)…", CALIBRATING: "Quick calibrate…", EXPORTING: "Exporting…"}


class PreviewImage(QLabel):
    """An LR image shown whole, scaled with square pixels (no smoothing), with a caption above it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._arr: np.ndarray | None = None
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(80, 60)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.setStyleSheet("background:#1e1e1e; color:#bbbbbb;")

    def set_array(self, arr: np.ndarray | None) -> None:
        self._arr = None if arr is None else np.ascontiguousarray(display_uint8(arr))
        self._render()

    @property
    def array(self) -> np.ndarray | None:
        return self._arr

    def _render(self) -> None:
        if self._arr is None:  # an empty dark pane would read as a black result
            self.setPixmap(QPixmap())
            self.setText(PREVIEW_EMPTY)
            return
        h, w = self._arr.shape[:2]
        img = QImage(self._arr.data, w, h, 3 * w, QImage.Format_RGB888).copy()
        size = self.contentsRect().size()
        f = min(size.width() / w, size.height() / h)
        if f >= 3:
            f = float(np.floor(f))  # whole-number zoom keeps pixels square once they are big enough to see
        self.setPixmap(QPixmap.fromImage(img).scaled(max(1, int(w * f)), max(1, int(h * f)), Qt.KeepAspectRatio,
                                                     Qt.FastTransformation))

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._render()


def _group(title: str, parent: QWidget) -> tuple[QGroupBox, QVBoxLayout]:
    box = QGroupBox(title, parent)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(6, 4, 6, 6)
    lay.setSpacing(4)
    return box, lay


def _path_row(parent: QWidget, tooltip: str,
              browse: Callable[[], None]) -> tuple[QHBoxLayout, QLineEdit, QToolButton]:
    """A folder field with its Browse… button (pairs folder, output folder)."""
    row = QHBoxLayout()
    edit = QLineEdit(parent)
    edit.setToolTip(tooltip)
    button = QToolButton(parent)
    button.setText("Browse…")
    button.clicked.connect(browse)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row, edit, button


def _plot(title: str, ylabel: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background=PLOT_BG)
    w.setTitle(title, color=PLOT_FG, size="10pt")
    for ax in ("left", "bottom"):
        w.getAxis(ax).setPen(pg.mkPen(PLOT_FG))
        w.getAxis(ax).setTextPen(pg.mkPen(PLOT_FG))
    w.setLabel("bottom", "iteration", color=PLOT_FG)
    w.setLabel("left", ylabel, color=PLOT_FG)
    w.getAxis("left").enableAutoSIPrefix(False)
    w.showGrid(x=True, y=True, alpha=0.15)
    w.setMenuEnabled(False)
    w.setMinimumSize(160, 120)
    return w


class PlotNote:
    """A line of text in place of an empty plot's axes: pyqtgraph's default 0–1 axes over nothing look like data."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.item = plot.getPlotItem()
        self.label = pg.TextItem(color="#777777", anchor=(0.5, 0.5))
        doc = self.label.textItem.document()
        option = doc.defaultTextOption()
        option.setAlignment(Qt.AlignCenter)
        doc.setDefaultTextOption(option)
        self.item.addItem(self.label, ignoreBounds=True)
        self.label.setPos(0.5, 0.5)  # the middle of the empty plot's 0–1 range
        self.text: str | None = None
        self.item.getViewBox().sigResized.connect(self._fit_width)
        self._fit_width()

    def _fit_width(self, *_args) -> None:
        """Wrap within the plot, however narrow the splitter leaves it, and no wider than a comfortable line."""
        self.label.setTextWidth(max(80.0, min(230.0, self.item.getViewBox().width() - 12)))

    def set_text(self, text: str) -> None:
        """Show `text` instead of the axes, or ("") the axes, fitted to the data that has arrived."""
        if text == self.text:
            return  # the data is redrawn every 60 ms: keep the person's zoom
        self.text = text
        self.label.setText(text)
        self.label.setVisible(bool(text))
        for ax in ("left", "bottom"):
            self.item.showAxis(ax, not text)
        vb = self.item.getViewBox()
        vb.setMouseEnabled(not text, not text)
        if text:
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        else:
            vb.enableAutoRange()
