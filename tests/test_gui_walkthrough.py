"""Small things a new user meets on a first walk through the GUI (offscreen, 1100x700 and 1280x800)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QFontMetrics, QMouseEvent, QTextDocument  # noqa: E402
from PySide6.QtWidgets import QApplication, QScrollBar  # noqa: E402

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
    fv = win.tab("inspect").field.view
    qtbot.waitUntil(lambda: fv.values is not None and fv.colorbar.isVisible(), timeout=WAIT_MS)
    qtbot.wait(50)
    values_axis = fv.colorbar.axis
    label_axis = fv.colorbar.getAxis("left")
    assert label_axis.labelText.startswith("centroid dx R")
    assert not values_axis.label.isVisible() or not values_axis.labelText
    label_rect = label_axis.label.sceneBoundingRect()
    assert label_axis.label.isVisible() and label_rect.width() > 0
    assert label_rect.right() <= values_axis.sceneBoundingRect().left() + 1


def _pairs(folder: Path, n: int = 4, size: int = 32) -> Path:
    rng = np.random.default_rng(5)
    for i in range(n):
        hr = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        lr = hr.reshape(size // 4, 4, size // 4, 4, 3).mean(axis=(1, 3)).round().astype(np.uint8)
        for sub, arr in (("HR", hr), ("LR", lr)):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(folder / sub / f"p{i}.png")
    return folder


def test_choosing_a_pairs_folder_drops_the_choose_a_folder_first_error(qtbot, tmp_path):
    """Start without a folder said 'Choose a pairs folder first'; it stayed in the banner and the status bar after a
    folder was chosen (and, in the status bar, through the whole run started next)."""
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.show_tab("train")
    tab = win.tab("train")
    tab.start()
    assert "Choose a pairs folder first" in win.banner.text()
    assert "Choose a pairs folder first" in win.statusBar().currentMessage()
    tab.pairs_edit.setText(str(_pairs(tmp_path / "pairs")))
    tab.rescan()
    assert "Choose a pairs folder first" not in win.banner.text()
    assert win.statusBar().currentMessage() == ""
    assert tab.scan is not None and not tab.scan.error
    win.hub.error("Training crashed at iteration 3.", "train")  # a run's message: only a new run drops it
    tab.rescan()
    assert "Training crashed at iteration 3." in win.banner.text()
    # a folder with a problem is named on Start, and that goes too once the folder is fixed
    tab.pairs_edit.setText(str(tmp_path / "missing"))
    tab.start()
    assert "does not exist" in win.banner.text() and "does not exist" in win.statusBar().currentMessage()
    tab.pairs_edit.setText(str(tmp_path / "pairs"))
    tab.rescan()
    assert "does not exist" not in win.banner.text() and win.statusBar().currentMessage() == ""


def test_few_methods_leave_no_grey_band_below_the_metrics_table(qtbot):
    """With two methods the pane kept its 120 px minimum: a band of empty grey under the table, not given to the
    views."""
    win = open_window(qtbot, ["--methods", "adknet,bicubic"])
    metrics = win.compare.metrics
    qtbot.waitUntil(lambda: metrics.table.rowCount() == 2 and win.compare._metrics_fitted)
    qtbot.waitUntil(lambda: abs(win.compare.vsplit.sizes()[1] - metrics.fitted_height()) <= 2)
    assert metrics.height() - metrics.fitted_height() <= 2
    win.commands.set_methods(["nearest", "box", "bilinear", "bicubic", "lanczos", "lstsq", "adknet"])
    qtbot.waitUntil(lambda: metrics.table.rowCount() == 7)
    qtbot.waitUntil(lambda: abs(win.compare.vsplit.sizes()[1] - metrics.fitted_height()) <= 2)
    assert metrics.minimumHeight() == 120


@pytest.mark.parametrize("size", [(1100, 700), (1280, 800)])
def test_psnr_plot_and_its_legend_fit_the_train_tab(qtbot, size):
    """At 1100x700 the one-line legend ('- - Least-squares 56.75') made pyqtgraph lay the plot out wider than its
    widget: the right part of the curves, the x axis and the legend were cut off."""
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.resize(*size)
    win.show_tab("train")
    tab = win.tab("train")
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size and tab.plots.val_plot.isVisible())
    plot, item = tab.plots.val_plot, tab.plots.val_plot.getPlotItem()
    tab.curves.add_val(0, 29.38)
    tab._redraw_curves()  # as in a run: the legend grows as the reference values arrive
    tab.curves.add_val(60, 39.78)
    tab.curves.refs.update(bicubic=56.33, lstsq=56.75)
    tab._redraw_curves()
    qtbot.wait(100)

    def fits() -> bool:
        title = item.titleLabel.item
        return (item.sceneBoundingRect().right() <= plot.width() + 1
                and title.boundingRect().width() <= plot.width()
                and title.mapRectToScene(title.boundingRect()).top() >= -4)  # as far up as the unwrapped title

    assert "Least-squares 56.75" in item.titleLabel.text and "Bicubic 56.33" in item.titleLabel.text
    assert fits()
    wrapped = item.titleLabel.text.count("<br>") == 2
    assert wrapped == (size == (1100, 700))  # wrapped only where one line is too wide
    if wrapped:  # a wider window puts the legend back on one line
        win.resize(1400, 800)
        qtbot.waitUntil(lambda: item.titleLabel.text.count("<br>") == 1 and fits())



def _run_log(n_val: int, first: int = 0) -> list[str]:
    """Lines as a run logs them: paths that re-wrap anywhere once the scroll bar takes its width."""
    run = "/tmp/runs/demo_pairs-x4-20261127-093317"
    lines = [] if first else [f"run folder: {run}", "skipping zz_wrong_size: LR size 48x48 is not HR size / scale "
                              "(expected 24x24 for HR 96x96 at x4)", "training on CPU (1 thread): 12 train pairs, "
                              f"2 val pairs", f"writing checkpoints and weights to {run}",
                              "validating the starting model…"]
    for i in range(first, first + n_val):
        lines.append(f"it {10 * i}: val PSNR {29 + i / 3:.3f} dB, SSIM 0.9852")
        if i % 4 == 3:
            lines.append(f"checkpoint {run}/checkpoint_last.pt (iteration {10 * i})")
    return lines


def _train_log(qtbot):
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.show_tab("train")
    tab = win.tab("train")
    qtbot.waitUntil(lambda: tab.log_view.isVisible())
    return tab, tab.log_view.verticalScrollBar()


def _log(qtbot, tab, lines: list[str]) -> None:
    for line in lines:
        tab.log(line)
        qtbot.wait(2)


def test_training_log_follows_its_last_line_when_the_scroll_bar_appears(qtbot):
    """At 1280x800 the scroll bar's arrival re-wrapped the lines narrower and the view stopped following the end:
    the last line ('Training finished: …') was cut off below the view."""
    tab, bar = _train_log(qtbot)
    _log(qtbot, tab, _run_log(13) + ["Training finished: 120 iterations in 6 s, best val PSNR 39.473 dB."])
    qtbot.wait(20)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()


def test_training_log_stays_put_once_the_user_scrolls_up(qtbot):
    """Following the end must not pull a person back down while they read an earlier line; back at the end, it
    follows again."""
    tab, bar = _train_log(qtbot)
    _log(qtbot, tab, _run_log(20))
    assert bar.value() == bar.maximum() > 5
    bar.triggerAction(QScrollBar.SliderPageStepSub)  # a click above the handle, as a wheel turn or a drag does
    up = bar.value()
    assert up < bar.maximum()
    _log(qtbot, tab, _run_log(10, 20))
    assert bar.value() == up
    bar.triggerAction(QScrollBar.SliderToMaximum)
    _log(qtbot, tab, _run_log(10, 30))
    assert bar.value() == bar.maximum()
    qtbot.keyClick(tab.log_view, Qt.Key_Home)  # the keyboard too
    _log(qtbot, tab, _run_log(5, 40))
    assert bar.value() == 0


def test_training_log_stays_put_after_a_selection_dragged_above_its_top(qtbot):
    """Dragging a selection past the top scrolls the log up without a scroll-bar action; the next line pulled the
    view back to the end, away from what the person was selecting."""
    tab, bar = _train_log(qtbot)
    _log(qtbot, tab, _run_log(20))
    view = tab.log_view.viewport()
    at = QPointF(20, 10)
    QApplication.sendEvent(view, QMouseEvent(QEvent.MouseButtonPress, at, at, Qt.LeftButton, Qt.LeftButton,
                                             Qt.NoModifier))
    bar.setValue(0)  # the drag's auto-scroll, as the pointer leaves the top
    above = QPointF(20, -30)
    QApplication.sendEvent(view, QMouseEvent(QEvent.MouseMove, above, view.mapToGlobal(above), Qt.NoButton,
                                             Qt.LeftButton, Qt.NoModifier))
    _log(qtbot, tab, _run_log(5, 20))
    assert bar.value() == 0 < bar.maximum()
    QApplication.sendEvent(view, QMouseEvent(QEvent.MouseButtonRelease, above, view.mapToGlobal(above),
                                             Qt.LeftButton, Qt.NoButton, Qt.NoModifier))


@pytest.mark.parametrize("size", [(1100, 700), (1280, 800)])
def test_footprint_legend_is_one_line(qtbot, tmp_path, size):
    """'… 4×4 cell (click the HR image to select)' wrapped one word onto a second line (three-digit HR coordinates);
    how to select is in the tooltip."""
    win = open_window(qtbot, [str(_image(tmp_path, 448, 480)), "--methods", "adknet", "--tab", "inspect",
                              "--pixel", "115,108"], ("inspect",), WAIT_MS)
    win.resize(*size)
    legend = win.tab("inspect").panel.foot_legend
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size and "12×12" in legend.text())
    qtbot.wait(50)
    assert "x 456–467" in legend.text()  # three-digit coordinates: the widest line at this size
    assert legend.heightForWidth(legend.width()) < 1.5 * legend.fontMetrics().lineSpacing()
    assert "Click the HR image" in legend.toolTip()


def test_empty_train_plots_say_what_fills_them_instead_of_0_to_1_axes(qtbot):
    """Before any run the loss and PSNR plots showed pyqtgraph's default 0–1 axes, as if they held data."""
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.show_tab("train")
    tab = win.tab("train")
    qtbot.waitUntil(lambda: tab.plots.val_plot.isVisible())

    def placeholder(plot) -> str:
        item = plot.getPlotItem()
        axes = [item.getAxis(ax).isVisible() for ax in ("left", "bottom")]
        note = [i for i in item.vb.childGroup.childItems() if hasattr(i, "textItem") and i.isVisible()]
        assert (not any(axes) and len(note) == 1) or (all(axes) and not note)
        return note[0].textItem.toPlainText() if note else ""

    assert placeholder(tab.plots.loss_plot) == placeholder(tab.plots.val_plot) == (
        "No run yet: choose a pairs folder and press Start")
    tab.curves.add_losses([(1, 0.03), (2, 0.02)])
    tab._redraw_curves()
    assert placeholder(tab.plots.loss_plot) == "" and placeholder(tab.plots.val_plot) != ""
    qtbot.waitUntil(lambda: tab.plots.loss_plot.getPlotItem().vb.viewRange()[1][1] < 0.1)  # fits the losses, not 0–1
    tab.curves.add_val(0, 29.4)
    tab._redraw_curves()
    assert placeholder(tab.plots.val_plot) == ""
    tab._reset_run_view(100)  # a new run starts empty again
    assert placeholder(tab.plots.loss_plot) != "" and placeholder(tab.plots.val_plot) != ""


