"""The command line's parsers and argument types: one place that spells every subcommand's flags."""

from __future__ import annotations

import argparse
import math
import sys


SUBCOMMANDS = ("downscale", "eval", "train", "fit-lstsq", "import-weights", "runs", "figure")


EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_RUNTIME, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = ("exit codes: 0 ok; 1 some inputs failed (the others were done); 2 usage error; "
              "3 runtime error (a missing file, bad weights, out of memory, a --screenshot run that showed an "
              "error); 130 interrupted (Ctrl-C)")


def _fail(msg: str, code: int = EXIT_RUNTIME) -> int:
    print(f"adkviewer: error: {msg}", file=sys.stderr)
    return code


def _blur_sigma(text: str) -> float:
    """argparse type for --target-blur: a finite number of LR pixels from 0 to train_config.TARGET_BLUR_MAX."""
    from adk_model.train_config import TARGET_BLUR_MAX

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= TARGET_BLUR_MAX:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be from 0 to {TARGET_BLUR_MAX:g} LR pixels, got {text}")
    return value


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


def progress_off(args) -> bool:
    """No progress bars with --quiet, or when stderr is not a terminal (a log file or a pipe gets no '\\r' redraws)."""
    return bool(getattr(args, "quiet", False)) or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


DEVICE_HELP = "auto (default): CUDA, else MPS, else the CPU; or cpu, cuda, cuda:N (the GPU of index N), mps"


def _device(text: str) -> str:
    """argparse type: a device name adk_model knows (cuda:1 included), so a typo is a usage error naming them."""
    from adk_model.device_names import check_device_name
    from adk_model.errors import UserError

    try:
        return check_device_name(text)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def package_version() -> str:
    """The installed distribution's version (pyproject.toml's), so --version says what pip installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("adkviewer")
    except PackageNotFoundError:
        return "unknown (not installed)"


def subcommand_lines() -> list[tuple[str, str]]:
    """(name, one line) of every subcommand, from its own parser: what 'adkviewer --help' lists."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [(c.dest, c.help or "") for c in sub._choices_actions]


