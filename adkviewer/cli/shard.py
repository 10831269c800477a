"""Which part of a batch this process does: `--shard I/N` (SLURM arrays and other independent processes) and/or
torchrun's RANK/WORLD_SIZE. Downscaling needs no collectives, so ranks share nothing but the sorted input list."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Take every `count`-th input starting at `index`; `label` prefixes this process's lines ('' when alone)."""

    index: int = 0
    count: int = 1
    label: str = ""
    local_rank: int = 0
    talks: bool = True  # says the notes every process would repeat (torchrun: rank 0 only)

    def take(self, items: Sequence[T]) -> list[T]:
        return list(items[self.index :: self.count])

    def prefix(self) -> str:
        return f"{self.label}: " if self.label else ""


def parse_shard(text: str) -> tuple[int, int]:
    """argparse type for --shard I/N: 0 <= I < N (SLURM: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = -1
    if not sep or n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"expects I/N with 0 <= I < N (e.g. 0/4 ... 3/4), got {text!r}")
    return i, n


def resolve_shard(shard: tuple[int, int] | None, env: Mapping[str, str] = os.environ) -> Shard:
    """--shard, torchrun, or both (each shard split again between its ranks), as one index and count."""
    i, n = shard or (0, 1)
    world = int(env.get("WORLD_SIZE", "1") or 1) if "RANK" in env else 1
    rank = int(env.get("RANK", "0") or 0) if world > 1 else 0
    labels = [f"shard {i}/{n}"] if shard else []
    if world > 1:
        labels.append(f"rank {rank}/{world}")
    return Shard(index=i * world + rank, count=n * world, label=", ".join(labels),
                 local_rank=int(env.get("LOCAL_RANK", "0") or 0) if world > 1 else 0, talks=rank == 0)


def rank_device(name: str, shard: Shard) -> str:
    """Under torchrun on a machine with several CUDA GPUs, each rank its own (cuda:LOCAL_RANK; more ranks than
    GPUs share them round-robin); otherwise the device asked for."""
    import torch

    if shard.count == 1 or name not in ("auto", "cuda") or not torch.cuda.is_available():
        return name
    gpus = torch.cuda.device_count()
    return f"cuda:{shard.local_rank % gpus}" if gpus > 1 else name
