"""ADK-Net: per-LR-pixel, per-channel resampling kernels predicted by a CNN (see shared/docs/adknet.md).

One file per architecture, a config dataclass, no global state (timm / BasicSR style).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from .adknet_config import (ARCH, ARCH_V1, ARCHS, NORMS, PRESETS, ADKNetConfig, check_geometry,  # noqa: F401
                            pad_amount, preset)
from .resample import patch_view

BAND_PIXELS_CPU = 16384    # LR pixels per row band of the kernel stage: cache-sized on a CPU,
BAND_PIXELS_GPU = 1 << 20  # large on a GPU, where each band costs kernel launches


@dataclass
class ADKOutput:
    """The LR image and, on request, every term that produced it (for the kernel inspector)."""

    lr: torch.Tensor                        # (B, 3, h, w)
    kernels: torch.Tensor | None = None     # (B, 3, k, k, h, w)
    gain: torch.Tensor | None = None        # (B, 3, h, w); out = (1+gain) * sum + bias, before the mix
    bias: torch.Tensor | None = None        # (B, 3, h, w)
    mix: torch.Tensor | None = None         # (3, 3) colour mix, applied last
    mix_bias: torch.Tensor | None = None    # (3,)
    premix: torch.Tensor | None = None      # (B, 3, h, w): the adaptive output before the colour mix
    linear: torch.Tensor | None = None      # (B, 3, h, w): the global linear part, added last (adknet-v2)
    linear_kernel: torch.Tensor | None = None  # (3, 3, T, T): out channel, HR channel, taps


class ResBlock(nn.Module):
    """conv-act-conv plus skip, no batch norm; groups>1 runs independent trunks side by side."""

    def __init__(self, ch: int, groups: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1, groups=groups)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1, groups=groups)
        with torch.no_grad():
            self.conv2.weight.mul_(0.1)
            self.conv2.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


def gaussian_prior_logits(scale: int, k: int) -> torch.Tensor:
    """Log of a Gaussian centred on the HR cell with a scale-proportional width: a sensible starting kernel."""
    c = (k - 1) / 2.0
    r = torch.arange(k, dtype=torch.float32) - c
    sigma = 0.5 * scale
    return (-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2)).flatten()


class ADKNet(nn.Module):
    def __init__(self, cfg: ADKNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        s, g = cfg.scale, cfg.generators
        self.k2 = cfg.k * cfg.k
        self.cpg = 3 // g  # colour channels served by each generator
        self.head = nn.Conv2d(3, cfg.hr_features, 3, padding=1)
        self.to_lr = nn.Conv2d(cfg.hr_features * s * s, cfg.width, 1)
        self.features = nn.Sequential(*[ResBlock(cfg.width) for _ in range(cfg.feat_blocks)])
        gw, bw = cfg.gen_width * g, cfg.branch_width * g
        self.gen_in = nn.Conv2d(cfg.width, gw, 1)
        self.trunks = nn.Sequential(*[ResBlock(gw, groups=g) for _ in range(cfg.gen_blocks)])
        self.per_gen = self.k2 + (2 * self.cpg if cfg.gain_bias else 0)
        self.branch = nn.Sequential(
            nn.Conv2d(gw, bw, 3, padding=1, groups=g),
            nn.ReLU(inplace=True),
            nn.Conv2d(bw, g * self.per_gen, 1, groups=g),
        )
        self.register_buffer("prior", gaussian_prior_logits(s, cfg.k), persistent=False)
        last = self.branch[-1]
        with torch.no_grad():
            last.weight.mul_(0.01)
            last.bias.zero_()
        self.mix = nn.Parameter(torch.eye(3)) if cfg.colour_mix else None
        self.mix_bias = nn.Parameter(torch.zeros(3)) if cfg.colour_mix else None
        # The global linear part: zero until quick calibrate fits it (with the mix) in closed form on pairs.
        self.linear = nn.Conv2d(3, 3, cfg.linear_taps, stride=s, bias=False) if cfg.linear_taps else None
        if self.linear is not None:
            nn.init.zeros_(self.linear.weight)

    def forward(self, hr: torch.Tensor, return_terms: bool = False) -> ADKOutput:
        cfg = self.cfg
        b, _, hh, ww = hr.shape
        s = cfg.scale
        if hh % s or ww % s:
            raise ValueError(f"HR size {ww}x{hh} is not a multiple of the scale {s}")
        h, w = hh // s, ww // s
        # Channels-last activations: the 1x1 convs become plain GEMMs and the kernel logits of each LR pixel
        # lie contiguous, so softmax and the kernel application run over the last dimension.
        x = (hr - 0.5).contiguous(memory_format=torch.channels_last)
        f = self.features(self._lr_features(x))
        t = F.relu(self.branch[0](self.trunks(self.gen_in(f))), inplace=True)
        feats = t.permute(0, 2, 3, 1)                       # (b, h, w, g * bw)
        patches = patch_view(hr, s, cfg.k)                  # (b, 3, h, w, k, k), a view of the padded HR
        # Row bands keep the k*k-per-pixel temporaries (logits, kernels, patches, products) small enough
        # to stay in cache and in the allocator's free lists.
        rows = self._band_rows(hr, b * w)
        bands = [self._band(feats[:, r : r + rows], patches[:, :, r : r + rows], return_terms)
                 for r in range(0, h, rows)]
        y = torch.cat([band[0] for band in bands], dim=1)   # (b, h, w, 3)
        gain = bias_t = None
        if cfg.gain_bias:
            gb = torch.cat([band[1] for band in bands], dim=1)  # (b, h, w, 2, 3)
            gain, bias_t = gb[..., 0, :], gb[..., 1, :]
            y = (1 + gain) * y + bias_t
        premix = y
        if self.mix is not None:
            y = y @ self.mix.T + self.mix_bias
        lr = y.permute(0, 3, 1, 2)
        linear = None
        if self.linear is not None:
            linear = self.linear_part(hr)
            lr = lr + linear
        if not return_terms:  # premix and the linear part exist anyway; quick calibrate needs no kernels
            return ADKOutput(lr=lr, premix=premix.permute(0, 3, 1, 2), linear=linear)
        kern = torch.cat([band[2] for band in bands], dim=2).expand(b, 3, h, w, self.k2)  # shared_kernel: 1 -> 3
        return ADKOutput(
            lr=lr,
            kernels=kern.permute(0, 1, 4, 2, 3).reshape(b, 3, cfg.k, cfg.k, h, w),
            gain=None if gain is None else gain.permute(0, 3, 1, 2),
            bias=None if bias_t is None else bias_t.permute(0, 3, 1, 2),
            mix=None if self.mix is None else self.mix.detach(),
            mix_bias=None if self.mix_bias is None else self.mix_bias.detach(),
            premix=premix.permute(0, 3, 1, 2),
            linear=linear,
            linear_kernel=None if self.linear is None else self.linear.weight.detach(),
        )

    def gradient_parameters(self) -> list[nn.Parameter]:
        """What training updates: everything but the linear part, which quick calibrate fits in closed form (Adam
        moves each of its 768 taps per channel by ~lr, a jump of the whole output: 31.5 -> 21.5 dB in 200 steps)."""
        frozen = set() if self.linear is None else {id(self.linear.weight)}
        return [p for p in self.parameters() if id(p) not in frozen]

    def linear_part(self, hr: torch.Tensor) -> torch.Tensor:
        """The global linear kernel on the reflect-padded HR: the same geometry as the least-squares baseline."""
        p = pad_amount(self.cfg.scale, self.cfg.linear_taps)
        hh, ww = hr.shape[-2:]
        x = F.pad(hr, (p, p, p, p), mode="reflect" if min(hh, ww) > p else "replicate") if p else hr
        return F.conv2d(x, self.linear.weight, stride=self.cfg.scale)

    def _band(self, feats: torch.Tensor, patches: torch.Tensor, keep_kernels: bool
              ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Kernel sums (b, n, w, 3), gain/bias (b, n, w, 2, 3) and, on request, kernels (b, g, n, w, k*k)."""
        cfg, k2, cpg, bw, g = self.cfg, self.k2, self.cpg, self.cfg.branch_width, self.cfg.generators
        b, n, w = feats.shape[:3]
        last = self.branch[2]                               # grouped 1x1 conv, applied per generator
        weight, bias = last.weight.view(g, self.per_gen, bw), last.bias.view(g, self.per_gen)
        ys, kernels, terms = [], [], []
        for gi in range(g):
            fg = feats[..., gi * bw : (gi + 1) * bw]
            if cfg.norm == "softmax":
                kern = torch.softmax(F.linear(fg, weight[gi, :k2], bias[gi, :k2] + self.prior), dim=-1)
            else:
                logits = F.linear(fg, weight[gi, :k2], bias[gi, :k2])
                kern = torch.softmax(self.prior, dim=0) + (logits - logits.mean(dim=-1, keepdim=True))
            for c in range(gi * cpg, (gi + 1) * cpg):
                ys.append((patches[:, c].reshape(b, n, w, k2) * kern).sum(dim=-1))
            if keep_kernels:
                kernels.append(kern)
            if cfg.gain_bias:
                terms.append(F.linear(fg, weight[gi, k2:], bias[gi, k2:]).view(b, n, w, 2, cpg))
        return (torch.stack(ys, dim=-1), torch.cat(terms, dim=-1) if terms else None,
                torch.stack(kernels, dim=1) if keep_kernels else None)

    @staticmethod
    def _band_rows(x: torch.Tensor, row_pixels: int) -> int:
        return max(1, (BAND_PIXELS_CPU if x.device.type == "cpu" else BAND_PIXELS_GPU) // row_pixels)

    def _lr_features(self, x: torch.Tensor) -> torch.Tensor:
        """Head, space-to-depth and to_lr, in row bands: the head's 16*s*s channels never exist for a whole tile."""
        s, (b, _, hh, ww) = self.cfg.scale, x.shape
        weight, bias = self._head_on_lr_grid()
        rows = self._band_rows(x, b * ww // s)
        out = []
        for r0 in range(0, hh // s, rows):
            top, bottom = r0 * s - 1, min(hh // s, r0 + rows) * s + 1  # HR rows the band's 3x3 windows read
            band = x[:, :, max(0, top) : min(hh, bottom)]
            if top < 0 or bottom > hh:  # zero rows beyond the image, as the head's padding=1
                band = F.pad(band, (0, 0, int(top < 0), int(bottom > hh)))
            f = F.relu(F.conv2d(band, weight, bias, stride=s, padding=(0, 1)), inplace=True)
            out.append(self.to_lr(f))
        return torch.cat(out, dim=2).contiguous(memory_format=torch.channels_last)

    def _head_on_lr_grid(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The HR 3x3 head plus space-to-depth as one stride-s conv: the same numbers, ~2x faster on a CPU."""
        s = self.cfg.scale
        taps = [F.pad(self.head.weight, (dx, s - 1 - dx, dy, s - 1 - dy)) for dy in range(s) for dx in range(s)]
        weight = torch.stack(taps, dim=1).flatten(0, 1)    # channel f*s*s + dy*s + dx, as pixel_unshuffle
        return weight.contiguous(memory_format=torch.channels_last), self.head.bias.repeat_interleave(s * s)



def with_linear_part(model: ADKNet, taps: int) -> ADKNet:
    """An adknet-v1 model as adknet-v2 with a zero linear part: the same output until quick calibrate fits it."""
    upgraded = ADKNet(replace(model.cfg, linear_taps=taps, arch=""))
    missing, unexpected = upgraded.load_state_dict(model.state_dict(), strict=False)
    assert missing == ["linear.weight"] and not unexpected, (missing, unexpected)
    return upgraded.to(next(model.parameters()).device)


def reconstruct_pixel(terms: ADKOutput, hr_patch: torch.Tensor, i: int, j: int,
                      linear_patch: torch.Tensor | None = None) -> torch.Tensor:
    """Recompute one output pixel from the shown terms: the kernel panel's self-check.

    hr_patch: (3, k, k), the HR pixels the kernels at (i, j) read; linear_patch: (3, T, T), those the global
    linear kernel reads (adknet-v2).
    """
    kern = terms.kernels[0, :, :, :, i, j]
    y = (kern * hr_patch).sum(dim=(1, 2))
    if terms.gain is not None:
        y = (1 + terms.gain[0, :, i, j]) * y + terms.bias[0, :, i, j]
    if terms.mix is not None:
        y = terms.mix @ y + terms.mix_bias
    if terms.linear_kernel is not None:
        y = y + (terms.linear_kernel * linear_patch[None]).sum(dim=(1, 2, 3))
    return y


def count_flops_per_lr_pixel(cfg: ADKNetConfig) -> float:
    """Multiply-adds x2 of one forward pass, per LR pixel (convs and the kernel application)."""
    s, g = cfg.scale, cfg.generators
    macs = 0.0
    macs += s * s * 3 * cfg.hr_features * 9                     # head on s*s HR pixels
    macs += cfg.hr_features * s * s * cfg.width                 # to_lr
    macs += cfg.feat_blocks * 2 * cfg.width * cfg.width * 9
    macs += cfg.width * cfg.gen_width * g
    macs += g * cfg.gen_blocks * 2 * cfg.gen_width * cfg.gen_width * 9
    per_gen = cfg.k**2 + (2 * (3 // g) if cfg.gain_bias else 0)
    macs += g * (cfg.gen_width * cfg.branch_width * 9 + cfg.branch_width * per_gen)
    macs += 3 * cfg.k**2                                        # kernel application
    macs += 9 * cfg.linear_taps**2                              # global linear part
    return 2 * macs
