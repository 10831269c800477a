"""Command line: `adkviewer [IMAGE]` opens the GUI; `downscale`, `eval`, `train`, `fit-lstsq` run headless."""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from model.allocator import keep_freed_memory

if TYPE_CHECKING:
    from model.train import TrainConfig

SUBCOMMANDS = ("downscale", "eval", "train", "fit-lstsq", "import-weights")


def _fail(msg: str, code: int = 2) -> int:
    print(f"adkviewer: error: {msg}", file=sys.stderr)
    return code


def _int_at_least(least: int):
    """argparse type: a whole number >= least (so 0 or -1 is a usage error, never a silent default or a traceback)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return parse


def _finite_float(zero_ok: bool = False):
    """argparse type: a finite number above 0 (or at least 0), so 'nan', 'inf' or '-5' is a usage error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
            bound = "of 0 or more" if zero_ok else "above 0"
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
        return value

    return parse


DEVICE_HELP = "auto (default): CUDA, else MPS, else the CPU"


def build_parser() -> argparse.ArgumentParser:
    from model.baselines import CLASSICAL
    from model.train import FINE_TUNE, RUNS_FOLDER, SCRATCH, TrainConfig

    methods = ["adknet", *CLASSICAL, "lstsq"]
    p = argparse.ArgumentParser(prog="adkviewer", description="ADK-Net downscaling: batch, evaluation and training.")
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("downscale", help="downscale images with one method")
    d.add_argument("inputs", nargs="+", help="HR images (PNG, JPEG, WebP, TIFF, BMP), or folders of them")
    d.add_argument("-o", "--out", required=True,
                   help="output folder, created when the first image is written (or a .png name for a single input)")
    d.add_argument("--scale", type=_int_at_least(2), default=4, help="default 4")
    d.add_argument("--method", default="adknet", choices=methods, help="default adknet")
    d.add_argument("--weights", help="ADK-Net .safetensors (default: the shipped weights for the scale)")
    d.add_argument("--lstsq-fit", help="least-squares fit file (default: the shipped one for the scale)")
    d.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help=DEVICE_HELP)
    d.add_argument("--tile-budget-mb", type=_int_at_least(1), default=None, help="memory budget for one ADK-Net tile")
    d.add_argument("--overwrite", action="store_true", help="replace existing output files")

    e = sub.add_parser("eval", help="score methods on HR/LR pairs")
    e.add_argument("--pairs", required=True, help="folder with HR/ and LR/ (or RealSR naming)")
    e.add_argument("--split", default="val",
                   help="val or train (the lists in split.json in --pairs), all (every pair), or a split .json file")
    e.add_argument("--scale", type=_int_at_least(2), default=None, help="default: from split.json, else 4")
    e.add_argument("--methods", nargs="+", default=methods, choices=methods, help="default: all of them")
    e.add_argument("--weights", help="ADK-Net .safetensors (default: the shipped weights for the scale)")
    e.add_argument("--lstsq-fit", help="fit file; default: fitted on the pairs' train split when there is one")
    e.add_argument("--crop", type=_int_at_least(0), default=0, help="border crop in LR pixels (default 0)")
    e.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help=DEVICE_HELP)
    fmt = e.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print only a JSON object")
    fmt.add_argument("--csv", action="store_true", help="print CSV")

    t = sub.add_parser("train", help="fine-tune or train ADK-Net (runs under torchrun for DDP)",
                       description="Fine-tunes the shipped weights for --scale (as the GUI's Train tab does), or "
                                   "trains a new model with --init scratch.")
    t.add_argument("--pairs", required=True, help="folder with HR/ and LR/ (or RealSR naming)")
    t.add_argument("--split", default="val",
                   help="val (split.json in --pairs; without one, a seeded 20%% of the pairs), a split .json, "
                        "fraction:0.2, or all (every pair trains, no validation)")
    t.add_argument("--scale", type=_int_at_least(2), default=4, help="default 4")
    t.add_argument("--init", default=None,
                   help="shipped (default when there are shipped weights for --scale: fine-tune them), "
                        "scratch (a new model; the default otherwise), or a .safetensors file to fine-tune")
    arch = t.add_argument_group("model architecture (only with --init scratch; fine-tuning keeps the weights' own)")
    arch.add_argument("--preset", default=None, choices=["lite", "paper"], help="model size (default lite)")
    arch.add_argument("--k", type=_int_at_least(2), help="kernel size (default: the preset's)")
    arch.add_argument("--norm", choices=["softmax", "signed"], help="kernel normalisation (default: the preset's)")
    arch.add_argument("--no-gain-bias", action="store_true", help="ablation: no per-pixel gain and bias")
    arch.add_argument("--no-colour-mix", action="store_true", help="ablation: no global 3x3 colour mix")
    arch.add_argument("--shared-kernel", action="store_true", help="CAR-like ablation: one kernel for R, G and B")
    arch.add_argument("--set", action="append", default=[], metavar="FIELD=INT",
                      help="override an integer model config field, e.g. --set width=48 (repeatable)")
    t.add_argument("--iterations", type=_int_at_least(1), default=None,
                   help=f"default {FINE_TUNE.iterations} when fine-tuning, {SCRATCH.iterations} from scratch")
    t.add_argument("--batch", type=_int_at_least(1), default=TrainConfig.batch,
                   help=f"patches per step (default {TrainConfig.batch})")
    t.add_argument("--patch", type=_int_at_least(1), default=TrainConfig.patch,
                   help=f"LR patch side (default {TrainConfig.patch}; shrunk to the smallest train LR image)")
    t.add_argument("--lr", type=_finite_float(), default=None,
                   help=f"peak learning rate (default {FINE_TUNE.lr:g} when fine-tuning, {SCRATCH.lr:g} from scratch)")
    t.add_argument("--val-every", type=_int_at_least(0), default=TrainConfig.val_every,
                   help=f"iterations (default {TrainConfig.val_every}; 0: only at the end)")
    t.add_argument("--ckpt-every", type=_int_at_least(0), default=TrainConfig.ckpt_every,
                   help=f"iterations (default {TrainConfig.ckpt_every}; 0: only at the end)")
    t.add_argument("--seed", type=int, default=TrainConfig.seed, help=f"default {TrainConfig.seed}")
    t.add_argument("--out", default="",
                   help=f"run folder (default: a new ~/{RUNS_FOLDER}/PAIRS-xSCALE-DATE-TIME, as in the Train tab)")
    t.add_argument("--resume", help="checkpoint to continue (its run folder and settings; --iterations may extend it)")
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help=DEVICE_HELP)
    t.add_argument("--calibrate-only", action="store_true", help="only re-fit the colour-response head (closed form: one forward pass over the train pairs)")
    t.add_argument("--no-calibrate", action="store_true",
                   help="fine-tuning: do not re-fit the colour head on the train pairs before the first step")
    t.add_argument("--no-eval", action="store_true", help="skip the final evaluation of baselines for the card")
    t.add_argument("--lstsq-fit", help="least-squares fit for the card's baseline row (default: fitted on the train split)")
    t.add_argument("--time-budget", type=_finite_float(zero_ok=True), default=0.0,
                   help="seconds: fit the iteration count to this wall-clock budget (measured after 50 iterations)")

    f = sub.add_parser("fit-lstsq", help="fit the global least-squares kernel on the train split of a pairs folder")
    f.add_argument("--pairs", required=True, help="folder with HR/ and LR/ (or RealSR naming)")
    f.add_argument("--split", default="train",
                   help="train (the list in split.json in --pairs), all (every pair), "
                        "or a split .json (its train list)")
    f.add_argument("--scale", type=_int_at_least(2), default=4, help="default 4")
    f.add_argument("--taps", type=_int_at_least(2), default=None, help="kernel side in HR pixels (default 4*scale)")
    f.add_argument("-o", "--out", required=True, help="fit file to write (.safetensors), for --lstsq-fit")
    f.add_argument("--overwrite", action="store_true", help="replace an existing fit file")

    i = sub.add_parser("import-weights", help="convert a PyTorch .pt/.pth state dict to safetensors, safely")
    i.add_argument("input", help="a .pt/.pth state dict (loaded with weights_only=True: no pickled code runs)")
    i.add_argument("-o", "--out", required=True, help=".safetensors file to write")
    i.add_argument("--overwrite", action="store_true", help="replace an existing weights file")
    i.add_argument("--preset", default="lite", choices=["lite", "paper"], help="the state dict's model (default lite)")
    i.add_argument("--scale", type=_int_at_least(2), default=4, help="the state dict's scale (default 4)")
    return p


