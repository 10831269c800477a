"""The Inspect tab: the kernels that produced the selected LR pixel, and whole-image kernel field maps.

A thin view over the shared `Session` (selected pixel, image, scale, weights). Kernels come only from
`AdkRunner.neighbourhood`, computed off the GUI thread for a small window around the selection (radius
`CACHE_RADIUS`) and cached, so the arrow keys move through them without a new forward pass. Field maps are
computed tile by tile off the GUI thread (`adk_model.kernel_stats.field_maps`), with progress and Cancel.
"""

from __future__ import annotations


import numpy as np
from PySide6.QtWidgets import QApplication, QWidget

from adkviewer.gui.context import TabContext
from adkviewer.gui.jobs import JobQueue
from adkviewer.tabs.inspect.inspect_state import NeighbourhoodCache
from adkviewer.tabs.inspect.inspect_widgets import SHORTCUTS
from adkviewer.tabs.inspect.inspect_export import InspectExport
from adkviewer.tabs.inspect.inspect_field import InspectField
from adkviewer.tabs.inspect.inspect_kernels import InspectKernels
from adkviewer.tabs.inspect.inspect_layout import InspectLayout


class InspectTab(InspectLayout, InspectKernels, InspectField, InspectExport, QWidget):
    """Kernel panel for the selected pixel beside a kernel field map."""

    shortcuts = SHORTCUTS  # listed by the window's F1 help

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub = ctx.session, ctx.hub
        self.cache = NeighbourhoodCache()
        self.kernel_jobs = JobQueue(self)   # kernels of the selection, one at a time
        self.field_jobs = JobQueue(self)    # whole-image field maps, beside them
        self._inflight: object | None = None       # centre being computed
        self._failed: tuple | None = None           # (key, pixel) whose kernels could not be computed
        self._t_select = 0.0
        self.last_latency: float | None = None      # seconds from selection to the panel showing it
        self.last_compute: float | None = None      # seconds of the last neighbourhood forward pass
        self._field_task = None                    # the running field-map job (cancel it)
        self._field_running = False
        self._field_key: object | None = None
        self.maps: dict[str, np.ndarray] = {}
        self._field_job: object | None = None      # key of the running field-map job
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
