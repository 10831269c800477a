"""The Train tab keeps a Quick calibrate only where validation allows (issue 16: one that lowered val PSNR was still
pre-selected as "Start from: Calibrated …"), and says once, under the pair count and in the log, that fine-tuning a
small folder is unreliable. Tiny pairs keep it fast."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from core_helpers import make_pairs, mismatched_pairs, one_thread  # noqa: E402, F401
from train_gui_helpers import WAIT_MS, setup_tab, wait_idle  # noqa: E402, F401

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def hurting(tmp_path_factory) -> Path:
    return mismatched_pairs(tmp_path_factory.mktemp("pairs") / "hurting")


def test_a_calibration_that_lowers_val_psnr_is_not_offered_as_the_start(qtbot, tmp_path, hurting):
    win, tab = setup_tab(qtbot, hurting, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2,
                         val_every=2)
    assert tab.calfirst_check.isChecked()
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    msg = tab.last_message
    assert msg.startswith("Quick calibrate lowered val PSNR from ") and " dB on 2 val pairs " in msg, msg
    assert "so it is not adopted: the model it started from is kept" in msg and "Traceback" not in msg
    assert tab.log_view.toPlainText().count("Quick calibrate lowered val PSNR") == 1
    assert tab.runner.calibration is None and tab.eta_label.text() == "not adopted"
    assert "not adopted" in win.statusBar().currentMessage()  # said where the window says news
    labels = [tab.init_combo.itemText(i) for i in range(tab.init_combo.count())]
    assert tab.init_combo.currentData() == "shipped" and not any(lbl.startswith("Calibrated:") for lbl in labels)
    assert tab.calfirst_check.isChecked()  # Start still calibrates first, under the same rule
    assert not list(Path(tab.runner.trainer.cfg.out).glob("calibrated_*"))
    assert tab.plots.loss_note.text == "No training run yet: Quick calibrate kept the model as it was, and Start " \
                                       "fine-tunes it"
    before = float(msg.split("from ")[1].split(" ")[0])
    assert tab.preview.model_title.text() == f"ADK-Net as it was: {before:.2f} dB"
    assert tab.export_button.isEnabled() and "Quick calibrate kept the model as it was" in tab.export_button.toolTip()


def test_a_small_folder_is_told_once_that_fine_tuning_is_unreliable(qtbot, tmp_path, hurting):
    win, tab = setup_tab(qtbot, hurting, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2,
                         val_every=2)
    note = tab.few_pairs_note
    assert note.isVisible() and note.text().startswith("⚠ Only 6 pairs: fine-tuning on fewer than 20 is "
                                                       "unreliable, and Quick calibrate alone is usually the better")
    tab.start_button.click()
    wait_idle(qtbot, tab)
    log = tab.log_view.toPlainText()
    assert log.count("fine-tuning on fewer than 20 is unreliable") == 1 and tab.runner.trainer.finished
    assert log.count("so it is not adopted: the model it started from is kept") == 1  # calibrate-first's verdict

    big = make_pairs(tmp_path / "big", n_train=16, n_val=4, lr_size=(16, 20))
    tab.pairs_edit.setText(str(big))
    tab.rescan()
    assert not note.isVisible()
    tab.pairs_edit.setText(str(hurting))
    tab.rescan()
    assert note.isVisible()
    tab.init_combo.setCurrentIndex(tab.init_combo.findData("scratch"))
    tab._on_init_picked()  # as a person's pick does
    assert not note.isVisible()  # training anew is not what the note is about


def test_without_validation_pairs_quick_calibrate_says_it_could_not_be_checked(qtbot, tmp_path):
    none = make_pairs(tmp_path / "none", n_train=3, n_val=0, lr_size=(16, 20))
    win, tab = setup_tab(qtbot, none, tmp_path / "runs", init="shipped", model_overrides={})
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    assert "could not be checked: there are too few pairs, or too few pixels, to cross-validate it, so it is adopted " \
           "unchecked" in tab.last_message
    cal = tab.runner.calibration
    assert cal is not None and cal["checked"] is False and Path(cal["weights"]).is_file()
    assert tab.init_combo.currentText().startswith("Calibrated:")
    card = Path(cal["weights"]).with_suffix(".json").read_text()
    assert "NaN" not in card and '"checked": false' in card


def test_without_a_split_file_the_preview_says_its_pair_was_one_of_the_fit(qtbot, tmp_path):
    folder = make_pairs(tmp_path / "own", n_train=5, n_val=1, lr_size=(32, 40))
    (folder / "split.json").unlink()  # every pair joins the fit, so the seeded val pair is not held out from it
    win, tab = setup_tab(qtbot, folder, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2)
    assert tab.preview.caption.text() == "Preview: at the first validation"
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    name = tab.runner.trainer.val_infos[0].name
    assert tab.preview.caption.text() == f"Preview: {name} (a fitted pair)", tab.preview.caption.text()
    assert "not a held-out result" in tab.preview.caption.toolTip()
    assert " dB" not in tab.preview.model_title.text()  # a cross-validated PSNR is not this pair's


def test_quick_calibrate_after_start_from_changed_calibrates_the_newly_chosen_model(qtbot, tmp_path, hurting):
    import shutil

    from adk_model.weights import default_weights

    win, tab = setup_tab(qtbot, hurting, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2)
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    first = tab.runner.trainer
    other = tmp_path / "other_x4.safetensors"  # another model file (a copy of the shipped one, with its card)
    shutil.copy(default_weights(4), other)
    shutil.copy(default_weights(4).with_suffix(".json"), other.with_suffix(".json"))
    tab.set_form(tab.form().__class__(**{**tab.form().__dict__, "init": str(other)}))
    tab.log_view.clear()
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    assert tab.runner.trainer is not first and tab.runner.trainer.cfg.init == str(other)
    assert "quick calibrate of the current model" not in tab.log_view.toPlainText()
    tab.set_form(tab.form().__class__(**{**tab.form().__dict__, "init": str(other)}))
    tab.calibrate_button.click()  # the same choice again: the current model, and the log names where it started
    wait_idle(qtbot, tab)
    assert "quick calibrate of the current model (iteration 0, started from " in tab.log_view.toPlainText()


def test_a_pair_that_proves_truncated_turns_red_in_the_table_and_the_run_goes_on_without_it(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "pairs", n_train=4, n_val=2, lr_size=(16, 20))
    f = pairs / "HR" / "p1.png"
    f.write_bytes(f.read_bytes()[:200])  # header intact: the scan lists it as ok
    win, tab = setup_tab(qtbot, pairs, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2,
                         val_every=2)
    row = [tab.pairs_table.item(i, 0).text() for i in range(tab.pairs_table.rowCount())].index("p1")
    assert tab.pairs_table.item(row, 4).text() == "ok"
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    status = tab.pairs_table.item(row, 4).text()
    assert status.startswith("unreadable: Cannot load image") and "truncated" in status
    assert tab.pairs_table.item(row, 1).text() == "—"
    assert "skipping p1: Cannot load image" in tab.log_view.toPlainText()
    assert "fitted on 3 train pairs" in tab.last_message, tab.last_message  # it ran without p1


def test_a_failed_quick_calibrate_leaves_no_busy_bar(qtbot, tmp_path):
    pairs = make_pairs(tmp_path / "pairs", n_train=3, n_val=1, lr_size=(16, 20))
    for f in (pairs / "HR").glob("*.png"):
        f.write_bytes(f.read_bytes()[:200])  # every pair proves unreadable once decoded
    win, tab = setup_tab(qtbot, pairs, tmp_path / "runs", init="shipped", model_overrides={}, iterations=2,
                         val_every=2)
    tab.calibrate_button.click()
    wait_idle(qtbot, tab)
    assert win.banner.level == "error" and "could be read" in win.banner.text()
    assert tab.eta_label.text() == "failed"
    assert tab.progress.maximum() > 0 and tab.progress.format() == "failed"  # not the striped busy pattern
    good = make_pairs(tmp_path / "good", n_train=3, n_val=1, lr_size=(16, 20))
    tab.pairs_edit.setText(str(good))
    tab.rescan()
    assert "could be read" not in win.banner.text()  # said of the other folder: stale once this one is opened
