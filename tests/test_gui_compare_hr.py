"""Compare's HR reference view: under each LR pixel of the camera it shows exactly that pixel's s x s HR cell,
in its own view, held with H, and on either side of the swipe."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QKeyEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from adkviewer.state.session import display_uint8  # noqa: E402
from adkviewer.tabs.compare.compare_hr import HR  # noqa: E402
from adkviewer.tabs.compare.compare_tab import CompareTab  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def _cells_under(item, image: np.ndarray, x: int, y: int) -> tuple[QRectF, np.ndarray]:
    """The item's pixels under LR pixel (x, y) of the camera: the rectangle in image indices, and those pixels."""
    r = item.mapRectFromParent(QRectF(x, y, 1, 1))  # the view's (LR) coordinates -> the image's indices
    x0, y0 = int(round(r.left())), int(round(r.top()))
    return r, image[y0:int(round(r.bottom())), x0:int(round(r.right()))]


def test_the_hr_view_shows_each_lr_pixels_own_cell(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    tab = show_tab(qtbot, CompareTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path, h=64, w=80))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    assert tab.view_keys() == ["bicubic"]
    tab.hr_ref.check.setChecked(True)  # ticked beside the methods
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    assert tab.view_keys() == [HR, "bicubic"]
    s, panel = ctx.session, tab.grid.panel(HR)
    hr = display_uint8(s.hr)
    assert panel.image_item.image.shape == hr.shape  # the HR itself, not resampled
    for x, y in ((0, 0), (7, 3), (19, 15)):
        rect, shown = _cells_under(panel.image_item, panel.image_item.image, x, y)
        assert (rect.left(), rect.top(), rect.width(), rect.height()) == (x * 4, y * 4, 4, 4)
        assert np.array_equal(shown, hr[y * 4:(y + 1) * 4, x * 4:(x + 1) * 4])
    # the LR views keep one image pixel per LR pixel, on the same camera
    lr_item = tab.grid.panel("bicubic").image_item
    assert lr_item.mapRectFromParent(QRectF(7, 3, 1, 1)) == QRectF(7, 3, 1, 1)
    assert panel.vb.viewRect() == tab.grid.panel("bicubic").vb.viewRect()
    assert "HR reference (×4)" in panel.title_text()


def test_h_holds_the_hr_alone_and_the_swipe_takes_it(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic", "box"])
    tab = show_tab(qtbot, CompareTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path, h=64, w=80))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    msgs = []
    ctx.hub.message.connect(lambda level, text, scope: msgs.append(text))
    tab.keys.hold_hr(True)  # not ticked: nothing to hold, the grid stays, and a sentence says why
    assert tab.grid.solo is None and any("tick 'HR reference'" in m for m in msgs)
    tab.hr_ref.set_shown(True)
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    target = tab.grid.panel("bicubic").view.viewport()
    QApplication.sendEvent(target, QKeyEvent(QEvent.KeyPress, Qt.Key_H, Qt.NoModifier))
    assert tab.grid.solo == HR and tab.grid.visible_panels() == [tab.grid.panel(HR)]
    QApplication.sendEvent(target, QKeyEvent(QEvent.KeyRelease, Qt.Key_H, Qt.NoModifier))
    assert tab.grid.solo is None
    # swipe: the HR left of the split, on the camera's LR coordinates too
    tab.set_swipe(HR, "bicubic")
    sw = tab.grid.swipe
    assert tab.swipe.pair() == (HR, "bicubic")
    sw.split.setValue(10)
    left = sw.image_item
    assert left.image.shape[:2] == (64, 40)  # 10 LR columns = 40 HR columns
    rect, shown = _cells_under(left, left.image, 6, 9)
    assert (rect.width(), rect.height()) == (4, 4)
    assert np.array_equal(shown, display_uint8(ctx.session.hr)[36:40, 24:28])
    assert sw.image_b.mapRectFromParent(QRectF(12, 2, 1, 1)) == QRectF(12, 2, 1, 1)
    # and on the right of the split against a method on the left
    tab.set_swipe("box", HR)
    assert sw.image_b.mapRectFromParent(QRectF(12, 2, 1, 1)) == QRectF(48, 8, 4, 4)
