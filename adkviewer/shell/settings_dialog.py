"""Settings: the compute device, the memory budget of one ADK-Net tile (for small GPUs) and the largest image."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout,
                               QWidget)

from adk_model.devices import available_devices, describe_device, resolve_device
from adk_model.errors import UserError


class SettingsDialog(QDialog):
    """Choose device and tile budget; `values()` gives (device, budget_mb) after `exec()` accepts."""

    def __init__(self, device: str, budget_mb: int, parent: QWidget | None = None, max_megapixels: int = 150) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.device = QComboBox(self)
        self.device.addItem(f"Automatic ({_describe('auto')})", "auto")
        for d in available_devices():
            self.device.addItem(_describe(d), d)
        idx = self.device.findData(device)
        if idx < 0:  # a saved device that is not here now (e.g. no CUDA on this machine)
            self.device.addItem(f"{device} (not available here)", device)
            idx = self.device.count() - 1
        self.device.setCurrentIndex(idx)
        self.budget = QSpinBox(self)
        self.budget.setRange(0, 65536)
        self.budget.setSingleStep(64)
        self.budget.setSuffix(" MB")
        self.budget.setSpecialValueText("Automatic")
        self.budget.setValue(int(budget_mb))
        self.budget.setToolTip("Working memory for one ADK-Net tile. Lower it if a small GPU runs out of memory; "
                               "Automatic uses 512 MB on the CPU and half the free memory (up to 8 GB) on a GPU.")
        self.max_mp = QSpinBox(self)
        self.max_mp.setRange(1, 100_000)
        self.max_mp.setSuffix(" megapixels")
        self.max_mp.setValue(int(max_megapixels))
        self.max_mp.setToolTip("Largest image opened; larger ones are refused as possible decompression bombs. "
                               "Loading takes about 16 bytes of memory per pixel (150 megapixels: 2.4 GB).")
        form = QFormLayout()
        form.addRow("Device:", self.device)
        form.addRow("Tile memory budget:", self.budget)
        form.addRow("Largest image:", self.max_mp)
        note = QLabel("Changing these recomputes the results.", self)
        note.setStyleSheet("color: gray")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)

    def values(self) -> tuple[str, int]:
        return str(self.device.currentData()), int(self.budget.value())


def _describe(name: str) -> str:
    try:
        return describe_device(resolve_device(name))
    except UserError:
        return f"{name} (not available)"
