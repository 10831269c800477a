"""The Compare tab: ticked methods side by side on one camera, flicker and swipe, hover readout, metrics table.

A thin view built from a `TabContext`: it reads the shared `Session`, listens to the `SessionHub`, changes the
session through `ctx.commands` and asks `ctx.jobs` for work. Nothing here computes an image or a metric.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

from adkviewer.gui.context import TabContext
from adkviewer.tabs.compare.compare_actions import CompareActions
from adkviewer.tabs.compare.compare_layout import CompareLayout
from adkviewer.tabs.compare.compare_readout import CompareReadout
from adkviewer.tabs.compare.compare_sync import CompareSync


class CompareTab(CompareLayout, CompareSync, CompareActions, CompareReadout, QWidget):
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

    def confirm_close(self) -> bool:
        """Window closing: a least-squares fit in progress is cancelled (nothing is saved) and waited for."""
        self.lstsq_fitter.shutdown()
        return True

    def all_shown(self) -> bool:
        """Every ticked method shows its final output or message (for --screenshot)."""
        s = self.session
        if s.hr_full is None:  # nothing to compute (no image, or it could not be opened)
            return not self.controller.busy
        if not s.complete() or self.controller.busy:
            return False
        return all(self.grid.panel(k) is not None for k in self.view_keys())