def build_gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="adkviewer", description="ADK Viewer. Subcommands: " + ", ".join(SUBCOMMANDS)
                                + " (run 'adkviewer SUBCOMMAND -h').")
    p.add_argument("image", nargs="?", help="HR image to open (default: the bundled demo)")
    p.add_argument("--lr", help="ground-truth LR image")
    p.add_argument("--scale", type=int, default=None,
                   help="2, 3 or 4 (default: the scale of the ground truth or of --weights, else 4)")
    p.add_argument("--weights", help="ADK-Net weights to use")
    p.add_argument("--device", default=None, choices=["auto", "cpu", "cuda", "mps"],
                   help="default: the one chosen in Settings, else auto")
    p.add_argument("--methods", nargs="+", help="methods to tick")
    p.add_argument("--tab", choices=["compare", "inspect", "diff", "train"], default=None)
    p.add_argument("--pixel", help="LR pixel X,Y to select (Inspect)")
    p.add_argument("--diff", help="difference view: METHOD[:MODE[:CHANNEL[:REF]]] or METHOD-REF[:MODE[:CHANNEL]]; "
                   "MODE signed|absolute|squared|relative, CHANNEL R|G|B|luma, REF gt or a method "
                   "(default: the ground truth, else bicubic)")
    p.add_argument("--field", help="kernel field map statistic")
    p.add_argument("--swipe", help="swipe between METHOD_A,METHOD_B")
    p.add_argument("--screenshot", help="save a screenshot when all results are shown, then exit")
    p.add_argument("--size", default="1280x800", help="window size for --screenshot")
    return p


