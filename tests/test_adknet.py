"""ADK-Net core: shapes, kernel normalisation, config, the kernel panel's self-check, tiling and the inspector."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core_helpers import one_thread, perturbed, smooth_image, tiny_config  # noqa: F401 (fixture)
from adk_model import adknet
from adk_model.adknet import ADKNet, ADKNetConfig, PRESETS, count_flops_per_lr_pixel, preset, reconstruct_pixel
from adk_model.inference import AdkRunner
from adk_model.resample import count_tiles, iter_tiles, numpy_reader, pad_amount, run_tiled, unfold_patches

S = 4
pytestmark = pytest.mark.usefixtures("one_thread")


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0).float()


def _forward(model: ADKNet, hr: np.ndarray, terms: bool = True):
    with torch.no_grad():
        return model(_t(hr), return_terms=terms)


# ----------------------------------------------------------------------------- shapes and kernels


def test_output_and_kernel_shapes():
    cfg = tiny_config()
    model = perturbed(cfg)
    hr = torch.rand(2, 3, 5 * S, 7 * S)
    out = model(hr, return_terms=True)
    assert out.lr.shape == (2, 3, 5, 7)
    assert out.kernels.shape == (2, 3, cfg.k, cfg.k, 5, 7)
    assert out.gain.shape == out.bias.shape == out.premix.shape == (2, 3, 5, 7)
    assert out.mix.shape == (3, 3) and out.mix_bias.shape == (3,)
    plain = model(hr)
    assert plain.kernels is None and torch.allclose(plain.lr, out.lr)


def reference_forward(model: ADKNet, hr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The textbook formulation (HR head, pixel_unshuffle, grouped convs, F.unfold): the fast forward's oracle."""
    cfg, s = model.cfg, model.cfg.scale
    b, _, hh, ww = hr.shape
    h, w = hh // s, ww // s
    f = model.to_lr(F.pixel_unshuffle(F.relu(model.head(hr - 0.5)), s))
    o = model.branch(model.trunks(model.gen_in(model.features(f)))).view(b, cfg.generators, model.per_gen, h, w)
    logits, prior = o[:, :, : model.k2], model.prior.view(1, 1, -1, 1, 1)
    if cfg.norm == "softmax":
        kernels = torch.softmax(logits + prior, dim=2)
    else:
        kernels = torch.softmax(prior, dim=2) + logits - logits.mean(dim=2, keepdim=True)
    kernels = kernels.expand(b, 3, model.k2, h, w)
    p = pad_amount(s, cfg.k)
    cols = F.unfold(F.pad(hr, (p, p, p, p), mode="reflect"), cfg.k, stride=s).view(b, 3, model.k2, h, w)
    y = (cols * kernels).sum(dim=2)
    if cfg.gain_bias:
        gb = o[:, :, model.k2 :].reshape(b, cfg.generators, 2, model.cpg, h, w)
        y = (1 + gb[:, :, 0].reshape(b, 3, h, w)) * y + gb[:, :, 1].reshape(b, 3, h, w)
    if model.mix is not None:
        y = torch.einsum("cd,bdhw->bchw", model.mix, y) + model.mix_bias.view(1, 3, 1, 1)
    if cfg.linear_taps:  # the global linear part: every HR channel's taps into every LR channel, as lstsq
        t, q = cfg.linear_taps, pad_amount(s, cfg.linear_taps)
        taps = F.unfold(F.pad(hr, (q, q, q, q), mode="reflect"), t, stride=s)  # (b, 3*t*t, h*w)
        y = y + (model.linear.weight.reshape(3, -1) @ taps).view(b, 3, h, w)
    return y, kernels.reshape(b, 3, cfg.k, cfg.k, h, w)


