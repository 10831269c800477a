"""Before a run: its train and validation pairs, checked and loaded, and the model it starts from (new, shipped
or a file, old weights gaining the linear part), for the training engine (adk_model.train)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .adknet import ARCH, ARCH_V1, ADKNet, preset, with_linear_part
from .config_bounds import bounded_config
from .data import discover_pairs, load_pair, no_usable_pairs, select
from .errors import UserError
from .splits import resolve_split
from .train_config import TrainConfig
from .weights import default_weights, load_weights


def load_split_pairs(cfg: TrainConfig, log: Callable[[str], None] = lambda m: None, fallback_says: str = ""):
    """Discover, check and load the train and validation pairs, naming every problem pair (`fallback_says`:
    resolve_split's)."""
    infos = discover_pairs(cfg.pairs, cfg.scale)
    bad = [p for p in infos if not p.ok]
    for p in bad:
        log(f"skipping {p.name}: {p.problem}")
    ok = [p for p in infos if p.ok]
    split = resolve_split(cfg.pairs, cfg.split, [p.name for p in ok], cfg.seed, log, fallback_says=fallback_says)
    # Unusable pairs were reported above and are left out; a split name missing from the folder is still an error.
    skipped = {p.name for p in bad}
    train_infos = select(ok, [n for n in split.train if n not in skipped])
    val_infos = select(ok, [n for n in split.val if n not in skipped])
    if cfg.max_val_pairs:
        val_infos = val_infos[: cfg.max_val_pairs]
    if not train_infos:
        # (the Train tab refuses such a folder at its scan, in its own words; this is the command line's)
        raise UserError(no_usable_pairs(cfg.pairs, infos, cfg.scale, "training pairs", how="pass --scale {fit}"))
    train = [load_pair(p, cfg.scale) for p in train_infos]
    val = [load_pair(p, cfg.scale) for p in val_infos]
    return train_infos, train, val_infos, val


def build_model(cfg: TrainConfig, log: Callable[[str], None] = lambda m: None) -> ADKNet:
    if cfg.init == "scratch":
        try:
            mcfg = bounded_config(preset(cfg.preset, scale=cfg.scale, **cfg.model_overrides).to_dict())
        except (ValueError, TypeError) as e:  # e.g. k=13 at x4: one sentence for the CLI and the GUI
            raise UserError(f"Invalid model settings for {cfg.preset} x{cfg.scale}: {e}.") from None
        return ADKNet(mcfg)
    path = default_weights(cfg.scale) if cfg.init == "shipped" else Path(cfg.init)
    if path is None:
        raise UserError(f"No shipped weights for x{cfg.scale}; train with --init scratch.")
    loaded = load_weights(path, expect_scale=cfg.scale)
    log(f"initialised from {path}")
    model = loaded.model
    if model.linear is None and model.mix is not None:
        # Old weights gain the global linear part, fitted first in closed form, so fine-tuning them on a new
        # camera carries its blur as well as its colour.
        model = with_linear_part(model, preset("lite", scale=cfg.scale).linear_taps)  # the preset's rule per scale
        log(f"{path.name} is {ARCH_V1}: fine-tuning it as {ARCH} (a global linear part beside its kernels)")
    return model
