"""Run folders for the runs list: tiny real runs of today's engine, and one laid out as the first version wrote it."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import torch

from core_helpers import TINY
from adk_model.train import TrainConfig, Trainer

# TrainConfig's fields in the first version (4e4cafc, 2026-11-27): later ones (resumes, calibrate_first,
# patience, export) were not there.
FIRST_CONFIG_FIELDS = ("pairs", "split", "scale", "preset", "model_overrides", "init", "iterations", "batch", "patch",
                       "lr", "weight_decay", "warmup", "val_every", "ckpt_every", "out", "seed", "device", "augment",
                       "max_val_pairs", "command")


def tiny_run(pairs: Path, out: Path, iterations: int = 6, seed: int = 3, lr: float = 2e-3, export: bool = True,
             **kw) -> Trainer:
    """A real run of the current engine (tiny model, scratch), validated every 3 iterations, checkpointed."""
    cfg = TrainConfig(pairs=str(pairs), split="val", scale=4, preset="lite", model_overrides=dict(TINY), init="scratch",
                      iterations=iterations, batch=2, patch=8, lr=lr, warmup=2, val_every=3, ckpt_every=3,
                      out=str(out), seed=seed, device="cpu", **kw)
    t = Trainer(cfg)
    t.setup()
    t.run()
    if export:
        t.export()
    return t


def first_version_run(pairs: Path, folder: Path) -> Trainer:
    """A run folder as the first version (4e4cafc) left it: its checkpoint keeps the loss of every 10th iteration
    (and iteration 1), no best model and no pair names; its export card has no val history and no 'exported';
    there is no best_x4; the folder is the old default 'runs/adknet' (no date in its name)."""
    t = tiny_run(pairs, folder, iterations=21, export=True)
    t.history = [h for h in t.history if "loss" not in h or h["it"] % 10 == 0 or h["it"] == 1]
    ckpt = torch.load(folder / "checkpoint_last.pt", weights_only=True)
    ckpt["history"] = t.history
    ckpt["train_config"] = {k: ckpt["train_config"][k] for k in FIRST_CONFIG_FIELDS}
    for key in ("best_model", "pairs", "started"):
        ckpt.pop(key)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    (folder / "checkpoint_last.pt").write_bytes(buf.getvalue())
    for name in ("best_x4.safetensors", "best_x4.json"):
        (folder / name).unlink()
    card_file = next(folder.glob("adknet_*.json"))
    card = json.loads(card_file.read_text())
    for key in ("val_history", "exported", "started"):
        card["training"].pop(key)
    card_file.write_text(json.dumps(card))
    return t


def card_only_run(pairs: Path, folder: Path) -> Trainer:
    """A run from before the runs list that wrote no checkpoint (--ckpt-every 0): an export card without val
    history, and best_x4 with its first card (best_val and a note, 5517bde)."""
    t = tiny_run(pairs, folder, iterations=6, export=True)
    (folder / "checkpoint_last.pt").unlink()
    card_file = next(folder.glob("adknet_*.json"))
    card = json.loads(card_file.read_text())
    for key in ("val_history", "started"):
        card["training"].pop(key)
    card_file.write_text(json.dumps(card))
    best = json.loads((folder / "best_x4.json").read_text())
    (folder / "best_x4.json").write_text(json.dumps({k: best[k] for k in ("name", "arch", "scale", "config",
                                                                           "best_val", "note")}))
    os.utime(folder / card_file, None)
    return t
