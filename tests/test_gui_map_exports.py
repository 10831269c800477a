"""Error maps and field maps saved on their own: at an integer nearest-neighbour zoom, with their scale in a JSON
sidecar, or drawn with their colour bar in data units (PNG or SVG) by the figures' renderer."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import xml.etree.ElementTree as ET  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from adk_model.figure_layout import PAD, zoom_nearest  # noqa: E402

from adkviewer.tabs.diff.diff_tab import DiffTab  # noqa: E402
from adkviewer.tabs.inspect.field_map_view import render_rgb  # noqa: E402
from adkviewer.tabs.inspect.inspect_tab import InspectTab  # noqa: E402
from adkviewer.widgets import colormaps  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def test_difference_map_saves_zoomed_with_its_scale_and_with_its_colour_bar(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    ctx.launch.diff = "nearest-bicubic:absolute:luma"
    tab = show_tab(qtbot, DiffTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(lambda: tab.state.result() is not None, timeout=WAIT_MS)
    res, levels = tab.state.result(), tab.state.levels()
    coloured = colormaps.apply(res.err, levels, colormaps.SEQUENTIAL)
    tab.map_zoom.setValue(3)
    out = tmp_path / "map.png"
    tab.export.save_map(out)
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), zoom_nearest(coloured, 3))
    side = json.loads((tmp_path / "map.json").read_text())
    assert (side["value_at_first_colour"], side["value_at_last_colour"]) == tuple(levels)
    assert side["zoom"] == 3 and side["colormap"] == "inferno" and side["measures"] == tab.state.axis_label()
    assert (side["image"], side["reference"], side["mode"]) == ("nearest", "bicubic", "absolute")
    bar = tmp_path / "bar.png"
    tab.export.save_map_with_bar(bar)
    page = np.asarray(Image.open(bar))
    h, w = coloured.shape[0] * 3, coloured.shape[1] * 3
    assert np.array_equal(page[PAD:PAD + h, PAD:PAD + w], zoom_nearest(coloured, 3))
    svg = tmp_path / "bar.svg"
    tab.export.save_map_with_bar(svg)
    texts = [t.text for t in ET.parse(svg).getroot().iter(SVG_TEXT)]
    assert tab.state.axis_label() in texts and f"{levels[1]:.4g}" in texts


def test_field_map_saves_with_its_scale_and_with_its_colour_bar(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["adknet"])
    ctx.launch.field = "dx_r"
    tab = show_tab(qtbot, InspectTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    tab.select(3, 4)
    qtbot.waitUntil(lambda: bool(tab.field.maps), timeout=WAIT_MS)
    fm = tab.field
    lo, hi = fm.view.levels
    assert lo == -hi  # a signed statistic: centred on 0
    fm.save_png(tmp_path / "field.png")
    side = json.loads((tmp_path / "field.json").read_text())
    assert (side["value_at_first_colour"], side["value_at_last_colour"]) == (lo, hi)
    assert side["statistic"] == "dx_r" and "HR px" in side["measures"] and side["zoom"] == 1
    fm.save_with_bar(tmp_path / "bar.svg", 5)
    texts = [t.text for t in ET.parse(tmp_path / "bar.svg").getroot().iter(SVG_TEXT)]
    assert any("HR px" in t for t in texts) and "0" in texts  # the bar's zero, between its signed ends
    fm.save_with_bar(tmp_path / "bar.png", 5)
    page = np.asarray(Image.open(tmp_path / "bar.png"))
    rgb = render_rgb("dx_r", fm.maps["dx_r"], fm.view.levels)
    h, w = rgb.shape[0] * 5, rgb.shape[1] * 5
    assert np.array_equal(page[PAD:PAD + h, PAD:PAD + w], zoom_nearest(rgb, 5))
