"""Command line: `adkviewer [IMAGE]` opens the GUI; `downscale`, `eval`, `train`, `fit-lstsq`, `runs`, `figure` run headless.

One module per subcommand (cli/downscale.py, evaluate.py, train.py, fit_lstsq.py, import_weights.py), their
flags in cli/args.py. Nothing here imports Qt: the GUI is started through `adkviewer.shell.app.run_gui` only.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from adk_model.allocator import keep_freed_memory

from adkviewer.cli.args import EXIT_INTERRUPTED, EXIT_USAGE, SUBCOMMANDS, _fail, build_gui_parser, build_parser
from adkviewer.cli.downscale import cmd_downscale
from adkviewer.cli.evaluate import cmd_eval
from adkviewer.cli.figure import cmd_figure
from adkviewer.cli.fit_lstsq import cmd_fit_lstsq
from adkviewer.cli.import_weights import cmd_import_weights
from adkviewer.cli.runs import cmd_runs
from adkviewer.cli.train import cmd_train

COMMANDS = {"downscale": cmd_downscale, "eval": cmd_eval, "train": cmd_train, "fit-lstsq": cmd_fit_lstsq,
            "import-weights": cmd_import_weights, "runs": cmd_runs, "figure": cmd_figure}


def _mistyped_command(word: str) -> bool:
    """A bare word that names no file ('adkviewer downscal') is a command typo, not an image for the GUI to open."""
    return not word.startswith("-") and not Path(word).suffix and not Path(word).exists()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    keep_freed_memory()
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        from adk_model.errors import UserError

        try:
            if getattr(args, "max_megapixels", None):
                from adk_model.imageio import set_max_megapixels

                set_max_megapixels(args.max_megapixels)
            return COMMANDS[args.cmd](args, argv)
        except UserError as e:
            return _fail(str(e))
        except KeyboardInterrupt:
            return _fail("interrupted", EXIT_INTERRUPTED)
        except MemoryError:
            return _fail("out of memory; try a smaller --tile-budget-mb or a smaller image")
        except OSError as e:
            return _fail(f"{e.strerror or e} ({e.filename})" if getattr(e, "filename", None) else str(e))
    if argv and _mistyped_command(argv[0]):
        close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"commands: {', '.join(SUBCOMMANDS)}"
        return _fail(f"'{argv[0]}' is neither a command nor an image file; {hint}", EXIT_USAGE)
    args = build_gui_parser().parse_args(argv)
    from adkviewer.shell.app import run_gui

    return run_gui(args)
