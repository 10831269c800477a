"""Quick calibrate is never adopted where it lowers validation PSNR (issue 16's walkthrough: on 2 pairs it went from
30.477 to 30.443 dB and was still used), in the engine, `adkviewer train` and its card; small folders are told that
fine-tuning is unreliable, once; a fine-tune's card names the model it started from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import adk_model.train as train_mod
from adkviewer.cli.entry import main
from core_helpers import make_pairs, mismatched_pairs, one_thread  # noqa: F401 (fixture)
from adk_model.calibration_check import FEW_PAIRS, calibrate_checked, few_pairs_note
from adk_model.model_card import card_train_pairs, reproduces, summarize_card
from adk_model.runs import read_run
from adk_model.train import Callbacks, TrainConfig, Trainer, load_split_pairs
from adk_model.train_config import STEP_SETTINGS
from adk_model.weights import default_weights, load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def hurting(tmp_path_factory) -> Path:
    return mismatched_pairs(tmp_path_factory.mktemp("pairs") / "hurting")


@pytest.fixture(scope="module")
def helping(tmp_path_factory) -> Path:
    """Train and val LR share the colour response: calibration fits it."""
    return make_pairs(tmp_path_factory.mktemp("pairs") / "helping", n_train=4, n_val=2, lr_size=(16, 20))


def _shipped() -> torch.nn.Module:
    return load_weights(default_weights(4)).model


def _loaded(folder: Path):
    _, train, _, val = load_split_pairs(TrainConfig(pairs=str(folder), scale=4))
    return train, val


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_calibration_that_lowers_val_psnr_is_not_adopted_and_says_so_with_both_numbers(hurting):
    train, val = _loaded(hurting)
    model = _shipped()
    start = _state(model)
    logged: list[str] = []
    check = calibrate_checked(model, train, val, "cpu", log=logged.append)
    assert check.checked and not check.adopted
    assert check.after["psnr"] < check.before["psnr"] - 0.5, (check.before, check.after)
    assert _same(_state(model), start)  # the model it started from, bit for bit
    assert check.kept_scores == check.before
    b, a = f"{check.before['psnr']:.3f}", f"{check.after['psnr']:.3f}"
    assert check.sentence() == (f"Quick calibrate lowered val PSNR from {b} to {a} dB on 2 val pairs (the linear "
                                f"part, colour mix and bias, fitted on 4 train pairs), so it is not adopted: the "
                                f"model it started from is kept.")
    assert logged == ["quick calibrate: scoring the model on 2 val pairs…",
                      "quick calibrate: fitting the linear part, colour mix and bias on 4 train pairs…"]
    rec = check.record()
    assert rec["adopted"] is False and rec["checked"] is True and rec["sentence"] == check.sentence()
    assert rec["before"] == round(check.before["psnr"], 4) and rec["after"] == round(check.after["psnr"], 4)


def test_a_calibration_that_helps_is_adopted(helping):
    train, val = _loaded(helping)
    model = _shipped()
    start = _state(model)
    check = calibrate_checked(model, train, val, "cpu")
    assert check.adopted and check.after["psnr"] > check.before["psnr"] + 1.0, (check.before, check.after)
    assert not _same(_state(model), start) and check.kept_scores == check.after
    assert check.sentence().startswith(f"Quick calibrate raised val PSNR from {check.before['psnr']:.3f} to "
                                       f"{check.after['psnr']:.3f} dB on 2 val pairs")
    assert check.sentence().endswith(": the calibrated model is adopted.")
    assert check.preview is not None and check.preview.shape == val[0][1].shape


def test_without_validation_pairs_it_says_that_it_could_not_be_checked(hurting):
    train, _ = _loaded(hurting)
    model = _shipped()
    start = _state(model)
    check = calibrate_checked(model, train, [], "cpu")
    assert check.adopted and not check.checked and not _same(_state(model), start)
    assert "could not be checked: there are too few pairs, or too few pixels, to cross-validate it" in check.sentence()
    assert "before" not in check.record() and check.record()["checked"] is False


def _no_split(folder: Path) -> Path:
    (folder / "split.json").unlink()
    return folder


def test_without_a_split_file_every_pair_joins_the_fit_and_cross_validation_judges_it(tmp_path):
    folder = _no_split(make_pairs(tmp_path / "own", n_train=5, n_val=1, lr_size=(32, 40)))
    cfg = TrainConfig(pairs=str(folder), scale=4)
    _, train, _, val = load_split_pairs(cfg)
    assert (len(train), len(val)) == (5, 1)  # the seeded 20%, for the fine-tune's early stopping
    model = _shipped()
    logged: list[str] = []
    check = calibrate_checked(model, train, val, "cpu", log=logged.append, held_out=True)
    assert check.fit.pairs == 6 and check.judged_by == "cv" and check.checked and check.val_pairs == 6
    assert check.adopted and check.after["psnr"] > check.before["psnr"] + 1.0, (check.before, check.after)
    assert check.sentence() == (
        f"Quick calibrate raised cross-validated PSNR from {check.before['psnr']:.3f} to {check.after['psnr']:.3f} "
        f"dB over 6 pairs in 5 folds (the linear part, colour mix and bias, fitted on all 6 pairs): the calibrated "
        f"model is adopted.")
    assert logged == ["quick calibrate: fitting the linear part, colour mix and bias on 6 pairs…"]
    assert not check.by_val and check.preview.shape == val[0][1].shape  # the GUI's preview, not a score
    assert check.record()["judged_by"] == "cv"


def test_cross_validation_keeps_the_model_where_no_fit_beats_it():
    from adk_model.calibrate import KEEP, _Fold, solve_toward

    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(6, 3))
    folds = []
    for _ in range(5):  # the model's own terms are right: a fit can only learn the noise of its folds
        f, x = _Fold(6), rng.normal(size=(400, 6))
        y = x @ w0 + rng.normal(scale=0.1, size=(400, 3))
        f.xtx, f.xty, f.yty, f.rows = x.T @ x, x.T @ y, (y * y).sum(0), 400
        folds.append(f)
    choice = solve_toward(folds, w0)
    assert choice.weight == KEEP and np.array_equal(choice.w, w0) and choice.cv[0] == choice.cv[1]
    biased = [_Fold(6) for _ in range(5)]
    for f, g in zip(biased, folds):  # the same pairs with another response: the data win
        shift = g.xtx @ np.full((6, 3), 0.5)
        f.xtx, f.xty, f.rows = g.xtx, g.xty + shift, g.rows
        f.yty = g.yty + 2 * (g.xty * 0.5).sum(0) + np.einsum("fc,fg,gc->c", np.full((6, 3), .5), g.xtx, np.full((6, 3), .5))
    choice = solve_toward(biased, w0)
    assert choice.weight != KEEP and choice.cv[1] < choice.cv[0]


def test_a_fine_tune_without_a_split_file_starts_from_all_pairs_and_scores_its_start_again(tmp_path):
    folder = _no_split(make_pairs(tmp_path / "own", n_train=5, n_val=1, lr_size=(32, 40)))
    logs: list[str] = []
    t = _trainer(folder, tmp_path / "run", logs)
    t.setup()
    assert t.val_held_out and t.calibration["judged_by"] == "cv" and t.calibration["adopted"]
    assert any("fitted on all 6 pairs" in m for m in logs)
    assert any(m.startswith("the held-out val pairs were part of that fit") for m in logs)
    t.run()
    assert t.history[0]["it"] == 0 and "val_psnr" in t.history[0]  # scored on the val pair, not the CV number
    assert t.history[0]["val_psnr"] != t.calibration["after"]
    card = json.loads(t.export().with_suffix(".json").read_text())
    val = [i.name for i in t.val_infos]
    # the adopted calibration fitted the seeded val pair too: its scores there are not test scores
    assert card["training"]["fitted_pairs"] == sorted(card["training"]["train_pairs"] + val)
    own = set(card_train_pairs(card)) - set(card["training"]["start_model"].get("train_pairs", []))
    assert set(val) <= own and len(own) == 6  # beside the pairs its start (the shipped model) had seen


def test_calibrate_only_without_a_split_file_says_and_records_that_every_pair_joined_the_fit(tmp_path, capsys):
    folder = _no_split(make_pairs(tmp_path / "own", n_train=5, n_val=1, lr_size=(32, 40)))
    code = main(["train", "--pairs", str(folder), "--calibrate-only", "--device", "cpu", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 0, err
    # no line speaks of a seeded validation part: nothing validates a calibration alone
    assert "seeded" not in err and f"no split.json in {folder}: Quick calibrate fits every pair, cross-validated" in err
    assert "calibrating on CPU (1 thread): 6 pairs, cross-validated" in err
    card = json.loads((tmp_path / "c" / "adknet_x4_lite.json").read_text())
    assert card["training"]["train_pairs"] == sorted(card["training"]["train_pairs"]) and len(card["training"]["train_pairs"]) == 6
    assert card["training"]["val_pairs"] == []
    cal = card["calibration"]
    assert cal["judged_by"] == "cv" and cal["cv_pairs"] == 6 and "val_pairs" not in cal
    # no training step: the card holds none of the step settings (a run of 500 iterations stopped at 0, it is not)
    settings = card["training"]["settings"]
    assert settings["init"] == "shipped" and not set(STEP_SETTINGS) & set(settings), settings
    assert card["training"]["exported"] == {"which": "start", "iteration": 0} and card["training"]["seconds"] > 0
    run = read_run(tmp_path / "c")
    assert run.iterations_text == "0" and run.missing == [], (run.iterations_text, run.missing)
    assert run.exported == (f"Quick calibrate: the calibrated model (cross-validated PSNR {cal['before']:.2f} → "
                            f"{cal['after']:.2f} dB)" if cal["adopted"] else
                            f"Quick calibrate: the start, kept unchanged (cross-validated PSNR {cal['before']:.2f} dB)")
    said = [line for line in summarize_card(tmp_path / "c" / "adknet_x4_lite.safetensors").trained_on
            if line.startswith("quick calibrate:")]
    if cal["adopted"]:
        assert said == [f"quick calibrate: cross-validated PSNR {cal['before']:.2f} → {cal['after']:.2f} dB over 6 "
                        f"pairs, adopted"]
    else:
        assert "after" not in cal and said == [f"quick calibrate: cross-validated PSNR {cal['before']:.2f} dB over 6 "
                                               f"pairs; no fit beat the model, so it was kept unchanged"]


def test_a_fine_tune_without_a_split_file_says_its_calibration_fits_every_pair(tmp_path):
    folder = _no_split(make_pairs(tmp_path / "own", n_train=5, n_val=1, lr_size=(32, 40)))
    logs: list[str] = []
    _trainer(folder, tmp_path / "run", logs).setup()
    assert f"no split.json in {folder}: validating on a seeded 20% of the pairs" in logs
    assert any(m.startswith("training on CPU") and
               m.endswith("5 train pairs, 1 val pair (Quick calibrate first fits all 6, cross-validated)")
               for m in logs), logs
    logs.clear()  # the Train tab's Quick calibrate button: the run keeps its split, calibrate fits every pair
    cfg = TrainConfig(pairs=str(folder), init="shipped", calibrate_first=False, out=str(tmp_path / "run2"), device="cpu")
    Trainer(cfg, Callbacks(on_log=logs.append)).setup(calibrate_next=True)
    assert any(m.startswith("calibrating on CPU") and  # not "training": a fine-tune may follow, or may not
               m.endswith("5 train pairs, 1 val pair (Quick calibrate fits all 6, cross-validated)") for m in logs), logs
    assert any(m.startswith("run folder ") and m.endswith("(written once there is something to keep)") for m in logs)


def test_equal_looking_numbers_get_more_decimals():
    from adk_model.calibration_check import _both

    assert _both(30.4771, 30.4769) == ("30.4771", "30.4769")
    assert _both(30.477, 30.443) == ("30.477", "30.443")


def _trainer(pairs: Path, out: Path, logs: list[str], **kw) -> Trainer:
    cfg = TrainConfig(pairs=str(pairs), scale=4, init="shipped", iterations=2, batch=2, patch=8, val_every=2,
                      ckpt_every=0, out=str(out), device="cpu", calibrate_first=True, **kw)
    return Trainer(cfg, Callbacks(on_log=logs.append))


def test_fine_tuning_keeps_its_start_when_calibration_hurts_scores_it_once_and_cards_say_so(hurting, tmp_path,
                                                                                          monkeypatch):
    logs: list[str] = []
    t = _trainer(hurting, tmp_path / "run", logs)
    t.setup()
    assert _same(_state(t.model), _state(_shipped()))  # calibration was tried, and not adopted
    verdict = [m for m in logs if m.startswith("Quick calibrate ")]
    assert len(verdict) == 1 and "so it is not adopted: the model it started from is kept" in verdict[0]
    before = t.calibration["before"]
    scored = []
    orig = train_mod.validate
    monkeypatch.setattr(train_mod, "validate", lambda *a, **k: (scored.append(1), orig(*a, **k))[1])
    t.run()
    assert t.history[0]["it"] == 0 and round(t.history[0]["val_psnr"], 4) == before  # its start, scored once
    assert len(scored) == 1  # iteration 2 only: the start's score was not measured again
    card = json.loads(t.export().with_suffix(".json").read_text())
    assert card["calibration"]["adopted"] is False and card["calibration"]["before"] == before
    assert card["training"]["start_model"]["name"] == "adknet_x4_lite"
    shipped_pairs = set(summarize_card(default_weights(4)).train_pairs)
    assert "Canon_001" in shipped_pairs and set(card["training"]["start_model"]["train_pairs"]) == shipped_pairs
    summary = summarize_card(t.export())
    # the start's pairs count as seen (a fine-tune that hands back its start has seen them), not in the label's count
    assert shipped_pairs < set(summary.train_pairs) and summary.own_pairs == 4
    assert summary.reproduces == ("adknet_x4_lite fine-tuned on the LR images of the pairs in 'hurting' "
                                  "(4 train pairs): their blur and colour")
    assert any("not adopted (the model it started from was kept)" in line for line in summary.trained_on)
    best = summarize_card(t.best_weights_path())  # best_x4 names its start too
    assert best.reproduces.startswith("adknet_x4_lite fine-tuned on the LR images of the pairs in 'hurting'")
    resumed = Trainer(TrainConfig())
    resumed.setup(resume=str(t.checkpoint_path("last")), iterations=3)
    resumed.run()
    card = json.loads(resumed.export().with_suffix(".json").read_text())  # a resumed run's card keeps the verdict
    assert card["calibration"]["adopted"] is False and card["calibration"]["before"] == before


def test_fine_tuning_a_small_folder_says_once_that_it_is_unreliable(hurting, tmp_path):
    logs: list[str] = []
    t = _trainer(hurting, tmp_path / "run", logs)
    t.setup()
    t.run()
    note = few_pairs_note(6, "shipped")  # 4 train and 2 val pairs
    assert note.startswith("Only 6 pairs: fine-tuning on fewer than 20 is unreliable, and Quick calibrate "
                           "alone is usually the better choice")
    assert logs.count(note) == 1 and t.finished  # said, and the run was not blocked
    # what it cites is what bench/RESULTS.md's transfer table prints: at 5 and 10 pairs, fine-tune <= Quick calibrate
    results = (Path(__file__).resolve().parents[1] / "bench" / "RESULTS.md").read_text()
    transfer = results.split("## Transfer to a new camera (bench/transfer.py)")[1].split("\n## ")[0]
    rows = [r.split("|") for r in transfer.splitlines() if r.startswith("| ") and r.split("|")[2].strip() in ("5", "10")]
    assert len(rows) == 4 and all(float(r[8].split()[0]) <= float(r[7].split()[0]) for r in rows)
    assert few_pairs_note(FEW_PAIRS, "shipped") is None and few_pairs_note(4, "scratch") is None


def test_calibrate_only_writes_the_unchanged_start_and_its_card_says_why(hurting, helping, tmp_path, capsys):
    code = main(["train", "--pairs", str(hurting), "--calibrate-only", "--device", "cpu", "--out",
                 str(tmp_path / "cal")])
    err = capsys.readouterr().err
    assert code == 0, err
    written = tmp_path / "cal" / "adknet_x4_lite.safetensors"
    lines = [line for line in err.splitlines() if line.startswith("Quick calibrate ")]
    assert len(lines) == 1 and "so it is not adopted" in lines[0] and "Traceback" not in err
    assert lines[0].endswith(f"Wrote it, unchanged, to {written}")
    assert "fine-tuning on fewer than" not in err  # no fine-tuning here
    assert _same(_state(load_weights(written).model), _state(_shipped()))
    card = json.loads(written.with_suffix(".json").read_text())
    assert card["calibration"]["adopted"] is False
    assert reproduces(card).startswith("adknet_x4_lite, unchanged (quick calibrate on 'hurting' did not beat it "
                                       "on held-out pairs, so it was not adopted): the short-focal-length")

    code = main(["train", "--pairs", str(helping), "--calibrate-only", "--device", "cpu", "--out",
                 str(tmp_path / "cal2")])
    err = capsys.readouterr().err
    assert code == 0 and "the calibrated model is adopted. Wrote the calibrated model to" in err, err
    card = json.loads((tmp_path / "cal2" / "adknet_x4_lite.json").read_text())
    assert card["calibration"]["adopted"] is True and card["calibration"]["after"] > card["calibration"]["before"]
    assert reproduces(card) == ("adknet_x4_lite calibrated to the LR images of the pairs in 'helping' (4 train "
                                "pairs): their colour and blur as far as a global linear part holds them")


def test_cards_without_a_start_model_keep_the_old_sentence():
    card = {"training": {"pairs": "/x/mine", "train_pairs": ["a", "b"], "iterations": 5}}
    assert reproduces(card) == "the LR images of the pairs in 'mine' (2 train pairs): their blur and colour"


def test_calibrate_only_fits_the_same_model_as_the_train_tabs_quick_calibrate(tmp_path, capsys):
    folder = _no_split(make_pairs(tmp_path / "own", n_train=8, n_val=2, lr_size=(32, 40)))
    assert main(["train", "--pairs", str(folder), "--calibrate-only", "--device", "cpu", "--out", str(tmp_path / "c")]) == 0
    cli = load_weights(tmp_path / "c" / "adknet_x4_lite.safetensors").model.state_dict()
    cfg = TrainConfig(pairs=str(folder), init="shipped", calibrate_first=False, out=str(tmp_path / "tab"), device="cpu")
    t = Trainer(cfg)
    t.setup(calibrate_next=True)  # as the Train tab's button sets a run up
    names = [i.name for i in t.train_infos + t.val_infos]
    assert names != sorted(names)  # the seeded val part is not last by name: the order of the fit could differ
    check = calibrate_checked(t.model, t.train_pairs, t.val, "cpu", held_out=t.val_held_out)
    assert check.adopted
    tab = t.model.state_dict()
    assert all(torch.equal(cli[k], tab[k]) for k in tab), "the CLI and the Train tab fitted different models"