@pytest.mark.parametrize("overrides", [
    {}, {"norm": "signed"}, {"shared_kernel": True}, {"shared_kernel": True, "norm": "signed"},
    {"gain_bias": False, "colour_mix": False, "linear_taps": 0}, {"linear_taps": 0}, {"scale": 2}, {"scale": 3},
    {"scale": 3, "shared_kernel": True},
])
def test_forward_equals_the_textbook_formulation(overrides):
    cfg = tiny_config(**overrides)
    s = cfg.scale
    model = perturbed(cfg)
    hr = torch.rand(2, 3, 7 * s, 5 * s)
    with torch.no_grad():
        out = model(hr, return_terms=True)
        ref_lr, ref_kernels = reference_forward(model, hr)
    torch.testing.assert_close(out.lr, ref_lr, atol=2e-6, rtol=0)
    torch.testing.assert_close(out.kernels, ref_kernels, atol=2e-6, rtol=0)


@pytest.mark.parametrize("band", [1, 12, 25])
def test_row_bands_of_the_kernel_stage_change_nothing(monkeypatch, band):
    cfg = tiny_config()
    model = perturbed(cfg)
    hr = torch.rand(2, 3, 7 * S, 5 * S)
    with torch.no_grad():
        whole = model(hr, return_terms=True)
        monkeypatch.setattr(adknet, "BAND_PIXELS_CPU", band)  # 2 images x 5 columns: bands of 1, 1 and 2 rows
        banded = model(hr, return_terms=True)
    for name in ("lr", "kernels", "gain", "bias", "premix"):
        torch.testing.assert_close(getattr(banded, name), getattr(whole, name), atol=1e-6, rtol=0)


def test_forward_equals_the_textbook_formulation_with_the_shipped_weights():
    from adk_model.weights import default_weights, load_weights

    model = load_weights(default_weights(4)).model.eval()
    hr = torch.from_numpy(smooth_image(96, 80, seed=3)).permute(2, 0, 1)[None]
    with torch.no_grad():
        torch.testing.assert_close(model(hr).lr, reference_forward(model, hr)[0], atol=2e-6, rtol=0)


def test_forward_gradients_equal_the_textbook_formulation():
    model = perturbed(tiny_config()).train()
    hr = torch.rand(1, 3, 6 * S, 6 * S)
    model(hr).lr.square().sum().backward()
    fast = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    reference_forward(model, hr)[0].square().sum().backward()
    for a, p in zip(fast, model.parameters()):
        torch.testing.assert_close(a, p.grad, atol=1e-5, rtol=1e-4)


def test_hr_not_a_multiple_of_the_scale_is_refused():
    with pytest.raises(ValueError, match="multiple"):
        ADKNet(tiny_config())(torch.rand(1, 3, 4 * S + 1, 4 * S))


def test_softmax_kernels_are_nonnegative_and_sum_to_one():
    out = perturbed(tiny_config())(torch.rand(1, 3, 6 * S, 6 * S), return_terms=True)
    k = out.kernels
    assert (k >= 0).all()
    torch.testing.assert_close(k.sum(dim=(2, 3)), torch.ones(1, 3, 6, 6), atol=1e-5, rtol=0)
    # Perturbed kernels really vary per pixel and per channel (so the tests below are not vacuous).
    assert (k[0, 0] - k[0, 1]).abs().max() > 1e-3
    assert (k[0, 0, :, :, 0, 0] - k[0, 0, :, :, 3, 3]).abs().max() > 1e-3


def test_signed_kernels_sum_to_one():
    out = perturbed(tiny_config(norm="signed"))(torch.rand(1, 3, 6 * S, 6 * S), return_terms=True)
    sums = out.kernels.sum(dim=(2, 3))
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=1e-5, rtol=0)
    assert (out.kernels < 0).any()  # signed really means signed


@pytest.mark.parametrize("norm", ["softmax", "signed"])
def test_shared_kernel_is_identical_across_channels(norm):
    cfg = tiny_config(shared_kernel=True, norm=norm)
    assert cfg.generators == 1
    out = perturbed(cfg)(torch.rand(1, 3, 5 * S, 6 * S), return_terms=True)
    k = out.kernels
    assert k.shape == (1, 3, cfg.k, cfg.k, 5, 6)
    assert torch.equal(k[:, 0], k[:, 1]) and torch.equal(k[:, 1], k[:, 2])
    assert out.gain.shape == (1, 3, 5, 6)  # gain/bias stay per channel
    assert (out.gain[:, 0] - out.gain[:, 1]).abs().max() > 0


