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
