"""The least-squares kernel of a set of train pairs, fitted once: `adkviewer eval` and the dataset view re-fitted
it on every run (about 50 s of RealSR's 90 s eval on 2 cores). Keyed by the pairs' files, so a changed file refits."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Sequence

from .baselines import LstsqFit, load_lstsq, save_lstsq
from .cache_files import cache_dir, file_id
from .data import PairInfo
from .errors import WeightsError

KEY_VERSION = 1


def lstsq_key(train: Sequence[PairInfo], scale: int) -> str:
    """What a fit on these pairs comes from: the fit's form (scale, taps) and every pair's two files."""
    h = hashlib.sha256(f"lstsq{KEY_VERSION}|x{scale}|t{4 * scale}".encode())
    for p in train:
        h.update(f"\n{file_id(p.hr_path)}>{file_id(p.lr_path)}".encode())
    return h.hexdigest()


def _path(train: Sequence[PairInfo], scale: int) -> Path:
    return cache_dir() / "lstsq" / f"{lstsq_key(train, scale)}.safetensors"


def cached_lstsq(train: Sequence[PairInfo], scale: int, fitted_on: str) -> LstsqFit | None:
    """The fit of these pairs from an earlier run, named `fitted_on` now; None when there is none (or it is bad)."""
    path = _path(train, scale)
    if not path.is_file():
        return None
    try:
        fit = load_lstsq(path)
    except (WeightsError, OSError):
        return None  # a damaged entry is fitted again and overwritten
    if fit.scale != scale or fit.taps != 4 * scale:
        return None
    return dataclasses.replace(fit, fitted_on=fitted_on)


def store_lstsq(fit: LstsqFit, train: Sequence[PairInfo], scale: int) -> None:
    """Keep a fit for the next run; a cache that cannot be written costs only the next fit."""
    path = _path(train, scale)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_lstsq(fit, path)
    except OSError:
        pass
