"""The modal dialogs, walked through headless: File → Open, Open ground truth, the save dialogs (File menu,
Differences, Inspect), Edit → Settings and the Train tab's Export. QFileDialog's static functions are
replaced by a stand-in that records what the dialog was asked and answers as a person would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QInputDialog  # noqa: E402

from adkviewer.shell.main_window import with_filter_suffix  # noqa: E402
from adkviewer.shell.settings_dialog import SettingsDialog  # noqa: E402
from adkviewer.tabs.train.train_runner import IDLE  # noqa: E402
from adkviewer.tabs.train.train_state import TrainSettings  # noqa: E402
from core_helpers import TINY, box, make_pairs, one_thread, save_png, smooth_image  # noqa: E402, F401
from gui_helpers import open_window  # noqa: E402
from adk_model.imageio import load_image  # noqa: E402

WAIT_MS = 20_000


class FakeFileDialog:
    """Answers QFileDialog.getOpenFileName / getSaveFileName with the queued paths ('' = Cancel)."""

    def __init__(self, monkeypatch, *answers: str | Path) -> None:
        self.answers = [str(a) for a in answers]
        self.asked: list[tuple[str, str, str]] = []  # (title, start, filter)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._answer)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._answer)

    def _answer(self, _parent, title, start, filt, *args, **kwargs):
        self.asked.append((title, start, filt))
        return self.answers.pop(0), filt


def _menu_action(win, menu: str, text: str):
    m = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == menu)
    return next(a for a in m.actions() if a.text().replace("&", "") == text)


def test_the_filter_extension_is_added_only_when_none_was_typed():
    assert with_filter_suffix("/x/out", "PNG images (*.png)") == "/x/out.png"
    assert with_filter_suffix("/x/out.png", "PNG images (*.png)") == "/x/out.png"
    assert with_filter_suffix("/x/out.jpg", "PNG images (*.png)") == "/x/out.jpg"  # refused with a message later
    assert with_filter_suffix("/x/m", "CSV files (*.csv)") == "/x/m.csv"


def test_file_open_and_open_ground_truth(qtbot, tmp_path, monkeypatch):
    scene = smooth_image(64, 80, seed=3)
    hr = save_png(tmp_path / "shots" / "HR" / "scene.png", scene)
    lr = save_png(tmp_path / "shots" / "LR" / "scene_camera.png", box(scene, 4))  # not found by name
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.settings.set("folders/open", str(hr.parent))
    fake = FakeFileDialog(monkeypatch, "", hr, lr)
    _menu_action(win, "File", "Open…").trigger()  # Cancel: nothing changes
    assert Path(win.session.hr_path).name == "astronaut.png"
    _menu_action(win, "File", "Open…").trigger()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert win.session.hr_path == str(hr) and not win.session.has_gt
    title, start, filt = fake.asked[1]
    assert title == "Open an HR image" and start == str(hr.parent) and "*.png" in filt and "*.tif" in filt
    _menu_action(win, "File", "Open ground truth…").trigger()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)
    assert fake.asked[2][1] == str(lr.parent)  # starts in the LR/ folder beside HR/
    assert win.session.gt_path == str(lr) and win.session.results["bicubic"].metrics is not None
    assert not win.banner.isVisible()


def test_save_dialogs_add_the_extension_write_the_file_and_say_so(qtbot, tmp_path, monkeypatch):
    win = open_window(qtbot, ["--methods", "nearest", "bicubic", "--diff", "bicubic-nearest"], ("diff",))
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Bicubic", True))
    fake = FakeFileDialog(monkeypatch, tmp_path / "bicubic", tmp_path / "views", tmp_path / "metrics",
                          tmp_path / "no_such_folder" / "x.png", tmp_path / "diff_view")
    win.save_output_dialog()  # Ctrl+S: pick a method, then where
    assert fake.asked[0][:2] == ("Save Bicubic as PNG", str(Path.home() / "astronaut_x4_bicubic.png"))
    saved = load_image(tmp_path / "bicubic.png").array
    assert np.abs(saved - win.session.results["bicubic"].lr).max() <= 0.5 / 255 + 1e-6
    assert win.statusBar().currentMessage() == "Saved bicubic.png"
    assert win.settings.get_str("folders/save", "") == str(tmp_path)
    assert win.tabs.currentWidget() is win.tab("diff")
    win.show_tab("train")
    win.save_view_dialog()  # from a tab without views: Compare's, shown first (a hidden grab was blank)
    assert fake.asked[1][1] == str(tmp_path / "astronaut_x4_views.png")  # the folder is remembered
    assert win.tabs.currentWidget() is win.compare
    views = load_image(tmp_path / "views.png").array
    assert views.shape[1] > 600 and views.std() > 0.1
    win.export_metrics_dialog()
    assert (tmp_path / "metrics.csv").read_text().startswith("image,ground_truth,scale,method,")
    assert not win.banner.isVisible()
    win.save_view_dialog()  # a folder that does not exist: one sentence in the banner
    assert win.banner.level == "error" and "x.png" in win.banner.text() and "Traceback" not in win.banner.text()
    win.show_tab("diff")
    win.save_view_dialog()  # on the Differences tab: its own view
    assert fake.asked[4][0] == "Save the difference view as PNG"
    assert (tmp_path / "diff_view.png").is_file() and not win.banner.isVisible()  # the old save error is gone
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("", False))
    win.save_output_dialog()  # Cancel in the method chooser: no file dialog
    assert len(fake.asked) == 5


def _when_modal(qtbot, act) -> None:
    """Run act(dialog) as soon as a modal dialog shows (exec() blocks the caller until it closes)."""
    def poll() -> None:
        w = QApplication.activeModalWidget()
        if w is None:
            QTimer.singleShot(20, poll)
        else:
            act(w)
    QTimer.singleShot(20, poll)


def test_settings_dialog_changes_the_device_and_budget_and_remembers_them(qtbot):
    win = open_window(qtbot, ["--methods", "bicubic"])
    assert win.session.device == "auto"

    def fill(dlg: SettingsDialog) -> None:
        assert isinstance(dlg, SettingsDialog) and dlg.values() == ("auto", 0)
        dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
        dlg.budget.setValue(256)
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()

    _when_modal(qtbot, fill)
    _menu_action(win, "Edit", "Settings…").trigger()
    assert (win.session.device, win.session.budget_mb) == ("cpu", 256)
    assert win.settings.get_str("device", "") == "cpu" and win.settings.get_int("budget_mb", 0) == 256
    assert "tile budget 256 MB" in win.device_label.text()
    qtbot.waitUntil(win.compare.all_shown, timeout=WAIT_MS)  # recomputed

    def cancel(dlg: SettingsDialog) -> None:
        assert dlg.values() == ("cpu", 256)  # opens on the current choice
        dlg.budget.setValue(1024)
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.Cancel).click()

    _when_modal(qtbot, cancel)
    win.settings_dialog()
    assert win.session.budget_mb == 256


@pytest.mark.usefixtures("one_thread")
def test_train_export_dialog_writes_weights_and_card_where_asked(qtbot, tmp_path, monkeypatch):
    pairs = make_pairs(tmp_path / "pairs", n_train=3, n_val=1, lr_size=(16, 20))
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.show_tab("train")
    tab = win.tab("train")
    tab.ask = lambda text: True
    assert not tab.export_button.isEnabled()  # nothing trained yet
    tab.set_form(TrainSettings(pairs=str(pairs), init="scratch", iterations=4, batch=2, patch=8, lr=2e-3,
                               val_every=0, ckpt_every=0, device="cpu", out_root=str(tmp_path / "runs"),
                               model_overrides=dict(TINY)))
    tab.rescan()
    tab.start()
    qtbot.waitUntil(lambda: tab.runner.state == IDLE and not tab.runner.busy, timeout=WAIT_MS)
    assert tab.export_button.isEnabled()
    out = tmp_path / "exported" / "mine"
    fake = FakeFileDialog(monkeypatch, "", out)
    tab.export_button.click()  # Cancel
    assert tab.runner.state == IDLE and not out.parent.exists()
    tab.export_button.click()
    title, start, filt = fake.asked[1]
    run = Path(tab.runner.trainer.cfg.out)
    assert title == "Export the model" and Path(start).parent == run and start.endswith(".safetensors")
    assert filt == "ADK-Net weights (*.safetensors)"
    qtbot.waitUntil(lambda: tab.runner.state == IDLE and not tab.runner.busy, timeout=WAIT_MS)
    weights = out.with_suffix(".safetensors")
    assert weights.is_file(), tab.last_message
    card = json.loads(weights.with_suffix(".json").read_text())
    assert Path(start).stem.startswith("adknet_x4_pairs_ft4") and "pairs" in json.dumps(card)
    assert not win.banner.isVisible()


def test_the_image_size_limit_is_a_setting_that_opens_larger_images(qtbot, tmp_path):
    from PIL import Image

    from adk_model import imageio

    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((200, 300, 3), np.uint8) + 90).save(big)
    win = open_window(qtbot, ["--methods", "bicubic"])
    try:
        imageio.MAX_PIXELS = 50_000  # as if the default were smaller than this 60,000-pixel image
        assert not win.open_image(big)
        assert "above the limit of 50,000 pixels" in win.banner.text() and "Settings" in win.banner.text()

        def fill(dlg: SettingsDialog) -> None:
            assert dlg.max_mp.value() == 150
            dlg.max_mp.setValue(1)
            dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()

        _when_modal(qtbot, fill)
        win.settings_dialog()
        assert win.settings.get_int("max_megapixels", 0) == 1 and imageio.MAX_PIXELS == 1_000_000
        assert win.open_image(big)
    finally:
        imageio.set_max_megapixels(imageio.DEFAULT_MAX_PIXELS / 1e6)
