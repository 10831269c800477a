"""Before a run: its train and validation pairs, checked and loaded, the model it starts from (new, shipped or a
file, old weights gaining the linear part), the settings a resumed run continues with, and the lines that say what
the run will do, for the training engine (adk_model.train)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .adknet import ARCH, ARCH_V1, ADKNet, preset, with_linear_part
from .config_bounds import bounded_config
from .data import discover_pairs, load_decodable, no_usable_pairs, select
from .errors import UserError
from .splits import resolve_split
from .train_config import TrainConfig
from .wording import count_of
from .weights import default_weights, load_weights


def load_split_pairs(cfg: TrainConfig, log: Callable[[str], None] = lambda m: None, fallback_says: str = "",
                     unreadable: dict[str, str] | None = None):
    """Discover, check and load the train and validation pairs, naming every problem pair (`fallback_says`:
    resolve_split's); `unreadable` gains each pair left out when its images would not decode, with why."""
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
    def skip(p, why: str) -> None:  # said as the scan's skips are
        log(f"skipping {p.name}: {why}")
        if unreadable is not None:
            unreadable[p.name] = why

    train_loaded = list(load_decodable(train_infos, cfg.scale, skip))
    if not train_loaded:
        raise UserError(f"None of the {count_of(len(train_infos), 'training pair')} in {cfg.pairs} could be read "
                        f"(each is named in the log).")
    val_loaded = list(load_decodable(val_infos, cfg.scale, skip))
    return ([p for p, _, _ in train_loaded], [(hr, lr) for _, hr, lr in train_loaded],
            [p for p, _, _ in val_loaded], [(hr, lr) for _, hr, lr in val_loaded])


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


def resumed_config(ckpt: dict[str, Any], resume: str, iterations: int | None, command: str,
                   log: Callable[[str], None]) -> TrainConfig:
    """The settings a checkpoint's run continues with: a new iteration budget (more than done), its folder where
    the checkpoint now is, and `command` added to the commands that resumed it."""
    saved = dict(ckpt["train_config"])
    done = int(ckpt["iteration"])
    if iterations:
        if iterations <= done:
            left = int(saved.get("iterations", 0)) > done
            finish = f" (or leave the count out to finish its {saved['iterations']})" if left else ""
            raise UserError(f"{Path(resume).name} is already at iteration {done}: give more than {done} "
                            f"iterations to continue it{finish}.")
        saved["iterations"] = iterations
    # The run continues where its checkpoint now is: a copied or moved run folder (or a relative --out stored
    # from another working directory) must not write into the original one.
    here = str(Path(resume).resolve().parent)
    if saved.get("out") and Path(saved["out"]).resolve() != Path(here):
        log(f"the checkpoint was written in {saved['out']}; continuing in its folder {here}")
    saved["out"] = here
    if command:
        saved["resumes"] = [*saved.get("resumes", []), command]
    return TrainConfig.from_dict(saved)


def setup_lines(cfg: TrainConfig, device: str, n_train: int, n_val: int, on_rank: int | None, calibrating: bool,
                calibrate_next: bool, calibrates_all: bool) -> list[str]:
    """What a set-up run says it will do: on which device, on which pairs, and where it writes. `calibrating`:
    Quick calibrate alone; `calibrate_next`: the Train tab's button (a fine-tune may follow); `calibrates_all`: the
    calibration fits the seeded val part too."""
    rank = f" ({on_rank} on this rank)" if on_rank is not None else ""
    pairs = (f"{count_of(n_train, 'train pair')}{rank}, {count_of(n_val, 'val pair')}" if not calibrating else
             f"{count_of(n_train, 'pair')}, cross-validated" if not n_val else
             f"{count_of(n_train, 'train pair')}, judged on {count_of(n_val, 'val pair')}")
    if calibrates_all:
        pairs += f" (Quick calibrate {'' if calibrate_next else 'first '}fits all {n_train + n_val}, cross-validated)"
    doing = "calibrating" if calibrating or calibrate_next else "training"  # the button's run may go on to train
    return [f"{doing} on {device}: {pairs}",
            f"run folder {cfg.out} (written once there is something to keep)" if calibrate_next else
            f"writing {'weights' if calibrating else 'checkpoints and weights'} to {cfg.out}"]
