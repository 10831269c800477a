"""Saving the kernel panel, the kernels (.npy, CSV) and the field map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adk_model.errors import UserError
from adk_model.imageio import save_image

from adkviewer.tabs.inspect.field_map_view import render_rgb
from adkviewer.tabs.inspect.inspect_state import PixelReport


class InspectExport:
    """A part of InspectTab (its attributes are the tab's own)."""

    def save_panel(self, path: str | Path) -> None:
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
        rep = self._report_or_fail()
        try:
            Path(path).write_text(rep.kernels_csv())
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _map_or_fail(self) -> tuple[str, np.ndarray]:
        key = self.field_combo.currentData()
        vals = self.maps.get(key)
        if vals is None:
            raise UserError("No field map to save yet: press Compute in the field map.")
        return key, vals

    def save_field_png(self, path: str | Path) -> None:
        """The field map colour-mapped at its levels, one PNG pixel per LR pixel."""
        key, vals = self._map_or_fail()
        save_image(path, render_rgb(key, vals, self.field_view.levels).astype(np.float32) / 255.0)

    def save_field_npy(self, path: str | Path) -> None:
        _key, vals = self._map_or_fail()
        try:
            with open(path, "wb") as f:
                np.save(f, vals.astype(np.float32))
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None

    def _save_dialog(self, what: str) -> None:
        s = self.session
        stem = Path(s.hr_path).stem if s.hr_path else "image"
        px = s.selected_pixel or (0, 0)
        field = self.field_combo.currentData()
        name, filt, fn = {
            "panel": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.png", "PNG images (*.png)", self.save_panel),
            "npy": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.npy", "NumPy arrays (*.npy)", self.save_kernels_npy),
            "csv": (f"{stem}_x{s.scale}_kernels_{px[1]}_{px[0]}.csv", "CSV files (*.csv)", self.save_kernels_csv),
            "field_png": (f"{stem}_x{s.scale}_field_{field}.png", "PNG images (*.png)", self.save_field_png),
            "field_npy": (f"{stem}_x{s.scale}_field_{field}.npy", "NumPy arrays (*.npy)", self.save_field_npy),
        }[what]
        self.ctx.shell.save_dialog("Save", name, filt, fn)
