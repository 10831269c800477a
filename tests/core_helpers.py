"""Small shared helpers for the core tests (ADK-Net, weights, training, CLI): tiny models and pair folders."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adk_model.adknet import ADKNet, ADKNetConfig, preset

# Small enough that a forward pass on a 64 x 64 HR takes milliseconds on one core.
TINY = dict(width=8, gen_width=8, branch_width=8, hr_features=4, feat_blocks=1, gen_blocks=1)


def tiny_config(**overrides) -> ADKNetConfig:
    return preset("lite", **{**TINY, **overrides})


def perturbed(cfg: ADKNetConfig, seed: int = 0) -> ADKNet:
    """A model whose kernels, gain, bias and colour mix clearly depend on the content, at sane magnitudes.

    A fresh model starts near its Gaussian prior (tiny last layer) with an identity colour mix, which would
    let tiling or inspector tests pass even if context were lost. Fan-in-scaled noise on every conv keeps
    activations O(1) at any width; the last layer is redrawn so logits vary by a few units (softmax) or
    the signed residual stays small, and gain/bias by about 0.1.
    """
    torch.manual_seed(seed)
    model = ADKNet(cfg)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Conv2d) and mod is not model.linear:
                fan_in = mod.weight[0].numel()
                mod.weight.add_(torch.randn_like(mod.weight) * 0.5 / math.sqrt(fan_in))
                mod.bias.add_(torch.randn_like(mod.bias) * 0.05)
        if model.linear is not None:  # a global linear part worth a few per cent of the output
            model.linear.weight.normal_(0, 0.2 / model.linear.weight[0].numel())
        last = model.branch[-1]
        fan_in = last.weight[0].numel()
        w = last.weight.view(cfg.generators, model.per_gen, -1)
        logit_std = 3.0 if cfg.norm == "softmax" else 0.3
        w[:, : model.k2].normal_(0, logit_std / math.sqrt(fan_in))
        w[:, model.k2 :].normal_(0, 0.1 / math.sqrt(fan_in))
        if model.mix is not None:
            model.mix.add_(torch.randn(3, 3) * 0.1)
            model.mix_bias.add_(torch.randn(3) * 0.02)
    return model.eval()


def smooth_image(h: int, w: int, seed: int = 0, lo: float = 0.15, hi: float = 0.85) -> np.ndarray:
    """A smooth, textured float32 (h, w, 3) image in [lo, hi]: upsampled noise plus a little fine noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((max(2, h // 8), max(2, w // 8), 3))
    up = np.stack([np.asarray(Image.fromarray((coarse[..., c] * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC),
                              dtype=np.float32) / 255.0 for c in range(3)], axis=-1)
    img = 0.8 * up + 0.2 * rng.random((h, w, 3))
    return (lo + (hi - lo) * img).astype(np.float32)


def box(hr: np.ndarray, s: int) -> np.ndarray:
    """Mean over s x s cells (LR pixel (i, j) covers HR rows s*i..s*i+s-1, cols s*j..s*j+s-1)."""
    h, w, c = hr.shape
    return hr[: h // s * s, : w // s * s].reshape(h // s, s, w // s, s, c).mean(axis=(1, 3))


COLOUR_MIX = np.array([[0.80, 0.08, 0.00], [0.05, 0.80, 0.05], [0.00, 0.10, 0.75]], np.float32)
COLOUR_BIAS = np.array([0.05, 0.0, -0.03], np.float32)


def shifted_lr(hr: np.ndarray, s: int) -> np.ndarray:
    """A 'camera' LR: box downscale followed by a strong global colour response (3x3 mix plus bias)."""
    return np.clip(box(hr, s) @ COLOUR_MIX.T + COLOUR_BIAS, 0.0, 1.0)


def save_png(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.rint(np.clip(arr, 0, 1) * 255).astype(np.uint8)).save(path)
    return path


def make_pairs(folder: Path, scale: int = 4, n_train: int = 3, n_val: int = 2, lr_size: tuple[int, int] = (16, 20),
               seed: int = 0, colour_shift: bool = True) -> Path:
    """HR/ + LR/ + split.json with n_train + n_val pairs named p0, p1, ... (val last)."""
    h, w = lr_size
    names = [f"p{i}" for i in range(n_train + n_val)]
    for i, name in enumerate(names):
        hr = smooth_image(h * scale, w * scale, seed=seed * 100 + i)
        hr = np.rint(hr * 255) / 255  # what the PNG will hold, so the LR is computed from the stored HR
        lr = shifted_lr(hr, scale) if colour_shift else box(hr, scale)
        save_png(folder / "HR" / f"{name}.png", hr)
        save_png(folder / "LR" / f"{name}.png", lr)
    split = {"scale": scale, "train": names[:n_train], "val": names[n_train:]}
    (folder / "split.json").write_text(json.dumps(split))
    return folder


@pytest.fixture
def one_thread():
    """Tiny models run fastest, and bit-reproducibly, on one thread; a busy 2-core CI box makes 2 threads crawl."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def mismatched_pairs(folder: Path, n_train: int = 4, n_val: int = 2) -> Path:
    """make_pairs, but the val LR are a plain box downscale: a colour fit to the train LR lowers val PSNR."""
    from adk_model.imageio import load_image

    make_pairs(folder, n_train=n_train, n_val=n_val, lr_size=(16, 20))
    for i in range(n_train, n_train + n_val):
        save_png(folder / "LR" / f"p{i}.png", box(load_image(folder / "HR" / f"p{i}.png").array, 4))
    return folder


def two_camera_pairs(folder: Path, n_train: int = 4, n_val: int = 2) -> Path:
    """Camera A: a box downscale with a strong colour response; camera B: a plain box downscale."""
    names = {"A": [], "B": []}
    for cam, seed in (("A", 0), ("B", 50)):
        for i in range(n_train + n_val):
            name = f"{cam}_{i:03d}"
            hr = np.rint(smooth_image(64, 80, seed=seed + i) * 255) / 255
            save_png(folder / "HR" / f"{name}.png", hr)
            save_png(folder / "LR" / f"{name}.png", shifted_lr(hr, 4) if cam == "A" else box(hr, 4))
            names[cam].append(name)
    split = {"scale": 4, "train": names["A"][:n_train] + names["B"][:n_train],
             "val": names["A"][n_train:] + names["B"][n_train:]}
    (folder / "split.json").write_text(json.dumps(split))
    return folder
