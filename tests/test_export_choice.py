"""What a fine-tune exports: halfway between its start and its best validated iteration (adk_model.export_choice),
the best alone where halfway falls below the start or far below the best, and "best" / "last" when asked."""

from __future__ import annotations

import json

import pytest
import torch

from core_helpers import TINY, one_thread  # noqa: F401 (fixture)
from train_helpers import _cfg, pairs  # noqa: F401,F811 (fixture)
from adk_model.adknet import ADKNet, preset
from adk_model.errors import UserError
from adk_model.export_choice import HALFWAY_MARGIN_DB, choose_export, halfway
from adk_model.train import Trainer, read_checkpoint, validate
from adk_model.weights import card_path, load_weights, save_weights

pytestmark = pytest.mark.usefixtures("one_thread")

START = {"w": torch.zeros(3), "n": torch.tensor([1])}
BEST = {"w": torch.full((3,), 2.0), "n": torch.tensor([5])}


def test_halfway_averages_float_tensors_and_takes_counters_from_the_end():
    mid = halfway(START, BEST)
    assert torch.equal(mid["w"], torch.ones(3)) and torch.equal(mid["n"], torch.tensor([5]))


@pytest.mark.parametrize("mid_psnr, which", [
    (30.8, "halfway"),                                # between the start and the best: halfway is exported
    (29.5, "best validated"),                         # below the start on val: the best instead
    (31.0 - HALFWAY_MARGIN_DB - 0.01, "best validated"),  # far below the best: the fine-tune learned the camera
])
def test_the_halfway_point_is_exported_unless_validation_rules_it_out(mid_psnr, which):
    scored = []
    choice = choose_export("halfway", 300, {"psnr": 31.0, "it": 100}, BEST, (START, 30.0),
                           lambda s: scored.append(s) or mid_psnr)
    assert len(scored) == 1 and torch.equal(scored[0]["w"], torch.ones(3))
    assert choice.which == which and choice.iteration == 100
    if which == "halfway":
        assert torch.equal(choice.state["w"], torch.ones(3)) and choice.val_psnr == mid_psnr
        assert choice.record() == {"which": "halfway", "iteration": 100, "val_psnr": mid_psnr, "note": choice.note}
        assert choice.sentence() == ("halfway between the start (val 30.000 dB) and iteration 100, the best "
                                     "validated (val 31.000 dB), val PSNR 30.800 dB")
    else:
        assert choice.state is BEST and choice.val_psnr == 31.0 and "halfway to it" in choice.note


@pytest.mark.parametrize("asked, best_it, start, which", [
    ("best", 100, (START, 30.0), "best validated"),
    ("halfway", 0, (START, 30.0), "best validated"),   # the start was the best: nothing to average
    ("halfway", 100, None, "best validated"),           # from scratch (or an old checkpoint): no start kept
    ("last", 100, (START, 30.0), "last"),
])
def test_without_a_start_to_average_with_or_when_asked_no_halfway_is_scored(asked, best_it, start, which):
    choice = choose_export(asked, 300, {"psnr": 31.0, "it": best_it}, BEST, start,
                           lambda s: pytest.fail("scored"))
    assert choice.which == which
    assert (choice.state is None) == (which == "last")
    if best_it == 0:
        assert choice.sentence() == "the model it started from (no later iteration beat it on validation)"


def _fine_tune(pairs, out, **kw) -> Trainer:
    src = out.parent / f"{out.name}_start.safetensors"
    save_weights(ADKNet(preset("lite", **TINY)), src)
    # uncalibrated, so that gradient steps have something to gain on these linear pairs
    t = Trainer(_cfg(pairs, out, init=str(src), iterations=6, val_every=2, lr=2e-3, warmup=1, ckpt_every=2,
                     calibrate_first=False, **kw))
    t.setup()
    t.run()
    return t


def test_a_fine_tune_that_gains_a_lot_on_validation_exports_its_best(pairs, tmp_path):
    t = _fine_tune(pairs, tmp_path / "run")
    gain = t.best["psnr"] - t.history[0]["val_psnr"]
    assert t.best["it"] > 0 and gain > 2 * HALFWAY_MARGIN_DB  # the uncalibrated start leaves much to learn
    exported = json.loads(card_path(t.export()).read_text())["training"]["exported"]
    assert exported["which"] == "best validated" and "by more than 0.3 dB" in exported["note"]


def test_a_fine_tune_exports_and_records_the_halfway_point_of_its_start_and_best(pairs, tmp_path, monkeypatch):
    monkeypatch.setattr("adk_model.export_choice.HALFWAY_MARGIN_DB", 100.0)  # this run's gain is far above 0.3 dB
    t = _fine_tune(pairs, tmp_path / "run")
    assert t.start_state is not None and t.best["it"] > 0
    choice = t.export_choice()
    path = t.export()
    exported = json.loads(card_path(path).read_text())["training"]["exported"]
    assert exported["which"] == choice.which == "halfway" and exported["iteration"] == t.best["it"]
    loaded = load_weights(path).model.state_dict()
    for k, v in loaded.items():
        if v.is_floating_point():
            assert torch.allclose(v, (t.start_state[k] + t.best_state[k]) / 2, atol=1e-6), k
    start_psnr = t.history[0]["val_psnr"]
    psnr = validate(load_weights(path).model, t.val, t.device)[0]["psnr"]
    assert psnr == pytest.approx(exported["val_psnr"], abs=1e-4) and psnr >= start_psnr
    best = t.export(tmp_path / "best.safetensors", which="best")
    assert json.loads(card_path(best).read_text())["training"]["exported"]["which"] == "best validated"
    assert validate(load_weights(best).model, t.val, t.device)[0]["psnr"] == pytest.approx(t.best["psnr"], abs=1e-4)


def test_the_start_travels_in_the_checkpoint_and_a_broken_one_is_refused(pairs, tmp_path):
    t = _fine_tune(pairs, tmp_path / "run")
    ckpt_path = t.checkpoint_path("last")
    ckpt = read_checkpoint(ckpt_path)
    assert all(torch.equal(ckpt["start_model"][k], v) for k, v in t.start_state.items())
    ckpt["start_model"] = {k: v * float("nan") for k, v in ckpt["start_model"].items()}
    torch.save(ckpt, ckpt_path)
    with pytest.raises(UserError, match="its starting model is unusable"):
        read_checkpoint(ckpt_path)


def test_training_from_scratch_keeps_no_start_and_exports_the_best(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", init="scratch", iterations=4, val_every=2))
    t.setup()
    t.run()
    assert t.start_state is None and t.exported_which()["which"] == "best validated"


def test_the_runs_list_says_an_export_is_halfway_to_its_best_iteration():
    from adk_model.runs import _exported

    card = {"training": {"exported": {"which": "halfway", "iteration": 100, "val_psnr": 31.0}}}
    assert _exported(card) == "halfway to it 100"
    assert _exported({"training": {"exported": {"which": "best validated", "iteration": 0}}}) == "best (it 0)"
