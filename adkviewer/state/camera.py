"""The camera the image views share (Compare, Differences when linked, the Inspect field map): Qt-free state.

It lives in the tabs' context, not inside a widget, so no tab reaches into another for it; each view applies
it when it comes into view, and a view that pans or zooms writes it back.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_ZOOM, MAX_ZOOM = 1 / 64, 256.0


@dataclass
class Camera:
    """What every view shows: the LR point at its centre and screen pixels per LR pixel."""

    cx: float = 0.0
    cy: float = 0.0
    zoom: float = 1.0
    fit: bool = True  # follow the window size so the whole image stays visible

    def rect(self, width_px: float, height_px: float) -> tuple[float, float, float, float]:
        """(x0, y0, w, h) in LR pixels seen by a view of the given size."""
        w, h = width_px / self.zoom, height_px / self.zoom
        return self.cx - w / 2, self.cy - h / 2, w, h

    def fit_to(self, image_hw: tuple[int, int], views_px: list[tuple[float, float]]) -> None:
        """Centre the image and pick the largest zoom at which it fits in every view."""
        ih, iw = image_hw
        self.cx, self.cy = iw / 2, ih / 2
        zooms = [min(w / iw, h / ih) for w, h in views_px if w > 1 and h > 1]
        if zooms:
            self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, min(zooms)))

    def look_at(self, cx: float, cy: float, zoom: float) -> None:
        """Centre on (cx, cy) at this zoom (clamped), no longer following the window size."""
        self.cx, self.cy = cx, cy
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self.fit = False
