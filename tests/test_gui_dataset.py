"""The dataset view in the window: its summary equals `adkviewer eval` for every method and split, an external
folder scores pair by pair like the built-in bicubic, a bad external file touches only its pair, Page Down steps
through the pairs keeping the camera and the selected pixel, and re-opening a folder is answered by the cache."""

from __future__ import annotations

import csv
import io
import json

import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402

import adk_model.evaluate as evaluate_module  # noqa: E402
from adkviewer.cli.entry import main as cli_main  # noqa: E402
from adkviewer.dataset.dataset_controller import DatasetController  # noqa: E402
from adkviewer.dataset.pairs_model import MARGIN  # noqa: E402
from adkviewer.dataset.pairs_panel import PairsPanel  # noqa: E402
from adkviewer.state.dataset_scoring import ScoreCache  # noqa: E402
from core_helpers import make_pairs, save_png, smooth_image  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from tab_helpers import show_tab, tab_context  # noqa: E402

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return make_pairs(tmp_path_factory.mktemp("ds") / "cam", 4, n_train=3, n_val=2, lr_size=(12, 16))


def _window(qtbot, pairs, *argv):
    win = open_window(qtbot, [str(pairs), *argv], (), WAIT_MS)
    _settle(qtbot, win)
    return win


def _settle(qtbot, win):
    qtbot.waitUntil(lambda: win.dataset.controller.complete(), timeout=WAIT_MS)


def _eval(capsys, pairs, split):
    capsys.readouterr()
    assert cli_main(["eval", "--pairs", str(pairs), "--split", split, "--json", "--device", "cpu"]) == 0
    return json.loads(capsys.readouterr().out)["methods"]


@pytest.mark.parametrize("split", ["val", "train", "all"])
def test_the_summary_equals_adkviewer_eval(qtbot, pairs, capsys, split):
    win = _window(qtbot, pairs, "--split", split)
    dock = win.dataset
    assert dock.isVisible() and win.current_tab() == "train"  # the Train tab gets the folder too
    c = dock.controller
    assert c.state.split == split and len(c.state.usable) == {"val": 2, "train": 3, "all": 5}[split]
    dock.panel.update_summary()
    expected = _eval(capsys, pairs, split)
    got = c.state.summary(c.methods())
    assert set(got) == set(expected) == set(win.session.known_methods())
    table = dock.panel.summary
    shown = {table.item(r, 0).text(): [table.item(r, j).text() for j in range(1, 6)] for r in range(table.rowCount())}
    for m, e in expected.items():
        for k in ("psnr", "psnr_y", "ssim"):
            assert round(got[m][k], 4) == round(e[k], 4), (m, k)
        assert shown[win.session.label(m)] == [f"{e['psnr']:.2f}", f"{e['psnr_y']:.2f}", f"{e['ssim']:.4f}",
                                               str(len(c.state.usable)), shown[win.session.label(m)][4]]
    assert "no border crop" in dock.panel.summary_title.text()


