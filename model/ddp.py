"""What training under torchrun needs beyond DistributedDataParallel: every rank does the same number of
iterations (rank 0 decides, the others follow) and stops at the same one, the launcher is recorded and repeated
in the resume command, and more ranks than GPUs is one sentence before any rank waits for another."""

from __future__ import annotations

import os
import shlex
import signal
import threading
from typing import Any, Callable, Mapping

import torch
import torch.distributed as dist

from .errors import UserError
from .wording import count_of


class SameOnEveryRank(UserError):
    """A problem of the launch itself, which every rank finds alike: rank 0 says it, the others only exit."""


def _local_world(world: int, env: Mapping[str, str]) -> int:
    return int(env.get("LOCAL_WORLD_SIZE", world) or world)


def launch_record(world: int, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """How the run was started, for the model card: torchrun's process counts, or one process."""
    if world <= 1:
        return {"launcher": "single process"}
    local = _local_world(world, env)
    return {"launcher": "torchrun", "nproc_per_node": local, "nnodes": max(1, world // local), "world_size": world}


def launch_prefix(world: int, env: Mapping[str, str] = os.environ) -> str:
    """The start of a command that runs the program as this run was run ('adkviewer' or 'torchrun ... -m adkviewer')."""
    if world <= 1:
        return "adkviewer"
    rec = launch_record(world, env)
    nodes = f"--nnodes {rec['nnodes']} " if rec["nnodes"] > 1 else ""
    return f"torchrun {nodes}--nproc_per_node {rec['nproc_per_node']} -m adkviewer"


def resume_command(pairs: str, checkpoint: str, world: int, env: Mapping[str, str] = os.environ) -> str:
    """The exact command that continues a stopped run (a checkpoint holds every other setting)."""
    return (f"{launch_prefix(world, env)} train --pairs {shlex.quote(str(pairs))} "
            f"--resume {shlex.quote(str(checkpoint))}")


def check_devices(world: int, device: str, env: Mapping[str, str] = os.environ) -> None:
    """Refuse more ranks on this machine than CUDA GPUs (each rank trains on cuda:LOCAL_RANK), instead of CUDA's
    'invalid device ordinal' on one rank while the others wait for it."""
    if world <= 1 or (device or "auto") not in ("auto", "cuda") or not torch.cuda.is_available():
        return
    local, gpus = _local_world(world, env), torch.cuda.device_count()
    if local > gpus:
        raise SameOnEveryRank(f"torchrun started {local} process{'' if local == 1 else 'es'} on this machine but it has "
                              f"{count_of(gpus, 'CUDA GPU')}: pass --nproc_per_node {gpus} or fewer, "
                              f"or --device cpu to train on the CPU.")


def _wire(device: torch.device | None) -> torch.device:
    """Where a collective's tensor must live: NCCL takes CUDA tensors, gloo CPU ones."""
    if dist.get_backend() == "nccl" and device is not None:
        return device
    return torch.device("cpu")


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def broadcast_int(value: int, device: torch.device | None = None) -> int:
    """Rank 0's value on every rank (alone: the value): rank 0 alone decides, say, the iteration budget."""
    if not active():
        return int(value)
    t = torch.tensor([int(value)], dtype=torch.int64, device=_wire(device))
    dist.broadcast(t, src=0)
    return int(t.item())


def agree(flags: list[bool], device: torch.device | None = None) -> list[bool]:
    """Each flag true on every rank if it is true on any (all_reduce MAX): one rank's stop stops all of them at the
    same iteration."""
    if not active():
        return list(flags)
    t = torch.tensor([int(bool(f)) for f in flags], dtype=torch.int64, device=_wire(device))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


class StopOnSignal:
    """SIGINT (Ctrl-C, which torchrun forwards to its ranks) and SIGTERM (schedulers, torchrun's shutdown) ask the
    loop to stop at the next iteration boundary. Alone, a second Ctrl-C aborts at once; under torchrun repeated
    signals are ignored (torchrun kills a rank that has not ended 30 s after its signal)."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, request_stop: Callable[[], None], log: Callable[[str], None], world: int = 1) -> None:
        self.request_stop, self.log, self.world = request_stop, log, world
        self.requested = False
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self.previous[sig] = signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.requested:
            if self.world == 1 and signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.requested = True
        self.request_stop()
        again = " (Ctrl-C again to abort now)" if self.world == 1 else ""
        self.log(f"stopping after this iteration and saving a checkpoint{again}")

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}
