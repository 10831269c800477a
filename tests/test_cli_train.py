"""`adkviewer train`: export, resume and calibrate, errors and Ctrl-C mid-run, never overwriting a run, and the
same defaults, runs folder and recorded command as the Train tab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core_helpers import one_thread  # noqa: F401 (fixture)
from cli_helpers import ROOT, _one_error, _run, pristine  # noqa: F401,F811 (fixtures)
from adk_model.train import read_checkpoint
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def test_train_export_resume_and_calibrate(pristine, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--pairs", pristine, "--device", "cpu", "--batch", 1, "--patch", 8, "--val-every", 2,
            "--ckpt-every", 2, "--out", out]
    code, _, err = _run(capsys, base + ["--iterations", 2])
    assert code == 0, err
    assert "Traceback" not in err
    w = out / "adknet_x4_lite.safetensors"
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["training"]["iterations"] == 2
    assert card["training"]["command"].startswith("adkviewer train --pairs")
    methods = card["validation"]["methods"]
    assert set(methods) == {"adknet", "nearest", "box", "bilinear", "bicubic", "lanczos", "lstsq"}
    assert load_weights(w).notes == []

    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--resume", out / "checkpoint_last.pt",
                                 "--iterations", 3, "--no-eval", "--device", "cpu"])
    assert code == 0, err
    training = json.loads(w.with_suffix(".json").read_text())["training"]
    assert "resumed" in err and training["iterations"] == 3
    # the card keeps the command that started the run and adds the one that continued it
    assert "--resume" not in training["command"] and "--iterations 2" in training["command"]
    assert len(training["resumed_with"]) == 1 and "--resume" in training["resumed_with"][0]
    assert "--iterations 3" in training["resumed_with"][0]
    # the checkpoint knows its pairs: --resume alone continues it; without either, one sentence
    code, _, err = _run(capsys, ["train", "--resume", out / "checkpoint_last.pt", "--iterations", 4, "--no-eval",
                                 "--device", "cpu"])
    assert code == 0 and "resumed" in err, err
    assert json.loads(w.with_suffix(".json").read_text())["training"]["iterations"] == 4
    code, _, err = _run(capsys, ["train", "--device", "cpu"])
    assert code == 2 and err.strip() == ("adkviewer: error: train needs --pairs PAIRS_DIR (or --resume CHECKPOINT to "
                                         "continue a run).")

    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--init", w, "--calibrate-only", "--device", "cpu",
                                 "--patch", 8, "--out", tmp_path / "cal"])
    assert code == 0, err
    fitted = "linear part, colour mix and bias" if load_weights(w).model.linear is not None else "colour head"
    verdict = [line for line in err.splitlines() if line.startswith("Quick calibrate ")]
    assert len(verdict) == 1 and f"(the {fitted}, fitted on 3 train pairs)" in verdict[0], err
    assert " val PSNR from " in verdict[0] and " dB on 2 val pairs " in verdict[0]
    assert load_weights(tmp_path / "cal" / "adknet_x4_lite.safetensors").model.mix is not None



def test_an_error_during_training_is_its_own_line_not_glued_to_the_progress_bar(pristine, tmp_path, monkeypatch,
                                                                                   capsys):
    from adk_model.train import Trainer

    def full_disk(self, suffix="last"):
        raise OSError(28, "No space left on device", str(tmp_path / "run" / f"checkpoint_{suffix}.pt"))

    monkeypatch.setattr(Trainer, "save_checkpoint", full_disk)
    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--iterations", 3, "--ckpt-every", 1, "--batch", 1,
                                 "--patch", 8, "--no-calibrate", "--device", "cpu", "--out", tmp_path / "run"])
    assert "No space left on device" in _one_error(code, err)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_training_after_the_iteration_with_one_resumable_checkpoint(pristine, tmp_path):
    """Ctrl-C raised KeyboardInterrupt wherever the loop was (even inside the optimiser step), saved that state as
    checkpoint_last.pt and also left a redundant checkpoint_crash.pt; now it stops at the iteration's end."""
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "adkviewer", "train", "--pairs", str(pristine), "--iterations",
                             "100000", "--ckpt-every", "1", "--batch", "1", "--patch", "8", "--no-calibrate",
                             "--device", "cpu", "--out", str(out)], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint_last.pt").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint"
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "stopping after this iteration" in err and "Traceback" not in err
    done = read_checkpoint(out / "checkpoint_last.pt")["iteration"]
    assert f"stopped at iteration {done}; resume with --resume {out / 'checkpoint_last.pt'}" in err
    assert not (out / "checkpoint_crash.pt").exists()


