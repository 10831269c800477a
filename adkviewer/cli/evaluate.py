"""`adkviewer eval`: score methods on the pairs of a split, as a table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from adkviewer.cli.args import progress_off


def load_eval_pairs(pairs_dir: str, split: str, scale: int | None):
    """Pairs for an evaluation split, plus the train pairs when a least-squares fit must be made."""
    from adk_model.data import discover_pairs, load_pair, no_usable_pairs, select
    from adk_model.splits import SPLIT_FILENAME, SPLIT_WORDS, resolve_split
    from adk_model.errors import UserError

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
                raise UserError(f"--split {split} needs a valid {SPLIT_FILENAME} in {folder} ({e})") from None
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
        chosen = ok
    else:
        # Selecting from all pairs names an unusable one and its problem (not "not in the pairs folder").
        chosen = select(infos, split_obj.train if split == "train" else split_obj.val)
        if not chosen:
            raise UserError(f"The \"{'train' if split == 'train' else 'val'}\" list of the split file is empty, "
                            f"so there are no pairs to use; pass --split all or another split.")
    for p in bad:  # after the selection: a chosen pair that is unusable is the error, not a skip
        print(f"adkviewer: skipping {p.name}: {p.problem}", file=sys.stderr)
    skipped = {p.name for p in bad}
    train_infos = select(ok, [n for n in split_obj.train if n not in skipped]) if split_obj else []
    return scale, chosen, train_infos, load_pair


def cmd_eval(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.baselines import fit_lstsq
    from adk_model.devices import resolve_device
    from adk_model.evaluate import evaluate, format_table
    from adk_model.errors import UserError
    from adk_model.methods import MethodSet, shipped_lstsq
    from adk_model.wording import count_of

    quiet = progress_off(args)
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
            with tqdm(train_infos, desc="fitting lstsq", unit="pair", file=sys.stderr, disable=quiet) as fitting:
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
    with tqdm(chosen, desc="scoring", unit="pair", file=sys.stderr, disable=quiet) as scoring:
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