def test_no_gain_bias_no_mix_is_the_pure_kernel_sum():
    cfg = tiny_config(gain_bias=False, colour_mix=False, linear_taps=0)
    model = perturbed(cfg)
    hr = torch.rand(1, 3, 4 * S, 5 * S)
    out = model(hr, return_terms=True)
    assert out.gain is None and out.bias is None and out.mix is None
    patches = unfold_patches(hr, S, cfg.k)
    ref = (patches * out.kernels.reshape(1, 3, cfg.k * cfg.k, 4, 5)).sum(dim=2)
    torch.testing.assert_close(out.lr, ref, atol=1e-5, rtol=0)
    assert out.linear is None and out.linear_kernel is None


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


# ----------------------------------------------------------------------------- the kernel panel's self-check


@pytest.mark.parametrize("overrides", [{}, {"norm": "signed"}, {"shared_kernel": True},
                                       {"gain_bias": False, "colour_mix": False, "linear_taps": 0}])
def test_reconstruct_pixel_reproduces_the_output(overrides):
    cfg = tiny_config(**overrides)
    model = perturbed(cfg)
    hr = smooth_image(6 * S, 7 * S, seed=1)
    out = _forward(model, hr)
    patches = unfold_patches(_t(hr), S, cfg.k)[0]
    t = cfg.linear_taps
    lin = unfold_patches(_t(hr), S, t)[0] if t else None
    for i, j in [(0, 0), (0, 6), (5, 0), (5, 6), (2, 3)]:
        y = reconstruct_pixel(out, patches[:, :, i, j].reshape(3, cfg.k, cfg.k), i, j,
                              None if lin is None else lin[:, :, i, j].reshape(3, t, t))
        torch.testing.assert_close(y, out.lr[0, :, i, j], atol=1e-5, rtol=0)


# ----------------------------------------------------------------------------- tiling


