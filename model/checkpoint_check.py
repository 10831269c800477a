"""Is a loaded checkpoint dict one that resumes? Hand-edited checkpoints (missing keys, wrong types, a NaN
learning rate, a bad RNG state, NaN weights) must be one sentence before the run starts, not a traceback from
deep inside torch, nor a run that exports NaN weights."""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import torch

from .adknet import ADKNet
from .config_bounds import bounded_config, nonfinite_problem, shape_problem, tensor_info
from .errors import UserError
from .train_config import CKPT_FORMAT, TARGET_BLUR_MAX, TrainConfig
from .weights import safe_torch_load

REQUIRED = ("train_config", "iteration", "model_config", "model", "optimizer", "rng_torch", "rng_gen")


def check_checkpoint(ckpt: dict[str, Any], name: str, train_config_type: type) -> None:
    """Raise UserError naming what is wrong with `ckpt` (as read_checkpoint returns it)."""
    problem = _problem(ckpt, train_config_type)
    if problem:
        raise UserError(f"{name} cannot be resumed: {problem}.")


def _problem(ckpt: dict[str, Any], train_config_type: type) -> str | None:
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        return f"it has no '{missing[0]}' entry"
    it = ckpt["iteration"]
    if isinstance(it, bool) or not isinstance(it, int) or it < 0:
        return f"its iteration is {it!r}, not a whole number of 0 or more"
    if not _finite_number(ckpt.get("elapsed", 0.0)):
        return "its elapsed time is not a finite number"
    problem = _train_config_problem(ckpt["train_config"], train_config_type)
    if problem:
        return problem
    model_state = ckpt["model"]
    if not isinstance(model_state, dict) or not all(isinstance(v, torch.Tensor) for v in model_state.values()):
        return "its 'model' entry is not a set of tensors"
    try:
        cfg = bounded_config(ckpt["model_config"])
    except (ValueError, TypeError) as e:
        return f"its model config is invalid ({e})"
    problem = shape_problem(cfg, tensor_info(model_state)) or nonfinite_problem(model_state)
    if problem:
        return f"its model is unusable: {problem}"
    for key, what in (("best_model", "best model"), ("start_model", "starting model")):
        state = ckpt.get(key)
        if state is None:
            continue
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            return f"its {what} is not a set of tensors"
        problem = shape_problem(cfg, tensor_info(state)) or nonfinite_problem(state)
        if problem:
            return f"its {what} is unusable: {problem}"
    problem = _optimizer_problem(ckpt["optimizer"], cfg)
    if problem:
        return problem
    for key in ("rng_torch", "rng_gen"):
        try:
            torch.Generator().set_state(ckpt[key])  # torch's own check of a CPU generator state
        except (RuntimeError, TypeError, ValueError):
            return f"its random-number state '{key}' is not one torch can restore"
    if not isinstance(ckpt.get("history", []), list) or not isinstance(ckpt.get("best", {}), dict):
        return "its history or best-result record is not of the right kind"
    if not all(_finite_number(v) for v in ckpt.get("best", {}).values()):
        return "its best-result record holds a value that is not a finite number"
    return None


def _finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _train_config_problem(saved: Any, train_config_type: type) -> str | None:
    """Every stored field has the type of its default; numbers are finite; lr and iterations are positive."""
    if not isinstance(saved, dict):
        return "its training settings are not a set of named values"
    for f in fields(train_config_type):
        if f.name not in saved:
            continue
        v = saved[f.name]
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        if isinstance(default, bool):
            ok = isinstance(v, bool)
        elif isinstance(default, (int, float)):
            ok = _finite_number(v) and (isinstance(v, int) or isinstance(default, float))
        else:
            ok = isinstance(v, type(default))
        if not ok:
            return f"its training setting '{f.name}' is {v!r}, not a {type(default).__name__}"
    if saved.get("lr", 1.0) <= 0 or saved.get("iterations", 1) < 1 or saved.get("batch", 1) < 1 or \
            saved.get("patch", 1) < 1:
        return "its learning rate, iteration count, batch or patch is not above 0"
    if not 0.0 <= float(saved.get("target_blur", 0.0)) <= TARGET_BLUR_MAX:  # also refuses nan and inf
        return f"its target blur is {saved['target_blur']!r}, not 0 to {TARGET_BLUR_MAX:g} LR pixels"
    return None


def _optimizer_problem(opt: Any, cfg) -> str | None:
    """AdamW's state: groups with finite hyper-parameters, and moment tensors of their parameters' shapes."""
    if not isinstance(opt, dict) or not isinstance(opt.get("state"), dict) or \
            not isinstance(opt.get("param_groups"), list) or not opt["param_groups"]:
        return "its optimizer state is not of the right kind"
    with torch.device("meta"):
        shapes = [tuple(p.shape) for p in ADKNet(cfg).gradient_parameters()]
    ids = []
    for group in opt["param_groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("params"), list):
            return "its optimizer state is not of the right kind"
        for key in ("lr", "weight_decay", "eps"):
            if key in group and not _finite_number(group[key]):
                return f"its optimizer's {key} is {group[key]!r}, not a finite number"
        ids += group["params"]
    if len(ids) != len(shapes):  # what training updates: all but the linear part, fitted in closed form
        return f"its optimizer state is for {len(ids)} parameters, but the model trains {len(shapes)}"
    for pid, st in opt["state"].items():
        if pid not in ids or not isinstance(st, dict):
            return "its optimizer state does not match its parameters"
        shape = shapes[ids.index(pid)]
        for key, t in st.items():
            if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                return f"its optimizer entry '{key}' is not a floating-point tensor"
            if key != "step" and tuple(t.shape) != shape:
                return f"its optimizer entry '{key}' has shape {tuple(t.shape)}, not its parameter's {shape}"
            if not bool(torch.isfinite(t).all()):
                return f"its optimizer entry '{key}' holds NaN or infinite values"
    return None


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Checkpoints are loaded with weights_only=True: no code can run from them."""
    path = Path(path)
    ckpt = safe_torch_load(path, UserError, "ADK Viewer checkpoint")
    if not isinstance(ckpt, dict) or ckpt.get("format") != CKPT_FORMAT:
        raise UserError(f"{path.name} is not an ADK Viewer checkpoint.")
    check_checkpoint(ckpt, path.name, TrainConfig)
    return ckpt
