"""Compare's Figure… action: the region dragged on a view or typed, the ticked methods in their order, drawn
off the GUI thread by the renderer the CLI uses; the crops on the page are the results Compare shows."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import xml.etree.ElementTree as ET  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402

from adk_model.figure_layout import zoom_nearest  # noqa: E402
from adk_model.imageio import to_uint8  # noqa: E402

from adkviewer.tabs.compare.compare_figure import open_figure  # noqa: E402
from adkviewer.tabs.compare.compare_tab import CompareTab  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_figure_of_a_dragged_region_holds_the_shown_results(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["box", "bicubic"])
    tab = show_tab(qtbot, CompareTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path, h=64, w=80))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    dlg = open_figure(tab)
    qtbot.addWidget(dlg)
    rois = tab.region.rois()
    assert rois and all(r.isVisible() for r in rois)  # the rectangle is on every view
    # typed: every view's rectangle moves
    dlg.x.setValue(3)
    dlg.y.setValue(2)
    dlg.w.setValue(9)
    dlg.h.setValue(7)
    assert all((r.pos().x(), r.pos().y(), r.size().x(), r.size().y()) == (3, 2, 9, 7) for r in rois)
    # dragged on one view: the others and the typed values follow (whole LR pixels)
    rois[1].setPos(QPointF(5, 4))
    assert (dlg.x.value(), dlg.y.value(), dlg.w.value(), dlg.h.value()) == (5, 4, 9, 7)
    assert rois[0].pos() == QPointF(5, 4)
    assert dlg.keys() == ["box", "bicubic"]  # Compare's order
    dlg.zoom.setValue(3)
    png = tmp_path / "fig.png"
    dlg.export(png)
    assert dlg.busy  # off the GUI thread
    qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
    assert "Wrote fig.png" in dlg.status.text()
    page = np.asarray(Image.open(png))
    fig_crops = dlg.last_crops
    for m in ("box", "bicubic"):
        x, y, w, h = fig_crops[m]
        want = zoom_nearest(to_uint8(ctx.session.results[m].lr[4:11, 5:14]), 3)
        assert np.array_equal(page[y:y + h, x:x + w], want), m
    # as SVG too, with the HR crop (zoom 4 = the scale)
    dlg.with_hr.setChecked(True)
    dlg.zoom.setValue(4)
    svg = tmp_path / "fig.svg"
    dlg.export(svg)
    qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
    texts = [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert "Box (area)" in texts and "Bicubic" in texts and "HR (×4)" in texts
    # a zoom the HR cannot take: one sentence, nothing written
    dlg.zoom.setValue(3)
    dlg.export(tmp_path / "bad.png")
    qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)
    assert "multiple of the scale" in dlg.status.text() and not (tmp_path / "bad.png").exists()
    dlg.close()
    assert not any(r.isVisible() for r in rois)