def _tiled(model: ADKNet, hr: np.ndarray, tile: int, halo: int) -> torch.Tensor:
    s = model.cfg.scale

    def fn(x):
        with torch.no_grad():
            return model(x).lr

    return run_tiled(fn, numpy_reader(hr, s), (hr.shape[0] // s, hr.shape[1] // s), tile, halo)


@pytest.mark.parametrize("overrides", [{}, {"norm": "signed", "shared_kernel": True}])
def test_tiled_equals_untiled_tiny(overrides):
    cfg = tiny_config(**overrides)
    model = perturbed(cfg)
    hr = smooth_image(23 * S, 17 * S, seed=2)  # 23 x 17 LR: not a multiple of the tile
    ref = _forward(model, hr, terms=False).lr
    out = _tiled(model, hr, tile=5, halo=cfg.halo)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)  # every pixel, borders included


def test_tiled_equals_untiled_lite_default():
    cfg = preset("lite")
    model = perturbed(cfg)
    hr = smooth_image(64, 96, seed=3)
    ref = _forward(model, hr, terms=False).lr
    out = _tiled(model, hr, tile=5, halo=cfg.halo)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_uint8_tiles_equal_float_forward():
    cfg = tiny_config()
    model = perturbed(cfg)
    hr8 = (np.random.default_rng(4).random((13 * S, 11 * S, 3)) * 255).astype(np.uint8)
    ref = _forward(model, hr8.astype(np.float32) / 255, terms=False).lr
    torch.testing.assert_close(_tiled(model, hr8, tile=4, halo=cfg.halo), ref, atol=1e-5, rtol=0)


def test_too_small_a_halo_is_detected():
    """The tiling test is sensitive: without enough context the tiles disagree with the whole image."""
    cfg = tiny_config()
    model = perturbed(cfg)
    hr = smooth_image(23 * S, 17 * S, seed=2)
    ref = _forward(model, hr, terms=False).lr
    # The halo is tight: one pixel less already changes the output (by ~1e-5 here, against ~2e-7 of float noise).
    for halo in range(cfg.halo):
        err = (_tiled(model, hr, tile=5, halo=halo) - ref).abs().max().item()
        assert err > 2e-6, f"halo {halo} should not be enough (error {err})"
    assert (_tiled(model, hr, tile=5, halo=cfg.halo) - ref).abs().max().item() < 2e-6


@pytest.mark.parametrize("h, w, tile, halo", [(23, 17, 5, 3), (707, 1060, 352, 14), (40, 9, 1, 2), (10, 10, 50, 4)])
def test_iter_tiles_covers_every_pixel_once_with_equal_reads(h, w, tile, halo):
    seen = np.zeros((h, w), int)
    tiles = list(iter_tiles(h, w, tile, halo))
    for t in tiles:
        seen[t.out_y0:t.out_y1, t.out_x0:t.out_x1] += 1
        # every output pixel has `halo` pixels of context on each side, or the image border
        assert t.out_y0 - t.in_y0 >= halo or t.in_y0 == 0
        assert t.in_y1 - t.out_y1 >= halo or t.in_y1 == h
        assert t.out_x0 - t.in_x0 >= halo or t.in_x0 == 0
        assert t.in_x1 - t.out_x1 >= halo or t.in_x1 == w
        assert 0 <= t.in_y0 and t.in_y1 <= h and 0 <= t.in_x0 and t.in_x1 <= w
    assert (seen == 1).all() and len(tiles) == count_tiles(h, w, tile, halo)
    # one read shape for the whole image, within the tile's size: the allocator sees the same tile again and again
    shapes = {(t.in_y1 - t.in_y0, t.in_x1 - t.in_x0) for t in tiles}
    assert len(shapes) == 1 and max(shapes.pop()) <= tile + 2 * halo


def test_tiles_are_the_fewest_reads_that_fit_and_no_longer_than_needed():
    # 12 MP at x4 with the default CPU tile: 2 x 3 reads, where a plain 352-px grid needs 3 x 4 with slivers at the
    # edges; the two row reads are 368 long (not the full 380), their overlap just the two halos
    assert count_tiles(707, 1060, 352, 14) == 6
    rows = {(t.in_y0, t.in_y1) for t in iter_tiles(707, 1060, 352, 14)}
    assert sorted(rows) == [(0, 368), (339, 707)]


# ----------------------------------------------------------------------------- AdkRunner


def test_runner_downscale_equals_untiled_forward():
    cfg = tiny_config()
    model = perturbed(cfg)
    hr = smooth_image(23 * S + 3, 17 * S + 2, seed=5)  # not a multiple of s: cropped, top-left kept
    crop = hr[: 23 * S, : 17 * S]
    ref = _forward(model, crop, terms=False).lr.clamp(0, 1)[0].permute(1, 2, 0).numpy()
    runner = AdkRunner(model, "cpu")
    tiles = []
    out = runner.downscale(hr, tile=5, progress=lambda done, total, t, y: tiles.append((done, total, y.shape)))
    assert out.shape == (23, 17, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)
    n = count_tiles(23, 17, 5, cfg.halo)
    assert n > 1 and len(tiles) == tiles[0][1] == n and tiles[-1][0] == n
    # Default tile from the memory budget, and a tiny budget (many tiles): same result.
    np.testing.assert_allclose(runner.downscale(hr), ref, atol=1e-5, rtol=0)
    small = AdkRunner(model, "cpu", budget_bytes=1)
    assert small.tile_size() == 16
    np.testing.assert_allclose(small.downscale(hr), ref, atol=1e-5, rtol=0)


def test_runner_downscale_can_be_cancelled():
    runner = AdkRunner(perturbed(tiny_config()), "cpu")
    with pytest.raises(InterruptedError):
        runner.downscale(smooth_image(8 * S, 8 * S), tile=4, cancelled=lambda: True)


@pytest.mark.parametrize("overrides", [{}, {"shared_kernel": True, "norm": "signed"}])
def test_neighbourhood_matches_the_full_forward(overrides):
    cfg = tiny_config(**overrides)
    model = perturbed(cfg)
    h, w = 19, 23
    hr = smooth_image(h * S, w * S, seed=6)
    full = _forward(model, hr)
    full_patches = unfold_patches(_t(hr), S, cfg.k)[0]
    runner = AdkRunner(model, "cpu")
    p = pad_amount(S, cfg.k)
    pixels = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (0, 11), (9, 0), (h - 1, 12), (7, w - 1), (9, 11)]
    for i, j in pixels:
        for radius in (0, 2):
            nb = runner.neighbourhood(hr, i, j, radius=radius)
            assert (nb.y0, nb.x0) == (max(0, i - radius), max(0, j - radius))
            assert nb.hr_origin == (nb.y0 * S - p, nb.x0 * S - p)
            for a in range(max(0, i - radius), min(h, i + radius + 1)):
                for b in range(max(0, j - radius), min(w, j + radius + 1)):
                    got = nb.at(a, b)
                    torch.testing.assert_close(got["kernels"], full.kernels[0, :, :, :, a, b], atol=1e-5, rtol=0)
                    torch.testing.assert_close(got["gain"], full.gain[0, :, a, b], atol=1e-5, rtol=0)
                    torch.testing.assert_close(got["bias"], full.bias[0, :, a, b], atol=1e-5, rtol=0)
                    torch.testing.assert_close(got["output"], full.lr[0, :, a, b], atol=1e-5, rtol=0)
                    torch.testing.assert_close(got["mix"], full.mix)
                    torch.testing.assert_close(got["mix_bias"], full.mix_bias)
                    torch.testing.assert_close(got["patch"],
                                               full_patches[:, :, a, b].reshape(3, cfg.k, cfg.k), atol=0, rtol=0)
                    # The panel's self-check: patch and terms give back the output pixel.
                    y = (got["kernels"] * got["patch"]).sum(dim=(1, 2))
                    y = (1 + got["gain"]) * y + got["bias"]
                    y = got["mix"] @ y + got["mix_bias"]
                    if cfg.linear_taps:  # plus the global linear kernel over its own (wider) HR patch
                        t = cfg.linear_taps
                        torch.testing.assert_close(got["linear_patch"], unfold_patches(_t(hr), S, t)[0][:, :, a, b]
                                                   .reshape(3, t, t), atol=0, rtol=0)
                        y = y + (got["linear_kernel"] * got["linear_patch"][None]).sum(dim=(1, 2, 3))
                        torch.testing.assert_close(got["linear"], full.linear[0, :, a, b], atol=1e-5, rtol=0)
                    torch.testing.assert_close(y, got["output"], atol=1e-5, rtol=0)


