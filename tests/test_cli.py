"""`adkviewer` subcommands: eval's JSON/table/CSV output and numbers, downscale, train, fit-lstsq, import-weights,
and one clear 'adkviewer: error:' line (never a traceback) for every user mistake."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
import pytest
import torch

from adkviewer.cli.entry import main
from core_helpers import make_pairs, one_thread, perturbed, save_png, smooth_image, tiny_config  # noqa: F401
from adk_model.baselines import apply_lstsq, classical_downscale, fit_lstsq, load_lstsq
from adk_model.data import discover_pairs, load_pair, select
from adk_model.splits import read_split
from adk_model.imageio import load_image, to_uint8
from adk_model.inference import AdkRunner
from adk_model.train import read_checkpoint
from adk_model.metrics import compute_metrics
from adk_model.weights import load_weights, save_weights

pytestmark = pytest.mark.usefixtures("one_thread")
ROOT = Path(__file__).resolve().parent.parent
S = 4


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_pairs(tmp_path_factory.mktemp("pairs"), scale=S, n_train=3, n_val=2, lr_size=(16, 20))


@pytest.fixture
def pairs(pristine, tmp_path) -> Path:
    """A private copy that a test may damage."""
    return Path(shutil.copytree(pristine, tmp_path / "pairs"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return save_weights(perturbed(tiny_config()), tmp_path_factory.mktemp("w") / "tiny.safetensors")


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so the progress bars draw (they are off for logs and pipes)."""

    def isatty(self) -> bool:
        return True


def _run_tty(monkeypatch, argv: list[str]) -> tuple[int, str]:
    err = _Terminal()
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", err)
        code = main([str(a) for a in argv])
    return code, err.getvalue()


