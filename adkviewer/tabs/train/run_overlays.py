"""Earlier runs' loss and validation-PSNR curves drawn over the current run's plots, each in its own colour and
named in a legend (the current run keeps its own colours and the title's legend)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt

from adk_model.runs import RunInfo

from adkviewer.tabs.train.train_curves import CurvesView
from adkviewer.tabs.train.train_state import Curves

# Distinct from the current run's blue loss / orange PSNR and the green / purple reference lines (Tableau 10 rest).
OVERLAY_COLOURS = ("#e15759", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#1f77b4", "#ff7f0e")


def overlay_label(run: RunInfo) -> str:
    """A run's name in the legends, with its best validation PSNR where it has one."""
    return run.name + (f" (best {run.best_psnr:.2f} dB)" if run.best_psnr is not None else "")


class RunOverlays(QObject):
    """The overlay items on a CurvesView's two plots; `show(runs)` replaces them."""

    def __init__(self, plots: CurvesView) -> None:
        super().__init__(plots)
        self.plots = plots
        self.items: list[tuple[pg.PlotWidget, pg.PlotDataItem]] = []
        self.legends = {}

    def show(self, runs: list[RunInfo]) -> None:
        for plot, item in self.items:
            plot.removeItem(item)
        self.items.clear()
        for i, run in enumerate(runs):
            colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
            if run.loss:
                c = Curves(loss_it=list(run.loss_it), loss=list(run.loss))  # smoothed as the current run's is
                self._add(self.plots.loss_plot, run.loss_it, np.maximum(np.asarray(c.smoothed_loss()), 1e-8),
                          pen=pg.mkPen(colour, width=1.5, style=Qt.DashLine), name=run.name)
            if run.val_psnr:
                self._add(self.plots.val_plot, run.val_it, run.val_psnr, pen=pg.mkPen(colour, width=1.5),
                          symbol="t", symbolSize=7, symbolBrush=colour, symbolPen=None, name=overlay_label(run))
        for legend in self.legends.values():
            legend.setVisible(bool(self.items))
        self.plots.set_overlaid({plot for plot, _ in self.items})  # "No run yet" would pin the range to 0–1

    def _add(self, plot: pg.PlotWidget, x, y, **style) -> None:
        if plot not in self.legends:
            self.legends[plot] = plot.addLegend(offset=(-8, 8), labelTextColor="#333333", labelTextSize="8pt",
                                                brush=pg.mkBrush(255, 255, 255, 200))
        item = plot.plot(np.asarray(x, float), np.asarray(y, float), **style)
        self.items.append((plot, item))

    def labels(self, plot: pg.PlotWidget) -> list[str]:
        """The names the legend of `plot` shows (what a person reads beside the curves)."""
        legend = self.legends.get(plot)
        return [label.text for _, label in legend.items] if legend is not None else []
