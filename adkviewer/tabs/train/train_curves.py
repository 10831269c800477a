"""The Train tab's two plots (training loss, validation PSNR with the reference lines) and its validation preview.

Views the tab holds: `CurvesView` draws a `train_state.Curves` (the Qt-free data), `PreviewPane` shows one
validation pair as the model and the ground truth see it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget
from superqt import QElidingLabel

from adkviewer.tabs.train.train_state import Curves
from adkviewer.tabs.train.train_widgets import (ADK_COLOUR, BEST_COLOUR, NO_VAL, PLOT_FG, PREVIEW_WAITING,
                                                REF_COLOURS, REF_LABELS, PlotNote, PreviewImage, _plot)


class CurvesView(QObject):
    """The loss and validation plots of `curves`; `training()` says whether a run is on, `validates()` whether it
    has validation pairs (None: no run yet), and `empty_text()` what an empty plot says."""

    def __init__(self, curves: Curves, training: Callable[[], bool], validates: Callable[[], bool | None],
                 empty_text: Callable[[], str], parent: QWidget) -> None:
        super().__init__(parent)
        self.curves, self.training, self.validates, self.empty_text = curves, training, validates, empty_text
        self.loss_plot = _plot("Training loss (L1)<br><span style='font-size:8pt'>"
                               "<span style='color:#6baed6'>— per batch</span> &nbsp; "
                               "<span style='color:#08519c'>━ smoothed</span></span>", "loss")
        self.loss_raw = self.loss_plot.plot([], [], pen=pg.mkPen("#9ecae1", width=1))
        self.loss_smooth = self.loss_plot.plot([], [], pen=pg.mkPen("#08519c", width=2))
        self.val_plot = _plot("Validation PSNR (dB)", "PSNR RGB (dB)")
        self.val_curve = self.val_plot.plot([], [], pen=pg.mkPen(ADK_COLOUR, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=ADK_COLOUR, symbolPen=None)
        # the best validated point: where a run ended past its best, the last value is not what it hands over
        self.best_mark = self.val_plot.plot([], [], pen=None, symbol="star", symbolSize=15, symbolBrush=BEST_COLOUR,
                                            symbolPen=pg.mkPen("#7a5000"))
        self.ref_items: dict[str, pg.PlotDataItem] = {}
        self.loss_note, self.val_note = PlotNote(self.loss_plot), PlotNote(self.val_plot)
        self.overlaid: set[pg.PlotWidget] = set()  # plots with earlier runs' curves drawn over them
        self.val_plot.installEventFilter(self)  # a narrower plot wraps its legend (see set_val_title)

    def clear_refs(self) -> None:
        """A new run: the reference lines go until they are computed again."""
        for item in self.ref_items.values():
            self.val_plot.removeItem(item)
        self.ref_items.clear()

    def redraw(self, x_max: int) -> None:
        """Draw the curves as they are now; the reference lines reach to `x_max` (the run's last iteration)."""
        c = self.curves
        if c.loss:
            it = np.asarray(c.loss_it, float)
            self.loss_raw.setData(it, np.maximum(np.asarray(c.loss), 1e-8))
            self.loss_smooth.setData(it, np.maximum(np.asarray(c.smoothed_loss()), 1e-8))
        else:
            self.loss_raw.setData([], [])
            self.loss_smooth.setData([], [])
        self.val_curve.setData(np.asarray(c.val_it, float), np.asarray(c.val_psnr, float))
        best = self._best()
        self.best_mark.setData(*(([best[0]], [best[1]]) if best else ([], [])))
        x1 = max([x_max] + c.val_it + c.loss_it[-1:])
        for name, value in c.refs.items():
            item = self.ref_items.get(name)
            if item is None:
                pen = pg.mkPen(REF_COLOURS.get(name, "#555555"), width=1.5, style=Qt.DashLine)
                item = self.ref_items[name] = self.val_plot.plot([], [], pen=pen)
            item.setData([0, x1], [value, value])
        self.sync_notes()
        self.set_val_title()

    def set_overlaid(self, plots: set[pg.PlotWidget]) -> None:
        """Earlier runs' curves are drawn on `plots`: those show their axes, fitted to them, even with no run."""
        self.overlaid = set(plots)
        self.sync_notes()

    def sync_notes(self) -> None:
        """An empty plot says why it is empty instead of showing bare axes; one with overlaid runs is not empty."""
        c = self.curves
        empty = self.empty_text()
        self.loss_note.set_text("" if c.loss or self.loss_plot in self.overlaid else empty)
        self.val_note.set_text("" if c.val_psnr or c.refs or self.val_plot in self.overlaid
                               else NO_VAL if self.validates() is False else empty)

    def set_val_title(self) -> None:
        """The title with its legend on one line, or on more where one line makes the plot wider than its widget
        (pyqtgraph then laid the plot out past the widget: the right part of the curves and the legend were cut)."""
        item = self.val_plot.getPlotItem()
        one_line = None
        for wrap in (0, 1, 2):  # the reference lines on a line of their own, then every entry on its own
            item.setTitle(self.val_title(wrap=wrap), color=PLOT_FG, size="10pt")  # pyqtgraph: title row 30 px high
            one_line = one_line or item.titleLabel.item.boundingRect()
            height = 30 + item.titleLabel.item.boundingRect().height() - one_line.height()
            item.titleLabel.setMaximumHeight(height)  # the legend's further lines push the plot down
            item.layout.setRowFixedHeight(0, height)
            # a wider title grows the plot past its widget and pyqtgraph only fits it back on a resize: fit it now
            item.setGeometry(self.val_plot.range)
            if item.geometry().width() <= self.val_plot.range.width() + 1:
                break

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.val_plot and ev.type() == QEvent.Resize:
            QTimer.singleShot(0, self, self.set_val_title)
        return False

    def _best(self) -> tuple[int, float] | None:
        """(iteration, PSNR) of the best validation where it is not the last one (else None)."""
        c = self.curves
        if len(c.val_psnr) < 2:
            return None
        i = int(np.argmax(c.val_psnr))
        return None if i == len(c.val_psnr) - 1 or c.val_psnr[i] <= c.val_psnr[-1] else (c.val_it[i], c.val_psnr[i])

    def val_title(self, wrap: int = 0) -> str:
        """The PSNR plot's title, with a legend under it (never drawn over the curves) on one line; wrap 1: the
        reference lines on a line of their own; 2: every entry on its own line."""
        c = self.curves
        if not c.val_psnr and not c.refs and (not self.training() or self.validates() is False):
            return "Validation PSNR (dB)<br><span style='font-size:8pt'>&nbsp;</span>"
        parts = [f"<span style='color:{ADK_COLOUR}'>● ADK-Net"
                 + (f" {c.val_psnr[-1]:.2f}" if c.val_psnr else "") + "</span>"]
        best = self._best()
        if best:
            parts.append(f"<span style='color:{BEST_COLOUR}'>★ best {best[1]:.2f} (it {best[0]})</span>")
        refs = []
        for name in ("bicubic", "lstsq"):
            value = c.refs.get(name)
            text = f"{value:.2f}" if value is not None else "…"
            refs.append(f"<span style='color:{REF_COLOURS[name]}'>- - {REF_LABELS[name]} {text}</span>")
        lines = ([parts + refs] if not wrap else [parts, refs] if wrap == 1 else [[p] for p in parts + refs])
        return ("Validation PSNR (dB)<br><span style='font-size:8pt'>"
                + "<br>".join(" &nbsp; ".join(line) for line in lines) + "</span>")


class PreviewPane(QWidget):
    """One validation pair: the model's output beside the ground-truth LR, with a caption naming the pair."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PreviewImage(self)
        self.gt = PreviewImage(self)
        self.model_title = QElidingLabel("ADK-Net", self)
        self.gt_title = QElidingLabel("Ground truth LR", self)
        for t in (self.model_title, self.gt_title):
            t.setAlignment(Qt.AlignCenter)
            t.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        pl = QGridLayout(self)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(3)
        self.caption = QElidingLabel(PREVIEW_WAITING, self)
        self.caption.setStyleSheet("font-weight:bold;")
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        pl.addWidget(self.caption, 0, 0, 1, 2)
        pl.addWidget(self.model_title, 1, 0)
        pl.addWidget(self.gt_title, 1, 1)
        pl.addWidget(self.model, 2, 0)
        pl.addWidget(self.gt, 2, 1)
        pl.setRowStretch(2, 1)

    def show_pair(self, preview, gt, title: str, pair: str = "", fitted: bool = False) -> None:
        """Show the model's output `preview` (titled) beside `gt`, the validation pair named `pair`; `fitted`: the
        pair was one of Quick calibrate's (no split file: every pair joins its fit), so it is not held out."""
        self.caption.setText(f"Preview: {pair} (a fitted pair)" if fitted and pair else
                             f"Validation preview{': ' + pair if pair else ''}")
        self.caption.setToolTip(f"{pair} is one of the pairs Quick calibrate fitted (without a split.json every pair "
                                f"joins its fit), so this is not a held-out result" if fitted and pair else "")
        self.model_title.setText(title)
        self.model.set_array(preview)
        self.gt.set_array(gt)
