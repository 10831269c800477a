"""The command line (Qt-free): downscale, eval, train, fit-lstsq, import-weights, and the GUI's options."""

from adkviewer.cli.entry import main

__all__ = ["main"]
