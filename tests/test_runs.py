"""The runs list (model/runs.py, `adkviewer runs`): today's runs, runs laid out as older versions wrote them, and
broken ones, each read back or with what is missing named."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest

from adkviewer.cli.entry import main
from core_helpers import make_pairs, one_thread  # noqa: F401 (fixture)
from runs_helpers import card_only_run, first_version_run, tiny_run
from adk_model.errors import UserError
from adk_model.runs import NO_VAL_HISTORY, OLD_LOSS, format_table, list_runs, read_run
from adk_model.validation import validate
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> tuple[Path, dict]:
    """An output folder with a current run, a first-version run, a card-only run, a fit folder and a broken run."""
    base = tmp_path_factory.mktemp("runs")
    pairs = make_pairs(base / "pairs")
    out = base / "adkviewer-runs"
    trainers = {"now": tiny_run(pairs, out / "pairs-x4-20261202-101500"),
                "old": first_version_run(pairs, out / "adknet"),
                "cards": card_only_run(pairs, out / "pairs-x4-20261127-090000")}
    (out / "lstsq").mkdir()
    (out / "lstsq" / "lstsq_x2_cam.safetensors").write_bytes(b"not a run")
    broken = out / "pairs-x4-20261201-120000"
    broken.mkdir()
    (broken / "checkpoint_last.pt").write_bytes((out / "adknet" / "checkpoint_last.pt").read_bytes()[:300])
    return out, trainers


def _by_name(runs):
    return {r.name: r for r in runs}


def test_a_current_run_is_listed_with_its_best_and_last_val_psnr(root):
    out, trainers = root
    t = trainers["now"]
    run = _by_name(list_runs(out))["pairs-x4-20261202-101500"]
    assert run.problem is None and run.missing == []
    assert (run.date, run.init, run.pairs_text, run.iterations_text) == (
        t.started, "scratch", "pairs (3 train / 2 val)", "6")  # the recorded start, before the folder's stamp
    vals = [(h["it"], h["val_psnr"]) for h in t.history if "val_psnr" in h]
    assert [it for it, _ in vals] == [0, 3, 6] and run.val_it == [0, 3, 6]
    assert (run.last_it, run.last_psnr) == vals[-1]
    best_it, best = max(vals, key=lambda v: v[1])
    assert (run.best_it, run.best_psnr) == (best_it, best)
    # the best is what best_x4 holds: validated again from the file, it scores the same
    rescored, _ = validate(load_weights(out / run.name / "best_x4.safetensors").model, t.val, t.device)
    assert math.isclose(rescored["psnr"], run.best_psnr, abs_tol=1e-6)
    assert run.loss_it == list(range(1, 7)) and run.loss == [h["loss"] for h in t.history if "loss" in h]
    assert run.weights.name == "adknet_x4_lite.safetensors"


def test_a_first_version_run_is_read_and_its_sparse_loss_named(root):
    out, trainers = root
    run = _by_name(list_runs(out))["adknet"]
    assert run.problem is None
    assert run.loss_it == [1, 10, 20] and run.val_it == [0, 3, 6, 9, 12, 15, 18, 21]
    assert run.iterations == 21 and run.n_train == 3 and run.n_val == 2  # the counts from its card
    assert run.best_psnr == trainers["old"].best["psnr"] and run.last_it == 21
    assert OLD_LOSS in run.missing
    assert run.date  # from the checkpoint's time: the old default folder name has none


def test_a_run_without_checkpoint_says_what_its_old_card_lacks(root):
    out, trainers = root
    run = _by_name(list_runs(out))["pairs-x4-20261127-090000"]
    t = trainers["cards"]
    assert run.problem is None and run.iterations == 6 and run.pairs_text == "pairs (3 train / 2 val)"
    assert run.best_psnr == t.best["psnr"] and run.last_psnr is None and run.val_psnr == [] and run.loss == []
    assert NO_VAL_HISTORY in run.missing and any("no loss curve" in m for m in run.missing)


def test_todays_card_alone_still_gives_the_val_curve(root, tmp_path):
    out, trainers = root
    folder = tmp_path / "copy"
    shutil.copytree(out / "pairs-x4-20261202-101500", folder)
    (folder / "checkpoint_last.pt").unlink()
    run = read_run(folder)
    assert run.val_it == [0, 3, 6] and run.last_psnr == trainers["now"].history[-1]["val_psnr"]
    assert NO_VAL_HISTORY not in run.missing


def test_a_truncated_checkpoint_is_one_sentence_and_the_others_are_still_listed(root):
    out, _ = root
    runs = _by_name(list_runs(out))
    assert set(runs) == {"pairs-x4-20261202-101500", "adknet", "pairs-x4-20261127-090000",
                         "pairs-x4-20261201-120000"}  # the lstsq fit folder is not a run
    problem = runs["pairs-x4-20261201-120000"].problem
    assert problem and "checkpoint_last.pt" in problem and "\n" not in problem and "Traceback" not in problem


def test_a_truncated_checkpoint_beside_a_card_leaves_the_card_readable(root, tmp_path):
    out, _ = root
    folder = tmp_path / "half"
    shutil.copytree(out / "pairs-x4-20261202-101500", folder)
    (folder / "checkpoint_last.pt").write_bytes(b"PK\x03\x04 truncated")
    run = read_run(folder)
    assert run.problem is None and run.iterations == 6 and run.val_it == [0, 3, 6]
    assert [m for m in run.missing if "checkpoint" in m] == [
        "checkpoint_last.pt cannot be read: it is truncated or damaged"]  # not also "no checkpoint in the folder"


def test_the_date_is_the_recorded_start_then_the_folder_stamp_then_the_file_time(root, tmp_path):
    out, trainers = root
    copied = tmp_path / "my-run"  # no stamp in its name, files with the copy's time
    shutil.copytree(out / "pairs-x4-20261202-101500", copied)
    for f in copied.iterdir():
        os.utime(f, (0, 0))
    assert read_run(copied).date == trainers["now"].started
    stamped = tmp_path / "pairs-x4-20250102-030405"  # a run written before the start was recorded
    shutil.copytree(out / "pairs-x4-20261127-090000", stamped)
    assert read_run(stamped).date == "2025-01-02 03:04"
    unstamped = tmp_path / "old"
    shutil.copytree(out / "pairs-x4-20261127-090000", unstamped)
    for f in unstamped.iterdir():
        os.utime(f, (1e9, 1e9))
    assert read_run(unstamped).date == time.strftime("%Y-%m-%d %H:%M", time.localtime(1e9))


def test_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(UserError) as e:
        list_runs(tmp_path / "nowhere")
    assert str(e.value) == f"Folder '{tmp_path / 'nowhere'}' does not exist."  # no guess at why
    assert list_runs(tmp_path) == []


def test_cli_runs_prints_the_table_and_json(root, capsys):
    out, _ = root
    assert main(["runs", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("run ") and "best val PSNR" in text
    assert text == format_table(list_runs(out)) + "\n"
    assert f"missing: {OLD_LOSS}" in text and "unreadable: checkpoint_last.pt" in text
    assert main(["runs", str(out), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["pairs-x4-20261202-101500"]["val_it"] == [0, 3, 6]
    assert main(["runs", str(out / "pairs-x4-20261202-101500")]) == 0  # one run folder
    assert capsys.readouterr().out.count("\n") == 3  # the header, the run, which model it exported


def test_cli_runs_says_which_model_each_export_holds(root, tmp_path, capsys):
    out, trainers = root
    best = trainers["now"].best
    assert f"    exported: best (it {best['it']})" in format_table(list_runs(out / "pairs-x4-20261202-101500"))
    pairs = Path(trainers["now"].cfg.pairs)
    last = tmp_path / "pairs-x4-20261202-120000"
    tiny_run(pairs, last, export=False).export(which="last")
    assert main(["runs", str(last)]) == 0
    assert "    exported: last (it 6)" in capsys.readouterr().out.splitlines()
    assert read_run(last).exported == "last (it 6)"
    assert read_run(out / "adknet").exported == ""  # the first version's card does not say


def test_cli_runs_on_a_missing_folder_is_one_sentence(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "nowhere")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("adkviewer: error:") and "does not exist" in err


def test_runs_help_explains_every_option():
    import argparse

    from adkviewer.cli.args import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["runs"]
    assert [a.dest for a in sub._actions if not a.help] == []
    assert "~/adkviewer-runs" in sub.format_help()


def test_cards_of_the_wrong_shape_are_left_out_not_a_traceback(root, tmp_path):
    out, _ = root
    folder = tmp_path / "odd"
    shutil.copytree(out / "pairs-x4-20261127-090000", folder)
    card = next(folder.glob("adknet_*.json"))
    card.write_text(json.dumps({"name": 3, "scale": "four", "training": {"train_pairs": "p0", "best_val": [1],
                                                                         "val_history": [{"it": "x"}, 5],
                                                                         "settings": None}}))
    (folder / "best_x4.json").write_text("[1, 2")
    run = read_run(folder)
    assert run.problem is None and run.iterations is None and run.best_psnr is None and run.val_psnr == []
    assert any(m.startswith("iterations:") for m in run.missing) and any("pair counts" in m for m in run.missing)
    (card).write_text(json.dumps({"training": "none"}))
    assert read_run(folder).problem is None


def test_the_train_tabs_quick_calibrate_folder_is_a_run_with_its_verdict_and_start(tmp_path):
    from adkviewer.tabs.train.train_calibrate import quick_calibrate
    from adk_model.train import Trainer, TrainConfig
    from adk_model.weights import default_weights

    folder = make_pairs(tmp_path / "own", n_train=4, n_val=2, lr_size=(32, 40))  # a colour response to fit
    start = default_weights(4)
    t = Trainer(TrainConfig(pairs=str(folder), init=str(start), calibrate_first=False, device="cpu",
                            out=str(tmp_path / "runs" / "r")))
    t.setup(calibrate_next=True)  # as the Train tab's Quick calibrate button sets its run up
    info = quick_calibrate(t, False, lambda *a: None, lambda: False)
    assert info["adopted"] and info["judged_by"] == "val"
    runs = list_runs(tmp_path / "runs")  # listed, though the folder holds only calibrated_x4 (no checkpoint)
    assert [r.name for r in runs] == ["r"] and runs[0].weights.name == "calibrated_x4.safetensors"
    assert runs[0].exported == (f"Quick calibrate: the calibrated model (val PSNR {info['before']:.2f} → "
                                f"{info['after']:.2f} dB)")
    assert runs[0].init == f"{start.parent.name}/{start.name}"  # with its folder: many exports share a name
    assert runs[0].iterations_text == "0" and runs[0].missing == []
