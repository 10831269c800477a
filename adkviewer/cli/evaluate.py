"""`adkviewer eval`: score methods on the pairs of a split, as a table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from adkviewer.cli.args import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, _fail, progress_off


def load_eval_pairs(pairs_dir: str, split: str, scale: int | None):
    """Pairs for an evaluation split (adk_model.split_pairs, shared with the GUI's dataset view), plus the train
    pairs when a least-squares fit must be made, and how many pairs of the split were skipped (said on stderr)."""
    from adk_model.data import load_pair
    from adk_model.split_pairs import split_pairs

    sp = split_pairs(pairs_dir, split, scale)
    for p in sp.unusable:  # after the selection: a chosen pair that is unusable is the error, not a skip
        print(f"adkviewer: skipping {p.name}: {p.problem}", file=sys.stderr)
    return sp.scale, sp.chosen, sp.train, load_pair, len(sp.problems)


def parse_added(args) -> dict:
    """--external and --adknet as added methods by key (a malformed or repeated NAME is a usage error)."""
    from adk_model.errors import UserError
    from adk_model.method_registry import adknet_method, parse_external, parse_named, unique_name
    from adk_model.model_card import summarize_card

    extras = [parse_external(t) for t in args.external]
    for text in args.adknet:
        name, path = parse_named(text, "--adknet")
        card = summarize_card(path)  # labelled as the GUI labels added weights: the given name, then the card's
        own = None if name == unique_name(card.name, set()) else name
        extras.append(adknet_method(name, path, label=card.method_label(own)))
    by_key: dict = {}
    for e in extras:
        if e.key in by_key:
            raise UserError(f"Two added methods are named {e.name!r}; give each its own NAME.")
        by_key[e.key] = e
    return by_key


def check_external(extras: dict, pair_count: int) -> None:
    """Every --external path exists, and is a folder when several pairs are scored (one file fits one pair)."""
    from adk_model.errors import UserError

    for e in extras.values():
        src = Path(e.path)
        if e.is_adknet:
            continue
        if not src.exists():
            raise UserError(f"--external {e.name}: '{src}' does not exist.")
        if src.is_file() and pair_count > 1:
            raise UserError(f"--external {e.name}: '{src}' is one file, but {pair_count} pairs are scored; "
                            f"name a folder of results (matched by pair name or HR file name).")


def cmd_eval(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.data import load_decodable
    from adk_model.devices import resolve_device
    from adk_model.eval_report import eval_csv, eval_report, lstsq_source, shipped_lstsq_note
    from adk_model.evaluate import evaluate, format_table
    from adk_model.external import naming_pair
    from adk_model.errors import UserError
    from adk_model.method_registry import known
    from adk_model.methods import MethodSet, shipped_lstsq
    from adk_model.lstsq_cache import cached_lstsq
    from adk_model.split_pairs import fit_train_lstsq, pair_names
    from adk_model.wording import count_of

    quiet = progress_off(args)
    try:
        extras = parse_added(args)
    except UserError as e:
        return _fail(str(e), EXIT_USAGE)
    scale, chosen, train_infos, _load, skipped = load_eval_pairs(args.pairs, args.split, args.scale)
    check_external(extras, len(chosen))
    ms = MethodSet(scale=scale, device=resolve_device(args.device), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit, extras=extras)
    # --methods in the order given, then every added method (always scored)
    methods = [*dict.fromkeys(args.methods), *(m for m in known(extras) if m in extras)]
    for m in methods:
        if ms.is_adknet(m):
            ms.runner(m)  # load weights before fitting and timing, and fail early with a clear message
    fit_info = None
    if "lstsq" in methods and not args.lstsq_fit:
        if train_infos:
            fitted_on = f"{args.pairs} train split ({count_of(len(train_infos), 'pair')})"
            ms.lstsq_fit = cached_lstsq(train_infos, scale, fitted_on)
            if ms.lstsq_fit is None:
                print(f"fitting the least-squares kernel on the train split ({count_of(len(train_infos), 'pair')}; "
                      f"kept for the next run of these files)…", file=sys.stderr)
                # A bar closes (ends its line) before any error is printed.
                with tqdm(train_infos, desc="fitting lstsq", unit="pair", file=sys.stderr, disable=quiet) as fitting:
                    ms.lstsq_fit = fit_train_lstsq(fitting, scale, fitted_on, infos=train_infos)
                cached = ""
            else:
                cached = ", from the cache (the same files were fitted before)"
            fit_info = lstsq_source(None, len(train_infos))
            if not args.json:
                print(f"lstsq fitted on the train split ({count_of(len(train_infos), 'pair')}){cached}",
                      file=sys.stderr)
        elif shipped_lstsq(scale) is None:
            raise UserError(f"No train split to fit the least-squares kernel on, and no shipped fit for x{scale}; "
                            f"pass --lstsq-fit.")
    if "lstsq" in methods:
        ms.fit()  # a given or shipped fit file is checked before any pair is scored
        fit_info = fit_info or lstsq_source(args.lstsq_fit or shipped_lstsq(scale))
    smallest = min((min(p.lr_size) for p in chosen if p.lr_size), default=0)
    if args.crop and 2 * args.crop >= smallest:
        raise UserError(f"--crop {args.crop} leaves nothing of the smallest LR image ({smallest} pixels across).")
    hr_stems = {p.name: pair_names(p)[1:] for p in chosen}  # external results may use either name
    unreadable: list[str] = []

    def skip(p, why: str) -> None:  # an image that proves broken only when decoded: treated as a scan's skip
        if args.split not in ("all",) and not args.split.startswith("fraction:"):
            raise UserError(f"Pair '{p.name}' of the {args.split} split cannot be used: {why}.")  # as a named one
        unreadable.append(p.name)
        tqdm.write(f"adkviewer: skipping {p.name}: {why}", file=sys.stderr)

    with tqdm(chosen, desc="scoring", unit="pair", file=sys.stderr, disable=quiet) as scoring:
        res = evaluate(((p.name, hr, lr) for p, hr, lr in load_decodable(scoring, scale, skip)), methods, ms,
                       crop=args.crop, names=hr_stems)
    if not res.per_pair:
        raise UserError(f"None of the {count_of(len(chosen), 'pair')} to score could be read (each is named above).")
    for pair, trouble in res.problems.items():  # that method is left out of this pair's means only
        for m, why in trouble.items():
            print(f"adkviewer: skipping {naming_pair(pair, why, ms.label(m))}", file=sys.stderr)
    report = eval_report(res, ms, methods, args.split, fit_info)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        for note in report["notes"]:
            print(f"adkviewer: note: {note}", file=sys.stderr)
        shipped = "lstsq" in methods and shipped_lstsq_note(args.lstsq_fit, len(train_infos), scale)
        if shipped:
            print(f"adkviewer: note: {shipped}; 'adkviewer fit-lstsq --pairs {args.pairs} --split all -o FIT"
                  f".safetensors', then --lstsq-fit FIT.safetensors, scores one.", file=sys.stderr)
        sys.stdout.write(eval_csv(report) if args.csv else format_table(res, ms.label) + "\n")
    return EXIT_SOME_FAILED if res.problems or unreadable or skipped else EXIT_OK
