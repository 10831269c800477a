"""The Train tab's runs list: the runs of its output folder in a table, their curves overlaid on the plots with a
legend, a run opened into Compare as its own method, and a broken run shown in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core_helpers import one_thread  # noqa: F401 (fixture)
from runs_helpers import first_version_run, tiny_run
from train_gui_helpers import WAIT_MS, pairs, setup_tab  # noqa: F401 (fixture)
from adkviewer.tabs.train.run_overlays import overlay_label

pytestmark = pytest.mark.usefixtures("one_thread")
NOW, OLD, BROKEN = "pairs-x4-20261202-101500", "adknet", "pairs-x4-20261201-120000"
STARTED: dict[str, str] = {}


@pytest.fixture(scope="module")
def out(tmp_path_factory, pairs) -> Path:
    """An output folder with a current run, a first-version run and a run whose only checkpoint is truncated."""
    root = tmp_path_factory.mktemp("out")
    STARTED[NOW] = tiny_run(pairs, root / NOW).started  # the date the table shows
    first_version_run(pairs, root / OLD)
    (root / BROKEN).mkdir()
    (root / BROKEN / "checkpoint_last.pt").write_bytes((root / NOW / "checkpoint_last.pt").read_bytes()[:500])
    return root


def _listed(qtbot, pairs, out, tmp_path):
    win, tab = setup_tab(qtbot, pairs, tmp_path / "runs")
    tab.out_edit.setText(str(out))
    panel = tab.runs_panel
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 3, timeout=WAIT_MS)
    return win, tab, panel, {r.name: r for r in panel.runs}


def _row(panel, name: str) -> list[str]:
    row = [r.name for r in panel.runs].index(name)
    return [panel.table.item(row, c).text() if panel.table.item(row, c) else "" for c in range(1, 8)]


def test_the_table_lists_each_run_and_names_a_broken_one(qtbot, pairs, out, tmp_path):
    win, tab, panel, runs = _listed(qtbot, pairs, out, tmp_path)
    now = runs[NOW]
    assert _row(panel, NOW) == [NOW, f"{now.best_psnr:.2f} dB (it {now.best_it})", f"{now.last_psnr:.2f} dB (it 6)",
                                "6", f"{pairs.name} (4 train / 2 val)", "scratch", STARTED[NOW]]
    broken = _row(panel, BROKEN)
    assert broken[1] == "unreadable" and broken[2] == "checkpoint_last.pt cannot be read: it is truncated or damaged"
    panel.select(runs[OLD])
    assert "loss of every 10th iteration only" in panel.note.text()


def test_a_narrow_pane_shows_the_scores_first_and_a_long_init_elided_with_its_whole_path_in_the_tooltip(
        qtbot, pairs, out, tmp_path):
    from adkviewer.tabs.train.runs_panel import INIT, INIT_MAX_PX, RUN_COLUMNS

    win, tab, panel, runs = _listed(qtbot, pairs, out, tmp_path)
    assert RUN_COLUMNS[:4] == ("Overlay", "Run", "Best val", "Last val")  # what a run is judged by, before the fold
    long_init = "/home/someone/experiments/canon-source-models/session-12/adknet_x4_lite.safetensors"
    runs[NOW].init = long_init
    panel._fill()
    row = panel.runs.index(runs[NOW])
    assert panel.table.item(row, INIT).text() == long_init
    assert panel.table.item(row, INIT).toolTip().startswith(f"init: {long_init}\n")
    assert panel.table.columnWidth(INIT) == INIT_MAX_PX < panel.table.fontMetrics().horizontalAdvance(long_init)
    assert panel.table.textElideMode() == Qt.ElideMiddle


def test_ticked_runs_are_overlaid_with_labelled_curves_in_distinct_colours(qtbot, pairs, out, tmp_path):
    win, tab, panel, runs = _listed(qtbot, pairs, out, tmp_path)
    broken_row = [r.name for r in panel.runs].index(BROKEN)
    assert not panel.table.item(broken_row, 0).flags() & Qt.ItemIsUserCheckable  # nothing to draw
    panel.set_overlaid(runs[NOW], True)
    panel.set_overlaid(runs[OLD], True)
    ov, plots = tab.overlays, tab.plots
    shown = panel.overlaid()  # in the table's order, newest first
    assert {r.name for r in shown} == {NOW, OLD}
    assert ov.labels(plots.loss_plot) == [r.name for r in shown]
    assert ov.labels(plots.val_plot) == [overlay_label(r) for r in shown]
    assert "best" in overlay_label(runs[NOW])
    drawn = {(plot is plots.loss_plot, item.name()): item for plot, item in ov.items}
    old_val = drawn[(False, overlay_label(runs[OLD]))].getData()
    assert list(old_val[0]) == runs[OLD].val_it and list(old_val[1]) == runs[OLD].val_psnr
    assert list(drawn[(True, OLD)].getData()[0]) == [1, 10, 20]
    colours = {item.opts["pen"].color().name() for (loss, _), item in drawn.items() if loss}
    assert len(colours) == 2 and "#08519c" not in colours  # not the current run's loss colour either
    assert all(item in plots.loss_plot.getPlotItem().items or item in plots.val_plot.getPlotItem().items
               for item in drawn.values())
    panel.set_overlaid(runs[NOW], False)
    assert ov.labels(plots.loss_plot) == [OLD] and len(ov.items) == 2


def test_a_run_opens_into_compare_as_its_own_method(qtbot, pairs, out, tmp_path):
    win, tab, panel, runs = _listed(qtbot, pairs, out, tmp_path)
    panel.select(runs[BROKEN])
    assert not panel.open_button.isEnabled()
    panel.select(runs[NOW])
    assert panel.open_button.isEnabled()
    panel.open_button.click()
    s = win.ctx.session
    assert f"adknet:{NOW}" in s.extras and Path(s.extras[f"adknet:{NOW}"].path) == runs[NOW].weights
    assert win.current_tab() == "compare"


def _shows(plot, xs, ys) -> bool:
    """The plot's axes are on and its view holds every point (x, y)."""
    item = plot.getPlotItem()
    (x0, x1), (y0, y1) = item.getViewBox().viewRange()
    axes = all(item.getAxis(ax).isVisible() for ax in ("left", "bottom"))
    return axes and x0 <= min(xs) and max(xs) <= x1 and y0 <= min(ys) and max(ys) <= y1


