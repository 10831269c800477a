"""The Train tab's Cameras choice (issue 16 item 5): Quick calibrate on a folder that mixes cameras also fits one
model per camera and shows each in Compare beside ADK-Net; the choice is remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from adkviewer.gui.settings import Settings  # noqa: E402
from adkviewer.tabs.train.train_state import TrainSettings  # noqa: E402
from core_helpers import one_thread, two_camera_pairs  # noqa: E402, F401
from train_gui_helpers import setup_tab, wait_idle  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def test_quick_calibrate_per_camera_shows_each_cameras_model_in_compare(qtbot, tmp_path):
    pairs = two_camera_pairs(tmp_path / "mixed")
    win, tab = setup_tab(qtbot, pairs, tmp_path / "runs", init="shipped", model_overrides={}, per_camera="prefix")
    assert tab.cameras_combo.currentText() == "one per name prefix"
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    assert "Traceback" not in tab.last_message, tab.last_message
    out = Path(tab.runner.trainer.cfg.out)
    for cam in "AB":
        path = out / f"adknet_x4_lite_{cam}.safetensors"
        assert path.is_file(), sorted(out.iterdir())
        assert json.loads(path.with_suffix(".json").read_text())["camera"]["name"] == cam
    log = tab.log_view.toPlainText()
    assert "A: Quick calibrate " in log and "B: Quick calibrate " in log  # each camera's verdict, with its numbers
    session = win.ctx.session
    names = {e.name for e in session.extras.values() if e.is_adknet}
    assert names == {"A", "B"}, names
    said = win.statusBar().currentMessage()
    assert said.startswith("Quick calibrate ") and said.endswith(
        " One model per camera, each calibrated on its own pairs, beside it in Compare: A, B."), said
    settings = Settings()
    tab.remembered_form().save(settings)
    assert TrainSettings.load(settings).per_camera == "prefix"
    win.show_tab("compare")
    qtbot.wait(300)
    win.grab().save(str(tmp_path / "compare_cameras.png"))


def test_an_unknown_remembered_cameras_choice_falls_back_to_one_model():
    settings = Settings()
    TrainSettings(per_camera="by-lens").save(settings)
    assert TrainSettings.load(settings).per_camera == ""
