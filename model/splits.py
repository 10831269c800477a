"""The split of a pairs folder into training and validation pairs: split.json, seeded fractions, and the one
reading of a split word (`--split` of train / eval / fit-lstsq, the Train tab's choice)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from adk_model import json_input
from adk_model.errors import PairError, UserError

SPLIT_FILENAME = "split.json"


@dataclass
class Split:
    """Names of training and validation pairs; `scale` is None for a split not read from a file."""

    scale: int | None
    train: list[str]
    val: list[str]


def _name_list(data: dict, key: str, path: Path) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise PairError(f"Split file '{path}' needs \"{key}\" to be a list of pair names (strings).")
    dupes = sorted({n for n in value if value.count(n) > 1})
    if dupes:
        raise PairError(f"Split file '{path}' lists {', '.join(dupes[:5])} more than once in \"{key}\".")
    return list(value)


def read_split(path_or_folder: str | os.PathLike) -> Split:
    """Read `split.json` ({"scale": S, "train": [names], "val": [names]}); a folder means its split.json."""
    path = Path(path_or_folder)
    if path.is_dir():
        path = path / SPLIT_FILENAME
    if not path.is_file():
        raise PairError(f"Split file '{path}' does not exist.")
    try:
        data = json_input.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PairError(f"Split file '{path}' is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
    except ValueError as exc:
        raise PairError(f"Split file '{path}' cannot be used: {exc}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PairError(f"Split file '{path}' cannot be read ({exc}).") from exc
    if not isinstance(data, dict):
        raise PairError(f"Split file '{path}' must hold a JSON object with \"scale\", \"train\" and \"val\".")
    scale = data.get("scale")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise PairError(f"Split file '{path}' needs \"scale\" to be a positive whole number, got {scale!r}.")
    train, val = _name_list(data, "train", path), _name_list(data, "val", path)
    both = sorted(set(train) & set(val))
    if both:
        raise PairError(f"Split file '{path}' puts {', '.join(both[:5])} in both \"train\" and \"val\".")
    if not train and not val:
        raise PairError(f"Split file '{path}' has empty \"train\" and \"val\" lists.")
    return Split(scale=scale, train=train, val=val)


def seeded_split(names: Sequence[str], val_fraction: float, seed: int, scale: int | None = None) -> Split:
    """Reproducible random train/val split of `names` (independent of their order), using torch's RNG."""
    unique = sorted(set(names))
    if len(unique) != len(names):
        raise PairError("The list of pair names to split contains duplicates.")
    if not 0.0 <= val_fraction < 1.0:
        raise PairError(f"The validation fraction must be at least 0 and below 1, got {val_fraction}.")
    n_val = int(round(len(unique) * val_fraction))
    if val_fraction > 0 and len(unique) >= 2:
        n_val = min(max(n_val, 1), len(unique) - 1)  # keep at least one pair on each side
    g = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(len(unique), generator=g).tolist()
    val = sorted(unique[i] for i in order[:n_val])
    train = sorted(unique[i] for i in order[n_val:])
    return Split(scale=scale, train=train, val=val)


AUTO_VAL_FRACTION = 0.2
SPLIT_WORDS = ("val", "train", "default", "")  # mean the pairs folder's own split.json


def held_out_split(folder: str | os.PathLike, split: str) -> bool:
    """Whether resolve_split's validation pairs are a seeded part of the same pairs (a fraction, or the fallback
    without split.json) rather than the person's own list: quick calibrate then fits on all of them."""
    return split.startswith("fraction:") or (split in SPLIT_WORDS and not (Path(folder) / SPLIT_FILENAME).is_file())


def resolve_split(folder: str | os.PathLike, split: str, names: Sequence[str], seed: int = 0,
                  log: Callable[[str], None] = lambda m: None,
                  fallback: float | None = AUTO_VAL_FRACTION, fallback_says: str = "") -> Split:
    """The one reading of a split word, for `adkviewer train`, `eval`, `fit-lstsq` and the Train tab.

    'all': every pair trains, none validates; 'fraction:F': a seeded fraction F of `names` validates;
    'val', 'train' (or ''): split.json in `folder`, and without one a seeded `fallback` fraction (said
    through `log`, or `fallback_says` where the caller uses that part otherwise; with fallback None that is an
    error); anything else: the path of a split .json file.
    """
    if split == "all":
        return seeded_split(names, 0.0, seed)
    if split.startswith("fraction:"):
        text = split.split(":", 1)[1]
        try:
            fraction = float(text)
        except ValueError:
            raise UserError(f"Split {split!r}: {text!r} is not a number (write e.g. fraction:0.2).") from None
        return seeded_split(names, fraction, seed)
    if split in SPLIT_WORDS:
        if not (Path(folder) / SPLIT_FILENAME).is_file():
            if fallback is None:
                raise UserError(f"--split {split} needs a {SPLIT_FILENAME} in {folder}; "
                                f"pass --split all to use every pair, or a split .json file.")
            log(f"no {SPLIT_FILENAME} in {folder}: "
                f"{fallback_says or f'validating on a seeded {fallback:.0%} of the pairs'}")
            return seeded_split(names, fallback, seed)
        return read_split(folder)
    return read_split(split)
