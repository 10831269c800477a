"""The model cards a training run writes: the export's full training record, and best_xS's (which run, which
iteration). Qt-free; `trainer` is a `adk_model.train.Trainer` (duck-typed, so this module does not import the engine)."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Any

import torch

from .ddp import launch_record
from .devices import describe_device
from .model_card import summarize_card
from .splits import AUTO_VAL_FRACTION, SPLIT_FILENAME
from .train_config import STEP_SETTINGS
from .weights import default_weights, describe_weights


def hardware_string(device: torch.device | None, world: int = 1) -> str:
    """Device, process count and host, as recorded in every card."""
    d = describe_device(device) if device is not None else "?"
    return f"{d} x{world} on {socket.gethostname()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def _pairs_record(trainer: Any) -> dict[str, Any]:
    cfg = trainer.cfg
    start = start_model(cfg.init, cfg.scale)
    train, val = sorted(p.name for p in trainer.train_infos), sorted(p.name for p in trainer.val_infos)
    calibration = getattr(trainer, "calibration", None)
    # an adopted Quick calibrate that fitted every pair (no split file) fitted the seeded val part too: the card
    # says so, so that their scores are not taken for test scores (model_card.card_train_pairs)
    joined = isinstance(calibration, dict) and calibration.get("adopted") is True and \
        calibration.get("judged_by") == "cv" and getattr(trainer, "val_held_out", False) and val
    split = cfg.split  # as asked; where the folder has no split.json, what was used in its place
    if getattr(trainer, "val_held_out", False) and not split.startswith("fraction:"):
        split = (f"fraction:{AUTO_VAL_FRACTION:g} (seed {cfg.seed}; the folder has no {SPLIT_FILENAME})" if val else
                 f"all (Quick calibrate fitted every pair; the folder has no {SPLIT_FILENAME})")
    return {"pairs": str(cfg.pairs), "split": split, "train_pairs": train, "val_pairs": val,
            **({"fitted_pairs": sorted(train + val)} if joined else {}), "iterations": trainer.iteration,
            "started": trainer.started, **({"start_model": start} if start else {})}


def start_model(init: str, scale: int) -> dict[str, str] | None:
    """The model a run started from, by its card's name and what it reproduces (None: trained from scratch), so
    that a fine-tune's card says what it was fine-tuned from, not only on what."""
    path = default_weights(scale) if init == "shipped" else None if init == "scratch" else Path(init)
    if path is None:
        return None
    card = summarize_card(path)  # the pairs it had seen: a fine-tune that hands it back unchanged has seen them too
    return {"name": describe_weights(path).name, "reproduces": card.reproduces,
            **({"train_pairs": list(card.train_pairs)} if card.train_pairs else {})}


def export_card(trainer: Any, path: Path, which: str | None) -> dict[str, Any]:
    """An export's card: the data, split, settings, time, hardware and which model (best or last) it holds."""
    cfg = trainer.cfg
    calibration = getattr(trainer, "calibration", None)  # quick calibrate's verdict, adopted or not
    verdict = {"calibration": calibration} if isinstance(calibration, dict) else {}
    return {"name": path.stem, **verdict, "training": {
        **_pairs_record(trainer),
        "seconds": round(trainer.elapsed, 1),
        "hardware": hardware_string(trainer.device, trainer.dist.world),
        **launch_record(trainer.dist.world),  # torchrun and its process counts, or a single process
        "command": cfg.command,
        **({"resumed_with": list(cfg.resumes)} if cfg.resumes else {}),
        "settings": settings_record(cfg, trained=trainer.iteration > 0),
        "best_val": trainer.best,
        "val_history": val_history(trainer.history),
        "exported": trainer.exported_which(which),
    }}


def settings_record(cfg: Any, trained: bool) -> dict[str, Any]:
    """The run's settings for the card; without a training step (Quick calibrate alone) only those that shaped it."""
    left_out = ("pairs", "command", "resumes") + (() if trained else STEP_SETTINGS)
    return {k: v for k, v in cfg.to_dict().items() if k not in left_out}


def val_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The validation curve for the card, so a run folder without its checkpoint still shows it (model/runs.py)."""
    return [{"it": h["it"], "psnr": h["val_psnr"], **({"ssim": h["val_ssim"]} if "val_ssim" in h else {})}
            for h in history if "val_psnr" in h]


def best_card(trainer: Any) -> dict[str, Any]:
    """best_xS's card names its run and iteration (File → ADK-Net weights lists several runs' best_x4) and the
    pairs it was fitted to (what it reproduces)."""
    run = Path(trainer.cfg.out).name
    return {"name": f"best of {run} (it {trainer.iteration}, {trainer.best['psnr']:.2f} dB)",
            "best_val": trainer.best, "note": "weights at the best validation PSNR of this run",
            "training": _pairs_record(trainer)}
