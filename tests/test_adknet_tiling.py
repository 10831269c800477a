"""ADK-Net core, by tiles: tiled equals untiled (every pixel, a tight halo), the tile grid, and AdkRunner (downscale,
cancel, the inspector's neighbourhood, smaller tiles on out-of-memory)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core_helpers import one_thread, perturbed, smooth_image, tiny_config  # noqa: F401 (fixture)
from adknet_helpers import S, _forward, _t
from adk_model.adknet import ADKNet, preset
from adk_model.inference import AdkRunner
from adk_model.resample import count_tiles, iter_tiles, numpy_reader, pad_amount, run_tiled, unfold_patches

pytestmark = pytest.mark.usefixtures("one_thread")


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
