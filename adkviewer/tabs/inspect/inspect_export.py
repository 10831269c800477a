"""Saving the kernel panel (PNG) and the selected pixel's kernels (.npy, CSV), through the shell's save dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adk_model.errors import UserError

from adkviewer.gui.context import Shell
from adkviewer.state.session import Session
from adkviewer.tabs.inspect.inspect_state import PixelReport
from adkviewer.tabs.inspect.kernel_panel import KernelPanel


class KernelExporter:
    """What the Inspect tab writes about the selected pixel: it reads the kernel panel's report."""

    def __init__(self, panel: KernelPanel, session: Session, shell: Shell) -> None:
        self.panel, self.session, self.shell = panel, session, shell

    def save_panel(self, path: str | Path) -> None:
        """The kernel panel as on screen."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.panel.grab().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def _report_or_fail(self) -> PixelReport:
        rep = self.panel.report
        if rep is None:
            raise UserError("No kernels to save yet: select a pixel first.")
        return rep

    def save_kernels_npy(self, path: str | Path) -> None:
        """The three kernels as one float32 array (3, k, k): channel, tap row, tap column."""
        rep = self._report_or_fail()
        try:
            with open(path, "wb") as f:
                np.save(f, rep.kernels.astype(np.float32))
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def save_kernels_csv(self, path: str | Path) -> None:
        """One line per tap and channel: where it reads, its weight, the HR value (PixelReport.kernels_csv)."""
        rep = self._report_or_fail()
        try:
            Path(path).write_text(rep.kernels_csv())
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def save_dialog(self, what: str) -> None:
        """Ask where to save the panel ("panel"), or the kernels ("npy", "csv"), named after image and pixel."""
        s = self.session
        stem = Path(s.hr_path).stem if s.hr_path else "image"
        px = s.selected_pixel or (0, 0)
        name = f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}"
        suffix, filt, fn = {
            "panel": (".png", "PNG images (*.png)", self.save_panel),
            "npy": (".npy", "NumPy arrays (*.npy)", self.save_kernels_npy),
            "csv": (".csv", "CSV files (*.csv)", self.save_kernels_csv),
        }[what]
        self.shell.save_dialog("Save", name + suffix, filt, fn)
