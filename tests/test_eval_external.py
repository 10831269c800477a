"""`adkviewer eval` with the user's own results (--external) and several ADK-Net weights (--adknet), and its output
for tools: strict JSON with per-pair values, problems and notes, and CSV with the same keys."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adkviewer.cli.entry import main
from adk_model.data import discover_pairs
from adk_model.weights import default_weights, save_weights
from core_helpers import make_pairs, one_thread, perturbed, tiny_config  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")
S = 4
SCORED = ("psnr", "psnr_y", "ssim")
# 48x64 LR: on 16x20 images the 8-bit rounding of a PNG moves PSNR by up to 0.016 dB; here by < 0.004 dB
LR_SIZE = (48, 64)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_pairs(tmp_path_factory.mktemp("pairs"), scale=S, n_train=3, n_val=2, lr_size=LR_SIZE)


@pytest.fixture(scope="module")
def pil_bicubic(pristine, tmp_path_factory) -> Path:
    """What a person's own script writes: PIL's RGB bicubic resize of each HR, as 8-bit PNG named {stem}_x4_mine."""
    out = tmp_path_factory.mktemp("mine")
    for info in discover_pairs(pristine, S):
        hr = Image.open(info.hr_path).convert("RGB")
        hr.resize((hr.width // S, hr.height // S), Image.BICUBIC).save(out / f"{info.name}_x4_mine.png")
    return out


def _run(capsys, argv: list) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def _strict(text: str) -> dict:
    """json.loads that refuses NaN / Infinity, which json.dumps writes unless told not to."""
    def refuse(token: str):
        raise AssertionError(f"non-strict JSON constant {token}")

    return json.loads(text, parse_constant=refuse)


def _eval_json(capsys, pairs: Path, *extra) -> tuple[int, dict, str]:
    code, out, err = _run(capsys, ["eval", "--pairs", pairs, "--split", "all", "--json", "--device", "cpu", *extra])
    return code, _strict(out), err


def test_pil_bicubic_results_score_as_the_builtin_bicubic_pair_by_pair(pristine, pil_bicubic, capsys):
    code, res, err = _eval_json(capsys, pristine, "--methods", "bicubic",
                                "--external", f"mine={pil_bicubic}/{{stem}}_x4_mine.png")
    assert code == 0, err
    assert list(res["methods"]) == ["bicubic", "ext:mine"]
    mine = res["methods"]["ext:mine"]
    assert (mine["label"], mine["kind"], mine["pattern"]) == ("mine", "external", "{stem}_x4_mine.png")
    assert mine["path"] == str(pil_bicubic.resolve()) and mine["pairs"] == 5 and res["problems"] == {}
    assert res["split"]["pairs"] == ["p0", "p1", "p2", "p3", "p4"]
    for pair, scores in res["per_pair"].items():
        assert abs(scores["ext:mine"]["psnr"] - scores["bicubic"]["psnr"]) < 0.01, pair
    assert abs(mine["psnr"] - res["methods"]["bicubic"]["psnr"]) < 0.01
    # the table labels it with its name
    code, out, err = _run(capsys, ["eval", "--pairs", pristine, "--split", "all", "--methods", "bicubic",
                                   "--external", f"mine={pil_bicubic}/{{stem}}_x4_mine.png", "--device", "cpu"])
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()[2:]] == ["Bicubic", "mine"]
    assert out.splitlines()[3].split()[-1] == "—" and out.splitlines()[2].split()[-1].endswith("*")  # no time


def test_a_missing_or_wrong_size_result_skips_only_that_pair(pristine, pil_bicubic, tmp_path, capsys):
    ext = f"mine={pil_bicubic}/{{stem}}_x4_mine.png"
    code, before, err = _eval_json(capsys, pristine, "--methods", "bicubic", "box", "--external", ext)
    assert code == 0, err
    damaged = Path(shutil.copytree(pil_bicubic, tmp_path / "mine"))
    (damaged / "p1_x4_mine.png").unlink()                               # missing
    Image.new("RGB", (7, 7)).save(damaged / "p3_x4_mine.png")           # wrong size
    code, after, err = _eval_json(capsys, pristine, "--methods", "bicubic", "box",
                                  "--external", f"mine={damaged}/{{stem}}_x4_mine.png")
    assert code == 1  # some inputs failed, the others were scored
    skipped = [ln for ln in err.splitlines() if ln.startswith("adkviewer: skipping mine for ")]
    assert len(skipped) == 2 and "skipping mine for p1: no result in" in skipped[0]
    assert skipped[1].startswith("adkviewer: skipping mine for p3: ") and "7x7" in skipped[1] and "Traceback" not in err
    assert set(after["problems"]) == {"p1", "p3"} and set(after["problems"]["p3"]) == {"ext:mine"}
    for pair in after["split"]["pairs"]:
        for m in ("bicubic", "box") if pair in ("p1", "p3") else ("bicubic", "box", "ext:mine"):
            for key in SCORED:  # every other number is unchanged
                assert after["per_pair"][pair][m][key] == before["per_pair"][pair][m][key], (pair, m, key)
        if pair in ("p1", "p3"):
            assert "ext:mine" not in after["per_pair"][pair]
    mine = after["methods"]["ext:mine"]
    assert mine["pairs"] == 3 and after["methods"]["bicubic"]["pairs"] == 5
    assert mine["psnr"] == pytest.approx(np.mean([before["per_pair"][p]["ext:mine"]["psnr"] for p in ("p0", "p2", "p4")]))
    code, out, _ = _run(capsys, ["eval", "--pairs", pristine, "--split", "all", "--methods", "bicubic",
                                 "--external", f"mine={damaged}/{{stem}}_x4_mine.png", "--device", "cpu"])
    assert code == 1 and "mine (3 pairs)" in out  # the table says over how many pairs its means are


def test_json_is_strict_and_csv_has_the_same_keys_and_values(pristine, pil_bicubic, tmp_path, capsys):
    mine = Path(shutil.copytree(pil_bicubic, tmp_path / "mine"))
    shutil.copy(pristine / "LR" / "p2.png", mine / "p2_x4_mine.png")  # the ground truth itself: PSNR is infinite
    args = ["eval", "--pairs", pristine, "--split", "all", "--methods", "bicubic", "lstsq", "--device", "cpu",
            "--external", f"mine={mine}/{{stem}}_x4_mine.png"]
    code, out, err = _run(capsys, [*args, "--json"])
    assert code == 0, err
    res = _strict(out)
    assert res["per_pair"]["p2"]["ext:mine"]["psnr"] is None and res["per_pair"]["p2"]["ext:mine"]["ssim"] == 1.0
    assert len(res["notes"]) == 2 and "mine: psnr is infinite" in res["notes"][0] and "(p2)" in res["notes"][0]
    others = [res["per_pair"][p]["ext:mine"]["psnr"] for p in ("p0", "p1", "p3", "p4")]
    assert res["methods"]["ext:mine"]["psnr"] == pytest.approx(np.mean(others))  # the mean skips it
    assert res["methods"]["ext:mine"]["pairs"] == 5
    assert res["convention"].startswith("RGB and Y (BT.601) PSNR") and res["crop"] == 0
    shipped_fit = res["lstsq_fit"]["source"]  # --split all: no train split to fit on, so the shipped fit
    assert hashlib.sha256(Path(shipped_fit).read_bytes()).hexdigest() == res["lstsq_fit"]["sha256"]

    code, out, err = _run(capsys, [*args, "--csv"])
    assert code == 0 and "adkviewer: note: mine: psnr is infinite" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    per_pair_keys = {k for scores in res["per_pair"].values() for v in scores.values() for k in v}
    mean_keys = {k for v in res["methods"].values() for k in v if k not in ("path", "pattern", "weights",
                                                                          "card_name", "sha256")}
    assert set(rows[0]) == {"pair", "method", "problem"} | per_pair_keys | mean_keys  # JSON's keys, no others
    assert len(rows) == 5 * 3 + 3
    for r in rows:
        m = res["methods"][r["method"]]
        assert (r["label"], r["kind"]) == (m["label"], m["kind"])
        want = res["per_pair"][r["pair"]][r["method"]] if r["pair"] else m
        for key in SCORED:  # two runs: the same scores (times differ, but are there)
            assert (float(r[key]) if r[key] else None) == (pytest.approx(want[key], abs=1e-4) if want[key] is not None
                                                           else None), (r["pair"], r["method"], key)
        if m["kind"] == "external":  # reading the person's file is not their method's time: none is given
            assert r["seconds"] == "" and want["seconds"] is None
        else:
            assert r["seconds"] != "" and want["seconds"] > 0
        assert r["pairs"] == ("" if r["pair"] else str(m["pairs"]))


def test_two_adknet_weights_side_by_side_labelled_from_their_cards(pristine, tmp_path, capsys):
    shipped = default_weights(S)
    tiny = save_weights(perturbed(tiny_config(scale=S), seed=3), tmp_path / "tiny.safetensors",
                        {"name": "tiny-ft", "training": {"iterations": 12, "train_pairs": ["p0", "p1"]}})
    code, res, err = _eval_json(capsys, pristine, "--methods", "adknet", "bicubic",
                                "--adknet", f"again={shipped}", "--adknet", f"ft={tiny}")
    assert code == 0, err
    assert list(res["methods"]) == ["adknet", "bicubic", "adknet:again", "adknet:ft"]
    main_, again, ft = (res["methods"][k] for k in ("adknet", "adknet:again", "adknet:ft"))
    assert main_["kind"] == again["kind"] == ft["kind"] == "adknet"
    assert main_["weights"] == again["weights"] == str(shipped.resolve()) and main_["sha256"] == again["sha256"]
    assert ft["sha256"] == hashlib.sha256(tiny.read_bytes()).hexdigest() and ft["card_name"] == "tiny-ft"
    assert ft["label"] == "ADK-Net · ft (tiny-ft, 12 it, 2 train pairs)"  # the given name, then the card's
    assert again["label"] == f"ADK-Net · again ({main_['card_name']}, 80 train pairs)"
    for pair, scores in res["per_pair"].items():  # the same file under a second name: the same numbers
        for key in SCORED:
            assert scores["adknet:again"][key] == scores["adknet"][key], (pair, key)
        assert scores["adknet:ft"]["psnr"] != scores["adknet"]["psnr"]
    # its training pairs among those scored are named, so nobody takes them for test scores
    scored = res["split"]["pairs"]
    mine = [p for p in scored if p in ("p0", "p1")]
    assert mine and ft["trained_on_scored_pairs"] == mine and main_["trained_on_scored_pairs"] == []
    assert [n for n in res["notes"] if "not test scores" in n] == [
        f"{ft['label']} was trained on {len(mine)} of the {len(scored)} pairs scored ({', '.join(mine)}): "
        f"its scores there are not test scores."]


def test_a_run_s_best_weights_are_labelled_with_the_iteration_they_are_from(tmp_path):
    from adk_model.model_card import summarize_card
    best = save_weights(perturbed(tiny_config(scale=S), seed=3), tmp_path / "best.safetensors",
                        {"name": "ft", "training": {"iterations": 40, "train_pairs": ["p0"],
                                                    "exported": {"which": "best", "iteration": 0}}})
    assert summarize_card(best).method_label("mine") == "ADK-Net · mine (ft, it 0 of 40, 1 train pair)"


@pytest.mark.parametrize("flag, code, words", [
    (["--external", "mine"], 2, "write NAME=PATH"),
    (["--external", "bicubic=x"], 2, "built-in method's key"),
    (["--external", "a=x", "--external", "a=y"], 2, "Two added methods are named 'a'"),
    (["--external", "mine=NOWHERE"], 3, "does not exist"),
    (["--external", "mine=ONEFILE"], 3, "is one file, but 5 pairs are scored"),
    (["--adknet", "ft=NOWHERE.safetensors"], 3, "does not exist"),
])
def test_bad_added_methods_are_one_sentence(pristine, tmp_path, capsys, flag, code, words):
    flag = [f.replace("NOWHERE", str(tmp_path / "nowhere")).replace("ONEFILE", str(pristine / "LR" / "p0.png"))
            for f in flag]
    got, out, err = _run(capsys, ["eval", "--pairs", pristine, "--split", "all", "--methods", "box", *flag])
    errors = [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")]
    assert got == code and len(errors) == 1 and words in errors[0] and "Traceback" not in err, err
    assert out == ""
