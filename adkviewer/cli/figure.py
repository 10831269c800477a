"""`adkviewer figure`: a figure for a paper (crops of one LR region from several methods), for one image or for
each chosen pair of a pairs folder, drawn by the Qt-free renderer the GUI's Figure… action uses."""

from __future__ import annotations

import sys
from pathlib import Path

from adkviewer.cli.args import EXIT_OK, EXIT_RUNTIME, EXIT_SOME_FAILED, EXIT_USAGE, _fail

STEM = "{stem}"


def _scale_of(hr_hw: tuple[int, int], lr_hw: tuple[int, int], prefer: int | None) -> int | None:
    order = ([prefer] if prefer else []) + [s for s in (4, 3, 2) if s != prefer]
    return next((s for s in order if (hr_hw[0] // s, hr_hw[1] // s) == tuple(lr_hw)), None)


def _keys(args, has_gt: bool, extras) -> list[str]:
    """The crops in the order asked for: --methods (gt and hr allowed among them); --hr puts the HR first, as
    Compare's Figure… does."""
    from adk_model.errors import UserError
    from adk_model.figure import GT, HR, figure_keys
    from adk_model.method_registry import method_info

    keys = figure_keys(args.methods or ["adknet", "bicubic"], hr=args.hr, gt=has_gt and not args.methods)
    for k in keys:
        if k not in (GT, HR):
            try:
                method_info(k, extras)
            except UserError as e:  # the registry's sentence, with the two crops that are not methods
                raise UserError(f"{str(e).rstrip('.')}, or gt (the ground truth) or hr (the HR).") from None
    return keys


def _targets(args, stems: list[str] | None) -> list[list[Path]]:
    """The files to write: each -o for one image; with --pairs each -o holds {stem}, one file per pair."""
    from adk_model.errors import UserError
    from adk_model.figure_write import check_figure_path

    outs = list(args.out)
    if stems is None:
        return [[check_figure_path(o, args.overwrite) for o in outs]]
    bad = [o for o in outs if STEM not in o]
    if bad:
        raise UserError(f"-o {bad[0]}: with --pairs, name the files with {STEM} for the pair's name, "
                        f"e.g. figs/{STEM}.png.")
    return [[check_figure_path(o.replace(STEM, s), args.overwrite) for o in outs] for s in stems]


def _jobs(args):
    """(name, hr, gt, names for external results) for the image or each chosen pair, and the scale."""
    from adk_model.data import find_ground_truth, select
    from adk_model.errors import UserError
    from adk_model.imageio import crop_to_multiple, load_image

    if args.pairs:
        if args.image:
            raise UserError("Give an IMAGE or --pairs, not both.")
        from adkviewer.cli.evaluate import load_eval_pairs

        scale, chosen, _train, load_pair, _skipped = load_eval_pairs(args.pairs, args.split, args.scale)
        if args.names:
            chosen = select(chosen, args.names)
        return scale, [(p.name, (lambda p=p: load_pair(p, scale)), (p.name, Path(p.hr_path).stem)) for p in chosen]
    if not args.image:
        raise UserError("Give an HR IMAGE, or --pairs DIR for one figure per pair.")
    img = load_image(args.image)
    gt_path = args.lr or find_ground_truth(args.image)
    gt = load_image(gt_path).array if gt_path else None
    hw = img.array.shape[:2]
    scale = args.scale or (_scale_of(hw, gt.shape[:2], None) if gt is not None else None) or 4
    if gt is not None and _scale_of(hw, gt.shape[:2], scale) != scale:
        raise UserError(f"Ground truth {gt_path} is {gt.shape[1]}×{gt.shape[0]}, not the {hw[1]}×{hw[0]} HR "
                        f"/ {scale}.")
    hr = crop_to_multiple(img.array, scale, name=str(args.image))[0]
    stem = Path(args.image).stem
    return scale, [(stem, lambda: (hr, gt), (stem,))]


def cmd_figure(args, argv) -> int:
    from adk_model.devices import resolve_device
    from adk_model.errors import UserError
    from adk_model.figure import HR, FigureOptions, build_figure, parse_diff, run_sources
    from adk_model.figure_layout import check_region, parse_region
    from adk_model.figure_write import write_figure
    from adk_model.method_registry import adknet_method, parse_external, parse_named
    from adk_model.methods import MethodSet

    try:
        region = parse_region(args.region)
        diff = parse_diff(args.diff)
    except UserError as e:
        return _fail(str(e), EXIT_USAGE)
    extras = {}
    for text in args.external:
        e = parse_external(text)
        extras[e.key] = e
    for text in args.adknet:
        e = adknet_method(*parse_named(text, "--adknet"))
        extras[e.key] = e
    scale, jobs = _jobs(args)
    targets = _targets(args, [n for n, _, _ in jobs] if args.pairs else None)
    ms = MethodSet(scale=scale, device=resolve_device(args.device), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit, extras=extras)
    opts = FigureOptions(region, zoom=args.zoom, cols=args.cols, scores=args.scores, diff=diff,
                         overview=args.overview)
    skipped = 0
    for (name, load, names), paths in zip(jobs, targets):
        try:
            hr, gt = load()
        except UserError as e:
            if not args.pairs:
                raise
            skipped += _skip(name, e)
            continue
        lr_hw = (hr.shape[0] // scale, hr.shape[1] // scale)
        try:
            check_region(region, lr_hw)  # before any method runs
        except UserError as e:
            return _fail(f"{name}: {e}" if args.pairs else str(e), EXIT_USAGE)
        try:
            keys = _keys(args, gt is not None, extras)
        except UserError as e:
            return _fail(str(e), EXIT_USAGE)
        if HR in keys and args.zoom % scale:  # said before any method runs, not after minutes of work
            return _fail(f"--hr needs a --zoom that is a multiple of the scale ({scale}, e.g. {scale} or "
                         f"{2 * scale}), so the HR crop is shown at the LR crops' size without interpolation.",
                         EXIT_USAGE)
        if diff is not None and gt is None:
            return _fail(f"{name}: --diff needs a ground-truth LR (--lr, or an LR/ folder beside the HR).",
                         EXIT_USAGE)
        try:
            sources = run_sources(ms, hr, keys, gt, names=names)  # a missing or wrong-size result is this pair's
        except UserError as e:
            if not args.pairs:
                raise
            skipped += _skip(name, e)
            continue
        fig = build_figure(sources, gt, scale, opts, title=name)
        for p in paths:
            write_figure(fig, p, overwrite=args.overwrite)
            print(f"wrote {p} ({fig.width}×{fig.height})", file=sys.stderr)
    if not skipped:
        return EXIT_OK
    return EXIT_SOME_FAILED if skipped < len(jobs) else _fail("No figure was written: every pair was skipped.",
                                                               EXIT_RUNTIME)


def _skip(name: str, error: Exception) -> int:
    """One pair that cannot be drawn is named and left out, as eval and downscale do; the others are written."""
    from adk_model.external import naming_pair

    print(f"adkviewer: skipping {naming_pair(name, str(error))}", file=sys.stderr)
    return 1
