"""Training engine: bit-exact resume, atomic checkpoints, pause/stop, NaN crash checkpoints, calibrate, export."""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import adk_model.atomic as atomic_mod
from core_helpers import TINY, make_pairs, one_thread, perturbed  # noqa: F401 (fixture)
from adk_model.adknet import ADKNet, preset
from adk_model.errors import UserError
from adk_model.calibrate import PRIOR_WEIGHTS
from adk_model.train import (Callbacks, TrainConfig, Trainer, calibrate, load_split_pairs, lr_at, read_checkpoint,
                         validate)
from adk_model.model_card import summarize_card
from adk_model.weights import card_path, load_weights

pytestmark = pytest.mark.usefixtures("one_thread")
K = 3


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    """3 train + 2 val pairs, LR 16 x 20 at x4, LR = colour-shifted box downscale of a smooth HR."""
    return make_pairs(tmp_path_factory.mktemp("pairs"), scale=4, n_train=3, n_val=2, lr_size=(16, 20))


def _cfg(pairs: Path, out: Path, **kw) -> TrainConfig:
    base = dict(pairs=str(pairs), split="val", scale=4, preset="lite", model_overrides=dict(TINY), iterations=2 * K,
                batch=2, patch=8, lr=2e-3, warmup=2, val_every=0, ckpt_every=0, out=str(out), seed=3, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def _state(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in t.model.state_dict().items()}


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _resume(path: str | Path, **kw) -> Trainer:
    t = Trainer(TrainConfig(), **kw)  # everything comes from the checkpoint
    t.setup(resume=str(path))
    return t


# ----------------------------------------------------------------------------- (a) resume determinism


def test_resume_gives_the_same_weights_as_a_straight_run(pairs, tmp_path):
    copies: list[Path] = []

    def keep(path: str) -> None:
        dst = tmp_path / f"copy_{len(copies)}.pt"
        shutil.copy(path, dst)
        copies.append(dst)

    straight = Trainer(_cfg(pairs, tmp_path / "run", ckpt_every=K, val_every=2), Callbacks(on_checkpoint=keep))
    straight.setup()
    straight.run()
    assert straight.finished and straight.iteration == 2 * K and len(copies) == 2
    assert any("val_psnr" in h for h in straight.history)
    final = _state(straight)
    at_k = read_checkpoint(copies[0])
    assert at_k["iteration"] == K
    assert any(not torch.equal(at_k["model"][n], final[n]) for n in final)  # training did change the weights

    resumed = _resume(copies[0])
    # the same run, continued in the folder where its checkpoint now is
    assert resumed.iteration == K and resumed.cfg.out == str(tmp_path.resolve())
    assert replace(resumed.cfg, out=straight.cfg.out) == straight.cfg
    resumed.run()
    assert resumed.finished and resumed.iteration == 2 * K
    _assert_same_state(final, _state(resumed))
    # The optimiser moments continue too, not only the weights.
    for sa, sb in zip(straight.opt.state_dict()["state"].values(), resumed.opt.state_dict()["state"].values()):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])
    assert [h for h in resumed.history if "loss" in h] == [h for h in straight.history if "loss" in h]


def test_a_resumed_copy_of_a_run_writes_into_the_copy_not_the_original(pairs, tmp_path, monkeypatch):
    """A run folder copied (or trained with a relative --out from another directory) and resumed wrote its checkpoints
    and weights into the original folder named in the checkpoint, overwriting that run."""
    monkeypatch.chdir(tmp_path)
    t = Trainer(_cfg(pairs, "run", iterations=K, ckpt_every=K))  # relative, as `--out run` stores it
    t.setup()
    t.run()
    original = (tmp_path / "run" / "checkpoint_last.pt").read_bytes()
    shutil.copytree(tmp_path / "run", tmp_path / "copy")
    more = Trainer(TrainConfig())
    more.setup(resume=str(tmp_path / "copy" / "checkpoint_last.pt"), iterations=K + 2)
    more.run()
    assert more.cfg.out == str((tmp_path / "copy").resolve())
    assert read_checkpoint(tmp_path / "copy" / "checkpoint_last.pt")["iteration"] == K + 2
    assert (tmp_path / "run" / "checkpoint_last.pt").read_bytes() == original


