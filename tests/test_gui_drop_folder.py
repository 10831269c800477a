"""A pairs folder dropped on the window (or given on the command line) opens in the Train tab."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from core_helpers import make_pairs  # noqa: E402
from gui_helpers import open_window  # noqa: E402


def test_a_dropped_pairs_folder_opens_in_the_train_tab(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "mycam", scale=4, n_train=3, n_val=1, lr_size=(16, 20))
    win = open_window(qtbot, ["--methods", "bicubic"])
    image = win.session.hr_path
    win.open_dropped([str(pairs)])
    train = win.tab("train")
    assert win.current_tab() == "train" and train.pairs_edit.text() == str(pairs.resolve())
    assert train.pairs_table.rowCount() == 4 and train.scan.error is None
    assert "is a folder, not an image" not in win.banner.text() and win.session.hr_path == image  # image kept
    assert "Pairs folder mycam" in win.statusBar().currentMessage()
    empty = tmp_path / "holiday"
    empty.mkdir()
    win.open_dropped([str(empty)])
    assert train.pairs_edit.text() == str(empty.resolve()) and train.scan.error  # the table says why


def test_a_pairs_folder_on_the_command_line_opens_in_the_train_tab(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "cam2", scale=4, n_train=2, n_val=1, lr_size=(16, 20))
    win = open_window(qtbot, [str(pairs)])
    assert win.current_tab() == "train" and win.tab("train").pairs_edit.text() == str(pairs.resolve())
    assert win.session.hr_path is None and win.banner.text() == ""