def build_parser() -> argparse.ArgumentParser:
    # Torch-free modules only: 'adkviewer downscale --help' must not wait for torch to import.
    from adk_model.adknet_config import PRESETS
    from adk_model.device_names import AMP_CHOICES, CHOICES as DEVICES
    from adk_model.method_registry import ALL_METHODS
    from adk_model.train_config import EXPORTS, FINE_TUNE, RUNS_FOLDER, SCRATCH, TrainConfig
    from adkviewer.cli.shard import parse_shard

    methods, presets = list(ALL_METHODS), list(PRESETS)
    device = "{" + ",".join([*DEVICES, "cuda:N"]) + "}"  # --device's metavar: its type takes cuda:N too
    p = argparse.ArgumentParser(prog="adkviewer", description="ADK-Net downscaling: batch, evaluation and training.",
                                epilog=EXIT_CODES)
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("downscale", help="downscale images with one method")
    d.add_argument("inputs", nargs="+",
                   help="HR images (PNG, JPEG, WebP, TIFF, BMP), folders of them, or quoted globs ('in/*.png')")
    d.add_argument("-o", "--out", required=True,
                   help="output folder, created when the first image is written (or a .png name for a single input)")
    d.add_argument("--scale", type=_int_at_least(2), default=4, help="default 4")
    d.add_argument("--method", default="adknet", choices=methods, help="default adknet")
    d.add_argument("--weights", help="ADK-Net .safetensors (default: the shipped weights for the scale)")
    d.add_argument("--per-camera", action="store_true",
                   help="each photo through its own camera's model: the per-camera models that 'train --per-camera' "
                        "wrote beside --weights (a photo of another camera gets --weights itself)")
    d.add_argument("--lstsq-fit", help="least-squares fit file (default: the shipped one for the scale)")
    d.add_argument("--device", default="auto", type=_device, metavar=device, help=DEVICE_HELP)
    d.add_argument("--tile-budget-mb", type=_int_at_least(1), default=None, help="memory budget for one ADK-Net tile")
    existing = d.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace existing output files")
    existing.add_argument("--skip-existing", action="store_true",
                          help="keep outputs already there and do the rest (finishes an interrupted batch)")
    d.add_argument("--recursive", action="store_true",
                   help="also the images in a folder's subfolders, mirrored into -o (quoted globs: '**' spans folders)")
    d.add_argument("--shard", type=parse_shard, metavar="I/N", default=None,
                   help="do only every N-th input from the I-th (0 <= I < N), e.g. "
                        "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; under torchrun the ranks split it further")

    e = sub.add_parser("eval", help="score methods on HR/LR pairs")
    e.add_argument("--pairs", required=True, help="folder with HR/ and LR/ (or RealSR naming)")
    e.add_argument("--split", default="val",
                   help="val or train (the lists in split.json in --pairs), all (every pair), fraction:F (a seeded "
                        "F of the pairs, seed 0, as 'train --split fraction:F'), or a split .json file")
    e.add_argument("--scale", type=_int_at_least(2), default=None, help="default: from split.json, else 4")
    e.add_argument("--methods", nargs="+", default=methods, choices=methods, help="default: all of them")
    e.add_argument("--weights", help="ADK-Net .safetensors (default: the shipped weights for the scale)")
    e.add_argument("--external", action="append", default=[], metavar="NAME=PATH",
                   help="your own results as a method beside --methods: a folder of LR images named like the pairs "
                        "or their HR files (NAME=results/), or with a pattern (NAME=results/{stem}_x4_mine.png); "
                        "repeatable")
    e.add_argument("--adknet", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="more ADK-Net weights as a method beside --methods (NAME=ft.safetensors); repeatable")
    e.add_argument("--lstsq-fit", help="fit file; default: fitted on the pairs' train split when there is one")
    e.add_argument("--crop", type=_int_at_least(0), default=0, help="border crop in LR pixels (default 0)")
    e.add_argument("--device", default="auto", type=_device, metavar=device, help=DEVICE_HELP)
    fmt = e.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print only a JSON object: means, per-pair values, problems, split, weights, fit")
    fmt.add_argument("--csv", action="store_true", help="print CSV: one row per pair and method, then the means")

    t = sub.add_parser("train", help="fine-tune or train ADK-Net (runs under torchrun for DDP)",
                       description="Fine-tunes the shipped weights for --scale (as the GUI's Train tab does), or "
                                   "trains a new model with --init scratch.")
    t.add_argument("--pairs", help="folder with HR/ and LR/ (or RealSR naming); with --resume, the checkpoint's own")
    t.add_argument("--split", default="val",
                   help="val (split.json in --pairs; without one, a seeded 20%% of the pairs), a split .json, "
                        "fraction:0.2, or all (every pair trains, no validation)")
    t.add_argument("--scale", type=_int_at_least(2), default=4, help="default 4")
    t.add_argument("--init", default=None,
                   help="shipped (default when there are shipped weights for --scale: fine-tune them), "
                        "scratch (a new model; the default otherwise), or a .safetensors file to fine-tune")
    arch = t.add_argument_group("model architecture (only with --init scratch; fine-tuning keeps the weights' own)")
    arch.add_argument("--preset", default=None, choices=presets, help="model size (default lite)")
    arch.add_argument("--k", type=_int_at_least(2), help="kernel size (default: the preset's)")
    arch.add_argument("--norm", choices=["softmax", "signed"], help="kernel normalisation (default: the preset's)")
    arch.add_argument("--no-gain-bias", action="store_true", help="ablation: no per-pixel gain and bias")
    arch.add_argument("--no-colour-mix", action="store_true", help="ablation: no global 3x3 colour mix (and so no linear part)")
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
    t.add_argument("--val-every", type=_int_at_least(0), default=None,
                   help=f"iterations (default {FINE_TUNE.val_every} when fine-tuning, {SCRATCH.val_every} from "
                        f"scratch; 0: only at the end). Iteration 0, the starting model, is validated too")
    t.add_argument("--patience", type=_int_at_least(0), default=None,
                   help=f"stop after this many validations without a better val PSNR (default {FINE_TUNE.patience} "
                        f"when fine-tuning, {SCRATCH.patience or 'never'} from scratch; 0: never)")
    t.add_argument("--export", choices=EXPORTS, default=TrainConfig.export,
                   help="what the run exports: halfway between a fine-tune's start and its best validated iteration "
                        "(the default; the project's transfer benchmark measures why), that best validated iteration (the start "
                        "included), or the last iteration's model")
    t.add_argument("--last", action="store_true", help="the same as --export last")
    t.add_argument("--loss", choices=("l1", "mse"), default=TrainConfig.loss,
                   help=f"the training loss (default {TrainConfig.loss}; mse is what PSNR measures)")
    t.add_argument("--target-blur", type=_blur_sigma, default=TrainConfig.target_blur, metavar="SIGMA",
                   help="blur each LR target patch by a Gaussian of a random sigma up to SIGMA LR pixels (0 to 3; "
                        "default 0: off), so that a model trained on one camera's pairs meets softer lenses")
    t.add_argument("--ckpt-every", type=_int_at_least(0), default=TrainConfig.ckpt_every,
                   help=f"iterations (default {TrainConfig.ckpt_every}; 0: only at the end)")
    t.add_argument("--seed", type=int, default=TrainConfig.seed, help=f"default {TrainConfig.seed}")
    t.add_argument("--out", default="",
                   help=f"run folder (default: a new ~/{RUNS_FOLDER}/PAIRS-xSCALE-DATE-TIME, as in the Train tab)")
    t.add_argument("--resume", help="checkpoint to continue (its run folder and settings; --iterations may extend it)")
    t.add_argument("--device", default="auto", type=_device, metavar=device, help=DEVICE_HELP)
    t.add_argument("--calibrate-only", action="store_true", help="only quick calibrate: re-fit the linear part, colour mix and bias in closed form "
                        "(one forward pass over the train pairs)")
    t.add_argument("--no-calibrate", action="store_true",
                   help="do not quick-calibrate on the train pairs before the first step")
    t.add_argument("--per-camera", choices=["prefix", "exif"], default=None,  # adk_model.cameras.CAMERA_BY
                   help="for a folder that mixes cameras: also write one model per camera, Quick-calibrated on that "
                        "camera's pairs (camera by name prefix, Canon_001 -> Canon, or by EXIF make and model)")
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
    i.add_argument("--preset", default="lite", choices=presets, help="the state dict's model (default lite)")
    i.add_argument("--scale", type=_int_at_least(2), default=4, help="the state dict's scale (default 4)")
    r = sub.add_parser("runs", help="list the training runs in an output folder (as the Train tab does)")
    r.add_argument("folder", nargs="?", default=None,
                   help=f"output folder, or one run folder (default: ~/{RUNS_FOLDER}, where train and the Train tab write)")
    r.add_argument("--json", action="store_true", help="print a JSON list, curves included")
    add_figure_parser(sub, DEVICES)
    for each in (d, e, t, f, i, r):  # 'adkviewer downscale -h' documents them too
        each.epilog = EXIT_CODES
    for shows_progress in (d, e, t, f):
        shows_progress.add_argument("-q", "--quiet", action="store_true",
                                    help="no progress bars (they are off anyway when stderr is not a terminal)")
    for reads_images in (d, e, t, f):
        reads_images.add_argument("--max-megapixels", type=_finite_float(), default=None,
                                  help="largest image accepted (default 150; loading takes about 16 bytes a pixel)")
    d.add_argument("--bits", type=int, choices=(8, 16), default=8,
                   help="bits per channel of the PNGs written (default 8; 16 keeps the methods' float output finer)")
    for on_device in (d, t):
        on_device.add_argument("--amp", default="off", choices=AMP_CHOICES,
                               help="bf16: ADK-Net under bf16 autocast, CUDA only (default off: float32)")
    for each in sub.choices.values():  # every subcommand, however many there are
        each.add_argument("--version", action="version", version=f"adkviewer {package_version()}")
    return p


