"""The Train tab as a new user meets it (issue 19): no validation pairs, using the model while paused, where a
run starts from, and quick calibrate's own progress and Cancel. Tiny models and pairs keep it fast."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from adkviewer.shell.main_window import MainWindow  # noqa: E402
from adkviewer.gui.settings import Settings  # noqa: E402
from adkviewer.tabs.train.train_runner import EXPORTING, IDLE, PAUSED, PAUSING  # noqa: E402
from adkviewer.tabs.train.train_state import SPLIT_FRACTION, TrainSettings, scan_pairs  # noqa: E402
from adkviewer.tabs.train.train_widgets import NO_VAL  # noqa: E402
from adkviewer.state import weights_registry  # noqa: E402
from core_helpers import TINY, make_pairs, one_thread, perturbed, tiny_config  # noqa: E402, F401
from adk_model.train import Trainer  # noqa: E402
from adk_model.weights import save_weights  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
from train_gui_helpers import WAIT_MS, pairs, setup_tab, wait_idle as _idle  # noqa: E402,F401


def _tab(qtbot, pairs: Path, out: Path, **kw):
    return setup_tab(qtbot, pairs, out, **{"iterations": 20, **kw})


def test_no_validation_pairs_are_named_before_start_which_asks_and_the_chart_says_why(qtbot, tmp_path):
    one = make_pairs(tmp_path / "one", n_train=1, n_val=0, lr_size=(16, 20))
    scan = scan_pairs(str(one), 4, SPLIT_FRACTION, 0.2, 0)
    assert scan.error is None and scan.n_val == 0
    assert scan.no_val == "a seeded 20% of 1 usable pair is none (every pair trains)"
    assert scan_pairs(str(one), 4, SPLIT_FRACTION, 0.0, 0).no_val == "the validation fraction is 0"
    win, tab = _tab(qtbot, one, tmp_path / "runs", split_mode=SPLIT_FRACTION)
    assert "No validation pairs: a seeded 20% of 1 usable pair is none" in tab.pairs_summary.text()
    asked: list[str] = []
    tab.ask_train_without_validation = lambda text: asked.append(text) or False  # Cancel
    tab.start_button.click()
    assert len(asked) == 1 and "neither keep its best model" in asked[0]
    assert tab.runner.state == IDLE and tab.runner.trainer is None
    tab.ask_train_without_validation = lambda text: True  # "Train without validation", knowingly
    tab.start_button.click()
    _idle(qtbot, tab)
    t = tab.runner.trainer
    assert t.finished and t.val == [] and tab.curves.val_psnr == []
    assert tab.plots.val_note.text == NO_VAL and tab.plots.loss_note.text == ""  # not "waiting" forever, not "no run yet"
    assert "no validation pairs" in tab.use_best_button.toolTip()
    assert "no validation pairs" in tab.preview.caption.text() and "Bicubic" not in tab.plots.val_title()
    assert "no validation pairs. " in tab.last_message and "nan" not in tab.last_message
    assert tab.last_message.endswith("now hand over the last iteration's model (iteration 20).")


def test_paused_shows_once_the_run_holds_and_its_model_can_be_used_and_exported(qtbot, tmp_path, pairs,
                                                                                 monkeypatch):
    orig, in_step, go = Trainer.step, threading.Event(), threading.Event()

    def step(self):
        if self.iteration == 6 and not go.is_set():  # step 7 is running when the person presses Pause
            in_step.set()
            go.wait(10)
        time.sleep(0.005)
        return orig(self)

    monkeypatch.setattr(Trainer, "step", step)
    win, tab = _tab(qtbot, pairs, tmp_path / "runs", iterations=40)
    tab.start_button.click()
    qtbot.waitUntil(in_step.is_set, timeout=WAIT_MS)
    tab.pause_button.click()
    qtbot.wait(150)  # the step in flight has not finished: not "paused" yet, nothing to export
    assert tab.runner.state == PAUSING and tab.eta_label.text() == "pausing…"
    assert not tab.use_button.isEnabled() and not tab.export_button.isEnabled()
    go.set()
    qtbot.waitUntil(lambda: tab.runner.state == PAUSED, timeout=WAIT_MS)
    t = tab.runner.trainer
    held = t.iteration
    assert held == 7 and tab.eta_label.text() == "paused"
    # the log line comes through its own queued signal: on a loaded machine it can follow the state by a moment
    qtbot.waitUntil(lambda: f"paused at iteration {held}" in tab.log_view.toPlainText(), timeout=WAIT_MS)
    assert tab.use_button.isEnabled() and tab.export_button.isEnabled()

    tab.use_button.click()  # try the model as it is, without stopping the run
    assert tab.runner.state == EXPORTING and not tab.pause_button.isEnabled() and not tab.stop_button.isEnabled()
    added = lambda: [e for e in win.session.extras.values() if e.is_adknet]  # noqa: E731
    qtbot.waitUntil(lambda: tab.runner.state == PAUSED and bool(added()), timeout=WAIT_MS)
    assert win.session.weights_path is None  # beside the shipped model, not instead of it
    used = Path(added()[0].path)
    assert used.is_file() and f"ft{held}" in used.name
    assert win.current_tab() == "compare" and t.iteration == held and tab.eta_label.text() == "paused"
    exported = tmp_path / "paused_export.safetensors"
    tab.export_to(exported, score=False)
    qtbot.waitUntil(lambda: tab.runner.state == PAUSED and exported.is_file(), timeout=WAIT_MS)
    card = json.loads(exported.with_suffix(".json").read_text())
    assert card["training"]["iterations"] == held and t.iteration == held
    tab.pause_button.click()  # Resume: the run goes on from where it held
    _idle(qtbot, tab)
    assert t.finished and t.iteration == 40 and tab.curves.loss_it == list(range(1, 41))
    # finished: Export hands over what `adkviewer train` exports (here, from scratch, the best validated iteration)
    choice = t.export_choice()
    assert choice.which == "best validated" and f"now hand over {choice.sentence()}" in tab.last_message
    final = tmp_path / "finished_export.safetensors"
    tab.export_to(final, score=False)
    qtbot.waitUntil(lambda: tab.runner.state == IDLE and final.is_file(), timeout=WAIT_MS)
    assert json.loads(final.with_suffix(".json").read_text())["training"]["exported"] == choice.record()
    stem, name = tab._model_tag()
    tag = "start" if choice.iteration == 0 else f"best{choice.iteration}"
    assert stem.endswith(f"_ft40-{tag}") and (f"best it {choice.iteration} of 40" in name or "start kept" in name)


def test_start_from_offers_the_calibrated_model_exported_models_and_a_weights_file(qtbot, tmp_path, pairs):
    win, tab = _tab(qtbot, pairs, tmp_path / "runs", init="shipped", model_overrides={}, iterations=4,
                    val_every=2)
    tab.calibrate_button.click()
    _idle(qtbot, tab)
    cal = tab.runner.calibration
    saved = Path(cal["weights"])
    assert saved.is_file() and saved.parent == Path(tab.runner.trainer.cfg.out)
    assert saved.name == "calibrated_x4.safetensors"
    # "the calibrated model is now the current one": Start from says so, and Start begins from it
    assert tab.init_combo.currentData() == str(saved) and tab.init_combo.currentText().startswith("Calibrated:")
    assert not tab.calfirst_check.isChecked()  # calibrated on these pairs already
    tab.start_button.click()
    _idle(qtbot, tab)
    t = tab.runner.trainer
    assert t.cfg.init == str(saved) and not t.cfg.calibrate_first
    assert f"--init {saved}" in t.cfg.command and "--no-calibrate" in t.cfg.command
    assert t.history[0]["it"] == 0 and t.history[0]["val_psnr"] == pytest.approx(cal["after"], abs=1e-4)
    assert f"initialised from {saved}" in tab.log_view.toPlainText()

    # models exported (File → ADK-Net weights) and a weights file chosen here are offered too
    exported = tmp_path / "mine.safetensors"
    save_weights(perturbed(tiny_config(scale=4)), exported, {"name": "my camera x4"})
    weights_registry.remember(tab.settings, exported)
    tab.hide()
    tab.show()  # showing the tab again lists what was exported meanwhile
    labels = [tab.init_combo.itemText(i) for i in range(tab.init_combo.count())]
    assert labels[:2] == ["Shipped weights (fine-tune)", labels[1]] and labels[1].startswith("Calibrated:")
    assert f"Exported: my camera x4 — {tmp_path.name}" in labels and labels[-2:] == ["Weights file…", "Scratch"]
    x2 = tmp_path / "other" / "x2.safetensors"
    x2.parent.mkdir()
    save_weights(perturbed(tiny_config(scale=2)), x2, {"name": "x2 model"})
    assert tab.set_init_file(x2)
    assert tab.init_combo.currentData() == str(x2.resolve())
    assert tab.init_combo.currentText() == "File: x2.safetensors"
    assert tab.scale_combo.currentData() == 2 and tab.form().init == str(x2.resolve())  # the scale follows the file
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    assert not tab.set_init_file(bad) and tab.init_combo.currentData() == str(x2.resolve())
    assert "bad.safetensors" in win.banner.text()
    # remembered across a restart of the tab's form
    tab.form().save(tab.settings)
    assert TrainSettings.load(tab.settings).init == str(x2.resolve())


def _slow(monkeypatch, seconds: float = 0.3) -> None:
    """Quick calibrate on tiny pairs takes milliseconds: slow each pair so a person (the test) can cancel it."""
    import adk_model.calibrate
    import adk_model.validation

    terms, predict = adk_model.calibrate.model_terms, adk_model.validation.predict
    monkeypatch.setattr(adk_model.calibrate, "model_terms", lambda *a: (time.sleep(seconds), terms(*a))[1])
    monkeypatch.setattr(adk_model.validation, "predict", lambda *a: (time.sleep(seconds), predict(*a))[1])


def test_quick_calibrate_shows_its_own_progress_and_cancel_leaves_the_model_as_it_was(qtbot, tmp_path, pairs,
                                                                                    monkeypatch):
    win, tab = _tab(qtbot, pairs, tmp_path / "runs", iterations=6, val_every=3)
    tab.start_button.click()
    _idle(qtbot, tab)
    t = tab.runner.trainer
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    _slow(monkeypatch)
    seen: list[str] = []
    tab.runner.calibrating.connect(lambda stage, done, total: seen.append(f"{stage} {done}/{total}"))
    tab.calibrate_button.click()
    assert tab.stop_button.isEnabled() and tab.stop_button.text() == "Cancel"
    qtbot.waitUntil(lambda: "fitting" in tab.progress.format(), timeout=WAIT_MS)
    assert tab.progress.maximum() == len(t.train_pairs) == 4  # its own stages, not the run's "6 / 6"
    assert tab.progress.format().startswith("fitting ") and tab.progress.format().endswith("/4")
    assert tab.progress.toolTip().startswith("Quick calibrate: fitting, ") and " of 4 pairs" in tab.progress.toolTip()
    tab.stop_button.click()
    _idle(qtbot, tab)
    assert tab.last_message == "Quick calibrate cancelled: the model is as it was." and tab.runner.calibration is None
    assert all((v == before[k]).all() for k, v in t.model.state_dict().items())
    assert tab.runner.trainer is t and tab.progress.format() == "6 / 6" and tab.stop_button.text() == "Stop"
    assert seen[0] == "fitting 0/4"  # just validated at iteration 6: no scoring before

    # cancelled while the calibrated model is scored: the fit is undone too
    tab.calibrate_button.click()
    qtbot.waitUntil(lambda: "scoring the calibrated model" in tab.progress.format(), timeout=WAIT_MS)
    tab.stop_button.click()
    _idle(qtbot, tab)
    assert tab.last_message.startswith("Quick calibrate cancelled"), tab.last_message
    assert all((v == before[k]).all() for k, v in t.model.state_dict().items())
    assert tab.calibrate_button.isEnabled() and tab.start_button.isEnabled() and tab.eta_label.text() == "cancelled"

    # a fresh calibration, cancelled: no half-made model is left behind
    tab.runner.trainer = None
    tab.calibrate_button.click()
    qtbot.waitUntil(lambda: "scoring the model" in tab.progress.format(), timeout=WAIT_MS)
    tab.stop_button.click()
    _idle(qtbot, tab)
    assert tab.runner.trainer is None and not tab.use_button.isEnabled() and tab.progress.format() == "idle"
