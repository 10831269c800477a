"""Small things a new user trips over (issue 19, item 17): each one as a person meets it."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QRectF  # noqa: E402

from core_helpers import make_pairs  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from compare_helpers import _write_pair  # noqa: E402

from adkviewer.tabs.diff.diff_tab import DiffTab  # noqa: E402
from adkviewer.tabs.inspect.inspect_tab import InspectTab  # noqa: E402
from adkviewer.tabs.train.train_tab import TrainTab  # noqa: E402
from adkviewer.tabs.train.train_widgets import NO_RUN, NO_RUN_READY  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_the_metrics_rows_stay_whole_when_a_wider_side_panel_wraps_the_heading(qtbot, tmp_path):
    hr, _lr = _write_pair(tmp_path / "pairs")
    win = open_window(qtbot, [str(hr)])
    win.resize(880, 640)
    c = win.compare
    qtbot.waitUntil(lambda: c._metrics_fitted, timeout=WAIT_MS)
    lines = c.metrics.heading.heightForWidth(c.metrics.heading.width())
    c.hsplit.setSizes([420, 460])  # the heading wraps onto another line; the tab keeps its size
    qtbot.waitUntil(lambda: c.metrics.heading.heightForWidth(c.metrics.heading.width()) > lines, timeout=WAIT_MS)
    t = c.metrics.table
    qtbot.waitUntil(lambda: t.viewport().height() >= t.verticalHeader().length(), timeout=WAIT_MS)
    assert not t.verticalScrollBar().isVisible()


def test_the_field_map_readout_follows_the_arrow_keys(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["adknet"])
    tab = show_tab(qtbot, InspectTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(lambda: bool(tab.field.maps), timeout=WAIT_MS)
    tab.select(5, 7)
    tab.field._on_hover(2, 3)  # the mouse over the map
    assert tab.field.readout.text().startswith("LR x=3, y=2:")
    tab.move_selection(0, 1)  # then the arrow keys: the readout shows the selection, not the old hover
    key = tab.field.current_stat()
    v = tab.field.maps[key][5, 8]
    assert tab.field.readout.text().startswith("LR x=8, y=5 (selected):") and f"{v:+.5f}" in tab.field.readout.text()


def test_inspect_says_how_taps_past_the_border_are_filled(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["adknet"])
    tab = show_tab(qtbot, InspectTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    tab.select(4, 0)
    qtbot.waitUntil(lambda: tab.current_report() is not None and tab.current_report().col == 0, timeout=WAIT_MS)
    rep = tab.current_report()
    note = rep.border_note(ctx.session.hr.shape)
    assert "reaches 6 HR px past the left edge" in note and "reflect padding" in note  # 16x16 linear part at x4
    assert "6 HR px past the left edge" in tab.panel.header.text()  # said in the panel, under its title
    tab.select(4, 8)
    qtbot.waitUntil(lambda: tab.current_report() is not None and tab.current_report().col == 8, timeout=WAIT_MS)
    assert tab.current_report().border_note(ctx.session.hr.shape) == ""


def test_a_method_compared_with_itself_leaves_no_colour_bar_or_histogram(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["nearest", "bicubic"])
    tab = show_tab(qtbot, DiffTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    tab.state.choose(image="nearest", reference="bicubic")
    qtbot.waitUntil(lambda: tab.state.result() is not None, timeout=WAIT_MS)
    tab.refresh()
    assert tab.cbar_view.isVisible() and tab.hist.isVisible()
    tab.state.choose(reference="nearest")
    tab.refresh()
    assert "compared with itself" in tab.state.why_not()
    assert not tab.cbar_view.isVisible() and not tab.hist.isVisible()


def test_the_train_placeholder_follows_the_folder_and_problem_pairs_do_not_push_the_form_away(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path)
    tab = show_tab(qtbot, TrainTab(ctx))
    tab.resize(1280, 760)
    assert tab.plots.loss_note.text == NO_RUN
    folder = make_pairs(tmp_path / "cam", n_train=3, n_val=1, lr_size=(16, 20))
    for i in range(6):  # six unusable pairs: no LR partner
        (folder / "HR" / f"zz{i}.png").write_bytes((folder / "HR" / "p0.png").read_bytes())
    tab.open_pairs(folder)
    assert tab.plots.loss_note.text == NO_RUN_READY and tab.plots.val_note.text == NO_RUN_READY
    summary = tab.pairs_summary.text()
    assert summary.count("<br>") <= 1 and "Red rows cannot be used (zz0: no LR partner" in summary
    assert "zz5: no LR partner" in tab.pairs_summary.toolTip()
    qtbot.wait(50)
    assert not tab.side.verticalScrollBar().isVisible()  # Quick calibrate and Resume stay in view


def test_the_swipe_split_comes_back_into_view_after_zooming(qtbot, tmp_path):
    win = open_window(qtbot, ["--methods", "nearest", "bicubic", "--swipe", "nearest,bicubic"])
    sw = win.compare.grid.swipe
    qtbot.waitUntil(lambda: sw._u8 is not None, timeout=WAIT_MS)
    w = sw._u8.shape[1]
    assert sw.split_x() == pytest.approx(w / 2)
    sw.vb.setRange(QRectF(w * 0.8, 10, w * 0.15, w * 0.15), padding=0.0)  # zoom into the right side
    x0, x1 = sw.vb.viewRange()[0]
    assert x0 < sw.split_x() < x1
    sw.split.setValue(x0 + (x1 - x0) / 2)
    sw.vb.setRange(QRectF(x0 + 1, 10, x1 - x0, w * 0.15), padding=0.0)  # a split on screen stays where it is
    assert sw.split_x() == pytest.approx(x0 + (x1 - x0) / 2)


def test_a_remembered_metrics_pane_for_more_rows_leaves_no_empty_band(qtbot, tmp_path):
    win = open_window(qtbot, [])  # every method: the pane remembers seven rows' height
    qtbot.waitUntil(lambda: win.compare._metrics_fitted, timeout=WAIT_MS)
    win.save_layout()
    tall = win.compare.vsplit.sizes()[1]
    win.close()
    win2 = open_window(qtbot, ["--methods", "nearest", "bicubic"])  # the next start, two rows
    c = win2.compare
    qtbot.waitUntil(lambda: c.vsplit.sizes()[1] <= c.metrics.fitted_height() + 4, timeout=WAIT_MS)
    assert c.vsplit.sizes()[1] < tall


def test_a_1024_pixel_screen_holds_the_window_with_the_dataset_dock_open(qtbot, tmp_path):
    """Every tab fits beside the dock at 1024 px: the Train tab's buttons wrap onto a second row (all in sight),
    each Compare view keeps its method's name in sight (the score goes under it), and the Inspect tab's kernel
    panel and its reconstruction table scroll sideways, rather than the window growing past the screen or the
    numbers, names and colour bar being cut to nothing."""
    hr, lr = _write_pair(tmp_path / "pairs")
    win = open_window(qtbot, [str(hr), "--lr", str(lr)])
    win.dataset.show()
    assert win.dataset.open_folder(tmp_path / "pairs")
    for key in ("compare", "inspect", "diff", "train"):
        win.show_tab(key)
        qtbot.wait(50)
        assert win.minimumSizeHint().width() <= 1024, key
    win.resize(1024, 700)
    qtbot.waitUntil(lambda: win.width() == 1024, timeout=WAIT_MS)
    win.show_tab("compare")
    scored = [p for p in win.compare.grid.panels.values() if p.score.text()]
    assert len(scored) >= 7
    for p in scored:
        fm = p.title.fontMetrics()
        qtbot.waitUntil(lambda p=p: p.title.width() >= fm.horizontalAdvance(p.title.text()[:3] + "…"), timeout=WAIT_MS)
    from PySide6.QtGui import QTextDocument

    win.compare._on_hover(3, 4)  # the pixel readout keeps its B column in the narrow side panel
    doc = QTextDocument()
    doc.setDefaultFont(win.compare.readout.font())
    doc.setDocumentMargin(0)
    doc.setHtml(win.compare.readout.text())
    assert doc.idealWidth() <= win.compare.readout.width()
    win.show_tab("train")
    t = win.tab("train")
    below = lambda: t.use_button.mapTo(t, t.use_button.rect().topLeft()).y() > t.start_button.mapTo(  # noqa: E731
        t, t.start_button.rect().bottomLeft()).y()
    qtbot.waitUntil(lambda: win.width() == 1024 and t.button_bar.wrapped and below(), timeout=WAIT_MS)
    bar = t.button_bar.rect()
    for b in (t.start_button, t.calibrate_button, t.use_button, t.use_best_button, t.export_button):
        assert b.isVisible() and bar.contains(b.mapTo(t.button_bar, b.rect().bottomRight())), b.text()
    win.resize(1280, 800)
    qtbot.waitUntil(lambda: not t.button_bar.wrapped, timeout=WAIT_MS)  # one row again where it fits
    win.resize(1024, 700)
    win.show_tab("inspect")
    panel = win.tab("inspect").panel
    scroll = panel.stack.widget(0)
    qtbot.waitUntil(lambda: panel.mid.wrapped, timeout=WAIT_MS)  # the statistics under the patch and footprint
    # what is still wider than the panel is a scroll away, not cut: the colour bar and titles whole
    assert scroll.widget().width() >= scroll.widget().minimumSizeHint().width()
    assert panel.heat.width() >= panel.heat.minimumWidth() > 300
    qtbot.waitUntil(lambda: panel.recon_table.horizontalScrollBar().maximum() > 0, timeout=WAIT_MS)
    hh = panel.recon_table.horizontalHeader()
    assert all(hh.sectionSize(c) >= hh.sectionSizeHint(c) for c in range(hh.count() - 1))  # no column squeezed