def test_neighbourhood_patch_is_the_hr_under_the_kernel_for_an_interior_pixel():
    cfg = tiny_config()
    runner = AdkRunner(perturbed(cfg), "cpu")
    hr = smooth_image(12 * S, 12 * S, seed=7)
    i, j = 6, 5
    nb = runner.neighbourhood(hr, i, j, radius=1)
    oy, ox = nb.hr_origin
    oy, ox = oy + (i - nb.y0) * S, ox + (j - nb.x0) * S
    expected = torch.from_numpy(hr[oy:oy + cfg.k, ox:ox + cfg.k]).permute(2, 0, 1)
    torch.testing.assert_close(nb.at(i, j)["patch"], expected, atol=0, rtol=0)


@pytest.mark.parametrize("error", ["cuda", "cpu"])
def test_runner_halves_the_tile_on_out_of_memory_and_says_so(error):
    """A CUDA out-of-memory error mid-image is answered by smaller tiles, with the same result and a note."""
    import numpy as np
    import torch

    from adk_model.adknet import ADKNet, preset
    from adk_model.inference import AdkRunner

    torch.manual_seed(0)
    model = ADKNet(preset("lite", width=8, gen_width=8, branch_width=8, hr_features=4, feat_blocks=1, gen_blocks=1))
    hr = np.random.default_rng(0).random((96, 512, 3), dtype=np.float32)
    runner = AdkRunner(model, "cpu")
    expected = runner.downscale(hr, tile=64)
    real_forward = runner._forward

    def flaky(x):
        if x.shape[-1] > 4 * 40:  # any tile wider than 40 LR pixels "does not fit"
            if error == "cuda":
                raise torch.OutOfMemoryError("simulated")
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
        return real_forward(x)

    runner._forward = flaky
    out = runner.downscale(hr, tile=64)
    assert np.allclose(out, expected, atol=1e-5)
    assert runner.notes and "retrying with 16-pixel tiles" in runner.notes[-1]


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
