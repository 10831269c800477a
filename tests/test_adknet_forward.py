"""ADK-Net core, the forward pass: shapes, equality with the textbook formulation (outputs, bands, gradients),
kernel normalisation, and the kernel panel's self-check (reconstruct_pixel)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core_helpers import one_thread, perturbed, smooth_image, tiny_config  # noqa: F401 (fixture)
from adknet_helpers import S, _forward, _t
from adk_model import adknet
from adk_model.adknet import ADKNet, reconstruct_pixel
from adk_model.resample import pad_amount, unfold_patches

pytestmark = pytest.mark.usefixtures("one_thread")


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