def test_overlays_are_drawn_in_view_when_this_session_has_no_run(qtbot, pairs, out, tmp_path):
    win, tab, panel, runs = _listed(qtbot, pairs, out, tmp_path)
    plots, old = tab.plots, runs[OLD]
    assert plots.val_note.text.startswith("No run yet")  # no current run: the note and the empty 0–1 range
    assert not _shows(plots.val_plot, old.val_it, old.val_psnr)
    panel.set_overlaid(old, True)
    panel.set_overlaid(runs[NOW], True)
    assert not plots.val_note.label.isVisible() and not plots.loss_note.label.isVisible()
    qtbot.waitUntil(lambda: _shows(plots.val_plot, old.val_it + runs[NOW].val_it, old.val_psnr + runs[NOW].val_psnr),
                    timeout=WAIT_MS)
    loss = [item.getData() for plot, item in tab.overlays.items if plot is plots.loss_plot]
    assert len(loss) == 2
    xs = [x for data_x, _ in loss for x in data_x]
    ys = [y for _, data_y in loss for y in data_y]
    qtbot.waitUntil(lambda: _shows(plots.loss_plot, xs, ys), timeout=WAIT_MS)
    win.grab().save(str(tmp_path / "overlays.png"))
    panel.set_overlaid(old, False)
    panel.set_overlaid(runs[NOW], False)
    assert plots.val_note.text.startswith("No run yet") and plots.val_note.label.isVisible()


def test_a_quick_calibrate_only_run_is_listed_as_no_training_step(qtbot, pairs, tmp_path):
    from adkviewer.cli.entry import main

    root = tmp_path / "out"
    assert main(["train", "--pairs", str(pairs), "--calibrate-only", "--device", "cpu", "--out", str(root / "cal")]) == 0
    win, tab = setup_tab(qtbot, pairs, tmp_path / "runs")
    tab.out_edit.setText(str(root))
    panel = tab.runs_panel
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=WAIT_MS)
    run = panel.runs[0]
    assert _row(panel, "cal")[3] == "0" and run.missing == []  # not "0 / 500": nothing was planned and stopped
    assert run.exported.startswith("Quick calibrate: ")
    assert f"exported: {run.exported}" in panel.table.item(0, 5).toolTip()
    assert panel.table.item(0, 0).toolTip() == f"No curves to draw: no training step was made ({run.exported})"
