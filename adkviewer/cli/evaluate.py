"""`adkviewer eval`: score methods on the pairs of a split, as a table, CSV or JSON."""

from __future__ import annotations

import json
import sys

from adkviewer.cli.args import progress_off


def load_eval_pairs(pairs_dir: str, split: str, scale: int | None):
    """Pairs for an evaluation split (adk_model.split_pairs, shared with the GUI's dataset view), plus the train
    pairs when a least-squares fit must be made; unusable pairs are said on stderr."""
    from adk_model.data import load_pair
    from adk_model.split_pairs import split_pairs

    sp = split_pairs(pairs_dir, split, scale)
    for p in sp.unusable:  # after the selection: a chosen pair that is unusable is the error, not a skip
        print(f"adkviewer: skipping {p.name}: {p.problem}", file=sys.stderr)
    return sp.scale, sp.chosen, sp.train, load_pair


def cmd_eval(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.devices import resolve_device
    from adk_model.evaluate import evaluate, format_table
    from adk_model.errors import UserError
    from adk_model.methods import MethodSet, shipped_lstsq
    from adk_model.split_pairs import fit_train_lstsq
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
                ms.lstsq_fit = fit_train_lstsq(fitting, scale, fitted_on)
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
