"""Training engine, Quick calibrate (the closed-form fit of the colour head and linear part, also run first when
fine-tuning) and the learning-rate schedule."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from core_helpers import TINY, make_pairs, one_thread, perturbed  # noqa: F401 (fixture)
from train_helpers import _cfg, pairs  # noqa: F401,F811 (fixture)
from adk_model.adknet import ADKNet, preset
from adk_model.errors import UserError
from adk_model.calibrate import PRIOR_WEIGHTS
from adk_model.train import TrainConfig, Trainer, calibrate, load_split_pairs, lr_at, validate

pytestmark = pytest.mark.usefixtures("one_thread")


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
    noise = np.random.default_rng(9)  # targets the model already makes, plus noise no linear fit can predict
    pairs = [(hr, predict(model, hr, torch.device("cpu")) + noise.normal(0, 0.05, (40, 40, 3)).astype(np.float32))
             for hr in hrs]
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


def test_a_fit_that_cross_validation_keeps_is_not_called_adopted_even_with_validation_pairs():
    """With a split file the val pairs judge, but a calibration that changed nothing says so (not "adopted")."""
    from adk_model.calibration_check import calibrate_checked
    from adk_model.train import predict

    torch.manual_seed(1)
    model = perturbed(preset("lite", **TINY))
    hrs = [np.random.default_rng(i).random((160, 160, 3)).astype(np.float32) for i in range(5)]
    noise = np.random.default_rng(9)  # targets the model already makes, plus noise no linear fit can predict
    pairs = [(hr, predict(model, hr, torch.device("cpu")) + noise.normal(0, 0.05, (40, 40, 3)).astype(np.float32))
             for hr in hrs]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    check = calibrate_checked(model, pairs[:4], pairs[4:], "cpu")
    assert check.fit.kept and not check.adopted and check.judged_by == "val"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert check.sentence().startswith("Quick calibrate (the linear part, colour mix and bias, fitted on 4 train "
                                       "pairs) found no fit that beats the model as it is when cross-validated")


def test_a_pair_whose_image_proves_truncated_is_left_out_of_the_run_and_named(tmp_path):
    from adk_model.train import Callbacks, Trainer, TrainConfig

    pairs = make_pairs(tmp_path / "pairs", n_train=4, n_val=2)
    f = pairs / "HR" / "p1.png"
    f.write_bytes(f.read_bytes()[:200])  # header intact: the folder scan calls it usable
    logs: list[str] = []
    t = Trainer(TrainConfig(pairs=str(pairs), init="scratch", iterations=1, batch=1, patch=8, device="cpu",
                            out=str(tmp_path / "run")), Callbacks(on_log=logs.append))
    t.setup()
    assert [p.name for p in t.train_infos] == ["p0", "p2", "p3"] and len(t.train_pairs) == 3
    assert set(t.unreadable) == {"p1"} and "truncated" in t.unreadable["p1"]
    assert any(m.startswith("skipping p1: Cannot load image") for m in logs), logs
    for name in ("p0", "p2", "p3"):
        g = pairs / "HR" / f"{name}.png"
        g.write_bytes(g.read_bytes()[:200])
    with pytest.raises(UserError, match="None of the 4 training pairs in .* could be read"):
        Trainer(TrainConfig(pairs=str(pairs), init="scratch", device="cpu", out=str(tmp_path / "run2"))).setup()
