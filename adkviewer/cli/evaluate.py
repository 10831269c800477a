"""`adkviewer eval`: score methods on the pairs of a split, as a table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from adkviewer.cli.args import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, _fail, progress_off


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


def _problem_line(label: str, name: str, pair: str, why: str) -> str:
    """'skipping mine for p1: …', said once: an external result's sentence names its method and pair itself."""
    if name and why.startswith(f"{name} for {pair}: "):
        return f"adkviewer: skipping {why}"
    return f"adkviewer: skipping {label} on {pair}: {why}"


def cmd_eval(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.baselines import fit_lstsq
    from adk_model.devices import resolve_device
    from adk_model.eval_report import eval_csv, eval_report, lstsq_source
    from adk_model.evaluate import evaluate, format_table
    from adk_model.errors import UserError
    from adk_model.method_registry import known
    from adk_model.methods import MethodSet, shipped_lstsq
    from adk_model.wording import count_of

    quiet = progress_off(args)
    try:
        extras = parse_added(args)
    except UserError as e:
        return _fail(str(e), EXIT_USAGE)
    scale, chosen, train_infos, load_pair = load_eval_pairs(args.pairs, args.split, args.scale)
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
            print(f"fitting the least-squares kernel on the train split ({count_of(len(train_infos), 'pair')}; "
                  f"--lstsq-fit FILE skips this)…", file=sys.stderr)
            fitted_on = f"{args.pairs} train split ({count_of(len(train_infos), 'pair')})"
            # A bar closes (ends its line) before any error is printed.
            with tqdm(train_infos, desc="fitting lstsq", unit="pair", file=sys.stderr, disable=quiet) as fitting:
                ms.lstsq_fit = fit_lstsq((load_pair(p, scale) for p in fitting), scale, taps=4 * scale,
                                         fitted_on=fitted_on)
            fit_info = lstsq_source(None, len(train_infos))
            if not args.json:
                print(f"lstsq fitted on the train split ({count_of(len(train_infos), 'pair')})", file=sys.stderr)
        elif shipped_lstsq(scale) is None:
            raise UserError(f"No train split to fit the least-squares kernel on, and no shipped fit for x{scale}; "
                            f"pass --lstsq-fit.")
    if "lstsq" in methods:
        ms.fit()  # a given or shipped fit file is checked before any pair is scored
        fit_info = fit_info or lstsq_source(args.lstsq_fit or shipped_lstsq(scale))
    smallest = min((min(p.lr_size) for p in chosen if p.lr_size), default=0)
    if args.crop and 2 * args.crop >= smallest:
        raise UserError(f"--crop {args.crop} leaves nothing of the smallest LR image ({smallest} pixels across).")
    hr_stems = {p.name: (Path(p.hr_path).stem,) for p in chosen if p.hr_path}  # external results may use either
    with tqdm(chosen, desc="scoring", unit="pair", file=sys.stderr, disable=quiet) as scoring:
        res = evaluate(((p.name, *load_pair(p, scale)) for p in scoring), methods, ms, crop=args.crop,
                       names=hr_stems)
    for pair, trouble in res.problems.items():  # that method is left out of this pair's means only
        for m, why in trouble.items():
            print(_problem_line(ms.label(m), ms.extras[m].name if m in ms.extras else "", pair, why), file=sys.stderr)
    report = eval_report(res, ms, methods, args.split, fit_info)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        for note in report["notes"]:
            print(f"adkviewer: note: {note}", file=sys.stderr)
        sys.stdout.write(eval_csv(report) if args.csv else format_table(res, ms.label) + "\n")
    return EXIT_SOME_FAILED if res.problems else EXIT_OK