@pytest.mark.parametrize("size", [(1100, 700), (1280, 800)])
def test_compare_readout_method_names_are_one_line(qtbot, tmp_path, size):
    """The hover readout in the side panel wrapped 'Least-squares' onto two lines."""
    win = open_window(qtbot, [str(_image(tmp_path)), "--methods", "nearest", "box", "bilinear", "bicubic", "lanczos",
                              "lstsq", "adknet", "--pixel", "5,6"], (), WAIT_MS)
    win.resize(*size)
    readout = win.compare.readout
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size and "Least-squares 0." in win.compare.readout_text())
    qtbot.wait(50)
    doc = QTextDocument()
    doc.setDefaultFont(readout.font())
    doc.setDocumentMargin(0)
    doc.setHtml(readout.text())
    doc.setTextWidth(readout.contentsRect().width())
    doc.size()  # lays it out
    for name in ("Least-squares", "Lanczos-3", "ADK-Net", "Bilinear"):
        assert doc.find(name).block().layout().lineCount() == 1, name
    doc.setTextWidth(10_000)
    assert doc.idealWidth() <= readout.contentsRect().width()  # and the B column is not cut off


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_method_list_shows_every_method_with_a_long_weights_name(qtbot, tmp_path, size):
    """'Use in Compare' named the ADK-Net row after the fine-tuned model ('ADK-Net (pairs fine-tuned 12 it,
    calibrated)'): the list grew a horizontal scroll bar that covered its last row, Least-squares kernel."""
    torch = pytest.importorskip("torch")
    from adk_model.adknet import ADKNet, preset
    from adk_model.weights import save_weights

    torch.manual_seed(0)
    wpath = save_weights(ADKNet(preset("lite", scale=4)), tmp_path / "ft_x4.safetensors",
                         {"name": "my_camera_pairs fine-tuned 1500 it, calibrated"})
    win = open_window(qtbot, [str(_image(tmp_path)), "--weights", str(wpath), "--methods", "adknet"], (), WAIT_MS)
    win.resize(*size)
    lst = win.compare.method_list
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size)
    qtbot.wait(50)
    assert "fine-tuned 1500 it" in lst.item(0).text()
    assert not lst.horizontalScrollBar().isVisible()
    last = lst.visualItemRect(lst.item(lst.count() - 1))
    assert lst.viewport().rect().contains(last)
    assert "fine-tuned 1500 it, calibrated" in lst.item(0).toolTip()  # the whole name, where it is elided


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_difference_statistics_are_not_cut_off(qtbot, tmp_path, size):
    """A small bias, mean -0.0002761 (the widest a 4-significant-digit value gets), showed as '-0.00028…' in the
    statistics table's 75 px columns."""
    from types import SimpleNamespace

    from adk_model.metrics import ERROR_CHANNELS

    win = open_window(qtbot, [str(_image(tmp_path)), "--methods", "bicubic,bilinear", "--diff",
                              "bicubic-bilinear:signed:luma"], ("diff",), WAIT_MS)
    win.resize(*size)
    win.show_tab("diff")
    tab = win.tab("diff")
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size and tab.stats.isVisible())
    widest = SimpleNamespace(mean=-0.0002761, max=-1.234e-05, p99=-0.0001234, min=-0.0001234, p1=-1.234e-05)
    tab.stats.fill({c: widest for c in ERROR_CHANNELS}, tab.state.channel, tab.state.mode)
    qtbot.wait(50)
    t = tab.stats
    for row in range(t.rowCount()):
        for col in range(t.columnCount()):
            item = t.item(row, col)
            need = QFontMetrics(item.font()).horizontalAdvance(item.text())
            assert need + 8 <= t.columnWidth(col), (item.text(), t.columnWidth(col))


