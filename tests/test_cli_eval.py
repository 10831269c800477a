"""`adkviewer eval` and `fit-lstsq`: the JSON/table/CSV output and its numbers, the lstsq fit, progress on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from core_helpers import one_thread  # noqa: F401 (fixture)
from cli_helpers import ROOT, S, _expected, _run, _run_tty, _split_pairs
from cli_helpers import pairs, pristine, weights  # noqa: F401,F811 (fixtures)
from adk_model.baselines import apply_lstsq, classical_downscale, fit_lstsq, load_lstsq
from adk_model.splits import read_split
from adk_model.inference import AdkRunner
from adk_model.metrics import compute_metrics
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


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


def test_a_pair_that_proves_broken_only_when_decoded_is_skipped_as_an_unreadable_one_is(pairs, capsys):
    """`--split all` skips a pair the scan finds broken (a text file named .png) and, the same way, one whose pixel
    data turns out truncated when decoded; either way the others are scored and the exit code is 1."""
    f = pairs / "HR" / "p4.png"
    f.write_bytes(f.read_bytes()[:200])  # the header is intact: the scan cannot tell
    code, out, err = _run(capsys, ["eval", "--pairs", pairs, "--split", "all", "--methods", "bicubic", "--json"])
    assert code == 1, err
    assert "adkviewer: skipping p4: Cannot load image" in err and "truncated" in err and "error" not in err
    assert json.loads(out)["pairs"] == 4
    (pairs / "LR" / "p0.png").write_bytes(b"broken")
    code, out, err = _run(capsys, ["eval", "--pairs", pairs, "--split", "all", "--methods", "bicubic", "--json"])
    assert code == 1 and "adkviewer: skipping p0: unreadable file" in err and json.loads(out)["pairs"] == 3