@pytest.mark.skipif(os.name != "posix", reason="SIGINT is POSIX")
def test_a_second_ctrl_c_aborts_without_overwriting_the_last_consistent_checkpoint(pristine, tmp_path, monkeypatch,
                                                                                  capsys):
    from adk_model.train import Trainer

    step = Trainer.step

    def interrupted_step(self):
        if self.iteration == 3:  # mid-step, after checkpoint 2: Ctrl-C twice
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return step(self)

    monkeypatch.setattr(Trainer, "step", interrupted_step)
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs as a background job (nohup, CI)
    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--iterations", 50, "--ckpt-every", 2, "--batch", 1,
                                 "--patch", 8, "--no-calibrate", "--device", "cpu", "--out", out])
    line = _one_error(code, err)
    assert code == 130 and "aborted at iteration 3" in line and f"--resume {out / 'checkpoint_last.pt'}" in line
    assert read_checkpoint(out / "checkpoint_last.pt")["iteration"] == 2  # not the state caught mid-step
    assert signal.getsignal(signal.SIGINT) == before  # the CLI's handler is gone again, the caller's is back


def test_train_never_overwrites_a_previous_run_in_out(pristine, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--pairs", pristine, "--iterations", 1, "--batch", 1, "--patch", 8, "--no-eval",
            "--device", "cpu", "--out", out]
    code, _, err = _run(capsys, argv)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for extra in ([], ["--calibrate-only"]):
        code, _, err = _run(capsys, argv + extra)
        line = _one_error(code, err)
        assert "already holds a run" in line and f"--resume {out / 'checkpoint_last.pt'}" in line
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    (tmp_path / "afile").write_text("x")
    for bad in (tmp_path / "afile", tmp_path / "afile" / "run"):  # refused before any training, not at its end
        code, _, err = _run(capsys, argv[:-1] + [bad])
        assert "is a file" in _one_error(code, err) and "initialised" not in err

@pytest.mark.parametrize("scale, init", [(4, "shipped"), (3, "scratch")])
def test_train_defaults_are_the_train_tabs(scale, init):
    """The CLI fine-tunes the shipped weights where the scale has some (else trains anew), with the tab's numbers."""
    from adkviewer.cli.args import build_parser
    from adkviewer.cli.train import train_config
    from adkviewer.tabs.train.train_state import TrainSettings
    from adk_model.train import schedule_for
    from adk_model.weights import default_weights

    assert (default_weights(scale) is not None) == (init == "shipped")
    argv = ["train", "--pairs", "somewhere", "--scale", str(scale)]
    cli = train_config(build_parser().parse_args(argv), argv)
    form = {k: v for k, v in vars(schedule_for(init)).items() if k != "patience"}  # the tab's patience follows init
    gui = TrainSettings(pairs="somewhere", scale=scale, init=init, **form).to_config("run")
    assert cli.init == init
    for key in ("init", "iterations", "lr", "batch", "patch", "val_every", "patience", "ckpt_every", "seed", "preset",
                "calibrate_first", "split"):
        assert getattr(cli, key) == getattr(gui, key), key
    assert TrainSettings().iterations == schedule_for("shipped").iterations  # the tab starts fine-tuning
    argv = ["train", "--pairs", "somewhere", "--init", "scratch"]
    cli = train_config(build_parser().parse_args(argv), argv)
    assert (cli.init, cli.iterations, cli.lr) == ("scratch", schedule_for("scratch").iterations,
                                                  schedule_for("scratch").lr)


