"""The Inspect tab's widgets and their places, and the remembered splitter sizes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QSplitter, QToolButton,
                               QVBoxLayout, QWidget)

from adk_model.kernel_stats import FIELD_STATS

from adkviewer.tabs.inspect.field_map_view import FieldMapView
from adkviewer.tabs.inspect.kernel_panel import KernelPanel
from adkviewer.tabs.inspect.inspect_widgets import FIELD_TIPS
from adkviewer.widgets.side_panel import tool_button


class InspectLayout:
    """A part of InspectTab (its attributes are the tab's own)."""

    def _build(self) -> None:
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
        menu.addAction("Kernel panel as PNG…", lambda: self._save_dialog("panel"))
        menu.addAction("Kernels as .npy…", lambda: self._save_dialog("npy"))
        menu.addAction("Kernels as CSV…", lambda: self._save_dialog("csv"))
        self.save_button.setMenu(menu)
        bar.addWidget(self.save_button)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addLayout(bar)
        ll.addWidget(self.panel, 1)

        # ---- field map
        right = QWidget(self)
        right.setMinimumWidth(260)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 4, 4, 2)
        rl.setSpacing(3)
        title = QLabel("<b>Kernel field map</b>: one kernel statistic per LR pixel, whole image", right)
        title.setWordWrap(True)
        rl.addWidget(title)
        row = QHBoxLayout()
        self.field_combo = QComboBox(right)
        self.field_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.field_combo.setMinimumContentsLength(14)
        for key, (label, _unit) in FIELD_STATS.items():
            self.field_combo.addItem(label, key)
            self.field_combo.setItemData(self.field_combo.count() - 1, FIELD_TIPS[key.split("_")[0]],
                                         Qt.ToolTipRole)
        self.field_combo.setToolTip("Statistic to map (all are computed together: switching is instant)")
        self.field_combo.currentIndexChanged.connect(lambda _i: self._show_field())
        row.addWidget(self.field_combo, 1)
        self.field_button = tool_button(right, "Compute", "Compute the kernel statistics of every LR pixel, tile by "
                                        "tile", self.compute_field)
        self.field_cancel_button = tool_button(right, "Cancel", clicked=self.cancel_field)
        self.field_save = QToolButton(right)
        self.field_save.setText("Save ▾")
        self.field_save.setPopupMode(QToolButton.InstantPopup)
        fmenu = QMenu(self.field_save)
        fmenu.addAction("Field map as PNG (LR size, colour-mapped)…", lambda: self._save_dialog("field_png"))
        fmenu.addAction("Field map values as .npy…", lambda: self._save_dialog("field_npy"))
        self.field_save.setMenu(fmenu)
        for w in (self.field_button, self.field_cancel_button, self.field_save):
            row.addWidget(w)
        rl.addLayout(row)
        self.field_progress = QProgressBar(right)
        self.field_progress.setRange(0, 1000)
        self.field_progress.setTextVisible(True)
        rl.addWidget(self.field_progress)
        self.field_view = FieldMapView(right)
        self.field_view.clicked.connect(self.select)
        self.field_view.hovered.connect(self._on_field_hover)
        self.field_view.cameraMoved.connect(self._push_camera)
        self.field_note = QLabel(right)
        self.field_note.setWordWrap(True)
        self.field_note.setAlignment(Qt.AlignCenter)
        self.field_note.setStyleSheet("color: gray;")
        rl.addWidget(self.field_view, 1)
        rl.addWidget(self.field_note)
        self.field_readout = QLabel(right)
        self.field_readout.setWordWrap(True)
        rl.addWidget(self.field_readout)

        self.split = QSplitter(Qt.Horizontal, self)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([880, 380])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.split)
        self._field_busy(False)

    def save_state(self, settings, prefix: str) -> None:
        settings.set(prefix + "split", self.split.saveState())
        settings.set(prefix + "field", self.field_combo.currentData())

    def restore_state(self, settings, prefix: str) -> None:
        state = settings.get_bytes(prefix + "split")
        if state is not None:
            self.split.restoreState(state)
        i = self.field_combo.findData(settings.get_str(prefix + "field", ""))
        if i >= 0:
            self.field_combo.setCurrentIndex(i)