def test_resume_with_no_more_iterations_than_done_is_refused(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=K, ckpt_every=K))
    t.setup()
    ck = t.run()
    with pytest.raises(UserError, match=f"already at iteration {K}: give more than {K}"):
        Trainer(TrainConfig()).setup(resume=ck, iterations=K)


def test_resume_with_a_new_iteration_budget(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=K, ckpt_every=K))
    t.setup()
    ck = t.run()
    assert ck and read_checkpoint(ck)["iteration"] == K
    more = Trainer(TrainConfig())
    more.setup(resume=ck, iterations=K + 2)
    assert more.cfg.iterations == K + 2 and more.iteration == K
    more.run()
    assert more.iteration == K + 2 and more.finished


# ----------------------------------------------------------------------------- (b) atomic checkpoints


def test_checkpoints_are_atomic_and_validated(pairs, tmp_path, monkeypatch):
    out = tmp_path / "run"
    t = Trainer(_cfg(pairs, out, iterations=2, ckpt_every=1))
    t.setup()
    last = Path(t.run())
    assert last == out / "checkpoint_last.pt" and read_checkpoint(last)["iteration"] == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    good = last.read_bytes()

    # A failure in the middle of writing leaves the previous checkpoint intact and no temporary file.
    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        t.save_checkpoint()
    monkeypatch.undo()
    assert last.read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint_last.pt"]

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint" * 50)
    with pytest.raises(UserError, match="garbage.pt"):
        read_checkpoint(garbage)
    other = tmp_path / "other.pt"
    torch.save({"model": {}, "iteration": 3}, other)
    with pytest.raises(UserError, match="not an ADK Viewer checkpoint"):
        read_checkpoint(other)
    with pytest.raises(UserError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(UserError):
        Trainer(TrainConfig()).setup(resume=str(garbage))


# ----------------------------------------------------------------------------- (c) stop and pause


def test_stop_from_a_callback_writes_a_resumable_checkpoint(pairs, tmp_path):
    logs: list[str] = []
    holder: dict[str, Trainer] = {}

    def on_iter(it, loss, lr):
        assert math.isfinite(loss) and lr > 0
        if it == 2:
            holder["t"].request_stop()

    t = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run", iterations=6),
                              Callbacks(on_iter=on_iter, on_log=logs.append))
    t.setup()
    ck = t.run()
    assert t.iteration == 2 and not t.finished
    assert ck == str(tmp_path / "run" / "checkpoint_last.pt")
    assert read_checkpoint(ck)["iteration"] == 2
    assert any("stopped at iteration 2" in m for m in logs)

    fresh = _resume(ck)
    assert fresh.iteration == 2
    fresh.run()
    assert fresh.iteration == 6 and fresh.finished


