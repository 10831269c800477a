"""Each tab is built from a TabContext against a session, with no MainWindow (tests/tab_helpers.py)."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402

from adk_model.weights import shipped_weights  # noqa: E402

from adkviewer.tabs.compare.compare_tab import CompareTab  # noqa: E402
from adkviewer.tabs.diff.diff_tab import DiffTab  # noqa: E402
from adkviewer.tabs.inspect.inspect_tab import InspectTab  # noqa: E402
from adkviewer.tabs.train.train_tab import TrainTab  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_compare_tab_alone_shows_results_and_hears_weights_changed(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["nearest", "bicubic"])
    tab = show_tab(qtbot, CompareTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    assert tab.view_keys() == ["nearest", "bicubic"]
    assert tab.grid.camera is ctx.camera  # the shared camera is the context's, not the widget's own
    # ticking in the list goes through the commands: the session changes and the choice is remembered
    tab.method_list.item(0).setCheckState(Qt.Checked)  # adknet
    assert ctx.session.methods[0] == "adknet" and ctx.settings.get_list("compare/methods")[0] == "adknet"
    # other weights: the "weights changed" event renames the scale choice (no private call from outside)
    mine = tmp_path / "my_finetune.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    ctx.commands.set_weights(mine)
    assert "my_finetune" in tab.scale_combo.itemText(tab.scale_combo.findData(4))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    # a link in the side panel asks the shell, which the tab knows only as a protocol
    tab.gt_label.linkActivated.emit("open")
    assert ctx.shell.dialogs == ["ground truth"]


def test_inspect_tab_alone_shows_the_selected_pixel_and_writes_the_shared_camera(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["adknet"])
    ctx.launch.field = "spread_g"
    tab = show_tab(qtbot, InspectTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    tab.select(5, 7)
    qtbot.waitUntil(lambda: tab.all_shown() and bool(tab.field.maps), timeout=WAIT_MS)
    rep = tab.current_report()
    assert (rep.row, rep.col) == (5, 7) and rep.kernels.shape[0] == 3
    assert tab.field.combo.currentData() == "spread_g" and ctx.launch.field is None  # taken once
    fv = tab.field.view
    qtbot.waitUntil(lambda: fv.vb.width() > 10, timeout=WAIT_MS)
    fv.vb.setRange(QRectF(3, 2, 8, 8), padding=0.0)
    fv.cameraMoved.emit()
    assert not ctx.camera.fit and abs(ctx.camera.cx - fv.vb.viewRect().center().x()) < 1e-6
    assert any("Arrow keys" in k for k, _ in tab.shortcuts)  # the window's F1 help lists them from the tab


def test_diff_tab_alone_takes_the_launch_request_and_links_the_camera(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    ctx.launch.diff = "nearest-bicubic:absolute:G"
    tab = show_tab(qtbot, DiffTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(lambda: tab.state.result() is not None and tab.state.result().err is not None,
                    timeout=WAIT_MS)
    st = ctx.session
    assert "nearest" in st.methods  # ticked through the commands, so Compare would show it too
    assert (tab.state.image, tab.state.reference, tab.state.mode, tab.state.channel) == (
        "nearest", "bicubic", "absolute", "G")
    assert ctx.shell.shown == ["diff"] and ctx.launch.diff is None
    expected = np.abs(st.results["nearest"].lr[..., 1] - st.results["bicubic"].lr[..., 1])
    np.testing.assert_allclose(tab.state.result().err, expected, atol=1e-6)
    assert tab.grid.camera is ctx.camera
    tab.link_box.setChecked(False)
    assert tab.grid.camera is not ctx.camera
    tab.export.save_csv_dialog()  # the save dialog is the shell's
    assert ctx.shell.saved and ctx.shell.saved[0].read_text().startswith("image,reference,mode,channel")


def test_train_tab_alone_uses_a_model_through_the_commands(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path)
    tab = show_tab(qtbot, TrainTab(ctx))
    assert tab.confirm_close()  # nothing runs: nothing to ask
    mine = tmp_path / "run_final.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    tab._on_exported(str(mine), "compare")
    # beside the main model (shipped), not instead of it, so the two are compared
    assert ctx.session.weights_path is None and ctx.shell.shown == ["compare"]
    (key,) = ctx.session.extras
    assert ctx.session.extras[key].path == str(mine) and key in ctx.session.methods
    assert ctx.session.label(key).startswith("ADK-Net · ")
    assert ctx.settings.get_list("weights/recent")[0] == str(mine.resolve())


@pytest.mark.parametrize("factory", [CompareTab, InspectTab, DiffTab, TrainTab])
def test_every_tab_builds_with_no_image_open(qtbot, tmp_path, factory):
    ctx = tab_context(qtbot, tmp_path)
    tab = show_tab(qtbot, factory(ctx))
    assert tab.isVisible() and ctx.shell.shown == []


def test_inspect_maps_a_new_image_opened_while_it_shows_and_keeps_the_selected_pixel(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    tab = show_tab(qtbot, InspectTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path, name="a.png"))
    tab.select(5, 7)
    qtbot.waitUntil(lambda: tab.all_shown() and bool(tab.field.maps), timeout=WAIT_MS)
    first = tab.field.maps["dx_r"]
    # the next image of a series, opened (Ctrl+O) while Inspect shows: mapped without leaving the tab
    assert ctx.commands.open_image(textured_image(tmp_path, h=48, w=96, name="b.png"))
    assert ctx.session.selected_pixel == (5, 7)  # still inside the 24x12 LR image
    qtbot.waitUntil(lambda: tab.all_shown() and bool(tab.field.maps), timeout=WAIT_MS)
    assert tab.field.maps["dx_r"].shape == (12, 24) != first.shape and tab.field.maps_for == tab._key()
    assert (tab.current_report().row, tab.current_report().col) == (5, 7)
    assert "Colour levels" in tab.field.note.text()
    # an image too small for the pixel: the selection moves to its centre, as on first showing the tab
    assert ctx.commands.open_image(textured_image(tmp_path, h=16, w=16, name="c.png"))
    assert ctx.session.selected_pixel == (2, 2)
    qtbot.waitUntil(lambda: tab.all_shown() and bool(tab.field.maps), timeout=WAIT_MS)
    assert tab.field.maps["dx_r"].shape == (4, 4)