def test_an_external_folder_scores_like_bicubic_and_a_bad_file_touches_one_pair(qtbot, pairs, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    for hr_path in sorted((pairs / "HR").iterdir()):
        hr = Image.open(hr_path).convert("RGB")
        hr.resize((hr.width // 4, hr.height // 4), Image.BICUBIC).save(out / f"{hr_path.stem}_x4_mine.png")
    win = _window(qtbot, pairs, "--split", "all")
    c, model = win.dataset.controller, win.dataset.panel.model
    before = {p: dict(v) for p, v in c.state.scores.items()}
    win.commands.add_external("mine", str(out), "{stem}_x4_mine.png")
    qtbot.waitUntil(lambda: "ext:mine" in c.methods() and c.complete(), timeout=WAIT_MS)
    col = model.column_of("psnr", "ext:mine")
    bic = model.column_of("psnr", "bicubic")
    for row in range(model.rowCount()):
        assert abs(model.value(row, col) - model.value(row, bic)) < 0.01  # pair by pair, in the table
    # a missing and a wrong-size file: those two pairs say so by name, every other number stays
    (out / "p1_x4_mine.png").unlink()
    save_png(out / "p2_x4_mine.png", smooth_image(5, 5))
    win.commands.remove_method("ext:mine")
    win.commands.add_external("mine", str(out), "{stem}_x4_mine.png")
    qtbot.waitUntil(lambda: c.complete() and "ext:mine" in c.state.problems.get("p2", {}), timeout=WAIT_MS)
    assert "p1" in c.state.problems["p1"]["ext:mine"] and "p2" in c.state.problems["p2"]["ext:mine"]
    for p, v in before.items():
        assert {m: s["psnr"] for m, s in c.state.scores[p].items() if m in v} == {m: s["psnr"] for m, s in v.items()}
    assert "ext:mine" in c.state.scores["p0"]
    p2 = c.state.row_of("p2")
    assert model.data(model.index(p2, col)) == "—" and "p2" in model.data(model.index(p2, col), Qt.ToolTipRole)
    assert "5x5" in model.status(p2)
    assert c.state.summary(c.methods())["ext:mine"]["pairs"] == 3


def test_page_down_steps_through_the_pairs_keeping_zoom_pan_and_pixel(qtbot, pairs):
    win = _window(qtbot, pairs, "--split", "all")
    win.show_tab("compare")
    panel, c, grid = win.dataset.panel, win.dataset.controller, win.compare.grid
    panel.table.clicked.emit(panel.proxy.index(0, 0))  # a click on the first row opens it in every tab
    qtbot.waitUntil(lambda: win.session.pair_name == "p0" and win.compare.all_shown(), timeout=WAIT_MS)
    assert win.session.gt_path.endswith("p0.png") and win.session.has_gt
    grid.set_zoom(3.0)
    grid.center_on(5, 7)
    win.session.selected_pixel = (4, 6)
    zoom, centre = grid.camera.zoom, (grid.camera.cx, grid.camera.cy)
    diff = win.tab("diff")
    diff.show_diff("bicubic-box:absolute:G")
    diff.set_gain(4.0)
    chosen = (diff.state.image, diff.state.reference, diff.state.mode, diff.state.channel, diff.state.gain)
    assert chosen[:4] == ("bicubic", "box", "absolute", "G")
    for expected in ("p1", "p2"):
        qtbot.keyClick(win.compare, Qt.Key_PageDown)
        qtbot.waitUntil(lambda: win.session.pair_name == expected, timeout=WAIT_MS)
        assert grid.camera.zoom == pytest.approx(zoom) and (grid.camera.cx, grid.camera.cy) == pytest.approx(centre)
        assert win.session.selected_pixel == (4, 6) and not grid.camera.fit
        st = diff.state
        assert (st.image, st.reference, st.mode, st.channel, st.gain) == chosen  # Differences settings kept
    assert panel.table.currentIndex().row() == 2 or panel.table.selectionModel().isRowSelected(2)
    qtbot.keyClick(win.compare, Qt.Key_PageUp)
    qtbot.waitUntil(lambda: win.session.pair_name == "p1", timeout=WAIT_MS)
    # sorted by ADK-Net's margin, Page Down follows the table's order
    panel.table.sortByColumn(panel.model.column_of("margin"), Qt.DescendingOrder)
    order = [c.state.rows[i].name for i in panel.order()]
    here = order.index("p1")
    panel.step(1)
    if here + 1 < len(order):
        qtbot.waitUntil(lambda: win.session.pair_name == order[here + 1], timeout=WAIT_MS)
    assert panel.model.headerData(1, Qt.Horizontal) == MARGIN


def test_reopening_a_folder_is_answered_by_the_cache(qtbot, pairs, monkeypatch):
    win = _window(qtbot, pairs, "--split", "val")
    first = {p: dict(v) for p, v in win.dataset.controller.state.scores.items()}
    monkeypatch.setattr(evaluate_module, "score_pair", lambda *a, **k: pytest.fail("scored again"))
    win2 = _window(qtbot, pairs, "--split", "val")  # another window, a new cache object: the file on disk
    assert win2.dataset.controller.state.scores == first


def test_the_panel_stands_on_the_narrow_context_alone(qtbot, pairs, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    c = DatasetController(ctx, ctx.holder, cache=ScoreCache(tmp_path / "c.json"))
    panel = show_tab(qtbot, PairsPanel(ctx, c))
    assert c.open_folder(pairs)
    qtbot.waitUntil(c.complete, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.summary.rowCount() == len(ctx.session.known_methods()), timeout=2000)
    assert panel.progress_bar.value() == 2 and panel.summary_title.text().count("2 of 2 pairs scored")
    panel.export_summary()
    panel.export_table()
    saved = ctx.shell.saved
    assert [p.name for p in saved] == ["cam-val-summary.csv", "cam-val-pairs.csv"]
    assert saved[0].read_text().startswith("pair,method,label,kind,psnr,psnr_y,ssim")
    assert not c.open_folder(tmp_path / "nowhere") and c.state.folder == pairs  # one message, folder kept


def test_a_dropped_folder_opens_in_the_dataset_view_too_and_split_needs_a_folder(qtbot, pairs, tmp_path):
    win = open_window(qtbot, ["--methods", "bicubic"])
    assert not win.dataset.isVisible()
    win.open_dropped([str(pairs)])
    assert win.current_tab() == "train" and win.dataset.isVisible()
    assert win.dataset.controller.state.folder == pairs and win.dataset.controller.state.split == "val"
    _settle(qtbot, win)
    win2 = open_window(qtbot, [str(pairs / "HR" / "p0.png"), "--split", "val", "--methods", "bicubic"])
    assert "--split needs a pairs folder" in win2.banner.text()


def test_a_models_own_training_pairs_are_marked_in_the_table_and_summary(qtbot, pairs, tmp_path):
    from adk_model.weights import save_weights
    from core_helpers import perturbed, tiny_config

    ft = save_weights(perturbed(tiny_config(scale=4), seed=3), tmp_path / "ft.safetensors",
                      card={"name": "ft", "training": {"pairs": str(pairs), "iterations": 5,
                                                       "train_pairs": ["p0", "p1"], "val_pairs": ["p3"]}})
    win = _window(qtbot, pairs, "--split", "all", "--adknet", f"ft={ft}")
    c, model, panel = win.dataset.controller, win.dataset.panel.model, win.dataset.panel
    assert "adknet:ft" in c.methods()
    col, main = model.column_of("psnr", "adknet:ft"), model.column_of("psnr", "adknet")
    p0, p3 = c.state.row_of("p0"), c.state.row_of("p3")
    assert model.data(model.index(p0, col)).endswith("†") and "not a test score" in model.data(
        model.index(p0, col), Qt.ToolTipRole)
    assert model.data(model.index(p0, col), Qt.BackgroundRole) is not None
    assert not model.data(model.index(p3, col)).endswith("†") and not model.data(model.index(p0, main)).endswith("†")
    assert model.data(model.index(p0, 0)).endswith("†")  # the row, by its name
    panel.update_summary()
    labels = [panel.summary.item(r, 0).text() for r in range(panel.summary.rowCount())]
    assert any(t.startswith("ADK-Net · ft") and t.endswith("†") for t in labels)
    rows = list(csv.DictReader(io.StringIO(panel.table_csv())))
    marks = {(r["pair"], r["method"] == "adknet:ft"): r["trained_on_pair"] for r in rows if r["method"]}
    assert marks[("p0", True)] == "yes" and marks[("p3", True)] == "" and marks[("p0", False)] == ""


def test_a_pair_that_proves_truncated_is_counted_failed_and_its_reason_said_once(qtbot, tmp_path):
    folder = make_pairs(tmp_path / "cam", 4, n_train=3, n_val=2, lr_size=(12, 16))
    f = folder / "HR" / "p1.png"
    f.write_bytes(f.read_bytes()[:200])  # the scan reads the header only: the row starts as usable
    win = _window(qtbot, folder, "--split", "all")
    c, panel = win.dataset.controller, win.dataset.panel
    qtbot.waitUntil(c.complete, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "1 failed" in panel.summary_title.text(), timeout=WAIT_MS)
    assert "4 of 5 pairs scored, 1 failed" in panel.summary_title.text()
    row = [r.name for r in c.state.rows].index("p1")
    status = panel.model.status(row)
    assert "truncated" in status and status.count("Cannot load image") == 1, status


def test_the_summary_says_when_least_squares_is_the_shipped_fit_and_eval_says_how_to_fit_one(qtbot, tmp_path,
                                                                                              capsys):
    """A folder without split.json has no train split: Least-squares is RealSR's fit, not the camera's own, and a
    new user took it for the baseline to beat."""
    folder = make_pairs(tmp_path / "cam", 4, n_train=3, n_val=2, lr_size=(12, 16))
    (folder / "split.json").unlink()
    win = _window(qtbot, folder, "--split", "all")
    c, panel = win.dataset.controller, win.dataset.panel
    qtbot.waitUntil(c.complete, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "shipped fit" in panel.summary_title.text(), timeout=WAIT_MS)
    assert "Least-squares is the shipped fit (realsr_x4 train split (80 pairs)), not one fitted on these pairs " \
           "(File → Fit a least-squares kernel from a pairs folder…)." in panel.summary_title.text()
    code = cli_main(["eval", "--pairs", str(folder), "--split", "all", "--methods", "lstsq"])
    err = capsys.readouterr().err
    assert code == 0 and "adkviewer: note: Least-squares is the shipped fit (realsr_x4 train split (80 pairs))" in err
    assert f"'adkviewer fit-lstsq --pairs {folder} --split all -o FIT.safetensors', then --lstsq-fit" in err
    code = cli_main(["eval", "--pairs", str(folder), "--split", "all", "--methods", "lstsq", "--lstsq-fit",
                     str(tmp_path / "none.safetensors")])
    assert "shipped fit" not in capsys.readouterr().err  # a fit of one's own is not the shipped one


def test_file_open_pairs_folder_also_gives_the_train_tab_its_pairs_unless_it_has_some(qtbot, tmp_path, monkeypatch,
                                                                                       pairs):
    """A new user opened a folder with File → Open pairs folder… and found the Train tab still asking for one."""
    from PySide6.QtWidgets import QFileDialog

    from compare_helpers import _write_pair

    hr, _lr = _write_pair(tmp_path / "single")
    win = open_window(qtbot, [str(hr)], (), WAIT_MS)
    train = win.tab("train")
    assert train.pairs_edit.text() == ""
    act = next(a for a in win.menuBar().actions()[0].menu().actions() if "pairs folder" in a.text())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(pairs))
    act.trigger()
    qtbot.waitUntil(lambda: train.pairs_edit.text() == str(pairs.resolve()), timeout=WAIT_MS)
    assert win.dataset.isVisible() and win.current_tab() == "compare"  # the menu does not switch tabs
    other = make_pairs(tmp_path / "other", 4, n_train=2, n_val=1, lr_size=(12, 16))
    before = win.dataset.panel.folder_label.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(other))
    act.trigger()  # the Train tab's own choice stays
    qtbot.waitUntil(lambda: win.dataset.panel.folder_label.text() != before, timeout=WAIT_MS)
    assert train.pairs_edit.text() == str(pairs.resolve())


def test_a_dock_left_open_does_not_come_back_empty(qtbot, tmp_path, pairs):
    """A returning user saw the dock reopen with no folder, over a bar reading '0 / 1 pairs'."""
    from compare_helpers import _write_pair

    hr, _lr = _write_pair(tmp_path / "single")
    win = open_window(qtbot, [str(hr)], (), WAIT_MS)
    assert win.dataset.panel.progress_bar.text() == "no folder"
    assert win.dataset.open_folder(pairs)
    qtbot.waitUntil(lambda: "pairs" in win.dataset.panel.progress_bar.text(), timeout=WAIT_MS)
    win.save_layout()  # as closing does: the dock was open
    again = open_window(qtbot, [str(hr)], (), WAIT_MS)
    assert not again.dataset.isVisible()
    assert again.dataset.open_folder(pairs) and again.dataset.isVisible()
