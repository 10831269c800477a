"""Run settings of the training engine: schedules, run folders, the config stored in every checkpoint, callbacks
and the torchrun environment: plain data that the CLI and the Train tab build."""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # torch-free and numpy-free at import: the CLI's parsers read the defaults here
    import numpy as np

CKPT_FORMAT = "adkviewer-ckpt-1"


EXPORTS = ("halfway", "best", "last")  # what a run can export (TrainConfig.export; adk_model.export_choice)
TARGET_BLUR_MAX = 3.0  # LR pixels: the most TrainConfig.target_blur may be (the CLI and the checkpoint check)
# The settings that only bear on training steps: the card of a model no step has touched (Quick calibrate alone)
# leaves them out, so it does not read as a run of 500 iterations that stopped at 0.
STEP_SETTINGS = ("iterations", "batch", "patch", "lr", "weight_decay", "warmup", "val_every", "ckpt_every", "amp",
                 "augment", "target_blur", "loss", "max_val_pairs", "time_budget_s", "calibrate_first", "patience",
                 "export")

@dataclass(frozen=True)
class Schedule:
    """Iteration budget, peak learning rate and validation: fine-tuning needs fewer, gentler steps than training
    from scratch, and on a handful of pairs it overfits, so it validates often and stops when that stops helping."""

    iterations: int
    lr: float
    val_every: int
    patience: int  # validations without a better val PSNR before stopping early (0: never)


# The defaults of `adkviewer train` and of the GUI's Train tab (one definition for both), from bench/transfer.py.
FINE_TUNE = Schedule(iterations=500, lr=1e-4, val_every=50, patience=4)
SCRATCH = Schedule(iterations=3000, lr=1e-3, val_every=250, patience=0)


def schedule_for(init: str) -> Schedule:
    return SCRATCH if init == "scratch" else FINE_TUNE


def default_init(scale: int) -> str:
    """Fine-tune the shipped weights for this scale when there are some (as the Train tab does), else train anew."""
    from .weights import default_weights

    return "shipped" if default_weights(scale) else "scratch"


RUNS_FOLDER = "adkviewer-runs"


def default_runs_root() -> Path:
    """Where runs go unless told otherwise (CLI and Train tab): one place in the home folder, whatever the cwd."""
    return Path.home() / RUNS_FOLDER


def new_run_dir(pairs: str, scale: int, root: str | os.PathLike | None = None, now: float | None = None) -> Path:
    """A fresh folder for one run, ROOT/PAIRSNAME-xS-YYYYmmdd-HHMMSS, so a new run never overwrites an old one."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    name = (Path(pairs).resolve().name if pairs else "") or "pairs"
    return Path(root or default_runs_root()).expanduser() / f"{name}-x{scale}-{stamp}"


@dataclass
class TrainConfig:
    """Everything a run needs; stored in every checkpoint so that a resume continues the same run."""

    pairs: str = ""
    split: str = "val"               # "val": split.json in `pairs`; a split file; "fraction:0.2"; or "all" (no val)
    scale: int = 4
    preset: str = "lite"
    model_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {"k": 16, "shared_kernel": True}
    init: str = "scratch"            # "scratch", "shipped", or a .safetensors path
    iterations: int = SCRATCH.iterations
    batch: int = 8
    patch: int = 48                  # LR patch side; the HR patch is patch * scale
    lr: float = SCRATCH.lr
    weight_decay: float = 1e-4
    warmup: int = 100
    val_every: int = 250
    ckpt_every: int = 250
    out: str = ""                    # run folder; "": a new one under default_runs_root(), chosen by setup()
    seed: int = 0
    device: str = "auto"
    amp: str = "off"                 # "bf16": forward and loss under bf16 autocast (CUDA only); validation in float32
    augment: bool = True
    target_blur: float = 0.0         # >0: each LR target patch blurred by a Gaussian of sigma U(0, this) LR px, so a
                                     # model trained on one camera meets softer lenses (bench/transfer.py measures it)
    loss: str = "l1"                 # "l1", or "mse" (the loss PSNR measures; what Quick calibrate minimises)
    max_val_pairs: int = 0           # 0: all validation pairs
    time_budget_s: float = 0.0       # >0: after 50 iterations, shrink `iterations` to fit this wall-clock budget
    command: str = ""                # the exact command line, recorded in the model card
    resumes: list[str] = field(default_factory=list)  # the commands that continued the run, in order (model card)
    calibrate_first: bool = True     # fit the linear part (and, fine-tuning, mix and bias) in closed form first
    patience: int = 0                # >0: stop after this many validations without a better val PSNR
    export: str = "halfway"          # one of EXPORTS (adk_model.export_choice): "halfway" between a fine-tune's
                                     # start and its best validated iteration; "best": that iteration; "last"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Callbacks:
    """Plain callables, so that a GUI (or a test) can subscribe without the engine importing Qt."""

    on_iter: Callable[[int, float, float], None] | None = None          # (iteration, loss, learning rate)
    on_val: Callable[[int, dict[str, float], np.ndarray, np.ndarray], None] | None = None  # metrics, preview, gt
    on_log: Callable[[str], None] | None = None
    on_checkpoint: Callable[[str], None] | None = None
    on_stop: Callable[[int, str], None] | None = None  # (iteration, checkpoint) after Stop; unset: a log line


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_from_env() -> DistInfo:
    """torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; without them this is a single process."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        return DistInfo(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    return DistInfo()


def lr_at(cfg: TrainConfig, it: int) -> float:
    """Linear warm-up then cosine decay to 5%: a pure function of the iteration, so resume needs no scheduler state."""
    if it < cfg.warmup:
        return cfg.lr * (it + 1) / cfg.warmup
    p = (it - cfg.warmup) / max(1, cfg.iterations - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))
