"""Every device path is float32 (issue 17 item 5): MPS has no float64, so calibration, inference, field maps,
validation and training must make, convert and send none there. Run on a stand-in for MPS (tests/device_spy.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core_helpers import TINY, make_pairs, one_thread, perturbed, tiny_config  # noqa: F401 (fixture)
from device_spy import FAKE, DeviceSpy

pytestmark = pytest.mark.usefixtures("one_thread")


def _pairs(n: int = 3, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.random((48, 64, 3), dtype=np.float32), rng.random((12, 16, 3), dtype=np.float32)) for _ in range(n)]


def test_the_spy_catches_what_mps_refuses():
    """The patterns the earlier calibrate had (a float64 made on the device, a float64 sent there) are caught."""
    with DeviceSpy() as spy:
        on = torch.ones(2, 3).to(FAKE)
        assert on.device == FAKE and (on * 2).device == FAKE and on.cpu().device.type == "cpu"
        on.double().cpu()                                                # converted on the device
        torch.from_numpy(np.zeros(3)).to(FAKE, torch.float32)           # sent as float64
        torch.zeros(3, dtype=torch.float64, device=FAKE)                 # made there
        on.numpy()                                                       # read without .cpu()
    kinds = [p.split(" at ")[0] for p in spy.problems]
    assert kinds == ["a float64 tensor made on the device by double", "a float64 tensor sent to the device",
                     "a float64 tensor made on the device by zeros", "numpy() of a device tensor"]
    assert all("test_devices.py" in p for p in spy.problems)


def test_quick_calibrate_on_mps_sends_no_float64_and_fits_what_the_cpu_fits():
    from adk_model.calibrate import calibrate

    pairs = _pairs()
    on_cpu, on_dev = perturbed(tiny_config()), perturbed(tiny_config())
    calibrate(on_cpu, pairs, device="cpu")
    with DeviceSpy() as spy:
        calibrate(on_dev, pairs, device=FAKE)
    assert spy.sent > 0 and spy.problems == []
    for (name, a), b in zip(on_cpu.state_dict().items(), on_dev.state_dict().values()):
        assert a.dtype == torch.float32 and torch.equal(a, b), name


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_inference_field_maps_and_the_inspector_on_mps_use_no_float64(dtype):
    from adk_model.inference import AdkRunner
    from adk_model.kernel_stats import field_maps

    hr01 = _pairs(1)[0][0]
    top = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1)
    hr = (np.rint(hr01 * top) if top > 1 else hr01).astype(dtype)
    model = perturbed(tiny_config())
    want = AdkRunner(model, "cpu").downscale(hr)
    with DeviceSpy() as spy:
        runner = AdkRunner(model, FAKE)
        got = runner.downscale(hr, tile=8)
        field_maps(runner, hr, ["dx_r", "spread_g"], tile=8)
        runner.neighbourhood(hr, 3, 4, radius=1)
    assert spy.sent > 0 and spy.problems == []
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_fine_tuning_on_mps_calibrates_trains_validates_and_exports_without_float64(tmp_path, monkeypatch):
    import adk_model.train as train_mod
    from adk_model.train import TrainConfig, Trainer

    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=3, n_val=2, lr_size=(16, 20))
    monkeypatch.setattr(train_mod, "resolve_device", lambda name: FAKE)
    cfg = TrainConfig(pairs=str(pairs), split="val", scale=4, preset="lite", model_overrides=dict(TINY),
                      iterations=4, batch=2, patch=8, lr=1e-3, warmup=1, val_every=2, ckpt_every=2,
                      out=str(tmp_path / "run"), seed=0, device="mps", calibrate_first=True)
    with DeviceSpy() as spy:
        t = Trainer(cfg)
        t.setup()
        t.run()
    assert t.device == FAKE and spy.sent > 0 and spy.problems == []
    assert any(Path(tmp_path / "run").glob("*.safetensors"))


# ----------------------------------------------------------------------------- DDP: which backend, which device


def _machine(monkeypatch, gpus: int, mps: bool = False) -> None:
    import adk_model.devices as devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(devices, "mps_available", lambda: mps)


@pytest.mark.parametrize("name, gpus, mps, want", [
    ("auto", 2, False, ("nccl", "cuda:1")),  # rank 1 on its own GPU
    ("cuda", 2, False, ("nccl", "cuda:1")),
    ("auto", 0, True, ("gloo", "cpu")),      # a Mac: not MPS, which gloo cannot reduce
    ("auto", 0, False, ("gloo", "cpu")),
    ("cpu", 2, False, ("gloo", "cpu")),
])
def test_ddp_plan_puts_each_rank_where_its_backend_can_reduce(monkeypatch, name, gpus, mps, want):
    from adk_model.devices import ddp_plan

    _machine(monkeypatch, gpus, mps)
    plan = ddp_plan(name, world=2, local_rank=1)
    assert (plan.backend, str(plan.device)) == want


@pytest.mark.parametrize("name, gpus, mps, needle", [
    ("mps", 0, True, "DDP (torchrun) cannot use MPS"),
    ("cuda:1", 2, False, "use --device cuda (choose the GPUs with CUDA_VISIBLE_DEVICES), not cuda:1"),
    ("cuda", 0, False, "sees no CUDA GPU"),
])
def test_ddp_plan_refuses_in_one_sentence(monkeypatch, name, gpus, mps, needle):
    from adk_model.devices import ddp_plan
    from adk_model.errors import UserError

    _machine(monkeypatch, gpus, mps)
    with pytest.raises(UserError) as e:
        ddp_plan(name, world=2, local_rank=1)
    assert needle in str(e.value) and str(e.value).count(". ") == 0


def test_torchrun_with_mps_is_refused_before_any_process_group(tmp_path, monkeypatch):
    """Trainer.setup under torchrun asks ddp_plan before init_process_group: one sentence, no hanging group."""
    import torch.distributed as dist

    from adk_model.errors import UserError
    from adk_model.train import TrainConfig, Trainer
    from adk_model.train_config import DistInfo

    _machine(monkeypatch, 0, mps=True)
    monkeypatch.setattr(dist, "init_process_group", lambda *a, **k: pytest.fail("a group was started"))
    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=2, n_val=1, lr_size=(8, 8))
    t = Trainer(TrainConfig(pairs=str(pairs), out=str(tmp_path / "run"), device="mps"),
                dist_info=DistInfo(rank=0, world=2, local_rank=0))
    with pytest.raises(UserError, match="cannot use MPS"):
        t.setup()


# ----------------------------------------------------------------------------- --amp bf16


def test_amp_is_cuda_only_in_one_sentence():
    from adk_model.devices import amp_enabled
    from adk_model.errors import UserError

    assert amp_enabled("bf16", torch.device("cuda", 1)) and not amp_enabled("off", torch.device("cpu"))
    for dev in ("cpu", "mps"):
        with pytest.raises(UserError, match=f"--amp bf16 runs only on a CUDA GPU \\(this run is on {dev}\\)"):
            amp_enabled("bf16", torch.device(dev))


@pytest.mark.parametrize("argv", [["downscale", "IMG", "-o", "OUT"],
                                  ["train", "--pairs", "PAIRS", "--out", "RUN", "--iterations", "1"]])
def test_the_cli_refuses_amp_on_the_cpu(argv, tmp_path, capsys):
    from core_helpers import save_png
    from adkviewer.cli import main

    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=2, n_val=1, lr_size=(8, 8))
    img = save_png(tmp_path / "img.png", np.full((32, 32, 3), 0.5))
    fill = {"IMG": str(img), "OUT": str(tmp_path / "out"), "PAIRS": str(pairs), "RUN": str(tmp_path / "run")}
    code = main([fill.get(a, a) for a in argv] + ["--device", "cpu", "--amp", "bf16", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and err[-1] == "adkviewer: error: --amp bf16 runs only on a CUDA GPU (this run is on cpu); leave it off."
    assert not (tmp_path / "out").exists()


def test_the_bf16_code_path_runs_and_stays_near_float32():
    """The autocast path itself, on the CPU's bf16 autocast (the CLI allows it on CUDA only, where its PSNR change
    is to be measured): the output is float32, differs from the float32 run, and only by bf16 rounding."""
    from adk_model.inference import AdkRunner

    hr = _pairs(1)[0][0]
    model = perturbed(tiny_config())
    want = AdkRunner(model, "cpu").downscale(hr)
    runner = AdkRunner(model, "cpu", amp=True)
    seen = []
    got = runner.downscale(hr, tile=8, progress=lambda done, total, t, y: seen.append(y.dtype))
    assert got.dtype == np.float32 and set(seen) == {np.dtype(np.float32)}
    err = np.abs(got - want).max()
    assert 0 < err < 0.05, err


def test_a_training_step_under_bf16_autocast_is_finite_and_moves_the_model(tmp_path):
    from adk_model.train import TrainConfig, Trainer

    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=2, n_val=1, lr_size=(16, 16))
    t = Trainer(TrainConfig(pairs=str(pairs), scale=4, model_overrides=dict(TINY), batch=2, patch=8, warmup=1,
                            out=str(tmp_path / "run"), device="cpu", calibrate_first=False))
    t.setup()
    t.amp = True  # what amp_enabled('bf16', cuda) sets; the CPU's autocast stands in
    before = [p.detach().clone() for p in t.model.parameters()]
    loss = t.step()
    assert np.isfinite(loss) and any(not torch.equal(a, b) for a, b in zip(before, t.model.parameters()))
    assert all(p.dtype == torch.float32 for p in t.model.parameters())