def test_train_writes_to_the_train_tabs_runs_folder_by_default(pristine, tmp_path, monkeypatch, capsys):
    from adkviewer.tabs.train.train_state import TrainSettings

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = tmp_path / "home" / "adkviewer-runs"
    assert Path(TrainSettings().out_root) == root
    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--iterations", 1, "--batch", 1, "--patch", 8,
                                 "--no-eval", "--device", "cpu"])
    assert code == 0, err
    (run,) = root.iterdir()
    assert run.name.startswith(f"{pristine.name}-x4-") and str(run) in err
    assert run.parent == TrainSettings(pairs=str(pristine)).run_dir().parent
    card = json.loads((run / "adknet_x4_lite.json").read_text())
    assert card["training"]["settings"]["init"] == "shipped"  # fine-tuned by default, like the Train tab
    assert card["training"]["command"].endswith("--init shipped")  # the recorded command still means this
    assert "(the linear part, colour mix and bias, fitted on 3 train pairs)" in err  # the shipped model, as v2


def test_train_split_all_trains_on_every_pair_as_eval_split_all_scores_every_pair(pristine, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _run(capsys, ["train", "--pairs", pristine, "--split", "all", "--iterations", 1, "--batch", 1,
                                 "--patch", 8, "--device", "cpu", "--out", out])
    assert code == 0, err
    training = json.loads((out / "adknet_x4_lite.json").read_text())["training"]
    assert training["train_pairs"] == ["p0", "p1", "p2", "p3", "p4"] and training["val_pairs"] == []


def test_the_train_tab_also_names_the_scale_that_fits(pristine):
    from adkviewer.tabs.train.train_state import SPLIT_FILE, scan_pairs

    assert "their sizes fit x4, not x2: set the scale to 4" in scan_pairs(str(pristine), 2, SPLIT_FILE, 0.2, 0).error
    assert scan_pairs(str(pristine), 4, SPLIT_FILE, 0.2, 0).error is None


def test_recorded_training_commands_name_their_init():
    """Commands in the shipped card and tools/ predate the fine-tune default: they must say --init to reproduce."""
    text = (ROOT / "resources" / "weights" / "adknet_x4_lite.json").read_text()
    for script in sorted((ROOT / "tools").glob("*.sh")):
        text += script.read_text()
    commands = [line for line in text.splitlines() if "adkviewer train" in line and "--pairs" in line]
    # the base model's runs were scratch runs; the shipped v2's calibration names the weights it started from;
    # a resumed ablation's second command continues its checkpoint, which holds its init
    assert commands and all("--init scratch" in line or "--init resources/weights/" in line or "--resume " in line
                            for line in commands)
    assert any("--init scratch" in line for line in commands)



@pytest.mark.parametrize("form", [
    {},                                                           # the tab's start: fine-tune the shipped weights
    {"calibrate_first": False, "split_mode": "fraction", "val_fraction": 0.25, "seed": 3, "lr": 1.5e-4},
    {"init": "scratch", "preset": "paper", "k": 16, "iterations": 40, "device": "cpu", "batch": 2, "patch": 16},
    {"init": "scratch", "model_overrides": {"width": 12}, "scale": 2},
])
def test_the_train_tabs_recorded_command_runs_the_same_config_through_the_cli_parser(form, tmp_path):
    """The command a Train-tab run records (checkpoint, model card) is read back by the CLI's own parser into
    the very config the tab ran, so it cannot drift from the CLI's flags."""
    import shlex

    from adkviewer.cli.args import build_parser
    from adkviewer.cli.train import train_config
    from adkviewer.tabs.train.train_state import TrainSettings

    gui = TrainSettings(pairs=str(tmp_path / "pairs"), **form).to_config(str(tmp_path / "run"))
    words = shlex.split(gui.command, comments=True)
    assert words[:2] == ["adkviewer", "train"]
    argv = words[1:]
    cli = train_config(build_parser().parse_args(argv), argv)
    want, got = gui.to_dict(), cli.to_dict()
    want.pop("command"), got.pop("command")
    assert got == want
