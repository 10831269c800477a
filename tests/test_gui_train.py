"""The Train tab, driven as a person would: pairs table with named problems, Start with live curves and
progress, Pause/Resume, Stop and resume after a restart, closing mid-run, a crash, quick calibrate, and
"Use in Compare" switching the Compare tab's ADK-Net output. Tiny models and pairs keep it fast."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtWidgets import QAbstractButton, QPushButton  # noqa: E402

from adkviewer.cli.args import build_parser  # noqa: E402
from adkviewer.cli.train import train_config  # noqa: E402
from adkviewer.shell.main_window import MainWindow  # noqa: E402
from adkviewer.gui.settings import Settings  # noqa: E402
from adkviewer.tabs.train.train_runner import IDLE, PAUSED  # noqa: E402
from adkviewer.tabs.train.train_state import SPLIT_FRACTION, TrainSettings, scan_pairs  # noqa: E402
from adkviewer.shell import weights_menu
from adkviewer.state import weights_registry  # noqa: E402
from core_helpers import TINY, box, make_pairs, one_thread, save_png, smooth_image  # noqa: E402, F401
from adk_model.train import FINE_TUNE, TrainConfig, Trainer, read_checkpoint  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")
from train_gui_helpers import (WAIT_MS, pairs, setup_tab as _setup, train_settings as _settings,  # noqa: E402,F401
                               wait_idle as _idle, window as _window)


@pytest.fixture
def slow_steps(monkeypatch):
    """A tiny model steps in a millisecond; 10 ms per step lets a person (the test) press Pause mid-run."""
    orig = Trainer.step

    def step(self):
        time.sleep(0.01)
        return orig(self)

    monkeypatch.setattr(Trainer, "step", step)


# ---------------------------------------------------------------------------------------------- tests


def test_defaults_are_the_cli_fine_tune_defaults():
    s = TrainSettings(pairs="x")
    argv = ["train", "--pairs", "x", "--init", "shipped"]
    cli = train_config(build_parser().parse_args(argv), argv)
    cfg = s.to_config("/tmp/run")
    assert (s.init, s.lr, s.iterations) == ("shipped", FINE_TUNE.lr, FINE_TUNE.iterations)  # the CLI's fine-tune path
    assert (cfg.batch, cfg.patch, cfg.val_every, cfg.ckpt_every, cfg.patience) == (
        cli.batch, cli.patch, cli.val_every, cli.ckpt_every, cli.patience) == (8, 48, FINE_TUNE.val_every, 250,
                                                                                FINE_TUNE.patience)
    assert cfg.split == "val" and cfg.scale == 4 and cfg.calibrate_first and cfg.device == "auto"
    assert cfg.command.startswith("adkviewer train --pairs")


def test_pairs_table_names_every_problem_and_falls_back_to_a_seeded_split(qtbot, tmp_path):
    folder = make_pairs(tmp_path / "p", n_train=3, n_val=1, lr_size=(8, 10))
    hr = smooth_image(32, 40, seed=9)
    save_png(folder / "HR" / "lonely.png", hr)                       # no LR partner
    save_png(folder / "HR" / "wrong.png", hr)
    save_png(folder / "LR" / "wrong.png", box(hr, 2))                # LR size is not HR / scale
    (folder / "HR" / "broken.png").write_bytes(b"not a png")          # unreadable
    save_png(folder / "LR" / "broken.png", box(hr, 4))
    win, tab = _setup(qtbot, folder, tmp_path / "runs")
    table = {tab.pairs_table.item(i, 0).text(): [tab.pairs_table.item(i, c).text() for c in range(5)]
             for i in range(tab.pairs_table.rowCount())}
    rows = {name: cells[4] for name, cells in table.items()}
    assert table["p0"][1:] == ["train", "40×32", "10×8", "ok"] and table["p3"][1] == "val"
    assert "no LR partner" in rows["lonely"]
    assert "LR size 20x16 is not HR size / scale" in rows["wrong"]
    assert "unreadable file" in rows["broken"]
    assert "4 usable" not in tab.pairs_summary.text() and "3 unusable (skipped)" in tab.pairs_summary.text()

    realsr = tmp_path / "realsr"
    for i in range(5):
        h = smooth_image(32, 40, seed=i)
        save_png(realsr / f"Cam_{i:03d}_HR.png", h)
        save_png(realsr / f"Cam_{i:03d}_LR4.png", box(h, 4))
    tab.pairs_edit.setText(str(realsr))
    scan = tab.rescan()
    assert scan.error is None and tab.split_fraction_radio.isChecked()  # no split.json: a seeded fraction
    assert (scan.n_train, scan.n_val) == (4, 1) and "No split.json" in tab.pairs_summary.text()
    assert scan_pairs(str(realsr), 4, SPLIT_FRACTION, 0.2, 0).rows[0].name == "Cam_000"
    # the split.json choice does not snap back silently: it is off, and the line under it says why
    assert not tab.split_file_radio.isEnabled() and tab.split_file_note.isVisible()
    assert "no split.json in this folder" in tab.split_file_note.text()
    assert f"No split.json in {realsr}" in tab.split_file_radio.toolTip()
    assert tab.remembered_form().split_mode == "file"  # remembered as the person chose it, not as the fallback
    tab.pairs_edit.setText(str(folder))  # a folder with one: the choice is back, and split.json is used again
    assert tab.rescan().split_note.startswith("Validation: split.json")
    assert tab.split_file_radio.isEnabled() and tab.split_file_radio.isChecked() and not tab.split_file_note.isVisible()
    tab.split_fraction_radio.setChecked(True)  # a person's own choice of a fraction stays
    tab.pairs_edit.setText(str(realsr))
    tab.rescan()
    tab.pairs_edit.setText(str(folder))
    assert tab.rescan().split_note.startswith("Validation: seeded") and tab.remembered_form().split_mode != "file"


def test_start_updates_curves_progress_and_preview_and_pause_resume_continue(qtbot, tmp_path, pairs, slow_steps):
    # without the linear part: these pairs are a linear function of the HR, which the closed-form start would solve
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=40, model_overrides=dict(TINY, linear_taps=0))
    paused_at = {}

    def pause_once(points):
        if not paused_at and points[-1][0] >= 5:
            tab.pause_button.click()
            paused_at["it"] = tab.runner.trainer.iteration

    tab.runner.losses.connect(pause_once)
    from adkviewer.tabs.train.train_widgets import PREVIEW_EMPTY
    assert tab.preview.model.text() == tab.preview.gt.text() == PREVIEW_EMPTY  # not a dark pane that reads as black
    tab.start_button.click()
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    qtbot.waitUntil(lambda: tab.runner.state == PAUSED and tab.pause_button.text() == "Resume", timeout=WAIT_MS)
    qtbot.wait(250)  # paused: the iteration count holds
    held = tab.runner.trainer.iteration
    qtbot.wait(250)
    assert tab.runner.trainer.iteration == held and 5 <= held < 40
    assert tab.progress.value() == held and tab.eta_label.text() == "paused"
    tab.pause_button.click()  # Resume
    _idle(qtbot, tab)
    t = tab.runner.trainer
    assert t.finished and t.iteration == 40
    c = tab.curves
    assert c.loss_it == list(range(1, 41))  # one point per iteration, none lost or repeated across the pause
    assert c.val_it == [0, 10, 20, 30, 40] and c.val_psnr[-1] > c.val_psnr[0]
    assert tab.progress.value() == 40 and tab.progress.format() == "40 / 40"
    x, y = tab.plots.loss_smooth.getData()
    assert len(x) == 40 and np.isfinite(y).all()
    assert len(tab.plots.val_curve.getData()[0]) == 5
    qtbot.waitUntil(lambda: set(c.refs) == {"bicubic", "lstsq"}, timeout=WAIT_MS)
    assert set(tab.plots.ref_items) == {"bicubic", "lstsq"} and "Bicubic" in tab.plots.val_title()
    assert tab.preview.model.array is not None and tab.preview.model.array.shape == (16, 20, 3)
    assert tab.preview.gt.array is not None and "iteration 40" in tab.preview.model_title.text()
    assert tab.preview.model.text() == "" and not tab.preview.model.pixmap().isNull()
    assert "it 40: val PSNR" in tab.log_view.toPlainText()
    assert tab.use_button.isEnabled() and tab.export_button.isEnabled() and tab.start_button.isEnabled()

    # quick calibrate of the trained model: "before" is the validation just done at iteration 40
    tab.calibrate_button.click()
    _idle(qtbot, tab)
    cal = tab.runner.calibration
    assert cal["iteration"] == 40 and cal["before"] == pytest.approx(c.val_psnr[-1])
    assert "scoring the model" not in tab.log_view.toPlainText() and tab.runner.trainer is t


def test_pause_log_names_the_iteration_training_actually_holds_at(qtbot, tmp_path, pairs, monkeypatch):
    """Pause pressed while a step runs: that step finishes first, so the log must name the iteration after it
    (it said 'paused at iteration 10' while the progress bar and the loss curve held at 11)."""
    orig, in_step, go = Trainer.step, threading.Event(), threading.Event()

    def step(self):
        if self.iteration == 4 and not go.is_set():  # step 5 is running when the person presses Pause
            in_step.set()
            go.wait(10)
        return orig(self)

    monkeypatch.setattr(Trainer, "step", step)
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=20)
    tab.start_button.click()
    qtbot.waitUntil(in_step.is_set, timeout=WAIT_MS)
    tab.pause_button.click()
    go.set()
    qtbot.waitUntil(lambda: "paused at iteration" in tab.log_view.toPlainText(), timeout=WAIT_MS)
    qtbot.wait(300)
    held = tab.runner.trainer.iteration
    assert held == 5 and tab.progress.value() == held
    log = tab.log_view.toPlainText()
    assert f"paused at iteration {held}" in log and "paused at iteration 4" not in log
    tab.pause_button.click()  # Resume
    _idle(qtbot, tab)
    assert f"resumed at iteration {held}" in tab.log_view.toPlainText() and tab.runner.trainer.iteration == 20


def test_stop_writes_a_checkpoint_that_resumes_after_a_restart_and_closing_asks_first(qtbot, tmp_path, pairs,
                                                                                       slow_steps):
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=2000, val_every=0)
    tab.start()
    qtbot.waitUntil(lambda: tab.runner.trainer.iteration >= 5, timeout=WAIT_MS)
    tab.stop_button.click()
    _idle(qtbot, tab)
    t = tab.runner.trainer
    ck = t.checkpoint_path("last")
    assert ck.is_file() and "Stopped at iteration" in tab.last_message
    assert read_checkpoint(ck)["iteration"] == t.iteration
    log = tab.log_view.toPlainText().lower()
    assert log.count("stopped at iteration") == 1 and "--resume" not in log  # said once, in the GUI's words
    fresh = Trainer(TrainConfig())
    fresh.setup(resume=str(ck))  # the engine alone (as 'adkviewer train --resume') continues it
    assert fresh.iteration == t.iteration and fresh.cfg.iterations == 2000
    stopped_at = t.iteration

    # a new window (an app restart) resumes the same checkpoint; closing mid-run asks, then saves
    win2 = _window(qtbot)
    tab2 = win2.tab("train")
    assert str(t.cfg.out) in tab2.log_view.toPlainText()  # "Last run: …" is offered
    assert tab2.resume_from(ck)
    assert tab2.form().iterations == 2000 and tab2.form().pairs == str(pairs)
    qtbot.waitUntil(lambda: tab2.runner.trainer.iteration >= stopped_at + 5, timeout=WAIT_MS)
    # the history came back with the checkpoint, every iteration of it, as the live curve had it
    assert tab2.curves.loss_it[:stopped_at] == list(range(1, stopped_at + 1))
    asked = []
    tab2.ask = lambda text: asked.append(text) or False  # "Cancel": the window stays, training goes on
    win2.close()
    assert asked and win2.isVisible() and tab2.runner.training
    tab2.ask = lambda text: asked.append(text) or True
    win2.close()
    assert not win2.isVisible() and not tab2.runner.busy
    ck2 = read_checkpoint(ck)
    assert ck2["iteration"] == tab2.runner.trainer.iteration > stopped_at + 4


def test_a_crash_ends_in_a_message_and_a_resumable_checkpoint(qtbot, tmp_path, pairs, monkeypatch):
    orig = Trainer.step

    def step(self):
        if self.iteration == 6:
            raise FloatingPointError(f"the loss became nan at iteration {self.iteration}")
        return orig(self)

    monkeypatch.setattr(Trainer, "step", step)
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=50)
    tab.start()
    _idle(qtbot, tab)
    crash = tab.runner.trainer.checkpoint_path("crash")
    assert crash.is_file() and read_checkpoint(crash)["iteration"] == 6
    assert win.banner.isVisible() and win.banner.level == "error"
    text = win.banner.text()
    assert "Training diverged" in text and "checkpoint_crash.pt" in text and "Traceback" not in text
    assert tab.start_button.isEnabled() and tab.eta_label.text() == "failed"


def test_quick_calibrate_improves_val_psnr_on_colour_shifted_pairs(qtbot, tmp_path, pairs):
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", init="shipped", model_overrides={})
    tab.calibrate_button.click()
    assert not tab.start_button.isEnabled()
    assert tab.plots.loss_note.text.startswith("Quick calibrate is running")  # not 'No run yet: press Start'
    _idle(qtbot, tab)
    cal = tab.runner.calibration
    assert cal is not None and cal["after"] > cal["before"] + 1.0, cal
    assert tab.last_message.startswith(f"Quick calibrate raised val PSNR from {cal['before']:.3f} to "
                                       f"{cal['after']:.3f} dB on 2 val pairs") and "adopted" in tab.last_message
    assert tab.log_view.toPlainText().lower().count("quick calibrate raised val psnr") == 1  # it was said twice
    assert tab.plots.loss_note.text == "No training run yet: Start fine-tunes the calibrated model"
    n_val = len(tab.runner.trainer.val)
    assert f"scoring the model on {n_val} val pair{'' if n_val == 1 else 's'}…" in tab.log_view.toPlainText()
    assert tab.use_button.isEnabled() and tab.export_button.isEnabled()
    assert "calibrated" in tab.preview.model_title.text()


def test_use_best_switches_compare_to_the_best_validated_weights(qtbot, tmp_path, pairs):
    """'Use in Compare' gives the model at its last iteration; a run that ended past its best (val PSNR 30.50 at
    iteration 0, 30.39 at 60 on RealSR) had no way to compare the best weights it had saved."""
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=8, val_every=4)
    tab.start()
    _idle(qtbot, tab)
    t = tab.runner.trainer
    assert t.best_weights_path().is_file()
    t.best = {"it": t.iteration, "psnr": 30.0}
    tab._sync_buttons()
    assert not tab.use_best_button.isEnabled()  # the best is the model as it is: "Use in Compare" covers it
    t.best = {"it": 4, "psnr": 31.0}  # as if the last validation had scored lower
    tab._sync_buttons()
    assert tab.use_best_button.isEnabled() and "iteration 4, val PSNR 31.00 dB" in tab.use_best_button.toolTip()
    tab.use_best_button.click()
    added = [e for e in win.session.extras.values() if e.is_adknet]
    assert [Path(e.path) for e in added] == [t.best_weights_path()] and win.tabs.currentWidget() is win.compare
    assert win.session.weights_path is None  # beside the shipped model, not instead of it


def test_use_in_compare_adds_the_run_model_beside_the_shipped_one_and_remembers_it(qtbot, tmp_path, pairs):
    hr = smooth_image(64, 80, seed=5)
    img = save_png(tmp_path / "photo.png", hr)
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=8, val_every=0)
    win.commands.set_methods(["adknet", "bicubic"])
    assert win.open_image(img)
    s = win.session
    qtbot.waitUntil(lambda: "adknet" in s.results and s.results["adknet"].ready, timeout=WAIT_MS)
    before = s.results["adknet"].lr.copy()
    shipped_label = s.label("adknet")
    tab.start()
    _idle(qtbot, tab)
    tab.use_button.click()
    _idle(qtbot, tab)
    (key,) = [k for k, e in s.extras.items() if e.is_adknet]
    path = Path(s.extras[key].path)
    assert path.is_file() and path.with_suffix(".json").is_file() and path.parent == Path(tab.runner.trainer.cfg.out)
    assert win.tabs.currentWidget() is win.compare and s.methods[:2] == ["adknet", key]
    qtbot.waitUntil(lambda: key in s.results and s.results[key].ready, timeout=WAIT_MS)
    after = s.results[key].lr
    assert after.shape == before.shape and np.abs(after - before).max() > 1e-3
    assert np.array_equal(s.results["adknet"].lr, before)  # the shipped model's output stays beside it
    assert s.label("adknet") == shipped_label and s.label(key).startswith("ADK-Net · ") and "8 it" in s.label(key)
    assert win.compare.grid.panel(key) is not None  # a view of its own in Compare

    # remembered: the weights menu (the Compare side's weights choice) lists it, now and on the next start
    assert str(path.resolve()) in win.settings.get_list(weights_registry.RECENT_KEY)
    win.settings.sync()
    later = weights_registry.available_weights(Settings(), scale=4)
    assert [c.shipped for c in later][:1] == [True] and any(c.path == path.resolve() for c in later)
    actions = weights_menu.fill(win, win.ctx, win.weights_menu)
    mine = next(a for a in actions if a.statusTip() == str(path.resolve()))
    mine.trigger()  # as the main model: the shipped one's output goes
    assert Path(s.weights_path) == path and s.label("adknet") != shipped_label
    shipped = next(a for a in weights_menu.fill(win, win.ctx, win.weights_menu) if a.text().endswith("(shipped)"))
    shipped.trigger()
    assert s.weights_path is None and s.label("adknet") == shipped_label

    out = tmp_path / "exported" / "mine.safetensors"
    tab.export_to(out, "my model", score=False)
    _idle(qtbot, tab)
    assert out.is_file() and '"name": "my model"' in out.with_suffix(".json").read_text()
    assert tab.log_view.toPlainText().lower().count(f"wrote {out}") == 1  # 'wrote …' and 'Wrote …' were both logged


def test_layout_fits_1280x800(qtbot, tmp_path, pairs):
    win, tab = _setup(qtbot, pairs, tmp_path / "runs")
    qtbot.wait(50)
    for b in tab.findChildren(QAbstractButton):
        if b.isVisible() and isinstance(b, QPushButton):
            assert b.width() >= b.minimumSizeHint().width(), b.text()  # no cropped button text
    assert tab.side.horizontalScrollBar().maximum() == 0
    assert tab.plots.loss_plot.height() >= 150 and tab.plots.val_plot.height() >= 150 and tab.log_view.height() >= 100
    assert win.width() == 1280 and win.height() == 800


def test_crash_messages_are_one_sentence_and_name_the_checkpoint(tmp_path, pairs):
    from adkviewer.tabs.train.train_runner import crash_message
    from adk_model.errors import PairError

    t = Trainer(TrainConfig(pairs=str(pairs), init="scratch", model_overrides=dict(TINY), iterations=3, batch=2,
                            patch=8, val_every=0, ckpt_every=0, out=str(tmp_path / "run"), device="cpu"))
    t.setup()
    t.run()
    t.save_checkpoint(suffix="crash")
    oom = type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory. Tried to allocate 2.00 GiB")
    msg = crash_message(oom, t)
    assert msg.startswith("Out of memory at iteration 3: lower the batch or patch size") and "checkpoint_crash.pt" in msg
    msg = crash_message(FileNotFoundError(2, "No such file or directory", "/gone/HR/a.png"), t)
    assert msg.startswith("Training stopped: '/gone/HR/a.png' could not be read or written (No such file")
    assert crash_message(PairError("Pairs folder '/gone' does not exist."), None) == \
        "Pairs folder '/gone' does not exist."


def test_early_stopping_follows_the_start_as_in_the_cli():
    """Fine-tuning stops when validation stops improving; training from scratch runs its schedule (patience 0)."""
    from adk_model.train import schedule_for

    for init in ("shipped", "scratch"):
        argv = ["train", "--pairs", "x", "--init", init]
        cli = train_config(build_parser().parse_args(argv), argv)
        assert TrainSettings(pairs="x", init=init).to_config("/tmp/run").patience == cli.patience == \
            schedule_for(init).patience
    assert schedule_for("scratch").patience == 0 < schedule_for("shipped").patience


def test_the_runner_runs_on_the_job_queue_and_merges_losses_without_losing_one(qtbot, tmp_path, pairs):
    from PySide6.QtWidgets import QWidget

    from adkviewer.tabs.train.train_runner import TrainRunner

    holder = QWidget()
    qtbot.addWidget(holder)
    runner = TrainRunner(holder)
    updates, points, finished, busy_threads = [], [], [], []
    runner.losses.connect(lambda pts: (updates.append(len(pts)), points.extend(it for it, _loss in pts)))
    runner.finished.connect(lambda outcome, _message: finished.append(outcome))
    runner.setupDone.connect(lambda _info: busy_threads.append(runner.jobs.pool.activeThreadCount()))
    runner.start(_settings(pairs, tmp_path / "runs", iterations=80, val_every=0).to_config(str(tmp_path / "run")))
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert finished == ["finished"] and busy_threads == [1]  # the run was the queue's one job
    assert points == list(range(1, 81)) and len(updates) < 80  # every loss once, merged into fewer updates
    assert not runner.busy and runner.jobs.wait(1000) and runner.jobs.pool.activeThreadCount() == 0


def test_use_in_compare_with_no_image_open_shows_a_pair_of_the_run(qtbot, tmp_path, pairs):
    """Compare with nothing open said 'No image open' after Use in Compare: there was nothing to compare."""
    win, tab = _setup(qtbot, pairs, tmp_path / "runs", iterations=4, val_every=2)
    s = win.session
    assert s.hr_full is None
    tab.start()
    _idle(qtbot, tab)
    tab.use_button.click()
    _idle(qtbot, tab)
    first_val = tab.runner.trainer.val_infos[0]
    qtbot.waitUntil(lambda: s.hr_full is not None, timeout=WAIT_MS)
    assert win.tabs.currentWidget() is win.compare and s.pair_name == first_val.name and s.gt is not None
