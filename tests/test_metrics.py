"""Metrics: PSNR/SSIM against known and independently computed values; one error-map path; the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from adk_model.metrics import (
    ERROR_CHANNELS,
    ERROR_MODES,
    ErrorStats,
    MetricCache,
    compute_metrics,
    error_map,
    error_stats,
    psnr,
    ssim,
    to_y,
)


def _pair(h: int = 40, w: int = 52, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, correlated random pair in [0, 1]."""
    rng = np.random.default_rng(seed)
    ref = rng.random((h, w, 3)).astype(np.float32)
    pred = np.clip(0.7 * ref + 0.3 * rng.random((h, w, 3)) + 0.02, 0, 1).astype(np.float32)
    return pred, ref


# ----------------------------------------------------------------------------- PSNR


def test_psnr_known_values() -> None:
    ref = np.full((16, 16, 3), 0.4, np.float32)
    assert psnr(ref + 0.1, ref) == pytest.approx(20.0, abs=1e-5)
    assert psnr(ref + 0.01, ref) == pytest.approx(40.0, abs=1e-3)
    assert psnr(ref, ref) == math.inf
    # Y of an RGB offset d is d * 219/255 (the weights sum to 219/255).
    assert psnr(ref + 0.1, ref, y=True) == pytest.approx(-20 * math.log10(0.1 * 219 / 255), abs=1e-4)


def test_psnr_crop() -> None:
    ref = np.full((20, 24, 3), 0.5, np.float32)
    pred = ref.copy()
    pred[:3] = 1.0
    pred[:, -2:] = 0.0
    assert psnr(pred, ref) < 20
    assert psnr(pred, ref, crop=2) < 40  # row 2 still differs
    assert psnr(pred, ref, crop=3) == math.inf
    pred[10, 10, 0] += 0.1
    assert psnr(pred, ref, crop=3) == pytest.approx(-10 * math.log10(0.01 / (14 * 18 * 3)), abs=1e-3)
    with pytest.raises(ValueError, match="crop"):
        psnr(pred, ref, crop=10)


def test_to_y_white_black() -> None:
    img = np.zeros((1, 2, 3), np.float32)
    img[0, 1] = 1.0
    y = to_y(img)
    assert y.shape == (1, 2)
    assert y[0, 0] == pytest.approx(16 / 255)
    assert y[0, 1] == pytest.approx(235 / 255)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))


# ----------------------------------------------------------------------------- SSIM


