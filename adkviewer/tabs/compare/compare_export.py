"""What the Compare tab writes: a method's output (naming what made it), the views as on screen, the metrics as
CSV, and which output a person is looking at (what Ctrl+S offers first)."""

from __future__ import annotations

from pathlib import Path

from adk_model.errors import UserError
from adk_model.imageio import save_image

from adkviewer.state.metrics_export import metrics_csv
from adkviewer.state.session import GT, Session
from adkviewer.tabs.compare.compare_swipe import SwipePicker
from adkviewer.widgets.view_grid import ViewGrid


class CompareExporter:
    """Saves from the session's results and the tab's view grid (the shell's dialogs call these)."""

    def __init__(self, session: Session, grid: ViewGrid, swipe: SwipePicker) -> None:
        self.session, self.grid, self.swipe = session, grid, swipe

    def saveable(self) -> list[str]:
        """Methods (then the ground truth) with a finished output to save."""
        s = self.session
        return [k for k in list(s.methods) + ([GT] if s.has_gt else [])
                if s.image_of(k) is not None and not (k in s.results and s.results[k].partial)]

    def current_method(self) -> str | None:
        """The method a person looks at: the one shown alone, the swipe's left side, else ADK-Net, else the first
        with an output (what Ctrl+S offers first)."""
        done = self.saveable()
        solo = self.grid.solo if self.grid.mode == "grid" else self.swipe.pair()[0]
        for k in (solo, "adknet"):
            if k in done:
                return k
        return next((k for k in done if k != GT), done[0] if done else None)

    def save_output(self, key: str, path: str | Path) -> None:
        """A method's finished LR (or the ground truth) as an image file; a PNG's text names image, method, model."""
        s = self.session
        arr = s.image_of(key)
        r = s.results.get(key)
        if arr is None or (r is not None and r.partial):
            raise UserError(f"{s.label(key)} has no finished output to save.")
        made = {"Software": "ADK Viewer", "Source": Path(s.hr_path or "").name, "Scale": f"x{s.scale}",
                "Method": s.label(key)}
        if key == "adknet" and s.adknet_weights() is not None:
            made["Model"] = str(s.adknet_weights())
        elif key in s.extras:
            made["Model" if s.extras[key].is_adknet else "Results"] = s.extras[key].path
        save_image(path, arr, text=made)

    def save_view(self, path: str | Path) -> None:
        """Save the views as they are on screen (QWidget.grab)."""
        if Path(path).suffix.lower() != ".png":
            raise UserError(f"Cannot save '{path}': only .png files can be written.")
        if not self.grid.grab().save(str(path), "PNG"):
            raise UserError(f"Cannot save '{path}': the file could not be written.")

    def export_csv(self, path: str | Path) -> None:
        """The metrics table with eval's columns, each row naming its image, ground truth, scale and model."""
        s = self.session
        text = metrics_csv(s.metrics_rows(), Path(s.hr_path).name if s.hr_path else "",
                           Path(s.gt_path).name if s.gt_path else "", s.scale)
        try:
            Path(path).write_text(text)
        except OSError as e:
            raise UserError(f"Cannot save '{path}': {e.strerror or e}.") from None
