"""Choosing and describing the compute device (CPU, CUDA, MPS)."""

from __future__ import annotations

from dataclasses import dataclass

import contextlib
from typing import ContextManager

import torch

from .device_names import CHOICES, check_device_name, cuda_index  # noqa: F401 (CHOICES: public name here too)
from .errors import UserError
from .wording import count_of


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if mps_available():
        found.append("mps")
    return found


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then MPS, then the CPU; asking for an absent device is a clear error."""
    name = check_device_name(name or "auto")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("CUDA was asked for, but this PyTorch build sees no CUDA GPU.")
        index, count = cuda_index(name), torch.cuda.device_count()
        if index is not None and index >= count:
            raise UserError(f"{name} was asked for, but this machine has {count_of(count, 'CUDA GPU')} "
                            f"(cuda:0 to cuda:{count - 1}).")
        return torch.device(name)
    if name == "mps":
        if not mps_available():
            raise UserError("MPS was asked for, but it is not available on this machine.")
        return torch.device("mps")
    return torch.device("cpu")


def amp_enabled(amp: str, dev: torch.device) -> bool:
    """--amp bf16 on a CUDA device; asked for on another device it is one sentence, never silently ignored."""
    if amp in ("", "off", None):
        return False
    if amp != "bf16":
        raise UserError(f"Unknown --amp {amp!r}; choose off or bf16.")
    if dev.type != "cuda":
        raise UserError(f"--amp bf16 runs only on a CUDA GPU (this run is on {dev.type}); leave it off.")
    return True


def autocast(enabled: bool, dev: torch.device) -> ContextManager:
    """bf16 autocast on the device's type when enabled (amp_enabled has checked it is CUDA), else nothing."""
    return torch.autocast(dev.type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def describe_device(dev: torch.device) -> str:
    """Human label for the status bar, e.g. 'CUDA: NVIDIA H100 80GB HBM3'."""
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "MPS (Apple GPU)"
    n = torch.get_num_threads()
    return f"CPU ({count_of(n, 'thread')})"


def default_budget_bytes(dev: torch.device) -> int:
    """Working-memory budget for one inference tile: modest on the CPU, a share of free memory on a GPU."""
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        return int(min(free * 0.5, 8 * 2**30))
    if dev.type == "mps":
        return 1 * 2**30
    return 512 * 2**20


@dataclass(frozen=True)
class DdpPlan:
    """Where one torchrun rank computes and how the ranks talk: NCCL with one GPU a rank, else gloo on the CPU."""

    backend: str
    device: torch.device


def ddp_plan(name: str, world: int, local_rank: int) -> DdpPlan:
    """The backend and device of a rank under torchrun (world > 1), or one sentence saying why not.

    gloo reduces CPU tensors only, and NCCL needs CUDA: so MPS is refused, 'auto' without CUDA trains on the CPU,
    and each rank takes the GPU of its local rank (cuda:N would put every rank on one GPU).
    """
    name = check_device_name(name or "auto")
    if name == "mps":
        raise UserError("DDP (torchrun) cannot use MPS: its gloo backend reduces CPU tensors only; train in one "
                        "process with --device mps, or under torchrun with --device cpu.")
    if cuda_index(name) is not None:
        raise UserError(f"Under torchrun each of the {world} ranks takes the GPU of its local rank; use --device "
                        f"cuda (choose the GPUs with CUDA_VISIBLE_DEVICES), not {name}.")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return DdpPlan("gloo", torch.device("cpu"))
    resolve_device("cuda")  # a clear sentence when there is no CUDA
    return DdpPlan("nccl", torch.device("cuda", local_rank))
