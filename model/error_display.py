"""How an error map is shown (its display range and what its colour bar measures): one place for the
Differences tab, the maps it saves and the figures, so the same map reads the same everywhere."""

from __future__ import annotations

import math

from .metrics import RELATIVE_EPS

MODE_LABELS = {"signed": "Signed", "absolute": "Absolute", "squared": "Squared", "relative": "Relative"}
CHANNEL_LABELS = {"R": "R", "G": "G", "B": "B", "luma": "Luma Y"}  # the Y of PSNR Y (adk_model.metrics.to_y)
FORMULAS = {"signed": "image − reference", "absolute": "|image − reference|",
            "squared": "(image − reference)²", "relative": f"|image − reference| / (reference + {RELATIVE_EPS:g})"}
UNITS = {"signed": "intensity, 0–1", "absolute": "intensity, 0–1", "squared": "intensity², 0–1",
         "relative": "fraction of the reference"}


def display_levels(lo: float, hi: float, mode: str, gain: float = 1.0) -> tuple[float, float]:
    """Display range of a map whose values span [lo, hi]: its largest magnitude divided by the gain, centred at
    0 for signed error; identical images get one 8-bit step, so the bar still reads sensibly."""
    m = max(abs(lo), abs(hi)) if mode == "signed" else max(hi, 0.0)
    if m <= 0 or not math.isfinite(m):
        m = 1.0 / 255.0
    m /= gain
    return (-m, m) if mode == "signed" else (0.0, m)


def axis_label(mode: str, channel: str) -> str:
    """What a colour bar measures, with units."""
    return f"{CHANNEL_LABELS[channel]} {FORMULAS[mode]} ({UNITS[mode]})"
