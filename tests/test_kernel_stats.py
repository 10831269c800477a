"""Kernel statistics, the bicubic reference kernel and tiled kernel field maps (model/kernel_stats.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core_helpers import one_thread, perturbed, smooth_image, tiny_config  # noqa: F401  (fixture)
from adk_model.baselines import classical_downscale
from adk_model.inference import AdkRunner
from adk_model.kernel_stats import (FIELD_STATS, bicubic_is_truncated, bicubic_kernel, field_levels,
                                field_maps, field_values, kernel_stats, kernel_stats_field, parse_field_stat)
from adk_model.resample import count_tiles, unfold_patches


def _delta(k: int, r: int, c: int) -> np.ndarray:
    kern = np.zeros((k, k))
    kern[r, c] = 1.0
    return kern


def test_stats_of_hand_made_kernels():
    k = 12
    delta = _delta(k, 2, 9)                      # one tap: 2 rows above-ish, right of centre
    flat = np.full((k, k), 1.0 / k**2)
    signed = np.zeros((k, k))
    signed[5, 5], signed[6, 6], signed[5, 6], signed[6, 5] = 0.5, 0.5, 0.25, -0.25
    st = kernel_stats(np.stack([delta, flat, signed]))
    c = (k - 1) / 2
    assert st["sum"] == pytest.approx([1, 1, 1])
    assert st["dx"][0] == pytest.approx(9 - c) and st["dy"][0] == pytest.approx(2 - c)
    assert st["spread"][0] == pytest.approx(0) and st["entropy"][0] == pytest.approx(0)
    assert st["dx"][1] == pytest.approx(0) and st["dy"][1] == pytest.approx(0)
    # Uniform on a k-grid: variance (k^2-1)/12 per axis.
    assert st["spread"][1] == pytest.approx(math.sqrt(2 * (k * k - 1) / 12))
    assert st["entropy"][1] == pytest.approx(math.log2(k * k))
    assert st["neg_mass"][:2] == pytest.approx([0, 0])
    assert st["neg_mass"][2] == pytest.approx(-0.25)
    # Signed centroid: sum(w * offset) / sum(w).
    off = np.arange(k) - c
    assert st["dx"][2] == pytest.approx((signed * off[None, :]).sum() / signed.sum())
    p = np.abs(signed) / np.abs(signed).sum()
    assert st["entropy"][2] == pytest.approx(-(p[p > 0] * np.log2(p[p > 0])).sum())


def test_vectorised_stats_equal_the_per_pixel_ones():
    g = torch.Generator().manual_seed(0)
    kern = torch.softmax(torch.randn(3, 64, 4, 5, generator=g) * 2, dim=1).view(3, 8, 8, 4, 5)
    kern[2] -= 0.01  # a signed one too
    field = kernel_stats_field(kern)
    for i in range(4):
        for j in range(5):
            one = kernel_stats(kern[:, :, :, i, j].numpy())
            for name, v in one.items():
                np.testing.assert_allclose(field[name][:, i, j].numpy(), v, rtol=1e-5, atol=1e-5, err_msg=name)
    vals = field_values(kern, ["dx_g", "spread_b", "rb_diff"])
    np.testing.assert_allclose(vals[0].numpy(), field["dx"][1].numpy(), atol=1e-6)
    np.testing.assert_allclose(vals[1].numpy(), field["spread"][2].numpy(), atol=1e-6)
    np.testing.assert_allclose(vals[2].numpy(), (kern[0] - kern[2]).abs().sum(dim=(0, 1)).numpy(), atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_kernel_reproduces_pil_bicubic_at_an_interior_pixel(scale):
    k = 16 if scale != 3 else 15  # k - scale must be even; k >= 4 * scale holds PIL's whole support
    assert not bicubic_is_truncated(scale, k)
    hr = smooth_image(24 * scale, 20 * scale, seed=3)
    lr = classical_downscale(hr, scale, "bicubic")
    kern = bicubic_kernel(scale, k)
    assert kern.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kern, kern[::-1, ::-1], atol=1e-12)
    patches = unfold_patches(torch.from_numpy(hr).permute(2, 0, 1)[None], scale, k)[0]  # (3, k*k, h, w)
    for i, j in ((10, 9), (7, 12), (15, 6)):
        mine = (patches[:, :, i, j].double().numpy() * kern.reshape(1, -1)).sum(axis=1)
        np.testing.assert_allclose(mine, lr[i, j], atol=1e-4)


def test_truncated_bicubic_is_renormalised():
    kern = bicubic_kernel(4, 12)
    assert bicubic_is_truncated(4, 12)
    assert kern.shape == (12, 12) and kern.sum() == pytest.approx(1.0)
    st = kernel_stats(kern[None])
    assert st["dx"][0] == pytest.approx(0, abs=1e-12) and st["neg_mass"][0] < 0
    shifted = kernel_stats(bicubic_kernel(4, 16, phase=(0.0, 1.0))[None])
    assert shifted["dx"][0] == pytest.approx(1.0, abs=0.05) and shifted["dy"][0] == pytest.approx(0, abs=1e-12)


def test_field_map_tile_by_tile_equals_the_untiled_forward(one_thread):  # noqa: F811
    cfg = tiny_config(scale=4, k=8)
    model = perturbed(cfg, seed=2)
    runner = AdkRunner(model, "cpu")
    hr = smooth_image(4 * 23, 4 * 19, seed=5)
    with torch.inference_mode():
        kern = model(torch.from_numpy(hr).permute(2, 0, 1)[None], return_terms=True).kernels[0]
    full = kernel_stats_field(kern)
    calls = []
    maps = field_maps(runner, hr, tile=7, progress=lambda d, t, _tile: calls.append((d, t)))
    assert calls[-1] == (len(calls), len(calls)) and len(calls) == count_tiles(23, 19, 7, cfg.halo) > 1
    assert set(maps) == set(FIELD_STATS)
    for key, arr in maps.items():
        if key == "rb_diff":
            ref = (kern[0] - kern[2]).abs().sum(dim=(0, 1))
        else:
            name, ch = key.rsplit("_", 1)
            ref = full[name]["rgb".index(ch)]
        assert arr.shape == (23, 19)
        np.testing.assert_allclose(arr, ref.numpy(), atol=2e-5, err_msg=key)
    # The stats vary across the image: the test is not vacuous.
    assert maps["dx_r"].std() > 1e-3 and maps["rb_diff"].std() > 1e-3
    one = field_maps(runner, hr, ["spread_g"], tile=5)["spread_g"]
    np.testing.assert_allclose(one, maps["spread_g"], atol=2e-5)
    np.testing.assert_allclose(field_maps(runner, hr, ["dy_b"], tile=100)["dy_b"], maps["dy_b"], atol=2e-5)


def test_field_map_cancel_and_names():
    cfg = tiny_config(scale=2, k=4)
    runner = AdkRunner(perturbed(cfg), "cpu")
    hr = smooth_image(32, 32)
    with pytest.raises(InterruptedError):
        field_maps(runner, hr, ["dx_r"], cancelled=lambda: True)
    with pytest.raises(ValueError, match="choose from"):
        field_maps(runner, hr, ["bogus_r"])
    assert parse_field_stat("DX_R") == "dx_r" and parse_field_stat("rb") == "rb_diff"
    with pytest.raises(ValueError):
        parse_field_stat("nope")
    lo, hi = field_levels("dx_r", np.array([-0.2, 0.1, 0.3], np.float32))
    assert lo == -hi and hi > 0
    lo, hi = field_levels("spread_r", np.array([1.0, 2.0, np.nan], np.float32))
    assert 1.0 <= lo < hi <= 2.0


def test_neighbourhood_kernels_agree_with_the_field_map(one_thread):  # noqa: F811
    cfg = tiny_config(scale=4, k=8)
    runner = AdkRunner(perturbed(cfg, seed=4), "cpu")
    hr = smooth_image(4 * 16, 4 * 14, seed=6)
    maps = field_maps(runner, hr, ["dx_b", "spread_r"], tile=6)
    for i, j in ((0, 0), (7, 5), (15, 13)):
        at = runner.neighbourhood(hr, i, j, radius=1).at(i, j)
        st = kernel_stats(at["kernels"].numpy())
        assert st["sum"] == pytest.approx([1, 1, 1], abs=1e-5)
        assert st["dx"][2] == pytest.approx(maps["dx_b"][i, j], abs=2e-5)
        assert st["spread"][0] == pytest.approx(maps["spread_r"][i, j], abs=2e-5)


def test_field_maps_halve_the_tile_on_out_of_memory_like_the_lr_image(one_thread):  # noqa: F811
    """Field maps run in the runner's one tiled loop, so they too retry with smaller tiles when memory runs out."""
    cfg = tiny_config(scale=2, k=4)
    model = perturbed(cfg, seed=3)
    runner = AdkRunner(model, "cpu")
    hr = smooth_image(2 * 40, 2 * 72, seed=1)
    expected = field_maps(runner, hr, ["dx_r", "rb_diff"], tile=64)
    real = model.forward

    def flaky(x, **kw):
        if x.shape[-1] > 2 * 30:  # any tile wider than 30 LR pixels "does not fit"
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
        return real(x, **kw)

    model.forward = flaky
    got = field_maps(runner, hr, ["dx_r", "rb_diff"], tile=64)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], atol=2e-5, err_msg=key)
    assert runner.notes and "retrying with 16-pixel tiles" in runner.notes[-1]
