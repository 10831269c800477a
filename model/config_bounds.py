"""Checks on untrusted model configs and tensors (weights files, imports, checkpoints, `train --set`), done
BEFORE any real model is built: a stored config of k=10000 or width=10**6 must be one sentence, not 57 GB.

Order: sane upper bounds per field, then the parameter count of a model built on torch's "meta" device (no
memory), then the file's tensor names, dtypes and shapes (from the safetensors header, no data read) against
that model's state_dict. Written over state_dict keys, so it holds for any tensors the architecture adds.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import torch

from .adknet import ARCHS, ADKNet, ADKNetConfig

ARCHES = ARCHS  # the names adknet.py derives from a config
# Largest accepted value per integer config field: well above the "paper" preset, far below what exhausts memory.
UPPER_BOUNDS = {"scale": 16, "k": 64, "hr_features": 256, "width": 512, "feat_blocks": 64, "gen_width": 512,
                "gen_blocks": 64, "branch_width": 1024, "linear_taps": 64}
MAX_PARAMETERS = 20_000_000  # 80 MB of float32; the paper preset has 1.8 M
FLOAT_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}
_TORCH_NAMES = {v: k for k, v in FLOAT_DTYPES.items()}


def bounded_config(d: Mapping[str, Any]) -> ADKNetConfig:
    """A config from untrusted fields; ValueError (a clause for the caller's sentence) when out of bounds."""
    if not isinstance(d, Mapping):
        raise ValueError(f"the config is a {type(d).__name__}, not a set of named fields")
    arch = d.get("arch", ARCHES[0])
    if arch not in ARCHES:
        raise ValueError(f"arch {arch!r} is not one this program runs ({', '.join(ARCHES)})")
    for name, bound in UPPER_BOUNDS.items():
        v = d.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and v > bound:
            raise ValueError(f"{name}={v} is above the largest supported value {bound}")
    cfg = ADKNetConfig.from_dict(dict(d))
    n = sum(t.numel() for t in expected_shapes_tensors(cfg).values())
    if n > MAX_PARAMETERS:
        raise ValueError(f"it makes a model of {n / 1e6:.0f} million parameters, above the supported "
                         f"{MAX_PARAMETERS / 1e6:.0f} million")
    return cfg


def expected_shapes_tensors(cfg: ADKNetConfig) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return dict(ADKNet(cfg).state_dict())


def expected_shapes(cfg: ADKNetConfig) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the model this config builds, without allocating it."""
    return {k: tuple(v.shape) for k, v in expected_shapes_tensors(cfg).items()}


def file_tensors(path: str | os.PathLike) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Tensor name -> (safetensors dtype, shape), read from the header only."""
    from safetensors import safe_open

    with safe_open(os.fspath(path), framework="pt") as f:
        return {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}


def tensor_info(state: Mapping[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The same as file_tensors for tensors already in memory (an imported state dict, a checkpoint)."""
    return {k: (_TORCH_NAMES.get(v.dtype, str(v.dtype).removeprefix("torch.")), tuple(v.shape))
            for k, v in state.items()}


def shape_problem(cfg: ADKNetConfig, found: Mapping[str, tuple[str, tuple[int, ...]]]) -> str | None:
    """Why the tensors do not fit the config (naming a tensor), or None when names, dtypes and shapes all fit."""
    want = expected_shapes(cfg)
    missing, unexpected = sorted(set(want) - set(found)), sorted(set(found) - set(want))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        return f"tensor '{missing[0]}'{more} of its config is missing"
    if unexpected:
        more = f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""
        return f"it holds tensor '{unexpected[0]}'{more}, which its config has no place for"
    for name, shape in want.items():
        dtype, got = found[name]
        if dtype not in FLOAT_DTYPES:
            return f"tensor '{name}' holds {dtype} values, not floating-point weights"
        if tuple(got) != shape:
            return f"tensor '{name}' has the wrong shape {tuple(got)}; its config needs {shape}"
    return None


def nonfinite_problem(state: Mapping[str, torch.Tensor]) -> str | None:
    """Which tensor holds NaN or infinite values, or None (every value finite)."""
    for name, t in state.items():
        if t.is_floating_point():
            bad = int((~torch.isfinite(t)).sum())
            if bad:
                return f"tensor '{name}' holds {bad} NaN or infinite value{'s' if bad > 1 else ''}"
    return None
