"""A least-squares kernel fitted on a pairs folder, cancellable and with progress (the GUI's "Fit from a pairs
folder…"; `adkviewer fit-lstsq` is the same fit with the CLI's --split choices)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .baselines import LstsqFit, fit_lstsq, save_lstsq
from .data import PairInfo, discover_pairs, load_pair, no_usable_pairs, select
from .errors import UserError
from .splits import SPLIT_FILENAME, read_split
from .wording import count_of


def fit_pairs(folder: str | os.PathLike, scale: int) -> tuple[list[PairInfo], str, list[PairInfo]]:
    """(pairs to fit on, which ones in words, unusable pairs skipped): split.json's train list when the folder has
    one (its validation pairs stay unseen), else every usable pair."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"Pairs folder '{folder}' {'is a file, not a folder' if folder.exists() else 'does not exist'}.")
    infos = discover_pairs(folder, scale)
    ok, bad = [p for p in infos if p.ok], [p for p in infos if not p.ok]
    if not ok:
        raise UserError(no_usable_pairs(folder, infos, scale, how="choose the scale {fit}"))
    if (folder / SPLIT_FILENAME).is_file():
        names = [n for n in read_split(folder).train if n not in {p.name for p in bad}]
        chosen = select(ok, names)
        if not chosen:
            raise UserError(f"The \"train\" list of {folder / SPLIT_FILENAME} is empty, so there are no pairs to fit on.")
        return chosen, f"{folder.name} train split ({count_of(len(chosen), 'pair')})", bad
    return ok, f"{folder.name}, every pair ({count_of(len(ok), 'pair')})", bad


def fit_on_folder(folder: str | os.PathLike, scale: int, cancelled: Callable[[], bool] = lambda: False,
                  progress: Callable[[int, int], None] = lambda done, total: None) -> LstsqFit:
    """Fit the global kernel (taps 4 x scale, as the CLI) pair by pair; InterruptedError when `cancelled()`."""
    chosen, fitted_on, _bad = fit_pairs(folder, scale)

    def pairs() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        progress(0, len(chosen))
        for i, p in enumerate(chosen):
            if cancelled():
                raise InterruptedError("fit cancelled")
            yield load_pair(p, scale)
            progress(i + 1, len(chosen))

    return fit_lstsq(pairs(), scale, taps=4 * scale, fitted_on=fitted_on)


def save_new_fit(fit: LstsqFit, folder: str | os.PathLike, pairs_name: str) -> Path:
    """Write the fit as FOLDER/lstsq_xS_PAIRS.safetensors (…-2, -3 beside an earlier one), never overwriting."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"lstsq_x{fit.scale}_{pairs_name or 'pairs'}"
    for n in range(1, 1000):
        path = folder / (f"{stem}.safetensors" if n == 1 else f"{stem}-{n}.safetensors")
        try:
            save_lstsq(fit, path, overwrite=False)
            return path
        except UserError:
            if not path.exists():
                raise
    raise UserError(f"Too many least-squares fits named {stem} in {folder}.")