def _mistyped_command(word: str) -> bool:
    """A bare word that names no file ('adkviewer downscal') is a command typo, not an image for the GUI to open."""
    return not word.startswith("-") and not Path(word).suffix and not Path(word).exists()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    keep_freed_memory()
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        from model.errors import UserError

        try:
            return {"downscale": cmd_downscale, "eval": cmd_eval, "train": cmd_train,
                    "fit-lstsq": cmd_fit_lstsq, "import-weights": cmd_import_weights}[args.cmd](args, argv)
        except UserError as e:
            return _fail(str(e))
        except KeyboardInterrupt:
            return _fail("interrupted", 130)
        except MemoryError:
            return _fail("out of memory; try a smaller --tile-budget-mb or a smaller image")
        except OSError as e:
            return _fail(f"{e.strerror or e} ({e.filename})" if getattr(e, "filename", None) else str(e))
    if argv and _mistyped_command(argv[0]):
        close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"commands: {', '.join(SUBCOMMANDS)}"
        return _fail(f"'{argv[0]}' is neither a command nor an image file; {hint}")
    args = build_gui_parser().parse_args(argv)
    from adkviewer.shell.app import run_gui

    return run_gui(args)


# ---------------------------------------------------------------------------- downscale

def cmd_downscale(args, argv) -> int:
    from tqdm import tqdm

    from model.data import IMAGE_EXTENSIONS, images_in
    from model.devices import resolve_device
    from model.imageio import crop_to_multiple, load_image, save_image
    from model.methods import MethodSet
    from model.errors import UserError
    from model.wording import count_of

    inputs = []
    for given in map(Path, args.inputs):  # a folder stands for its images, as a pairs folder lists them
        if given.is_dir():
            found = images_in(given)
            if not found:
                raise UserError(f"{given} is a folder with no images ({', '.join(sorted(IMAGE_EXTENSIONS))}).")
            inputs += found
        else:
            inputs.append(given)
    out = Path(args.out)
    single_file = out.suffix.lower() in IMAGE_EXTENSIONS and not out.is_dir()
    if single_file and len(inputs) > 1:
        raise UserError(f"-o {out} names one file, but {len(inputs)} images were given; name a folder instead.")
    if single_file and out.suffix.lower() != ".png":
        raise UserError(f"-o {out}: only .png files can be written; name a .png file or a folder.")
    targets = [out] if single_file else [out / f"{p.stem}_x{args.scale}_{args.method}.png" for p in inputs]
    first_for: dict[Path, Path] = {}
    for src, dst in zip(inputs, targets):
        if first_for.setdefault(dst, src) != src:
            raise UserError(f"{first_for[dst]} and {src} would both be written to {dst}; downscale them separately.")
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise UserError(f"{existing[0]} already exists; pass --overwrite to replace it.")
    folder = out.parent if single_file else out
    if folder.exists() and not folder.is_dir():
        raise UserError(f"Output folder {folder} is a file.")
    check_writable(folder, "Output folder")  # one error now, not one per image after its work
    ms = MethodSet(scale=args.scale, device=resolve_device(args.device), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit,
                   budget_bytes=args.tile_budget_mb * 2**20 if args.tile_budget_mb else None)
    # Missing or wrong-scale weights / fit: one error before any image, not one per image.
    if args.method == "adknet":
        ms.runner()
    elif args.method == "lstsq":
        ms.fit()
    failures = 0
    bar = tqdm(list(zip(inputs, targets)), unit="img", disable=len(inputs) < 2, file=sys.stderr)
    for src, dst in bar:
        bar.set_postfix_str(src.name)
        try:
            img = load_image(src)
            hr, note = crop_to_multiple(img.array, args.scale, name=str(src))
            for n in img.notes + ([note] if note else []):
                tqdm.write(f"{src.name}: {n}", file=sys.stderr)
            if len(inputs) == 1 and args.method == "adknet":  # one photo can take a minute: show its tiles
                with tqdm(total=ms.runner().tile_count(hr), unit="tile", desc=src.name, file=sys.stderr, leave=False) as tiles:
                    def progress(done: int, total: int, _tile, _y) -> None:
                        tiles.total = total
                        tiles.update(done - tiles.n)

                    lr = ms.run(args.method, hr, progress=progress)
            else:
                lr = ms.run(args.method, hr)
            folder.mkdir(parents=True, exist_ok=True)  # only once there is something to write
            save_image(dst, lr)
        except UserError as e:
            failures += 1
            tqdm.write(f"adkviewer: error: {e}", file=sys.stderr)
    if ms._runner is not None:
        for n in ms._runner.notes:
            print(f"adkviewer: {n}", file=sys.stderr)
    done = len(inputs) - failures
    if done:
        print(f"wrote {count_of(done, 'image')} to {out if single_file else f'{out}/'}", file=sys.stderr)
    else:
        print("nothing written", file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------------------- eval

def load_eval_pairs(pairs_dir: str, split: str, scale: int | None):
    """Pairs for an evaluation split, plus the train pairs when a least-squares fit must be made."""
    from model.data import SPLIT_FILENAME, discover_pairs, load_pair, no_usable_pairs, read_split, select
    from model.errors import UserError

    folder = Path(pairs_dir)
    if not folder.is_dir():
        raise UserError(f"Pairs folder '{folder}' {'is a file, not a folder' if folder.exists() else 'does not exist'}.")
    split_obj = None
    if split in ("val", "train"):
        if not (folder / SPLIT_FILENAME).exists():
            discover_pairs(folder, scale or 4)  # a folder without pairs says so first
            raise UserError(f"--split {split} needs a {SPLIT_FILENAME} in {folder}; "
                            f"pass --split all to use every pair, or a split .json file.")
        try:
            split_obj = read_split(folder)
        except UserError as e:
            raise UserError(f"--split {split} needs a valid {SPLIT_FILENAME} in {folder} ({e})") from None
    elif split != "all":
        split_obj = read_split(split)
    scale = scale or (split_obj.scale if split_obj else 4)
    infos = discover_pairs(folder, scale)
    bad = [p for p in infos if not p.ok]
    ok = [p for p in infos if p.ok]
    if not ok:
        raise UserError(no_usable_pairs(folder, infos, scale, how="pass --scale {fit}"))
    if split == "all":
        chosen = ok
    else:
        # Selecting from all pairs names an unusable one and its problem (not "not in the pairs folder").
        chosen = select(infos, split_obj.train if split == "train" else split_obj.val)
    for p in bad:  # after the selection: a chosen pair that is unusable is the error, not a skip
        print(f"adkviewer: skipping {p.name}: {p.problem}", file=sys.stderr)
    skipped = {p.name for p in bad}
    train_infos = select(ok, [n for n in split_obj.train if n not in skipped]) if split_obj else []
    return scale, chosen, train_infos, load_pair


def cmd_eval(args, argv) -> int:
    from tqdm import tqdm

    from model.baselines import fit_lstsq
    from model.devices import resolve_device
    from model.evaluate import evaluate, format_table
    from model.errors import UserError
    from model.methods import MethodSet, shipped_lstsq
    from model.wording import count_of

    scale, chosen, train_infos, load_pair = load_eval_pairs(args.pairs, args.split, args.scale)
    ms = MethodSet(scale=scale, device=resolve_device(args.device), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit)
    if "adknet" in args.methods:
        ms.runner()  # load weights before fitting and timing, and fail early with a clear message
    if "lstsq" in args.methods and not args.lstsq_fit:
        if train_infos:
            print(f"fitting the least-squares kernel on the train split ({count_of(len(train_infos), 'pair')}; "
                  f"--lstsq-fit FILE skips this)…", file=sys.stderr)
            fitted_on = f"{args.pairs} train split ({count_of(len(train_infos), 'pair')})"
            # A bar closes (ends its line) before any error is printed.
            with tqdm(train_infos, desc="fitting lstsq", unit="pair", file=sys.stderr) as fitting:
                ms.lstsq_fit = fit_lstsq((load_pair(p, scale) for p in fitting), scale, taps=4 * scale,
                                         fitted_on=fitted_on)
            if not args.json:
                print(f"lstsq fitted on the train split ({count_of(len(train_infos), 'pair')})", file=sys.stderr)
        elif shipped_lstsq(scale) is None:
            raise UserError(f"No train split to fit the least-squares kernel on, and no shipped fit for x{scale}; "
                            f"pass --lstsq-fit.")
    if "lstsq" in args.methods:
        ms.fit()  # a given or shipped fit file is checked before any pair is scored
    smallest = min((min(p.lr_size) for p in chosen if p.lr_size), default=0)
    if args.crop and 2 * args.crop >= smallest:
        raise UserError(f"--crop {args.crop} leaves nothing of the smallest LR image ({smallest} pixels across).")
    with tqdm(chosen, desc="scoring", unit="pair", file=sys.stderr) as scoring:
        res = evaluate(((p.name, *load_pair(p, scale)) for p in scoring), list(args.methods), ms, crop=args.crop)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    elif args.csv:
        print("method,psnr_rgb,psnr_y,ssim,seconds")
        for m, v in res.methods.items():
            print(f"{m},{v['psnr']:.4f},{v['psnr_y']:.4f},{v['ssim']:.5f},{v['seconds']:.4f}")
    else:
        print(format_table(res, ms.label))
    return 0


# ---------------------------------------------------------------------------- train

ARCH_FLAGS = {"preset": "--preset", "k": "--k", "norm": "--norm", "no_gain_bias": "--no-gain-bias",
              "no_colour_mix": "--no-colour-mix", "shared_kernel": "--shared-kernel", "set": "--set"}


def resolve_init(args) -> str:
    """--init, defaulting as the Train tab does; architecture flags and --calibrate-only must make sense with it."""
    from model.errors import UserError
    from model.train import default_init

    init = args.init or default_init(args.scale)
    if args.resume:
        return init  # the checkpoint's own settings continue
    if init not in ("scratch", "shipped") and not Path(init).is_file():
        raise UserError(f"--init {init}: no such weights file (use shipped, scratch or a .safetensors file).")
    given = [flag for name, flag in ARCH_FLAGS.items() if getattr(args, name)]
    if init != "scratch" and given:
        raise UserError(f"{given[0]} sets the architecture, which fine-tuning keeps from the weights; "
                        f"add --init scratch to train a new model.")
    if init == "scratch" and args.calibrate_only:
        raise UserError("--calibrate-only re-fits the colour head of trained weights; "
                        "use --init shipped or --init FILE, not scratch.")
    return init


def train_config(args, argv: list[str]) -> TrainConfig:
    """The engine config for `adkviewer train` arguments (defaults shared with the Train tab via model.train)."""
    from model.errors import UserError
    from model.train import TrainConfig, schedule_for

    init = resolve_init(args)
    overrides = {}
    if args.k:
        overrides["k"] = args.k
    if args.norm:
        overrides["norm"] = args.norm
    if args.no_gain_bias:
        overrides["gain_bias"] = False
    if args.no_colour_mix:
        overrides["colour_mix"] = False
    if args.shared_kernel:
        overrides["shared_kernel"] = True
    for item in args.set:
        key, _, value = item.partition("=")
        if not value.lstrip("-").isdigit():
            raise UserError(f"--set expects FIELD=INTEGER, got {item!r}")
        overrides[key.strip()] = int(value)
    schedule = schedule_for(init)
    recorded = list(argv) if args.init or args.resume else [*argv, "--init", init]  # the card's command reproduces
    return TrainConfig(
        pairs=args.pairs, split=args.split, scale=args.scale, preset=args.preset or "lite", model_overrides=overrides,
        init=init, iterations=args.iterations or schedule.iterations, batch=args.batch,
        patch=args.patch, lr=args.lr or schedule.lr, val_every=args.val_every,
        ckpt_every=args.ckpt_every, out=args.out, seed=args.seed, device=args.device,
        time_budget_s=args.time_budget, calibrate_first=not (args.calibrate_only or args.no_calibrate),
        command="adkviewer " + " ".join(shlex.quote(a) for a in recorded),
    )


def check_run_folder(out: str) -> None:
    """A new run's --out: refused before any training if it is a file, unwritable, or already holds a run."""
    from model.errors import UserError

    folder = Path(out)
    held = sorted(p.name for p in folder.iterdir() if p.suffix in (".pt", ".safetensors")) if folder.is_dir() else []
    if held:
        ckpt = folder / "checkpoint_last.pt"
        again = f", or continue it with --resume {ckpt}" if ckpt.is_file() else ""
        raise UserError(f"--out {folder} already holds a run ({held[0]}); name a new folder{again}.")
    check_writable(folder, "--out")


def check_writable(folder: Path, what: str) -> None:
    """`folder` exists and can be written to, or can be created (its nearest existing parent is a writable folder)."""
    from model.errors import UserError

    where = next(p for p in (folder, *folder.parents) if p.exists())  # the folder, or what will hold it
    if not where.is_dir():
        raise UserError(f"{what} {folder}: {where} is a file, not a folder.")
    if not os.access(where, os.W_OK | os.X_OK):
        raise UserError(f"{what} {folder}: cannot write in {where}.")


class CtrlCStop:
    """First Ctrl-C: stop after the current iteration (a consistent checkpoint); a second one aborts at once."""

    def __init__(self, trainer, log: Callable[[str], None]) -> None:
        self.trainer, self.log, self.requested = trainer, log, False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.trainer.request_stop()
        self.log("stopping after this iteration and saving a checkpoint (Ctrl-C again to abort now)")

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def cmd_train(args, argv) -> int:
    from tqdm import tqdm

    from model.baselines import load_lstsq
    from model.evaluate import card_metrics
    from model.train import Callbacks, Trainer, calibrate, dist_from_env

    cfg = train_config(args, argv)
    if args.out and not args.resume:
        check_run_folder(args.out)
    dinfo = dist_from_env()
    main_rank = dinfo.is_main
    bar = None
    last: dict[str, float] = {}

    def show() -> None:  # "val" appears once there is a validation, and always shows the latest one
        if bar is not None and "loss" in last:
            val = f"{last['val']:.2f}dB" if "val" in last else "-"
            bar.set_postfix(loss=f"{last['loss']:.4f}", val=val, refresh=False)
            bar.refresh()

    def on_iter(it, loss, lr):
        if bar is not None:
            bar.n, bar.total = it, trainer.cfg.iterations
            last["loss"] = loss
            show()

    def on_val(it, metrics, preview, gt):
        last["val"] = metrics["psnr"]
        show()

    def on_log(msg):
        (tqdm.write if bar is not None else print)(msg, file=sys.stderr)

    trainer = Trainer(cfg, Callbacks(on_iter=on_iter, on_val=on_val, on_log=on_log), dinfo)
    trainer.setup(resume=args.resume, iterations=args.iterations, command=cfg.command)
    if args.calibrate_only:
        if main_rank:
            before, _ = _val(trainer)
            calibrate(trainer.model, trainer.train_pairs, trainer.device)
            after, _ = _val(trainer)
            path = trainer.export()
            print(f"calibrated colour head: val PSNR {before:.3f} -> {after:.3f} dB; wrote {path}", file=sys.stderr)
        trainer.close()
        return 0
    if main_rank:
        bar = tqdm(total=trainer.cfg.iterations, initial=trainer.iteration, unit="it", file=sys.stderr,
                   dynamic_ncols=True)
    stopping = CtrlCStop(trainer, on_log) if dinfo.world == 1 else None
    try:
        try:
            trainer.run()
        finally:  # any error ends the bar's line first, so its message is a line of its own
            if stopping is not None:
                stopping.restore()
            if bar:
                bar.close()
        if stopping is not None and stopping.requested and not trainer.finished:
            trainer.close()
            return 130  # the engine saved the checkpoint and said how to resume
    except KeyboardInterrupt:
        if stopping is not None:  # a second Ctrl-C: the loop may be mid-step, so the last consistent checkpoint stays
            last = trainer.checkpoint_path("last")
            trainer.close()
            resume = f"resume with --resume {last}" if last.is_file() else "no checkpoint was written yet"
            return _fail(f"aborted at iteration {trainer.iteration}; {resume}", 130)
        ck = trainer.save_checkpoint()
        trainer.close()
        return _fail(f"interrupted at iteration {trainer.iteration}; resume with --resume {ck}", 130)
    except FloatingPointError as e:
        trainer.close()
        return _fail(f"training diverged ({e}); the last good checkpoint is in {trainer.cfg.out}")
    if main_rank and trainer.finished:
        extra = {}
        if not args.no_eval and trainer.val_infos:
            extra["validation"] = card_metrics(trainer, load_lstsq(args.lstsq_fit) if args.lstsq_fit else None)
        path = trainer.export(extra_card=extra)
        print(f"wrote {path} and {path.with_suffix('.json').name}", file=sys.stderr)
        if trainer.best and trainer.best_weights_path().is_file():  # a resumed copy may lack it
            print(f"best validation PSNR {trainer.best['psnr']:.3f} dB at iteration {trainer.best['it']}: "
                  f"{trainer.best_weights_path()}", file=sys.stderr)
    trainer.close()
    return 0


def _val(trainer) -> tuple[float, float]:
    from model.train import validate

    m, _ = validate(trainer.model, trainer.val, trainer.device)
    return m.get("psnr", float("nan")), m.get("ssim", float("nan"))


# ---------------------------------------------------------------------------- fit-lstsq / import

def check_new_safetensors(out: str, overwrite: bool, why: str) -> None:
    """-o of fit-lstsq / import-weights: a .safetensors name, and no existing file replaced without --overwrite."""
    from model.errors import UserError

    if Path(out).suffix.lower() != ".safetensors":
        raise UserError(f"-o {out}: {why}; name it NAME.safetensors.")
    if Path(out).exists() and not overwrite:
        raise UserError(f"{out} already exists; pass --overwrite to replace it.")


def cmd_fit_lstsq(args, argv) -> int:
    from tqdm import tqdm

    from model.baselines import fit_lstsq, save_lstsq
    from model.errors import UserError
    from model.wording import count_of

    if args.taps is not None and (args.taps < args.scale or (args.taps - args.scale) % 2):
        raise UserError(f"--taps {args.taps} must be at least the scale {args.scale} with taps - scale even.")
    check_new_safetensors(args.out, args.overwrite, "fits are written as safetensors")
    scale, chosen, train_infos, load_pair = load_eval_pairs(args.pairs, args.split, args.scale)
    with tqdm(chosen, desc="fitting lstsq", unit="pair", file=sys.stderr) as fitting:
        fit = fit_lstsq((load_pair(p, scale) for p in fitting), scale, taps=args.taps or 4 * scale,
                        fitted_on=f"{Path(args.pairs).name} {args.split} split ({count_of(len(chosen), 'pair')})")
    save_lstsq(fit, args.out)
    print(f"wrote {args.out} ({fit.taps}x{fit.taps} taps, x{scale}, {count_of(len(chosen), 'pair')})",
          file=sys.stderr)
    return 0


def cmd_import_weights(args, argv) -> int:
    from model.errors import UserError
    from model.weights import import_torch_weights

    check_new_safetensors(args.out, args.overwrite, "imported weights are written as safetensors")
    path = import_torch_weights(args.input, args.out, args.preset, args.scale)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
