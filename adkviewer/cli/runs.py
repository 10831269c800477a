"""`adkviewer runs [FOLDER]`: the training runs in an output folder, the table the Train tab shows."""

from __future__ import annotations

import json

from adkviewer.cli.args import EXIT_OK


def cmd_runs(args, argv: list[str]) -> int:
    from adk_model.runs import format_table, list_runs

    runs = list_runs(args.folder)
    if args.json:
        print(json.dumps([r.to_json() for r in runs], indent=2))
    elif runs:
        print(format_table(runs))
    else:
        print(f"no training runs in {args.folder or '~/adkviewer-runs'}")
    return EXIT_OK
