"""The pairs of one split of a pairs folder, chosen once for `adkviewer eval` and the GUI's dataset view.

Torch-free at import (the pair finder and the split reader load when called), so both callers see the same
pairs, the same train split for the least-squares fit, and the same problems.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from .errors import UserError

if TYPE_CHECKING:
    from .data import PairInfo


@dataclass
class SplitPairs:
    """The usable pairs of a split (`chosen`), the train split's usable pairs (for a least-squares fit), and the
    folder's unusable pairs with their reason (`unusable`; `problems` are those of the chosen split)."""

    folder: Path
    split: str
    scale: int
    chosen: list = field(default_factory=list)     # PairInfo, usable, in the split's order
    train: list = field(default_factory=list)      # PairInfo of the train split, usable
    unusable: list = field(default_factory=list)   # PairInfo of the whole folder that cannot be used
    problems: list = field(default_factory=list)   # PairInfo of the chosen split that cannot be used


def default_split(folder: str | os.PathLike) -> str:
    """'val' when the folder has a split.json, else 'all' (the GUI's dataset view opens with it)."""
    from .splits import SPLIT_FILENAME

    return "val" if (Path(folder) / SPLIT_FILENAME).is_file() else "all"


def pair_names(info) -> tuple[str, ...]:
    """A pair's names by which external results are found: its pair name, then its HR file's stem."""
    stem = Path(info.hr_path).stem if info.hr_path else info.name
    return tuple(dict.fromkeys((info.name, stem)))


def split_pairs(pairs_dir: str | os.PathLike, split: str, scale: int | None = None, strict: bool = True) -> SplitPairs:
    """The pairs of `split` (val, train, all, fraction:F or a split .json) in a pairs folder.

    `strict` (eval): an unusable pair of the chosen split is an error; otherwise (the GUI) it is listed in
    `problems` and skipped. A folder without pairs, or an empty split, is a UserError either way.
    """
    from .data import discover_pairs, no_usable_pairs, select
    from .splits import SPLIT_FILENAME, SPLIT_WORDS, resolve_split

    folder = Path(pairs_dir)
    if not folder.is_dir():
        raise UserError(f"Pairs folder '{folder}' {'is a file, not a folder' if folder.exists() else 'does not exist'}.")
    split_obj = None
    from_names = split == "all" or split.startswith("fraction:")  # these need the pair names, found below
    if not from_names:
        has_file = (folder / SPLIT_FILENAME).exists()
        if split in SPLIT_WORDS and not has_file:
            discover_pairs(folder, scale or 4)  # a folder without pairs says so first
        try:
            split_obj = resolve_split(folder, split, [], fallback=None)
        except UserError as e:
            if split in SPLIT_WORDS and has_file:
                # worded for the CLI and the GUI's dataset view alike (the GUI has no --split flag)
                raise UserError(f"The {split} split needs a valid {SPLIT_FILENAME} in {folder} ({e})") from None
            raise
    scale = scale or (split_obj.scale if split_obj else 4)
    infos = discover_pairs(folder, scale)
    bad = [p for p in infos if not p.ok]
    ok = [p for p in infos if p.ok]
    if not ok:
        raise UserError(no_usable_pairs(folder, infos, scale, how="pass --scale {fit}"))
    if split.startswith("fraction:"):
        split_obj = resolve_split(folder, split, [p.name for p in ok])
    if split == "all":
        chosen, problems = ok, bad
    else:
        names = split_obj.train if split == "train" else split_obj.val
        # Selecting from all pairs names an unusable one and its problem (not "not in the pairs folder").
        picked = select(infos, names, require_ok=strict)
        chosen, problems = [p for p in picked if p.ok], [p for p in picked if not p.ok]
        if not picked:
            raise UserError(f"The \"{'train' if split == 'train' else 'val'}\" list of the split file is empty, "
                            f"so there are no pairs to use; pass --split all or another split.")
    skipped = {p.name for p in bad}
    train = select(ok, [n for n in split_obj.train if n not in skipped]) if split_obj else []
    return SplitPairs(folder, split, scale, chosen, train, bad, problems)


def fit_train_lstsq(train: Iterable, scale: int, fitted_on: str, infos: Sequence[PairInfo] | None = None):
    """The least-squares kernel fitted on train pairs (PairInfo, loaded one at a time), as `adkviewer eval` and the
    dataset view score it; `train` may be wrapped in a progress bar or a cancellation check. With `infos` (the
    pairs `train` yields) a fit of the same files is taken from the cache, and a new fit is kept there."""
    from .baselines import fit_lstsq
    from .data import load_pair
    from .lstsq_cache import cached_lstsq, store_lstsq

    fit = cached_lstsq(infos, scale, fitted_on) if infos else None
    if fit is None:
        fit = fit_lstsq((load_pair(p, scale) for p in train), scale, taps=4 * scale, fitted_on=fitted_on)
        if infos:
            store_lstsq(fit, infos, scale)
    return fit
