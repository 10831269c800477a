"""ADK-Net's config and presets, and the kernel geometry they must satisfy: torch-free, so the CLI's parsers and
the GUI's lists read them without importing torch (`adkviewer downscale --help` stays fast)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


def check_geometry(scale: int, k: int) -> None:
    """Kernels are centred on the LR pixel's HR cell, so k - scale must be even and non-negative."""
    if scale < 2:
        raise ValueError(f"scale must be an integer >= 2, got {scale}")
    if k < scale or (k - scale) % 2:
        raise ValueError(f"kernel size k={k} must be >= scale={scale} with k - scale even")


def pad_amount(scale: int, k: int) -> int:
    """HR pixels read beyond the LR pixel's cell on each side."""
    return (k - scale) // 2


ARCH_V1 = "adknet-v1"      # adaptive kernels and colour terms only
ARCH = "adknet-v2"         # plus a global linear part (linear_taps > 0), re-fitted in closed form by quick calibrate
ARCHS = (ARCH_V1, ARCH)
NORMS = ("softmax", "signed")


@dataclass(frozen=True)
class ADKNetConfig:
    """Every design decision of shared/docs/adknet.md is a field, so it can be changed and ablated."""

    scale: int = 4
    k: int = 12                 # kernel taps per side; k - scale even
    hr_features: int = 16       # 3x3 conv on the HR before space-to-depth
    width: int = 32             # feature extractor width (LR grid)
    feat_blocks: int = 4        # residual blocks of the shared feature extractor
    gen_width: int = 32         # width of each channel-specific generator trunk
    gen_blocks: int = 2         # residual blocks per generator trunk
    branch_width: int = 48      # hidden width of each generator's branch
    norm: str = "softmax"       # "softmax": kernel >= 0, sums to 1. "signed": prior + zero-mean signed residual
    gain_bias: bool = True      # per-pixel gain and bias per channel: out = (1+g) * sum(K*HR) + b
    colour_mix: bool = True     # learned global 3x3 colour mix with bias (identity at init): the calibration head
    shared_kernel: bool = False  # CAR-like ablation: one kernel for all three channels
    linear_taps: int = 0        # >0: out = global linear kernel (taps x taps, all 3 HR channels) + mix @ adaptive
    arch: str = ""              # derived from the tensors it implies: adknet-v2 with a linear part, else adknet-v1

    def __post_init__(self) -> None:
        # A config read from a weights file is untrusted: wrong types must fail here, not deep inside torch.
        for name in ("scale", "k", "hr_features", "width", "gen_width", "branch_width", "feat_blocks", "gen_blocks"):
            v, least = getattr(self, name), 0 if name.endswith("_blocks") else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {v!r}")
        for name in ("gain_bias", "colour_mix", "shared_kernel"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        check_geometry(self.scale, self.k)
        if isinstance(self.linear_taps, bool) or not isinstance(self.linear_taps, int) or self.linear_taps < 0:
            raise ValueError(f"linear_taps must be an integer >= 0, got {self.linear_taps!r}")
        if self.linear_taps and (self.linear_taps < self.scale or (self.linear_taps - self.scale) % 2):
            raise ValueError(f"linear_taps={self.linear_taps} must be >= scale={self.scale} with taps - scale even")
        if self.linear_taps:
            if not self.colour_mix:
                raise ValueError("linear_taps needs colour_mix (the mix weighs the adaptive part against the linear one)")
        arch = ARCH if self.linear_taps else ARCH_V1
        if self.arch and self.arch != arch:
            raise ValueError(f"arch {self.arch!r} does not match the config (its tensors are those of {arch!r})")
        object.__setattr__(self, "arch", arch)
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")

    @property
    def generators(self) -> int:
        return 1 if self.shared_kernel else 3

    @property
    def halo(self) -> int:
        """LR pixels of context an output pixel depends on: tiles read this much extra on each side.

        The kernels come from the network (head, 3x3 convs of the res blocks, branch); the patches they weigh
        come straight from the HR, so the two reaches do not add up.
        """
        net = 1 + 2 * (self.feat_blocks + self.gen_blocks) + 1
        reach = max(pad_amount(self.scale, self.k), pad_amount(self.scale, self.linear_taps or self.scale))
        return max(net, math.ceil(reach / self.scale))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ADKNetConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        return cls(**d)


PRESETS: dict[str, ADKNetConfig] = {
    # Sized to train and run well on 2 CPU cores.
    "lite": ADKNetConfig(linear_taps=16),
    # Larger, for a GPU.
    "paper": ADKNetConfig(k=16, hr_features=32, width=64, feat_blocks=8, gen_width=64, gen_blocks=4, branch_width=128,
                          linear_taps=16),
}


def preset(name: str, **overrides: Any) -> ADKNetConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    cfg = PRESETS[name]
    s = overrides.get("scale", cfg.scale)
    # Keep the preset's ratios k/scale (3 for lite, 4 for paper) and linear_taps/scale (4) at other scales;
    # taps - scale must be even, so at odd scales 4*scale taps become 4*scale + 1.
    for name in ("k", "linear_taps"):
        if "scale" in overrides and name not in overrides and getattr(cfg, name):
            taps = getattr(cfg, name) // cfg.scale * s
            overrides[name] = taps + (taps - s) % 2
    return replace(cfg, arch="", **overrides)