def add_figure_parser(sub, devices) -> None:
    """`adkviewer figure`: crops of one region from several methods, for a paper (cli/figure.py)."""
    g = sub.add_parser("figure", help="a figure for a paper: one LR region from several methods, enlarged",
                       description="Crops of one LR region from the methods in --methods (gt: the ground truth, "
                                   "hr: the HR), each enlarged by --zoom (nearest neighbour), labelled with "
                                   "PSNR / SSIM against the ground truth, written as PNG or SVG.", epilog=EXIT_CODES)
    g.add_argument("image", nargs="?", help="HR image (or --pairs for one figure per pair)")
    g.add_argument("--lr", help="ground-truth LR (default: found beside the HR, as in the GUI)")
    g.add_argument("--pairs", help="pairs folder: one figure per pair of --split")
    g.add_argument("--split", default="val", help="with --pairs: val (default), train, all, fraction:F or a .json")
    g.add_argument("--names", nargs="+", help="with --pairs: only these pairs")
    g.add_argument("--region", required=True, metavar="X,Y,W,H", help="the region in LR pixels")
    g.add_argument("--methods", nargs="+", metavar="KEY",
                   help="crops in this order: method keys, ext:NAME, adknet:NAME, gt, hr (default: gt adknet bicubic)")
    g.add_argument("--external", action="append", default=[], metavar="NAME=PATH",
                   help="your own results as method ext:NAME (an LR image, a folder, or results/{stem}_x4.png)")
    g.add_argument("--adknet", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="more ADK-Net weights as method adknet:NAME")
    g.add_argument("--zoom", type=_int_at_least(1), default=4, help="page pixels per LR pixel (default 4)")
    g.add_argument("--cols", type=_int_at_least(0), default=0, help="crops per row (default 0: all in one row)")
    g.add_argument("--scores", choices=["crop", "image", "none"], default="crop",
                   help="PSNR / SSIM of the crop (default) or of the whole image, or none")
    g.add_argument("--diff", metavar="MODE[:CHANNEL]",
                   help="error maps against the ground truth: signed|absolute|squared|relative[:R|G|B|luma]")
    g.add_argument("--hr", action="store_true", help="add the HR crop, first (needs --zoom a multiple of the scale)")
    g.add_argument("--overview", action="store_true", help="add the whole image with the region boxed")
    g.add_argument("-o", "--out", action="append", required=True,
                   help="FIG.png or FIG.svg (repeatable); with --pairs the name holds {stem}")
    g.add_argument("--overwrite", action="store_true", help="replace existing files")
    g.add_argument("--scale", type=_int_at_least(2), default=None, help="default: from the ground truth, else 4")
    g.add_argument("--weights", help="ADK-Net .safetensors (default: the shipped weights for the scale)")
    g.add_argument("--lstsq-fit", help="least-squares fit file (default: the shipped one for the scale)")
    g.add_argument("--device", default="auto", type=_device, metavar="{" + ",".join([*devices, "cuda:N"]) + "}",
                   help=DEVICE_HELP)
    g.add_argument("--max-megapixels", type=_finite_float(), default=None, help="largest image accepted (default 150)")


