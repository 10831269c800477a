"""Checks of output paths made before any work, so a bad -o / --out is one sentence, not a failure half-way."""

from __future__ import annotations

import os
from pathlib import Path


def check_run_folder(out: str) -> None:
    """A new run's --out: refused before any training if it is a file, unwritable, or already holds a run."""
    from adk_model.errors import UserError

    folder = Path(out)
    held = sorted(p.name for p in folder.iterdir() if p.suffix in (".pt", ".safetensors")) if folder.is_dir() else []
    if held:
        ckpt = folder / "checkpoint_last.pt"
        again = f", or continue it with --resume {ckpt}" if ckpt.is_file() else ""
        raise UserError(f"--out {folder} already holds a run ({held[0]}); name a new folder{again}.")
    check_writable(folder, "--out")


def check_writable(folder: Path, what: str) -> None:
    """`folder` exists and can be written to, or can be created (its nearest existing parent is a writable folder)."""
    from adk_model.errors import UserError

    where = next(p for p in (folder, *folder.parents) if p.exists())  # the folder, or what will hold it
    if not where.is_dir():
        raise UserError(f"{what} {folder}: {where} is a file, not a folder.")
    if not os.access(where, os.W_OK | os.X_OK):
        raise UserError(f"{what} {folder}: cannot write in {where}.")


def check_new_safetensors(out: str, overwrite: bool, why: str) -> None:
    """-o of fit-lstsq / import-weights: a .safetensors name, and no existing file replaced without --overwrite."""
    from adk_model.errors import UserError

    if Path(out).suffix.lower() != ".safetensors":
        raise UserError(f"-o {out}: {why}; name it NAME.safetensors.")
    if Path(out).exists() and not overwrite:
        raise UserError(f"{out} already exists; pass --overwrite to replace it.")
