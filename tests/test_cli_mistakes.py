"""One clear 'adkviewer: error:' line (never a traceback) for every user mistake, usage errors and help text, and
the exit codes (0, 1, 2, 3, 130) the help documents."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from adkviewer.cli.entry import main
from core_helpers import one_thread, save_png, smooth_image  # noqa: F401 (fixture)
from cli_helpers import ROOT, _one_error, _run, pairs, pristine, weights  # noqa: F401,F811 (fixtures)
from adk_model.splits import read_split
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def _corrupt(pairs: Path) -> list:
    (pairs / "HR" / "p3.png").write_bytes(b"this is not a png at all")
    return ["eval", "--pairs", pairs, "--methods", "bicubic"]


def _truncated(pairs: Path) -> list:
    f = pairs / "HR" / "p4.png"
    f.write_bytes(f.read_bytes()[: 200])  # header intact, pixel data cut
    return ["eval", "--pairs", pairs, "--methods", "bicubic", "--json"]


def _random_weights(pairs: Path) -> list:
    (pairs / "w.safetensors").write_bytes(os.urandom(4096))
    return ["eval", "--pairs", pairs, "--methods", "adknet", "--weights", pairs / "w.safetensors", "--device", "cpu"]


def _random_weights_downscale(pairs: Path) -> list:
    (pairs / "w.safetensors").write_bytes(os.urandom(4096))
    return ["downscale", pairs / "HR" / "p0.png", "-o", pairs / "o", "--weights", pairs / "w.safetensors",
            "--device", "cpu"]


def _pickle_weights(pairs: Path) -> list:
    torch.save({"a": torch.zeros(1)}, pairs / "w.pt")
    return ["downscale", pairs / "HR" / "p0.png", "-o", pairs / "o", "--weights", pairs / "w.pt", "--device", "cpu"]


def _not_an_image(pairs: Path) -> list:
    (pairs / "x.png").write_text("hello")
    return ["downscale", pairs / "x.png", "-o", pairs / "o", "--method", "bicubic"]


def _no_split(pairs: Path) -> list:
    (pairs / "split.json").unlink()
    return ["eval", "--pairs", pairs, "--split", "val", "--methods", "bicubic"]


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _weights_as(pairs: Path, name: str, make=None) -> list:
    """Downscale with --weights NAME: the file `make` writes, renamed (a folder when there is no `make`)."""
    if make is None:
        (pairs / name).mkdir()
    else:
        Path(make(pairs)[5]).rename(pairs / name)
    return ["downscale", pairs / "HR" / "p0.png", "-o", pairs / "o", "--weights", pairs / name, "--device", "cpu"]


def _no_pairs(pairs: Path) -> list:
    folder = _mkdir(pairs / "loose")
    shutil.copy(pairs / "HR" / "p0.png", folder / "photo.png")
    return ["train", "--pairs", folder, "--out", pairs / "run"]


def _unsplit(pairs: Path) -> Path:
    (pairs / "split.json").unlink()
    return pairs


def _state_dict(pairs: Path) -> Path:
    """The shipped x4 lite weights as a plain PyTorch state dict."""
    torch.save(load_weights(ROOT / "resources" / "weights" / "adknet_x4_lite.safetensors").model.state_dict(),
               pairs / "sd.pt")
    return pairs / "sd.pt"


def _evil_import(pairs: Path) -> list:
    from test_weights import _evil_pt

    _evil_pt(pairs / "evil.pt", pairs / "MARKER")
    return ["import-weights", pairs / "evil.pt", "-o", pairs / "imported.safetensors"]


ERROR_CASES = {
    "missing folder": (lambda p: ["eval", "--pairs", p / "nope", "--methods", "bicubic"], "does not exist"),
    "folder is a file": (lambda p: ["eval", "--pairs", p / "split.json", "--methods", "bicubic"], "is a file"),
    "bad image": (_corrupt, "Pair 'p3' cannot be used: unreadable file"),
    "truncated image": (_truncated, "p4.png"),
    "random weights (eval)": (_random_weights, "w.safetensors"),
    "random weights (downscale)": (_random_weights_downscale, "w.safetensors"),
    "pickle weights": (_pickle_weights, "w.pt"),
    "pickle weights named .bin": (lambda p: _weights_as(p, "w.bin", _pickle_weights), "w.bin is a PyTorch pickle file"),
    "random bytes named .bin": (lambda p: _weights_as(p, "w.bin", _random_weights_downscale),
                                "w.bin is not a readable safetensors weights file"),
    "a folder as weights": (lambda p: _weights_as(p, "wdir"), "wdir is a folder, not a weights file"),
    "not an image": (_not_an_image, "x.png"),
    "missing input": (lambda p: ["downscale", p / "none.png", "-o", p / "o", "--method", "box"], "none.png"),
    "unknown split": (lambda p: ["eval", "--pairs", p, "--split", "nosuch", "--methods", "bicubic"], "nosuch"),
    "no split.json": (_no_split, "split.json"),
    "crop too large": (lambda p: ["eval", "--pairs", p, "--methods", "box", "--crop", "8"], "--crop 8"),
    "lstsq taps": (lambda p: ["fit-lstsq", "--pairs", p, "--taps", "5", "-o", p / "f.safetensors"], "--taps 5"),
    "invalid k": (lambda p: ["train", "--pairs", p, "--init", "scratch", "--k", "13", "--patch", "8",
                             "--device", "cpu", "--out", p / "run"], "k=13"),
    "architecture with fine-tuning": (lambda p: ["train", "--pairs", p, "--k", "16", "--out", p / "run"],
                                      "--init scratch"),
    "init typo": (lambda p: ["train", "--pairs", p, "--init", "shiped", "--out", p / "run"], "--init shiped"),
    "calibrate scratch": (lambda p: ["train", "--pairs", p, "--init", "scratch", "--calibrate-only",
                                     "--out", p / "run"], "--calibrate-only"),
    "split fraction typo": (lambda p: ["train", "--pairs", p, "--init", "scratch", "--split", "fraction:abc",
                                       "--out", p / "run"], "fraction:abc"),
    "train at the wrong scale": (lambda p: ["train", "--pairs", p, "--scale", "2", "--init", "scratch",
                                            "--out", p / "run"], "fit x4, not x2"),
    "empty pairs folder": (lambda p: ["eval", "--pairs", _mkdir(p / "empty"), "--methods", "box"], "no images"),
    "folder without pairs": (_no_pairs, "none named NAME_HR"),
    "no split.json, suggests all": (lambda p: ["fit-lstsq", "--pairs", _unsplit(p), "-o", p / "f.safetensors"],
                                    "--split all"),
    "jpeg output": (lambda p: ["downscale", p / "HR" / "p0.png", "-o", p / "small.jpg", "--method", "box"],
                    "only .png"),
    "one file for many": (lambda p: ["downscale", p / "HR" / "p0.png", p / "HR" / "p1.png", "-o", p / "one.png",
                                     "--method", "box"], "name a folder"),
    "two inputs, one output name": (lambda p: ["downscale", p / "HR" / "p0.png", p / "LR" / "p0.png",
                                               "-o", p / "o", "--method", "box"], "would both be written"),
    "no weights for the scale": (lambda p: ["downscale", p / "HR" / "p0.png", "-o", p / "o", "--scale", "5",
                                            "--device", "cpu"], "No ADK-Net weights for x5"),
    "import to a .pt name": (lambda p: ["import-weights", _state_dict(p), "-o", p / "w2.pt"], "NAME.safetensors"),
    "import over existing weights": (lambda p: ["import-weights", _state_dict(p), "-o", p / "w.safetensors"],
                                     "w.safetensors already exists; pass --overwrite"),
    "fit to a .txt name": (lambda p: ["fit-lstsq", "--pairs", p, "-o", p / "f1.txt"], "NAME.safetensors"),
    "fit over an existing file": (lambda p: ["fit-lstsq", "--pairs", p, "-o", p / "w.safetensors"],
                                  "w.safetensors already exists; pass --overwrite"),
    "import at the wrong scale": (lambda p: ["import-weights", _state_dict(p), "-o", p / "w2.safetensors",
                                             "--scale", "2"], "check --preset and --scale"),
    "missing lstsq fit": (lambda p: ["eval", "--pairs", p, "--methods", "lstsq", "--lstsq-fit", p / "nofit"],
                          "nofit"),
    "missing checkpoint": (lambda p: ["train", "--pairs", p, "--resume", p / "none.pt", "--device", "cpu"], "none.pt"),
    "evil import": (_evil_import, "evil.pt was refused"),
    "wrong scale weights": (lambda p: ["downscale", p / "HR" / "p0.png", "-o", p / "o", "--scale", "2",
                                       "--weights", p / "w.safetensors", "--device", "cpu"], "x4"),
    "wrong scale pairs": (lambda p: ["eval", "--pairs", p, "--scale", "2", "--methods", "box"],
                          "fit x4, not x2: pass --scale 4"),
    "no lstsq fit for the scale": (lambda p: ["downscale", p / "HR" / "p0.png", "-o", p / "o", "--scale", "3",
                                              "--method", "lstsq"], "'adkviewer fit-lstsq'"),
}


def test_eval_names_an_unusable_val_pair_as_the_error_without_first_skipping_it(pairs, capsys):
    """eval printed 'skipping p3: …' and then failed because p3 is in the val split."""
    name = read_split(pairs).val[0]
    lr = next((pairs / "LR").glob(f"{name}.*"))
    lr.write_bytes(b"not an image")
    code, _, err = _run(capsys, ["eval", "--pairs", pairs, "--methods", "box"])
    assert name in _one_error(code, err) and f"skipping {name}" not in err


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_mistakes_give_one_error_line(case, pairs, weights, capsys):
    shutil.copy(weights, pairs / "w.safetensors")
    make_argv, needle = ERROR_CASES[case]
    argv = make_argv(pairs)
    code, out, err = _run(capsys, argv)
    line = _one_error(code, err)
    assert needle in line, line
    if "--json" in argv:
        assert out == ""
    assert not (pairs / "MARKER").exists()
    assert not (pairs / "o").exists() and not (pairs / "run").exists()  # a refused command leaves no folder behind


@pytest.mark.parametrize("argv", [["train", "--pairs", "x", "--iterations", "0"], ["train", "--pairs", "x", "--batch", "0"],
                                  ["downscale", "a.png", "-o", "o", "--scale", "1"], ["eval", "--pairs", "x", "--crop", "-1"],
                                  ["train", "--pairs", "x", "--lr", "0"], ["eval", "--pairs", "x", "--methods", "magic"],
                                  ["train", "--pairs", "x", "--lr", "nan"],
                                  ["train", "--pairs", "x", "--time-budget", "-5"]])
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "Traceback" not in err


@pytest.mark.parametrize("word, needle", [("downscal", "did you mean 'downscale'?"), ("photo", "commands: downscale")])
def test_a_mistyped_command_is_an_error_not_a_gui(word, needle, capsys):
    code, _, err = _run(capsys, [word])
    assert needle in _one_error(code, err)


@pytest.mark.parametrize("cmd", ["downscale", "eval", "train", "fit-lstsq", "import-weights"])
def test_every_option_is_explained_in_help(cmd, capsys):
    """`adkviewer CMD -h` says what each argument is: no bare option a new user has to guess."""
    from adkviewer.cli.args import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[cmd]
    bare = [a.dest for a in sub._actions if not a.help]
    assert bare == []
    if cmd == "train":
        text = sub.format_help()
        assert "--init scratch" in text and "~/adkviewer-runs" in text and "fine-tun" in text


# ----------------------------------------------------------------------------- exit codes


def test_help_documents_the_exit_codes(capsys):
    for argv in (["--help"], ["downscale", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps the epilog
        for code in ("0 ok", "1 some inputs failed", "2 usage error", "3 runtime error", "130 interrupted"):
            assert code in text, text


def test_runtime_errors_exit_3_and_usage_errors_exit_2(tmp_path, capsys):
    """A runtime error (a missing folder, bad weights) returned 2, argparse's usage code, so a script could not
    tell 'fix the command' from 'fix the data'."""
    code, _, err = _run(capsys, ["eval", "--pairs", tmp_path / "no-such-folder", "--methods", "box"])
    _one_error(code, err)
    assert code == 3
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    a = save_png(tmp_path / "a.png", smooth_image(16, 16, seed=1))
    code, _, err = _run(capsys, ["downscale", a, "-o", tmp_path / "o", "--weights", bad, "--device", "cpu"])
    _one_error(code, err)
    assert code == 3
    code, _, err = _run(capsys, ["downscal", a])  # a mistyped command is a usage error
    assert code == 2 and "did you mean 'downscale'?" in err
    with pytest.raises(SystemExit) as e:
        main(["downscale", str(a)])  # no -o
    assert e.value.code == 2


def test_memory_and_os_errors_exit_3(tmp_path, monkeypatch, capsys):
    import adkviewer.cli.entry as entry

    for exc in (MemoryError(), PermissionError(13, "Permission denied", "x.png")):
        def boom(args, argv, exc=exc):
            raise exc
        monkeypatch.setitem(entry.COMMANDS, "downscale", boom)
        code, _, err = _run(capsys, ["downscale", "a.png", "-o", tmp_path])
        _one_error(code, err)
        assert code == 3


def test_a_screenshot_of_an_error_banner_exits_3(tmp_path):
    """'adkviewer missing.png --screenshot x.png' saved a picture of the error and exited 0, so CI passed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1",
               QT_QPA_PLATFORM="offscreen")
    shot = tmp_path / "x.png"
    proc = subprocess.run([sys.executable, "-m", "adkviewer", str(tmp_path / "missing.png"), "--screenshot", str(shot),
                           "--size", "640x400"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "does not exist" in proc.stderr and shot.is_file()  # the picture is still written, to show what went wrong
    from adkviewer.cli.args import EXIT_RUNTIME
    from adkviewer.shell import app

    assert app.EXIT_RUNTIME == EXIT_RUNTIME == 3  # the shell keeps its own copy (it may not import the CLI)


def test_a_screenshot_of_a_view_that_shows_an_error_exits_3(tmp_path):
    """Unreadable weights: the window opens and the ADK-Net view says why it has no result; that picture exited 0."""
    from core_helpers import save_png, smooth_image

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1",
               QT_QPA_PLATFORM="offscreen")
    save_png(tmp_path / "a.png", smooth_image(32, 40))
    (tmp_path / "random.safetensors").write_bytes(os.urandom(4096))
    shot = tmp_path / "x.png"
    proc = subprocess.run([sys.executable, "-m", "adkviewer", str(tmp_path / "a.png"), "--weights",
                           str(tmp_path / "random.safetensors"), "--screenshot", str(shot), "--size", "640x400"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "shows no result: " in proc.stderr and "random.safetensors" in proc.stderr and shot.is_file()
