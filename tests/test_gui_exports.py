"""Exports say which model made them: CSV rows, the clipboard, default file names, PNG text, Ctrl+S's choice."""

from __future__ import annotations

import csv
import shutil

import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtWidgets import QInputDialog  # noqa: E402

from adk_model.weights import card_path, shipped_weights  # noqa: E402

from adkviewer.state.metrics_export import CSV_HEADER, export_name, file_slug  # noqa: E402
from gui_helpers import open_window  # noqa: E402
from compare_helpers import _write_pair  # noqa: E402


def test_csv_names_and_png_text_name_the_fine_tuned_weights(qtbot, tmp_path, monkeypatch):
    hr, lr = _write_pair(tmp_path / "pairs", name="canon7")
    mine = tmp_path / "ft.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    card_path(mine).write_text('{"name": "my canon fine-tuned 200 it"}')
    win = open_window(qtbot, [str(hr), "--weights", str(mine), "--methods", "adknet", "bicubic"])
    s = win.session

    out = tmp_path / "m.csv"
    win.compare.export.export_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == CSV_HEADER
    assert [(r["image"], r["ground_truth"], r["scale"], r["method"], r["model"]) for r in rows] == [
        ("canon7.png", "canon7.png", "4", "adknet", "my canon fine-tuned 200 it"), ("canon7.png", "canon7.png", "4",
                                                                                  "bicubic", "")]
    assert float(rows[0]["psnr"]) == pytest.approx(s.results["adknet"].metrics["psnr"], abs=1e-4)
    clip = win.compare.metrics.text_for_clipboard().splitlines()
    assert clip[1].startswith("ADK-Net (my canon fine-tuned 200 it)\t") and clip[-2] == "canon7.png vs canon7.png, x4"
    assert "my canon fine-tuned 200 it" in win.compare.grid.panel("adknet").title_text()

    # default names carry the weights; saved PNGs carry image, method and model as text
    assert file_slug("my canon fine-tuned 200 it") == "my-canon-fine-tuned-200-it"
    assert export_name(s, "png", "adknet") == "canon7_x4_adknet-my-canon-fine-tuned-200-it.png"
    assert export_name(s, "csv") == "canon7_x4_metrics_adknet-my-canon-fine-tuned-200-it.csv"
    assert export_name(s, "png", "bicubic") == "canon7_x4_bicubic.png"
    png = tmp_path / "a.png"
    win.compare.export.save_output("adknet", png)
    info = Image.open(png).text
    assert info["Model"] == str(mine) and info["Method"] == "ADK-Net (my canon fine-tuned 200 it)"
    assert info["Source"] == "canon7.png"

    # Ctrl+S offers the method a person looks at first (it offered the ground truth)
    asked = []

    def get_item(_parent, _title, _label, items, current, _editable):
        asked.append((items, current))
        return items[current], False

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    win.save_output_dialog()
    items, current = asked[-1]
    assert items[current] == "ADK-Net (my canon fine-tuned 200 it)" and items[-1] == "Ground truth LR"
    win.compare.grid.show_solo("bicubic")
    win.save_output_dialog()
    items, current = asked[-1]
    assert items[current] == "Bicubic"