def _one_error(code: int, err: str) -> str:
    """A user mistake: non-zero exit, exactly one 'adkviewer: error:' line, and no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("adkviewer: error:")]
    assert code != 0, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _split_pairs(folder: Path, which: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    split = read_split(folder)
    infos = select(discover_pairs(folder, S), split.val if which == "val" else split.train)
    return [(p.name, *load_pair(p, S)) for p in infos]


def _expected(per_pair_outputs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    scores = [compute_metrics(out, lr) for out, lr in per_pair_outputs]
    return {k: float(np.mean([s[k] for s in scores])) for k in ("psnr", "psnr_y", "ssim")}


# ----------------------------------------------------------------------------- eval


def test_eval_json_prints_only_the_documented_object(pristine, capsys):
    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--split", "val", "--methods", "nearest", "bicubic",
                                   "lstsq", "--json", "--device", "cpu"])
    assert code == 0, err
    res = json.loads(out)  # the whole of stdout is one JSON object
    assert set(res) == {"schema", "schema_version", "scale", "pairs", "crop", "convention", "split", "lstsq_fit",
                        "methods", "per_pair", "problems", "notes"}
    assert res["scale"] == S and res["pairs"] == 2 and res["split"] == {"name": "val", "pairs": ["p3", "p4"]}
    assert list(res["methods"]) == ["nearest", "bicubic", "lstsq"]
    assert res["lstsq_fit"] == {"source": "fitted on train split (3 pairs)", "sha256": None}
    assert res["problems"] == {} and res["notes"] == []
    for m in res["methods"].values():
        assert set(m) == {"label", "kind", "psnr", "psnr_y", "ssim", "seconds", "pairs"} and m["kind"] == "builtin"
        assert m["pairs"] == 2
        assert all(isinstance(m[k], float) and np.isfinite(m[k]) for k in ("psnr", "psnr_y", "ssim", "seconds"))

    # The same numbers as adk_model.metrics on the same pairs, with lstsq fitted on the train split.
    val = _split_pairs(pristine, "val")
    fit = fit_lstsq(((hr, lr) for _, hr, lr in _split_pairs(pristine, "train")), S, taps=4 * S)
    for method in ("nearest", "bicubic", "lstsq"):
        outs = [(apply_lstsq(fit, hr) if method == "lstsq" else classical_downscale(hr, S, method), lr)
                for _, hr, lr in val]
        for key, value in _expected(outs).items():
            assert res["methods"][method][key] == pytest.approx(value, rel=1e-9, abs=1e-12), (method, key)
    # lstsq learns the colour shift of these pairs; the classical filters cannot.
    assert res["methods"]["lstsq"]["psnr"] > res["methods"]["bicubic"]["psnr"] + 5


def test_eval_table_and_csv(pristine, capsys):
    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--methods", "nearest", "bicubic", "lstsq",
                                   "--device", "cpu"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"x{S}, 2 pairs.") and "no border crop" in lines[0] and "BT.601" in lines[0]
    assert "PSNR RGB" in lines[1] and "SSIM" in lines[1]
    body = {line.split("  ")[0].strip(): line for line in lines[2:]}
    assert set(body) == {"Nearest", "Bicubic", "Least-squares kernel"}
    assert body["Least-squares kernel"].count("*") >= 3  # best PSNR, PSNR Y and SSIM
    assert "lstsq fitted on the train split (3 pairs)" in err

    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--methods", "bicubic", "box", "--csv", "--crop", "2",
                                   "--device", "cpu"])
    assert code == 0, err
    rows = out.strip().splitlines()
    assert rows[0] == "pair,method,label,kind,psnr,psnr_y,ssim,seconds,pairs,problem"
    assert [r.split(",")[:2] for r in rows[1:]] == [["p3", "bicubic"], ["p3", "box"], ["p4", "bicubic"],
                                                    ["p4", "box"], ["", "bicubic"], ["", "box"]]  # means last
    val = _split_pairs(pristine, "val")
    box = [compute_metrics(classical_downscale(hr, S, "box"), lr, crop=2)["psnr"] for _, hr, lr in val]
    assert [float(rows[i].split(",")[4]) for i in (2, 4, 6)] == pytest.approx([*box, np.mean(box)], abs=1e-4)


def test_eval_of_one_pair_says_1_pair(pristine, tmp_path, capsys):
    """Scoring one pair (a split file naming it) printed 'x4, 1 pairs.'."""
    split = tmp_path / "one.json"
    split.write_text(json.dumps({"scale": S, "train": [], "val": [read_split(pristine).val[0]]}))
    code, out, err = _run(capsys, ["eval", "--pairs", str(pristine), "--split", str(split), "--methods", "bicubic",
                                   "--device", "cpu"])
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"x{S}, 1 pair. ")


def test_eval_and_fit_lstsq_show_progress_on_stderr_only(pristine, tmp_path, capsys, monkeypatch):
    """The default eval fits lstsq on the train split then scores every pair: minutes of silence on real data."""
    monkeypatch.setenv("ADKVIEWER_CACHE_DIR", str(tmp_path / "cache"))  # no fit of these pairs kept yet
    code, err = _run_tty(monkeypatch, ["eval", "--pairs", pristine, "--methods", "box", "lstsq", "--json"])
    out = capsys.readouterr().out
    assert code == 0, err
    assert "fitting lstsq: 100%" in err and "3/3" in err  # the 3 train pairs
    assert "scoring: 100%" in err and "2/2" in err  # the 2 val pairs
    assert json.loads(out)["pairs"] == 2
    code, err = _run_tty(monkeypatch, ["fit-lstsq", "--pairs", pristine, "-o", tmp_path / "fit.safetensors"])
    assert code == 0 and "fitting lstsq: 100%" in err and "3/3" in err
    code, _, err = _run(capsys, ["fit-lstsq", "--pairs", pristine, "-o", tmp_path / "fit.safetensors", "--overwrite"])
    assert code == 0 and "wrote" in err  # replaced only when asked (without --overwrite: one error, ERROR_CASES)


def test_eval_adknet_uses_the_weights_file(pristine, weights, capsys):
    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--methods", "adknet", "bicubic", "--weights", weights,
                                   "--json", "--device", "cpu"])
    assert code == 0, err
    res = json.loads(out)
    runner = AdkRunner(load_weights(weights).model, "cpu")
    outs = [(runner.downscale(hr), lr) for _, hr, lr in _split_pairs(pristine, "val")]
    for key, value in _expected(outs).items():
        assert res["methods"]["adknet"][key] == pytest.approx(value, rel=1e-6)
    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--methods", "adknet", "--weights", weights,
                                   "--device", "cpu"])
    assert code == 0 and "ADK-Net (tiny)" in out


def test_fit_lstsq_file_gives_the_same_numbers_as_the_automatic_fit(pristine, tmp_path, capsys):
    fit_path = tmp_path / "fit.safetensors"
    code, out, err = _run(capsys, ["fit-lstsq", "--pairs", pristine, "--scale", S, "-o", fit_path])
    assert code == 0, err
    fit = load_lstsq(fit_path)
    assert fit.scale == S and fit.taps == 4 * S and "train split (3 pairs)" in fit.fitted_on
    auto = json.loads(_run(capsys, ["eval", "--pairs", pristine, "--methods", "lstsq", "--json", "--device", "cpu"])[1])
    given = json.loads(_run(capsys, ["eval", "--pairs", pristine, "--methods", "lstsq", "--lstsq-fit", fit_path,
                                     "--json", "--device", "cpu"])[1])
    for key in ("psnr", "psnr_y", "ssim"):
        assert given["methods"]["lstsq"][key] == pytest.approx(auto["methods"]["lstsq"][key], rel=1e-6)


def test_an_unreadable_train_pair_does_not_block_eval(pairs, capsys):
    (pairs / "LR" / "p0.png").write_bytes(b"broken")
    code, out, err = _run(capsys, ["eval", "--pairs", pairs, "--methods", "bicubic", "lstsq", "--json",
                                   "--device", "cpu"])
    assert code == 0, err
    assert "adkviewer: skipping p0: unreadable file" in err and "adkviewer: error" not in err
    assert json.loads(out)["pairs"] == 2
    code, out, err = _run(capsys, ["eval", "--pairs", pairs, "--methods", "lstsq", "--device", "cpu"])
    assert "lstsq fitted on the train split (2 pairs)" in err


def test_eval_json_subprocess_smoke(pristine):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "adkviewer", "eval", "--pairs", str(pristine), "--methods", "nearest",
                           "bicubic", "--json", "--device", "cpu"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["pairs"] == 2 and list(res["methods"]) == ["nearest", "bicubic"]
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- downscale


def test_downscale_writes_files_and_refuses_to_overwrite(tmp_path, capsys):
    a = save_png(tmp_path / "in" / "a.png", smooth_image(70, 90, seed=1))  # 90x70: cropped to 88x68
    b = save_png(tmp_path / "in" / "b.png", smooth_image(32, 48, seed=2))
    out = tmp_path / "out" / "nested"  # created on demand
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic", "--scale", S])
    assert code == 0, err
    assert "cropped from 90x70 to 88x68" in err
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a_x4_bicubic.png", "b_x4_bicubic.png"]
    got = load_image(out / "a_x4_bicubic.png").array
    hr = load_image(a).array[:68, :88]
    assert got.shape == (17, 22, 3)
    np.testing.assert_array_equal(np.rint(got * 255), to_uint8(classical_downscale(hr, S, "bicubic")))

    stamp = (out / "a_x4_bicubic.png").stat().st_mtime_ns
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic"])
    line = _one_error(code, err)
    assert "already exists" in line and "--overwrite" in line
    assert (out / "a_x4_bicubic.png").stat().st_mtime_ns == stamp

    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "box", "--overwrite"])
    assert code == 0, err
    code, _, err = _run(capsys, ["downscale", a, b, "-o", out, "--method", "bicubic", "--overwrite"])
    assert code == 0, err


def test_downscale_takes_a_folder_of_images(tmp_path, capsys):
    """A folder on the command line was refused as 'a folder, not an image file': batch work had to glob."""
    save_png(tmp_path / "in" / "b.png", smooth_image(32, 48, seed=2))
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(tmp_path / "in" / "a.jpg")
    (tmp_path / "in" / "notes.txt").write_text("not an image, not read")
    (tmp_path / "in" / "._b.png").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata beside b.png: hidden, skipped
    (tmp_path / "in" / "sub").mkdir()
    code, _, err = _run(capsys, ["downscale", tmp_path / "in", "-o", tmp_path / "out", "--method", "box"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x4_box.png", "b_x4_box.png"]
    code, _, err = _run(capsys, ["downscale", tmp_path / "in" / "sub", "-o", tmp_path / "o2", "--method", "box"])
    assert "is a folder with no images" in _one_error(code, err)


def test_downscale_of_only_bad_files_creates_no_folder(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "out"
    code, _, err = _run(capsys, ["downscale", bad, tmp_path / "missing.png", "-o", out, "--method", "box"])
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("adkviewer: error:")]
    assert len(errors) == 2 and "bad.png" in errors[0] and "missing.png" in errors[1]
    assert "nothing written" in err and not out.exists()

    good = save_png(tmp_path / "good.png", smooth_image(16, 16, seed=4))
    code, _, err = _run(capsys, ["downscale", good, bad, "-o", out, "--method", "box"])
    assert code == 1 and "wrote 1 image to" in err
    assert [p.name for p in out.iterdir()] == ["good_x4_box.png"]


def test_downscale_into_an_unwritable_place_is_one_error_before_any_work(tmp_path, monkeypatch, capsys):
    images = [save_png(tmp_path / "in" / f"{c}.png", smooth_image(16, 16, seed=i)) for i, c in enumerate("abc")]
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked and real_access(p, mode, **kw))
    (tmp_path / "afile").write_text("x")
    for out in (locked, locked / "new", tmp_path / "afile" / "new"):
        code, _, err = _run(capsys, ["downscale", *images, "-o", out, "--method", "box"])
        assert ("cannot write in" if "locked" in str(out) else "is a file") in _one_error(code, err)
        assert list(locked.iterdir()) == []

def test_downscale_adknet_single_file(tmp_path, weights, monkeypatch):
    a = save_png(tmp_path / "a.png", smooth_image(48, 64, seed=3))
    dst = tmp_path / "single" / "small.png"
    code, err = _run_tty(monkeypatch, ["downscale", a, "-o", dst, "--weights", weights, "--device", "cpu",
                                       "--tile-budget-mb", 1])
    assert code == 0, err
    assert f"to {dst}" in err and f"{dst}/" not in err
    assert "a.png:   0%" in err and "tile" in err  # one photo shows its tiles' progress (a 20 MP one: ~1 minute)
    expected = AdkRunner(load_weights(weights).model, "cpu").downscale(load_image(a).array)
    np.testing.assert_array_equal(np.rint(load_image(dst).array * 255), to_uint8(expected))


def _has_bar(err: str) -> bool:
    return "%|" in err or "\r" in err


def test_downscale_progress_is_off_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    """A log file or a pipe filled with '\\r'-redrawn tqdm bars; now they draw only on a terminal."""
    images = [save_png(tmp_path / "in" / f"{c}.png", smooth_image(16, 16, seed=i)) for i, c in enumerate("ab")]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "adkviewer", "downscale", *map(str, images), "-o",
                           str(tmp_path / "piped"), "--method", "box"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not _has_bar(proc.stderr) and "wrote 2 images" in proc.stderr
    code, err = _run_tty(monkeypatch, ["downscale", *images, "-o", tmp_path / "tty", "--method", "box"])
    assert code == 0 and _has_bar(err)  # the same batch on a terminal shows its bar
    code, err = _run_tty(monkeypatch, ["downscale", *images, "-o", tmp_path / "quiet", "--method", "box", "--quiet"])
    assert code == 0 and not _has_bar(err) and "wrote 2 images" in err


def test_quiet_silences_every_progress_bar_on_a_terminal(pristine, tmp_path, weights, monkeypatch, capsys):
    a = save_png(tmp_path / "a.png", smooth_image(48, 64, seed=3))
    code, err = _run_tty(monkeypatch, ["downscale", a, "-o", tmp_path / "a.png.out.png", "--weights", weights,
                                       "--device", "cpu", "--tile-budget-mb", 1, "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["eval", "--pairs", pristine, "--methods", "box", "lstsq", "--json", "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["fit-lstsq", "--pairs", pristine, "-o", tmp_path / "f.safetensors", "-q"])
    assert code == 0 and not _has_bar(err), err
    code, err = _run_tty(monkeypatch, ["train", "--pairs", pristine, "--device", "cpu", "--batch", 1, "--patch", 8,
                                       "--iterations", 2, "--no-eval", "--out", tmp_path / "run", "--quiet"])
    assert code == 0 and not _has_bar(err), err
    assert (tmp_path / "run" / "adknet_x4_lite.safetensors").is_file()


# ----------------------------------------------------------------------------- train


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


# ----------------------------------------------------------------------------- user mistakes


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
