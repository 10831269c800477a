"""`adkviewer fit-lstsq`: fit the global least-squares kernel on a pairs folder's train split."""

from __future__ import annotations

import sys
from pathlib import Path

from adkviewer.cli.args import progress_off
from adkviewer.cli.checks import check_new_safetensors
from adkviewer.cli.evaluate import load_eval_pairs


def cmd_fit_lstsq(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.baselines import fit_lstsq, save_lstsq
    from adk_model.errors import UserError
    from adk_model.wording import count_of

    if args.taps is not None and (args.taps < args.scale or (args.taps - args.scale) % 2):
        raise UserError(f"--taps {args.taps} must be at least the scale {args.scale} with taps - scale even.")
    check_new_safetensors(args.out, args.overwrite, "fits are written as safetensors")
    scale, chosen, train_infos, load_pair, _skipped = load_eval_pairs(args.pairs, args.split, args.scale)
    with tqdm(chosen, desc="fitting lstsq", unit="pair", file=sys.stderr, disable=progress_off(args)) as fitting:
        fit = fit_lstsq((load_pair(p, scale) for p in fitting), scale, taps=args.taps or 4 * scale,
                        fitted_on=f"{Path(args.pairs).name} {args.split} split ({count_of(len(chosen), 'pair')})")
    save_lstsq(fit, args.out, overwrite=args.overwrite)
    print(f"wrote {args.out} ({fit.taps}x{fit.taps} taps, x{scale}, {count_of(len(chosen), 'pair')})",
          file=sys.stderr)
    return 0
