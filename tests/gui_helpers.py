"""Shared pytest-qt helper: open the real main window at 1280x800 and wait until the given tabs show results."""

from __future__ import annotations

from adkviewer.shell.app import build_window
from adkviewer.cli.args import build_gui_parser


def open_window(qtbot, argv: list[str], tabs: tuple[str, ...] = (), timeout_ms: int = 20_000):
    win = build_window(build_gui_parser().parse_args(list(argv)))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.compare.all_shown() and all(win.tab(t).all_shown() for t in tabs),
                    timeout=timeout_ms)
    return win