def test_pause_holds_the_loop_until_resumed_or_stopped(pairs, tmp_path):
    holder: dict[str, Trainer] = {}

    def on_iter(it, loss, lr):
        if it == 2:
            holder["t"].request_pause()

    t = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run", iterations=6), Callbacks(on_iter=on_iter))
    t.setup()
    th = threading.Thread(target=t.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not (t.paused and t.iteration == 2) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert t.paused and t.iteration == 2 and th.is_alive()
    t.request_resume()
    th.join(30)
    assert not th.is_alive() and t.iteration == 6 and t.finished

    # Stop while paused: ends at once with a checkpoint.
    t2 = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run2", iterations=6), Callbacks(on_iter=on_iter))
    t2.setup()
    th = threading.Thread(target=t2.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not t2.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    t2.request_stop()
    th.join(30)
    assert not th.is_alive() and t2.iteration == 2 and not t2.finished
    assert read_checkpoint(t2.checkpoint_path())["iteration"] == 2


def test_time_budget_shrinks_the_iteration_count(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=10_000, batch=1, time_budget_s=1e-6),
                Callbacks(on_log=logs.append))
    t.setup()
    t.run()
    assert t.iteration == t.cfg.iterations == 50 and t.finished
    assert any("budget" in m for m in logs)


# ----------------------------------------------------------------------------- (d) quick calibrate


@pytest.mark.parametrize("linear_taps", [0, 16])
def test_calibrate_recovers_a_global_colour_shift(pairs, linear_taps):
    _, train, _, val = load_split_pairs(TrainConfig(pairs=str(pairs), scale=4))
    torch.manual_seed(0)
    model = ADKNet(preset("lite", **TINY, linear_taps=linear_taps))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    psnr_before = validate(model, val, torch.device("cpu"))[0]["psnr"]
    t0 = time.perf_counter()
    calibrate(model, train, "cpu")
    assert time.perf_counter() - t0 < 10
    psnr_after = validate(model, val, torch.device("cpu"))[0]["psnr"]
    assert psnr_after > psnr_before + 8, (psnr_before, psnr_after)
    assert psnr_after > 33
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # only the closed-form part is re-fitted: the colour head, and the global linear part where there is one
    assert changed == ({"mix", "mix_bias", "linear.weight"} if linear_taps else {"mix", "mix_bias"})
    assert model.training  # training mode restored


def test_calibrated_adknet_is_not_below_least_squares_on_held_out_pairs(pairs):
    """The joint fit holds the lstsq kernel (mix = 0) among its solutions; on pairs too small to cross-validate
    it is the plain ridge fit, so on pairs it did not see it is as good as lstsq."""
    from adk_model.baselines import apply_lstsq, fit_lstsq
    from adk_model.metrics import psnr
    from adk_model.train import predict

    _, train, _, val = load_split_pairs(TrainConfig(pairs=str(pairs), scale=4))
    torch.manual_seed(0)
    model = perturbed(preset("lite", **TINY))  # an adaptive part unrelated to these pairs
    result = calibrate(model, train, "cpu")
    assert result.pairs == 3 and result.rows == 3 * 16 * 20 and result.prior_weight == PRIOR_WEIGHTS[0]
    fit = fit_lstsq(train, 4, taps=16)
    ours = np.mean([psnr(predict(model, hr, torch.device("cpu")), lr) for hr, lr in val])
    theirs = np.mean([psnr(apply_lstsq(fit, hr), lr) for hr, lr in val])
    # both reproduce this linear camera to ~1/200 of a grey level (> 50 dB); on 960 pixels for 772 unknowns the
    # three extra features cost about half a dB of that
    assert ours > 50 and ours >= theirs - 1.0, (ours, theirs)


def test_cross_validation_keeps_a_model_that_is_already_right():
    """Pairs the model reproduces exactly: the fit is pulled all the way to the model's own terms."""
    from adk_model.calibrate import Calibration, PRIOR_WEIGHTS as weights  # noqa: F401
    from adk_model.train import predict

    torch.manual_seed(1)
    model = perturbed(preset("lite", **TINY))
    hrs = [np.random.default_rng(i).random((160, 160, 3)).astype(np.float32) for i in range(4)]  # enough to CV
    pairs = [(hr, predict(model, hr, torch.device("cpu"))) for hr in hrs]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = calibrate(model, pairs, "cpu")
    assert result.prior_weight >= 1.0  # among the strongest pulls: the model was right
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], atol=2e-3, rtol=0)


def test_calibrate_keeps_float64_off_the_device(pairs, monkeypatch):
    """MPS has no float64: every tensor calibrate puts on the model's device stays float32."""
    _, train, _, _ = load_split_pairs(TrainConfig(pairs=str(pairs), scale=4))
    model = ADKNet(preset("lite", **TINY))
    seen = []
    real_to = torch.Tensor.to

    def spy(self, *args, **kw):
        out = real_to(self, *args, **kw)
        if out.dtype == torch.float64 and out.device.type != "cpu":
            seen.append(out.device)
        return out

    monkeypatch.setattr(torch.Tensor, "to", spy)
    calibrate(model, train, "cpu")
    assert not seen and all(p.dtype == torch.float32 for p in model.parameters())


def test_calibrate_without_a_colour_head_is_a_user_error(pairs):
    _, train, _, _ = load_split_pairs(TrainConfig(pairs=str(pairs), scale=4))
    with pytest.raises(UserError, match="colour"):
        calibrate(ADKNet(preset("lite", colour_mix=False, linear_taps=0, **TINY)), train)


# ----------------------------------------------------------------------------- (e) learning-rate schedule