def test_a_run_past_its_best_stars_the_best_point_and_the_legend_still_fits_at_1024(qtbot):
    """A run that ended below its best showed only its last value (30.60) while it handed over its best (31.03);
    at 1024x700 the two-line legend still laid the plot out past its widget (the x axis ended at 60 of 100)."""
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.resize(1024, 700)
    win.show_tab("train")
    tab = win.tab("train")
    qtbot.waitUntil(lambda: (win.width(), win.height()) == (1024, 700) and tab.plots.val_plot.isVisible())
    plot, item = tab.plots.val_plot, tab.plots.val_plot.getPlotItem()
    for it, v in ((0, 31.03), (50, 30.72), (100, 30.60)):
        tab.curves.add_val(it, v)
    tab.curves.refs.update(bicubic=27.42, lstsq=29.32)
    tab._redraw_curves()
    qtbot.wait(100)
    assert "ADK-Net 30.60" in item.titleLabel.text and "★ best 31.03 (it 0)" in item.titleLabel.text
    assert list(tab.plots.best_mark.getData()[0]) == [0] and list(tab.plots.best_mark.getData()[1]) == [31.03]
    assert item.sceneBoundingRect().right() <= plot.width() + 1  # nothing of the plot beyond its widget
    tab.curves.add_val(150, 31.5)  # a new best at the end: no star, no second entry
    tab._redraw_curves()
    xs = tab.plots.best_mark.getData()[0]
    assert "★" not in item.titleLabel.text and (xs is None or len(xs) == 0)
