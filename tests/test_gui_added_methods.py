"""Methods a person adds, in the GUI: their own results (a folder, by name) and a second ADK-Net model behave like
built-in methods in Compare (view, key, readout, metrics), Differences (against the ground truth and A vs B) and
exports; a bad result file is one message in its own view while every other method works."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPointF  # noqa: E402

from adk_model.metrics import compute_metrics  # noqa: E402
from adk_model.weights import save_weights, shipped_weights  # noqa: E402
from adkviewer.state.session import GT, TRAIN_PAIR_MARK  # noqa: E402
from core_helpers import make_pairs, perturbed, tiny_config  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from test_gui_diff import _expected, _pick, _settle  # noqa: E402

WAIT_MS = 30_000


def _bicubic_results(pairs, out):
    """A person's own method: PIL's RGB bicubic of each HR, written as 8-bit PNG named {stem}_x4_mine.png."""
    out.mkdir()
    for hr_path in sorted((pairs / "HR").iterdir()):
        hr = Image.open(hr_path).convert("RGB")
        hr.resize((hr.width // 4, hr.height // 4), Image.BICUBIC).save(out / f"{hr_path.stem}_x4_mine.png")
    return out


def _ready(qtbot, s, key):
    qtbot.waitUntil(lambda: key in s.results and not s.results[key].partial, timeout=WAIT_MS)
    return s.results[key]


def test_external_results_behave_like_a_builtin_method(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "pairs", 4, n_train=1, n_val=1, lr_size=(20, 24))
    res = _bicubic_results(pairs, tmp_path / "res")
    win = open_window(qtbot, [str(pairs / "HR" / "p0.png"), "--methods", "bicubic", "box",
                              "--external", f"mine={res}/{{stem}}_x4_mine.png"], (), WAIT_MS)
    s, tab = win.session, win.compare
    assert s.has_gt and s.methods == ["box", "bicubic", "ext:mine"]
    mine, bicubic = _ready(qtbot, s, "ext:mine"), _ready(qtbot, s, "bicubic")
    assert mine.ready and mine.metrics is not None
    assert abs(mine.metrics["psnr"] - bicubic.metrics["psnr"]) < 0.01  # PIL's bicubic, as 8-bit PNG
    assert mine.metrics == compute_metrics(mine.lr, s.gt)  # the one metric path
    # Compare: a view with its title, key 3 shows it alone, the readout and the metrics table name it
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    assert tab.grid.panel("ext:mine") is not None and "mine" in tab.grid.panel("ext:mine").title_text()
    tab.flicker(3)
    assert tab.grid.solo == "ext:mine"
    tab.flicker(0)
    panel = tab.grid.panel("ext:mine")
    tab.grid._on_mouse(panel, panel.vb.mapViewToScene(QPointF(3.5, 2.5)))
    line = next(ln for ln in tab.readout_text().splitlines() if ln.startswith("mine "))
    assert line == "mine " + " ".join(f"{v:.4f}" for v in mine.lr[2, 3])
    rows = {r.method: r for r in s.metrics_rows()}
    assert rows["ext:mine"].label == "mine" and rows["ext:mine"].psnr == mine.metrics["psnr"]
    assert rows["ext:mine"].seconds is None and rows["bicubic"].seconds is not None  # reading a file is no timing
    assert [tab.method_list.item(i).data(0x0100) for i in range(tab.method_list.count())][-1] == "ext:mine"
    # Differences: against the ground truth, then against bicubic
    diff = win.tab("diff")
    win.show_tab("diff")
    _pick(diff.image_combo, "ext:mine")
    _pick(diff.ref_combo, GT)
    assert diff.state.image == "ext:mine" and diff.state.reference == GT
    np.testing.assert_allclose(diff.state.result().err, _expected(mine.lr, s.gt, diff.state.mode, diff.state.channel),
                               atol=2e-6)
    _pick(diff.ref_combo, "bicubic")
    _settle(diff)
    assert np.abs(diff.state.result().err).max() <= 1.5 / 255  # 8-bit rounding apart, the same image
    assert "mine vs Bicubic" in diff.state.title()
    # exports: its own output and the metrics CSV
    out = tmp_path / "out.png"
    tab.export.save_output("ext:mine", out)
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")),
                          np.asarray(Image.open(res / "p0_x4_mine.png").convert("RGB")))
    csv_path = tmp_path / "m.csv"
    tab.export.export_csv(csv_path)
    assert any(row[1:2] and "mine" in ",".join(row) for row in csv.reader(csv_path.open()))


def test_a_bad_result_file_is_one_message_and_the_others_still_work(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "pairs", 4, n_train=1, n_val=1, lr_size=(20, 24))
    res = _bicubic_results(pairs, tmp_path / "res")
    Image.new("RGB", (7, 5)).save(res / "p0_x4_mine.png")  # the wrong size
    win = open_window(qtbot, [str(pairs / "HR" / "p0.png"), "--methods", "bicubic"], (), WAIT_MS)
    s = win.session
    assert win.commands.add_external("mine", str(res), "{stem}_x4_mine.png") == "ext:mine"
    r = _ready(qtbot, s, "ext:mine")
    assert r.lr is None and "7x5" in r.message and "p0" in r.message and "Traceback" not in r.message
    assert _ready(qtbot, s, "bicubic").ready
    table = win.compare.metrics.table
    win.compare.metrics.refresh()
    # its sentence (elided, whole in the tooltip) does not widen the PSNR column it starts in
    assert table.columnWidth(1) < table.fontMetrics().horizontalAdvance(r.message) / 2
    assert table.columnWidth(0) > table.columnWidth(1)
    assert win.commands.add_external("bad name!", str(res)) is None and "name" in win.banner.text()
    assert win.commands.add_external("gone", str(tmp_path / "nowhere")) is None
    # the next pair's file is right: opened from the pairs folder by name, it is found and scored
    assert win.commands.open_image(pairs / "HR" / "p1.png", pair_name="p1")
    assert _ready(qtbot, s, "ext:mine").ready
    win.commands.remove_method("ext:mine")
    assert "ext:mine" not in s.methods and win.compare.grid.panel("ext:mine") is None


def test_two_adknet_models_side_by_side_and_a_training_pair_is_marked(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "pairs", 4, n_train=1, n_val=1, lr_size=(20, 24))
    other = save_weights(perturbed(tiny_config(scale=4), seed=3), tmp_path / "ft.safetensors",
                         card={"name": "my fine-tune", "training": {"pairs": str(pairs), "iterations": 500,
                                                                     "train_pairs": ["p0"], "val_pairs": ["p1"]}})
    win = open_window(qtbot, [str(pairs / "HR" / "p0.png"), "--methods", "adknet", "bicubic",
                              "--adknet", f"ft={other}"], (), WAIT_MS)
    s = win.session
    assert s.methods == ["adknet", "adknet:ft", "bicubic"]
    a, b = _ready(qtbot, s, "adknet"), _ready(qtbot, s, "adknet:ft")
    assert a.ready and b.ready and not np.allclose(a.lr, b.lr)
    assert s.label("adknet:ft").startswith("ADK-Net · ft (my fine-tune, 500 it, 1 train pair)")  # the name given leads
    assert s.trained_on_image("adknet:ft") and not s.trained_on_image("adknet")  # p0 is in its card's train list
    rows = {r.method: r for r in s.metrics_rows()}
    assert rows["adknet:ft"].label.endswith(TRAIN_PAIR_MARK) and TRAIN_PAIR_MARK not in rows["adknet"].label
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert "train pair" in win.compare.grid.panel("adknet:ft").title_text()
    # each ADK-Net model's own card is a right-click away in the method list (not only the main weights')
    texts = [t for t, _ in win.compare.method_actions("adknet:ft")]
    assert texts[0] == f"Model card of {s.label('adknet:ft')}…" and texts[1].startswith("Remove ")
    assert [t for t, _ in win.compare.method_actions("bicubic")] == ["Add method results…", "Add ADK-Net weights…"]
    shown = []
    import adkviewer.tabs.compare.compare_tab as compare_tab
    real, compare_tab.show_model_card = compare_tab.show_model_card, lambda w, parent: shown.append(w)
    try:
        dict(win.compare.method_actions("adknet:ft"))[texts[0]]()
    finally:
        compare_tab.show_model_card = real
    assert [str(w) for w in shown] == [str(other)]
    assert win.commands.open_image(pairs / "HR" / "p1.png", pair_name="p1")
    assert not s.trained_on_image("adknet:ft")  # a validation pair: a test score
    # the same weights file again replaces its method (a model exported anew is recomputed), a wrong scale is refused
    assert win.commands.add_weights(other) == "adknet:ft" and len(s.extras) == 1
    x2 = tmp_path / "x2.safetensors"
    save_weights(perturbed(tiny_config(scale=2), seed=1), x2)
    assert win.commands.add_weights(x2) is None and "x2" in win.banner.text()
    shutil.copy(shipped_weights(4)[0], tmp_path / "copy.safetensors")
    assert win.commands.add_weights(tmp_path / "copy.safetensors") is not None
