"""ADK-Net core, its configuration: presets at every scale, the config's dict/JSON round trip, refused geometry,
halo and FLOPs, and the architecture name (old adknet-v1 weights gaining a linear part)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from core_helpers import one_thread, perturbed, tiny_config  # noqa: F401 (fixture)
from adknet_helpers import S
from adk_model.adknet import ADKNet, ADKNetConfig, PRESETS, count_flops_per_lr_pixel, preset
from adk_model.resample import pad_amount

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- config and presets


def test_presets_construct_and_run():
    for name in ("lite", "paper"):
        cfg = preset(name)
        assert cfg == PRESETS[name]
        model = ADKNet(cfg)
        n = sum(p.numel() for p in model.parameters())
        assert n > 0
        with torch.no_grad():
            assert model(torch.rand(1, 3, 2 * cfg.scale, 3 * cfg.scale)).lr.shape == (1, 3, 2, 3)
    assert sum(p.numel() for p in ADKNet(preset("paper")).parameters()) > sum(
        p.numel() for p in ADKNet(preset("lite")).parameters())


@pytest.mark.parametrize("name", ["lite", "paper"])
@pytest.mark.parametrize("scale", [2, 3, 4, 5, 8])
def test_preset_scale_keeps_the_k_ratio(name, scale):
    base = PRESETS[name]
    cfg = preset(name, scale=scale)
    assert cfg.scale == scale
    ratio = base.k // base.scale
    assert (cfg.k - cfg.scale) % 2 == 0
    assert cfg.k == ratio * scale if (ratio * scale - scale) % 2 == 0 else cfg.k == ratio * scale + 1
    ADKNet(cfg)


def test_preset_explicit_k_wins_and_unknown_preset_is_refused():
    assert preset("lite", scale=2, k=8).k == 8
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")


def test_config_round_trips_through_dict_and_json():
    cfg = tiny_config(scale=2, norm="signed", shared_kernel=True, gain_bias=False)
    assert ADKNetConfig.from_dict(cfg.to_dict()) == cfg
    assert ADKNetConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown config fields"):
        ADKNetConfig.from_dict({**cfg.to_dict(), "depth": 3})


@pytest.mark.parametrize("scale,k", [(4, 13), (4, 2), (3, 8), (1, 3), (0, 4)])
def test_invalid_geometry_raises(scale, k):
    with pytest.raises(ValueError):
        ADKNetConfig(scale=scale, k=k)


def test_invalid_norm_raises():
    with pytest.raises(ValueError, match="norm"):
        ADKNetConfig(norm="l1")


def test_halo_covers_the_receptive_field():
    cfg = tiny_config()
    net = 1 + 2 * (cfg.feat_blocks + cfg.gen_blocks) + 1
    assert cfg.halo == max(net, math.ceil(pad_amount(cfg.scale, cfg.k) / cfg.scale))
    assert preset("lite").halo == 14
    assert preset("paper").halo > preset("lite").halo


def test_flops_are_positive_and_grow_with_the_model():
    lite, paper = preset("lite"), preset("paper")
    for cfg in (lite, paper, tiny_config(), tiny_config(shared_kernel=True)):
        assert count_flops_per_lr_pixel(cfg) > 0
    assert count_flops_per_lr_pixel(paper) > count_flops_per_lr_pixel(lite)
    assert count_flops_per_lr_pixel(tiny_config(k=16)) > count_flops_per_lr_pixel(tiny_config())


def test_old_weights_gain_a_zero_linear_part_that_changes_nothing():
    """adknet-v1 weights (no linear part) still load, and upgrade to adknet-v2 with the very same output."""
    from adk_model.adknet import with_linear_part

    old = perturbed(tiny_config(linear_taps=0))
    assert old.cfg.arch == "adknet-v1" and old.linear is None
    new = with_linear_part(old, 16).eval()
    assert new.cfg.arch == "adknet-v2" and new.cfg.halo >= old.cfg.halo
    hr = torch.rand(1, 3, 6 * S, 7 * S)
    with torch.no_grad():
        assert torch.equal(new(hr).lr, old(hr).lr)


def test_the_arch_name_follows_the_tensors():
    assert tiny_config().arch == "adknet-v2" and tiny_config(linear_taps=0).arch == "adknet-v1"
    with pytest.raises(ValueError, match="does not match"):
        ADKNetConfig.from_dict({**tiny_config().to_dict(), "arch": "adknet-v1"})
    with pytest.raises(ValueError, match="linear_taps"):
        tiny_config(linear_taps=13)  # 13 - 4 is odd: the kernel could not be centred on the HR cell
