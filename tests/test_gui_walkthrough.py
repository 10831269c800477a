"""Small things a new user meets on a first walk through the GUI (offscreen, 1100x700 and 1280x800)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from gui_helpers import open_window  # noqa: E402

WAIT_MS = 30_000


def _image(tmp_path: Path, h: int = 96, w: int = 112) -> Path:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w] / 14.0
    img = np.stack([0.5 + 0.4 * np.sin(x * (1 + c) + y * (2 - c)) for c in range(3)], axis=2)
    img = np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1)
    path = tmp_path / "pic.png"
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path)
    return path


def test_field_map_colour_bar_label_does_not_cover_its_tick_values(qtbot, tmp_path):
    """The label sat on the same (45 px) axis as the values and was drawn over '-0.05' and '0.05'."""
    win = open_window(qtbot, [str(_image(tmp_path)), "--methods", "adknet", "--tab", "inspect", "--pixel", "5,6",
                              "--field", "dx_r"], ("inspect",), WAIT_MS)
    fv = win.tab("inspect").field_view
    qtbot.waitUntil(lambda: fv.values is not None and fv.colorbar.isVisible(), timeout=WAIT_MS)
    qtbot.wait(50)
    values_axis = fv.colorbar.axis
    label_axis = fv.colorbar.getAxis("left")
    assert label_axis.labelText.startswith("centroid dx R")
    assert not values_axis.label.isVisible() or not values_axis.labelText
    label_rect = label_axis.label.sceneBoundingRect()
    assert label_axis.label.isVisible() and label_rect.width() > 0
    assert label_rect.right() <= values_axis.sceneBoundingRect().left() + 1