def reference_ssim_2d(x: np.ndarray, y: np.ndarray) -> float:
    """Wang et al. 2004 SSIM in plain numpy: 11x11 Gaussian (sigma 1.5), 'valid' filtering, L = 1."""
    t = np.arange(11) - 5.0
    g = np.exp(-(t**2) / (2 * 1.5**2))
    win = np.outer(g, g)
    win /= win.sum()

    def filt(a: np.ndarray) -> np.ndarray:
        return np.einsum("ijkl,kl->ij", sliding_window_view(a, (11, 11)), win)

    x, y = x.astype(np.float64), y.astype(np.float64)
    c1, c2 = 0.01**2, 0.03**2
    mx, my = filt(x), filt(y)
    sxx, syy, sxy = filt(x * x) - mx**2, filt(y * y) - my**2, filt(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(m.mean())


def test_ssim_matches_independent_reference() -> None:
    pred, ref = _pair()
    expected_rgb = np.mean([reference_ssim_2d(pred[:, :, c], ref[:, :, c]) for c in range(3)])
    assert 0.2 < expected_rgb < 0.95  # a non-trivial value
    assert ssim(pred, ref) == pytest.approx(expected_rgb, abs=1e-4)
    expected_y = reference_ssim_2d(to_y(pred), to_y(ref))
    assert ssim(pred, ref, y=True) == pytest.approx(expected_y, abs=1e-4)
    expected_crop = np.mean([reference_ssim_2d(pred[4:-4, 4:-4, c], ref[4:-4, 4:-4, c]) for c in range(3)])
    assert ssim(pred, ref, crop=4) == pytest.approx(expected_crop, abs=1e-4)


def test_ssim_identity_and_small_images() -> None:
    pred, _ = _pair()
    assert ssim(pred, pred) == pytest.approx(1.0, abs=1e-9)
    small = np.random.default_rng(0).random((10, 30, 3)).astype(np.float32)
    assert math.isnan(ssim(small, small))


def test_compute_metrics_keys() -> None:
    pred, ref = _pair()
    m = compute_metrics(pred, ref)
    assert set(m) == {"psnr", "psnr_y", "ssim"}
    assert m["psnr"] == pytest.approx(psnr(pred, ref))
    assert m["psnr_y"] == pytest.approx(psnr(pred, ref, y=True))
    assert m["ssim"] == pytest.approx(ssim(pred, ref))


# ----------------------------------------------------------------------------- error maps


def _expected_error(img: np.ndarray, ref: np.ndarray, mode: str, channel: str) -> np.ndarray:
    img, ref = img.astype(np.float64), ref.astype(np.float64)
    if channel == "luma":  # BT.601 studio swing, as PSNR Y (Y = 16 + 65.481 R + 128.553 G + 24.966 B, in /255)
        a = (16 + 65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255
        b = (16 + 65.481 * ref[..., 0] + 128.553 * ref[..., 1] + 24.966 * ref[..., 2]) / 255
    else:
        i = {"R": 0, "G": 1, "B": 2}[channel]
        a, b = img[..., i], ref[..., i]
    return {
        "signed": a - b,
        "absolute": np.abs(a - b),
        "squared": (a - b) ** 2,
        "relative": np.abs(a - b) / (b + 1e-2),
    }[mode]


@pytest.mark.parametrize("mode", ERROR_MODES)
@pytest.mark.parametrize("channel", ERROR_CHANNELS)
def test_error_map_matches_numpy(mode: str, channel: str) -> None:
    img, ref = _pair(12, 9)
    err = error_map(img, ref, mode, channel)
    assert err.dtype == np.float32 and err.shape == (12, 9)
    np.testing.assert_allclose(err, _expected_error(img, ref, mode, channel), rtol=1e-5, atol=1e-6)


def test_error_map_rejects_unknown_names() -> None:
    img, ref = _pair(4, 4)
    with pytest.raises(ValueError, match="relative"):
        error_map(img, ref, "bogus", "R")
    with pytest.raises(ValueError, match="luma"):
        error_map(img, ref, "signed", "Y")


def test_error_stats() -> None:
    err = np.arange(1, 101, dtype=np.float32).reshape(10, 10)
    s = error_stats(err)
    assert isinstance(s, ErrorStats)
    assert s.mean == pytest.approx(50.5)
    assert s.max == 100.0
    assert s.p99 == pytest.approx(np.percentile(np.arange(1, 101), 99))
    signed = error_stats(np.array([[-0.149, 0.02], [0.131, -0.01]]))  # the case: the largest error is < 0
    assert signed.min == pytest.approx(-0.149) and signed.max == pytest.approx(0.131)
    assert signed.p1 == pytest.approx(np.percentile([-0.149, 0.02, 0.131, -0.01], 1))


def test_metric_cache_computes_once_and_evicts() -> None:
    img, ref = _pair(8, 8)
    calls = []

    def compute():
        calls.append(1)
        e = error_map(img, ref, "absolute", "luma")
        return e, error_stats(e)

    cache = MetricCache(maxsize=3)
    first = cache.get("img-a", "ref", "absolute", "luma", compute)
    second = cache.get("img-a", "ref", "absolute", "luma", compute)
    assert second is first
    assert len(calls) == 1
    # Different mode / channel / reference are different entries.
    cache.get("img-a", "ref", "squared", "luma", compute)
    cache.get("img-a", "ref", "absolute", "R", compute)
    assert len(calls) == 3 and len(cache) == 3
    cache.get("img-a", "ref", "absolute", "luma", compute)  # refresh: now most recently used
    cache.get("img-b", "ref", "absolute", "luma", compute)  # evicts the least recently used ("squared")
    assert len(cache) == 3 and len(calls) == 4
    assert ("img-a", "ref", "absolute", "luma") in cache
    assert ("img-a", "ref", "squared", "luma") not in cache
    cache.invalidate("img-a")
    assert len(cache) == 1


def test_one_luma_the_squared_luma_map_gives_psnr_y():
    """Differences' luma is PSNR Y's Y: the mean of its squared map is PSNR Y's MSE (it was full-range luma, whose
    27.67 dB sat beside Compare's 28.99 dB on the same pair)."""
    rng = np.random.default_rng(5)
    ref = rng.random((24, 20, 3)).astype(np.float32)
    img = np.clip(ref + 0.05 * rng.standard_normal(ref.shape), 0, 1).astype(np.float32)
    sq = error_map(img, ref, "squared", "luma").astype(np.float64)
    assert 10 * np.log10(1 / sq.mean()) == pytest.approx(compute_metrics(img, ref)["psnr_y"], abs=1e-4)
    full = (img.astype(np.float64) - ref) @ np.array([0.299, 0.587, 0.114])  # the full-range luma's error
    np.testing.assert_allclose(error_map(img, ref, "signed", "luma"), 219 / 255 * full, atol=1e-6)


def test_metric_cache_peek_never_computes_and_put_stores_what_a_worker_computed() -> None:
    cache = MetricCache(maxsize=2)
    assert cache.peek("img", "ref", "signed", "R") is None and len(cache) == 0  # a miss computes nothing
    cache.put("img", "ref", "signed", "R", "map-R")
    cache.put("img", "ref", "signed", "G", "map-G")
    assert cache.peek("img", "ref", "signed", "R") == "map-R"  # and it is now the most recently used
    cache.put("img", "ref", "signed", "B", "map-B")  # evicts G, the least recently used
    assert ("img", "ref", "signed", "G") not in cache and cache.peek("img", "ref", "signed", "R") == "map-R"
    assert cache.get("img", "ref", "signed", "B", lambda: "recomputed") == "map-B"  # get sees what put stored
