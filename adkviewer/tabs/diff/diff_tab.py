"""The Differences tab: one method's error against the ground truth or another method, as a colour map with
a colour bar in data units, a gain, a histogram, per-channel statistics, a hover readout and a swipe.

A thin view over `DiffState` (Qt-free): every map comes from `adk_model.metrics.error_map` through its
`MetricCache`. The view is a one-panel `ViewGrid` whose camera can be the shared one of the context (the
Compare tab's: same centre and zoom), so switching tabs keeps the place being looked at.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from adkviewer.gui.context import TabContext
from adkviewer.tabs.diff.diff_state import DiffState
from adkviewer.widgets import colormaps
from adkviewer.tabs.diff.diff_actions import DiffActions
from adkviewer.tabs.diff.diff_export import DiffExport
from adkviewer.tabs.diff.diff_layout import DiffLayout
from adkviewer.tabs.diff.diff_view import DiffView


class DiffTab(DiffLayout, DiffActions, DiffView, DiffExport, QWidget):
    """Image vs reference error maps for the session's image."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub, self.controller = ctx.session, ctx.hub, ctx.jobs
        self.state = DiffState(self.session)
        self._hover = (-1, -1)
        self._readout_plain = ""
        self._requested = False       # a --diff asked for a map: --screenshot waits for it
        self._levels = (0.0, 1.0)
        self._cmap = colormaps.SEQUENTIAL
        self._build()
        h = self.hub
        h.imageChanged.connect(self._on_image_changed)
        h.resultsCleared.connect(self._on_image_changed)
        h.groundTruthChanged.connect(self._on_gt_changed)
        h.resultChanged.connect(self._on_result)
        h.methodsChanged.connect(self.refresh)
        h.pixelSelected.connect(self._on_pixel_selected)
        self._on_image_changed()

    def all_shown(self) -> bool:
        """The difference asked for on the command line shows (or says why not); True when none was asked."""
        if not self._requested:
            return True
        st = self.state
        if self.controller.busy:
            return False
        return not any(st.status(n) == "computing…" for n in (st.image, st.reference) if n)