def test_lr_schedule_warmup_then_cosine():
    cfg = TrainConfig(lr=1e-3, warmup=10, iterations=110)
    lrs = [lr_at(cfg, i) for i in range(0, 200)]
    assert all(0 < v <= cfg.lr + 1e-15 for v in lrs)
    np.testing.assert_allclose(lrs[:10], [cfg.lr * (i + 1) / 10 for i in range(10)])
    assert lrs[9] == pytest.approx(cfg.lr) and lrs[10] == pytest.approx(cfg.lr)
    after = lrs[10:111]
    assert all(a >= b for a, b in zip(after, after[1:]))
    assert lrs[60] == pytest.approx(cfg.lr * (0.05 + 0.95 * 0.5))  # half way through the cosine
    assert lrs[110] == pytest.approx(0.05 * cfg.lr) and lrs[199] == pytest.approx(0.05 * cfg.lr)
    assert lr_at(TrainConfig(lr=1e-3, warmup=0, iterations=10), 0) == pytest.approx(1e-3)
    assert lr_at(TrainConfig(lr=1e-3, warmup=5, iterations=3), 4) == pytest.approx(1e-3)


# ----------------------------------------------------------------------------- (f) NaN


def test_nan_loss_raises_and_leaves_a_resumable_crash_checkpoint(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=6))
    t.setup()
    real, calls = t.net, {"n": 0}

    def poisoned(hr):
        calls["n"] += 1
        out = real(hr)
        if calls["n"] > 3:
            out.lr = out.lr * float("nan")
        return out

    t.net = poisoned
    with pytest.raises(FloatingPointError, match="iteration 3"):
        t.run()
    crash = t.checkpoint_path("crash")
    ck = read_checkpoint(crash)
    assert ck["iteration"] == 3
    assert all(torch.isfinite(v).all() for v in ck["model"].values())
    assert not list((tmp_path / "run").glob("*.tmp"))

    fresh = _resume(crash)
    assert fresh.iteration == 3
    fresh.run()
    assert fresh.finished and fresh.iteration == 6
    assert all(torch.isfinite(v).all() for v in fresh.model.state_dict().values())


# ----------------------------------------------------------------------------- (g) export


def test_export_writes_weights_and_a_card_that_load(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=2, val_every=2, command="adkviewer train --test",
                     export="last"))
    t.setup()
    t.run()
    path = t.export(extra_card={"validation": {"pairs": 2}})
    assert path == tmp_path / "run" / "adknet_x4_lite.safetensors" and path.is_file()
    card = json.loads(card_path(path).read_text())
    tr = card["training"]
    assert tr["train_pairs"] == ["p0", "p1", "p2"] and tr["val_pairs"] == ["p3", "p4"]
    assert tr["iterations"] == 2 and tr["command"] == "adkviewer train --test" and tr["split"] == "val"
    assert tr["pairs"] == str(pairs) and "cores" in tr["hardware"] and "CPU" in tr["hardware"]
    assert tr["settings"]["batch"] == 2 and tr["settings"]["model_overrides"] == TINY
    assert "psnr" in tr["best_val"] and tr["exported"] == {"which": "last", "iteration": 2}
    assert card["validation"] == {"pairs": 2} and card["scale"] == 4 and card["config"] == t.model.cfg.to_dict()

    loaded = load_weights(path, expect_scale=4)
    assert loaded.notes == [] and loaded.model.cfg == t.model.cfg
    hr = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        assert torch.equal(loaded.model(hr).lr, t.model.eval()(hr).lr)


def test_an_unreadable_train_pair_is_skipped_and_named(pairs, tmp_path):
    broken = Path(shutil.copytree(pairs, tmp_path / "pairs"))
    (broken / "HR" / "p1.png").write_bytes(b"garbage")
    logs: list[str] = []
    t = Trainer(_cfg(broken, tmp_path / "run", iterations=1), Callbacks(on_log=logs.append))
    t.setup()
    assert [p.name for p in t.train_infos] == ["p0", "p2"] and [p.name for p in t.val_infos] == ["p3", "p4"]
    assert any(m.startswith("skipping p1: unreadable file") for m in logs)
    t.run()
    assert t.finished


def test_training_errors_name_the_setting(pairs, tmp_path):
    with pytest.raises(UserError, match="k=13"):
        Trainer(_cfg(pairs, tmp_path / "run", model_overrides={**TINY, "k": 13})).setup()
    with pytest.raises(UserError, match="depth"):
        Trainer(_cfg(pairs, tmp_path / "run", model_overrides={"depth": 3})).setup()


def test_a_pickle_checkpoint_is_refused_without_running_it(tmp_path):
    from test_weights import _evil_pt

    marker = tmp_path / "pwned"
    evil = _evil_pt(tmp_path / "checkpoint_last.pt", marker)
    with pytest.raises(UserError) as e:
        read_checkpoint(evil)
    assert "checkpoint_last.pt" in str(e.value) and "weights_only" not in str(e.value)
    assert not marker.exists()


