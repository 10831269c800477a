"""Build one tab against a session, without the main window: a real TabContext and a recording `Shell`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QWidget

from adkviewer.gui.context import TabContext, build_context
from adkviewer.gui.settings import Settings


class FakeShell:
    """The `Shell` a tab sees, recording what it was asked; save dialogs save into `folder` at once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.current: str | None = None
        self.shown: list[str] = []
        self.status: list[str] = []
        self.saved: list[Path] = []
        self.dialogs: list[str] = []

    def show_tab(self, key: str) -> None:
        self.shown.append(key)
        self.current = key

    def current_tab(self) -> str | None:
        return self.current

    def save_dialog(self, title, name, filt, save) -> None:
        path = self.folder / name
        save(str(path))
        self.saved.append(path)

    def open_ground_truth_dialog(self) -> None:
        self.dialogs.append("ground truth")

    def save_output_dialog(self, key=None) -> None:
        self.dialogs.append(f"save output {key}")

    def save_view_dialog(self) -> None:
        self.dialogs.append("save view")

    def export_metrics_dialog(self) -> None:
        self.dialogs.append("export metrics")

    def show_status(self, text: str) -> None:
        self.status.append(text)


def tab_context(qtbot, tmp_path: Path, methods: list[str] | None = None) -> TabContext:
    """A context on the CPU with in-memory settings; its Qt objects live as long as the test."""
    holder = QWidget()
    qtbot.addWidget(holder)
    ctx = build_context(holder, Settings(memory=True), FakeShell(tmp_path), device="cpu")
    ctx.holder = holder  # keeps the parent of the hub and jobs alive
    if methods is not None:
        ctx.session.methods = list(methods)
    return ctx


def show_tab(qtbot, tab: QWidget) -> QWidget:
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def textured_image(tmp_path: Path, h: int = 64, w: int = 80, name: str = "pic.png") -> Path:
    """A small textured HR saved as PNG (kernels and errors differ from pixel to pixel)."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w] / 12.0
    img = np.stack([0.5 + 0.35 * np.sin(x * (1 + c) + y * (2 - c)) for c in range(3)], axis=2)
    img = np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1)
    path = tmp_path / name
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path)
    return path
