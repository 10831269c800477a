"""Baselines: classical filters must equal PIL's resize; the least-squares kernel must recover a known kernel."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from adk_model import baselines
from adk_model.baselines import (
    CLASSICAL,
    LstsqFit,
    apply_lstsq,
    classical_downscale,
    fit_lstsq,
    load_lstsq,
    save_lstsq,
)
from adk_model.errors import UserError, WeightsError
from adk_model.methods import MethodSet

H, W = 48, 72  # multiples of 2, 3 and 4
PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    """Separable box blur with edge padding, repeated by the caller to approximate a Gaussian."""
    k = 2 * r + 1
    p = np.pad(a, ((r, r), (r, r), (0, 0)), mode="edge")
    c = np.cumsum(np.pad(p, ((1, 0), (0, 0), (0, 0))), axis=0)
    p = (c[k:] - c[:-k]) / k
    c = np.cumsum(np.pad(p, ((0, 0), (1, 0), (0, 0))), axis=1)
    return (c[:, k:] - c[:, :-k]) / k


def natural_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth photo-like test image: gradients, sinusoids and blurred noise, as uint8 RGB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * np.pi)
        img[:, :, c] = 0.3 + 0.3 * x * (c + 1) / 3 + 0.2 * y + 0.15 * np.sin(2 * np.pi * (fx * x + fy * y) + ph)
    noise = rng.normal(0, 0.25, (h, w, 3))
    for _ in range(3):
        noise = _box_blur(noise, 2)
    img += noise
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def random_u8(h: int, w: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["random", "natural"])
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("method", CLASSICAL)
def test_classical_matches_pil_rgb(kind: str, scale: int, method: str) -> None:
    u8 = random_u8(H, W) if kind == "random" else natural_like(H, W)
    expected = np.asarray(Image.fromarray(u8).resize((W // scale, H // scale), PIL_FILTERS[method]), np.float32) / 255
    got = classical_downscale(u8.astype(np.float32) / 255, scale, method)
    assert got.dtype == np.float32 and got.shape == (H // scale, W // scale, 3)
    assert got.min() >= 0.0 and got.max() <= 1.0
    assert np.abs(got - expected).max() <= 1 / 255 + 1e-5


def test_classical_unknown_method_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="lanczos"):
        classical_downscale(np.zeros((8, 8, 3), np.float32), 2, "magic")
    with pytest.raises(UserError, match="lstsq"):  # the one dispatcher, MethodSet.run, names every method
        MethodSet(scale=2).run("magic", np.zeros((8, 8, 3), np.float32))


def test_classical_crops_non_multiple_sizes() -> None:
    img = natural_like(50, 75).astype(np.float32) / 255
    assert classical_downscale(img, 4, "box").shape == (12, 18, 3)
    np.testing.assert_array_equal(classical_downscale(img, 4, "box"), classical_downscale(img[:48, :72], 4, "box"))


# ----------------------------------------------------------------------------- least squares


def reference_linear_downscale(hr: np.ndarray, scale: int, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Independent numpy version of the geometry: reflect pad, centred taps x taps window per LR pixel."""
    taps = int(round(np.sqrt(weight.shape[1] / 3)))
    pad = (taps - scale) // 2
    p = np.pad(hr.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    win = sliding_window_view(p, (taps, taps), axis=(0, 1))[::scale, ::scale]  # (h, w, 3, taps, taps)
    win = win[: hr.shape[0] // scale, : hr.shape[1] // scale]
    feats = win.reshape(win.shape[0], win.shape[1], -1)  # channel, row, col order
    return feats @ weight.T.astype(np.float64) + bias


def known_kernel(scale: int, taps: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A blur kernel with cross-channel mixing, a little random structure, and a bias."""
    rng = np.random.default_rng(seed)
    t = np.arange(taps) - (taps - 1) / 2
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * (0.4 * scale) ** 2))
    g /= g.sum()
    mix = np.array([[0.80, 0.15, 0.05], [0.10, 0.85, 0.05], [0.05, 0.20, 0.75]])
    w = np.einsum("oc,hw->ochw", mix, g) + rng.normal(0, 2e-3, (3, 3, taps, taps))
    bias = np.array([0.02, -0.01, 0.03])
    return w.reshape(3, -1), bias


def _pairs(n: int, size: int, scale: int, weight: np.ndarray, bias: np.ndarray, seed: int = 10):
    for i in range(n):
        hr = np.random.default_rng(seed + i).random((size, size, 3)).astype(np.float32)
        yield hr, reference_linear_downscale(hr, scale, weight, bias).astype(np.float32)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.mark.parametrize("scale,taps", [(4, 16), (3, 9), (2, 6)])
def test_lstsq_recovers_known_kernel(scale: int, taps: int) -> None:
    weight, bias = known_kernel(scale, taps)
    n_feat = 3 * taps * taps + 1
    size = scale * 24
    n_pairs = int(np.ceil(2 * n_feat / 24**2)) + 1
    fit = fit_lstsq(_pairs(n_pairs, size, scale, weight, bias), scale, taps, fitted_on="synthetic")
    assert fit.weight.shape == (3, 3 * taps * taps) and fit.bias.shape == (3,)
    assert fit.fitted_on == "synthetic"
    (hr, lr), = _pairs(1, scale * 20, scale, weight, bias, seed=999)  # held out
    assert _psnr(apply_lstsq(fit, hr), np.clip(lr, 0, 1)) > 60
    np.testing.assert_allclose(fit.weight, weight, atol=1e-3)
    np.testing.assert_allclose(fit.bias, bias, atol=1e-3)


def test_apply_lstsq_matches_reference_and_is_band_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    scale, taps = 4, 12
    weight, bias = known_kernel(scale, taps)
    fit = LstsqFit(scale, taps, weight.astype(np.float32), bias.astype(np.float32))
    hr = natural_like(64, 80).astype(np.float32) / 255
    expected = np.clip(reference_linear_downscale(hr, scale, weight, bias), 0, 1)
    whole = apply_lstsq(fit, hr)
    np.testing.assert_allclose(whole, expected, atol=1e-5)
    monkeypatch.setattr(baselines, "_BAND_BYTES", 1)  # one LR row per band
    np.testing.assert_allclose(apply_lstsq(fit, hr), whole, atol=1e-6)
    np.testing.assert_allclose(MethodSet(scale=scale, lstsq_fit=fit).run("lstsq", hr), whole, atol=1e-6)


def test_fit_is_band_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    weight, bias = known_kernel(2, 4)
    pairs = list(_pairs(3, 40, 2, weight, bias))
    a = fit_lstsq(pairs, 2, 4)
    monkeypatch.setattr(baselines, "_BAND_BYTES", 1)
    b = fit_lstsq(pairs, 2, 4)
    np.testing.assert_allclose(a.weight, b.weight, atol=1e-5)


def test_lstsq_argument_errors() -> None:
    with pytest.raises(ValueError, match="taps"):
        fit_lstsq([], 4, taps=15)
    with pytest.raises(ValueError, match="at least one"):
        fit_lstsq([], 4, taps=16)
    hr = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(ValueError, match="LR shape"):
        fit_lstsq([(hr, np.zeros((3, 4, 3), np.float32))], 4, taps=8)
    with pytest.raises(UserError, match="No least-squares fit for x3"):  # no fit given and none shipped
        MethodSet(scale=3).run("lstsq", np.zeros((12, 12, 3), np.float32))


def test_save_load_round_trip(tmp_path) -> None:
    weight, bias = known_kernel(4, 16)
    fit = LstsqFit(4, 16, weight.astype(np.float32), bias.astype(np.float32), fitted_on="train split of realsr_x4")
    path = tmp_path / "lstsq_x4.safetensors"
    save_lstsq(fit, path)
    back = load_lstsq(path)
    assert (back.scale, back.taps, back.fitted_on) == (4, 16, "train split of realsr_x4")
    np.testing.assert_array_equal(back.weight, fit.weight)
    np.testing.assert_array_equal(back.bias, fit.bias)


def test_load_rejects_garbage_and_foreign_files(tmp_path) -> None:
    from safetensors.numpy import save_file

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 this is not a safetensors file" * 10)
    with pytest.raises(WeightsError, match="garbage.safetensors"):
        load_lstsq(garbage)
    with pytest.raises(WeightsError, match="does not exist"):
        load_lstsq(tmp_path / "missing.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"conv.weight": np.zeros((4, 4), np.float32)}, str(foreign), metadata={"format": "pt"})
    with pytest.raises(WeightsError, match="not a least-squares kernel"):
        load_lstsq(foreign)
    bad_shape = tmp_path / "bad_shape.safetensors"
    meta = {"format": "adkviewer-lstsq", "version": "1", "scale": "4", "taps": "16", "fitted_on": ""}
    save_file({"weight": np.zeros((3, 12), np.float32), "bias": np.zeros(3, np.float32)}, str(bad_shape), metadata=meta)
    with pytest.raises(WeightsError, match="do not match"):
        load_lstsq(bad_shape)


def test_reference_psnr_is_the_mean_psnr_of_the_baseline_over_the_pairs() -> None:
    """The Train tab's dashed reference lines come from adk_model.evaluate, not from the GUI."""
    from adk_model.evaluate import reference_psnr
    from adk_model.metrics import psnr

    rng = np.random.default_rng(2)
    pairs = [(hr, classical_downscale(hr, 2, "box") + 0.01 * i) for i, hr in
             enumerate(rng.random((3, 16, 20, 3), dtype=np.float32))]
    want = np.mean([psnr(classical_downscale(hr, 2, "bicubic"), lr) for hr, lr in pairs])
    assert reference_psnr("bicubic", pairs, 2) == pytest.approx(want, abs=1e-9)
    weight, bias = known_kernel(2, 4)
    fit = LstsqFit(2, 4, weight.astype(np.float32), bias.astype(np.float32))
    want = np.mean([psnr(apply_lstsq(fit, hr), lr) for hr, lr in pairs])
    assert reference_psnr("lstsq", pairs, 2, fit) == pytest.approx(want, abs=1e-9)


def test_method_set_loads_the_runner_once_when_threads_ask_at_the_same_time(monkeypatch) -> None:
    """Compare's and Inspect's workers may each ask for the ADK-Net runner first: exactly one load happens."""
    import threading
    import time

    from adk_model import methods

    loads = []
    real = methods.load_weights

    def slow_load(*a, **k):
        loads.append(1)
        time.sleep(0.05)  # wide enough for every thread to arrive while the first loads
        return real(*a, **k)

    monkeypatch.setattr(methods, "load_weights", slow_load)
    ms = MethodSet(scale=4)
    got = []
    threads = [threading.Thread(target=lambda: got.append(ms.runner())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len(got) == 4 and all(r is got[0] for r in got)