def test_fine_tuning_calibrates_the_colour_head_first(pairs, tmp_path):
    """--init WEIGHTS re-fits the colour head on the train pairs before any gradient step (unless turned off)."""
    from adk_model.weights import save_weights

    src = tmp_path / "start.safetensors"
    save_weights(ADKNet(preset("lite", **TINY)), src)
    on = Trainer(_cfg(pairs, tmp_path / "on", init=str(src)))
    on.setup()
    off = Trainer(_cfg(pairs, tmp_path / "off", init=str(src), calibrate_first=False))
    off.setup()
    assert torch.equal(off.model.mix.detach(), torch.eye(3))
    assert not torch.allclose(on.model.mix.detach(), torch.eye(3), atol=1e-3)
    assert validate(on.model, on.val, on.device)[0]["psnr"] > validate(off.model, off.val, off.device)[0]["psnr"]


def test_a_pairs_folder_without_split_json_validates_on_a_seeded_fifth(pairs, tmp_path):
    """Users' own folders rarely have split.json: training still starts, on a seeded 20% validation split."""
    folder = tmp_path / "nosplit"
    shutil.copytree(pairs, folder)
    (folder / "split.json").unlink()
    logs: list[str] = []
    cfg = _cfg(folder, tmp_path / "out")
    train_infos, _, val_infos, _ = load_split_pairs(cfg, logs.append)
    assert len(val_infos) == 1 and len(train_infos) == 4
    assert any("seeded 20%" in m for m in logs)
    again = load_split_pairs(cfg)[2]
    assert [p.name for p in again] == [p.name for p in val_infos]


def test_the_best_validation_weights_are_kept_beside_the_final_ones(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", val_every=2))
    t.setup()
    t.run()
    best = t.best_weights_path()
    assert best.is_file() and t.best["it"] in (0, 2, 4, 6)  # iteration 0, the starting model, is a candidate
    loaded = load_weights(best)
    assert loaded.card["best_val"]["psnr"] == pytest.approx(t.best["psnr"])
    # File → ADK-Net weights lists several runs' best_x4: the card names its run and iteration, and its pairs
    assert loaded.card["name"].startswith(f"best of run (it {t.best['it']}, ")
    assert summarize_card(best).reproduces.startswith(f"the LR images of the pairs in '{pairs.name}' (3 train pairs)")
    assert validate(loaded.model, t.val, t.device)[0]["psnr"] == pytest.approx(t.best["psnr"], abs=1e-4)


def test_a_run_never_hands_back_a_model_worse_than_its_start(pairs, tmp_path):
    """A learning rate that wrecks the model: the start (validated as iteration 0) is what the export holds."""
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", init="scratch", iterations=6, val_every=2, lr=5.0, warmup=1),
                Callbacks(on_log=logs.append))
    t.setup()
    start = validate(t.model, t.val, t.device)[0]["psnr"]
    t.run()
    assert t.history[0]["it"] == 0 and t.history[0]["val_psnr"] == pytest.approx(start)
    assert validate(t.model, t.val, t.device)[0]["psnr"] < start - 1  # the last iteration is worse...
    assert t.best["it"] == 0
    path = t.export()
    card = json.loads(card_path(path).read_text())["training"]["exported"]
    assert card["which"] == "best validated" and card["iteration"] == 0
    assert validate(load_weights(path).model, t.val, t.device)[0]["psnr"] == pytest.approx(start, abs=1e-4)
    assert any("validating the starting model" in m for m in logs)


def test_patience_stops_a_run_whose_validation_no_longer_improves(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", init="scratch", iterations=40, val_every=2, lr=5.0, warmup=1,
                     patience=2), Callbacks(on_log=logs.append))
    t.setup()
    t.run()
    assert t.finished and t.iteration == 4 and t.best["it"] == 0  # validations at 2 and 4 were worse than the start
    assert any("early stop at iteration 4" in m for m in logs)


def test_pairs_smaller_than_the_patch_shrink_the_patch_instead_of_failing(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", patch=64, iterations=1), Callbacks(on_log=logs.append))
    t.setup()
    assert t.cfg.patch == 16  # the tiny pairs' LR is 16 x 20
    assert any("patches shrink from 64 to 16" in m for m in logs)
    t.run()
    assert t.iteration == 1