def build_gui_parser() -> argparse.ArgumentParser:
    lines = subcommand_lines()
    width = max(len(name) for name, _ in lines)
    commands = "\n".join(f"  {name:<{width}}  {line}" for name, line in lines)
    p = argparse.ArgumentParser(prog="adkviewer", formatter_class=argparse.RawDescriptionHelpFormatter,
                                usage="%(prog)s [IMAGE] [options]  (the GUI)\n       %(prog)s SUBCOMMAND ...",
                                description="ADK Viewer: opens IMAGE (default: the bundled demo) in the GUI,\n"
                                            "or runs a subcommand headless.\n\n"
                                            f"subcommands (run 'adkviewer SUBCOMMAND -h'):\n{commands}",
                                epilog=EXIT_CODES)
    p.add_argument("--version", action="version", version=f"adkviewer {package_version()}")
    p.add_argument("image", nargs="?", help="HR image to open (default: the bundled demo), or a pairs folder "
                   "(the dataset view and the Train tab)")
    p.add_argument("--split", help="with a pairs folder: val, train, all or a split .json (default: val when the "
                   "folder has a split.json, else all)")
    p.add_argument("--lr", help="ground-truth LR image")
    p.add_argument("--scale", type=int, default=None,
                   help="2, 3 or 4 (default: the scale of the ground truth or of --weights, else 4)")
    p.add_argument("--weights", help="ADK-Net weights to use")
    p.add_argument("--device", default=None, type=_device, metavar="DEVICE",
                   help="auto, cpu, cuda, cuda:N or mps (default: the one chosen in Settings, else auto)")
    p.add_argument("--methods", nargs="+", help="methods to tick")
    p.add_argument("--external", action="append", default=[], metavar="NAME=PATH",
                   help="your own results as a method: an LR image, a folder of them named like the HR "
                        "(NAME=results/), or with a pattern (NAME=results/{stem}_x4_mine.png); repeatable")
    p.add_argument("--adknet", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="more ADK-Net weights beside the main model (NAME=ft.safetensors); repeatable")
    p.add_argument("--tab", choices=["compare", "inspect", "diff", "train"], default=None,
                   help="the tab to open on (default compare)")
    p.add_argument("--pixel", help="LR pixel X,Y to select (Inspect)")
    p.add_argument("--diff", help="difference view: METHOD[:MODE[:CHANNEL[:REF]]] or METHOD-REF[:MODE[:CHANNEL]]; "
                   "MODE signed|absolute|squared|relative, CHANNEL R|G|B|luma, REF gt or a method "
                   "(default: the ground truth, else bicubic)")
    p.add_argument("--field", help="Inspect's kernel field map: dx_r|dx_g|dx_b, dy_*, spread_* (centroid shift and "
                                   "spread in HR pixels per channel) or rb_diff (R-vs-B kernel difference)")
    p.add_argument("--swipe", help="swipe between METHOD_A,METHOD_B")
    p.add_argument("--screenshot", help="save a screenshot when all results are shown, then exit")
    p.add_argument("--size", default="1280x800", help="window size for --screenshot (default 1280x800)")
    return p
