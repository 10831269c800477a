"""The Train tab in a real window, set up the way the Train GUI tests need it (shared by those test files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adkviewer.gui.settings import Settings
from adkviewer.shell.main_window import MainWindow
from adkviewer.tabs.train.train_runner import IDLE
from adkviewer.tabs.train.train_state import TrainSettings
from core_helpers import TINY, make_pairs

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    """4 train + 2 val pairs (LR 16 x 20 at x4), LR = box downscale plus a strong colour response."""
    return make_pairs(tmp_path_factory.mktemp("pairs"), n_train=4, n_val=2, lr_size=(16, 20))


def window(qtbot) -> MainWindow:
    win = MainWindow(Settings())
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.show_tab("train")
    win.tab("train").ask = lambda text: True  # closing at teardown mid-run: "Stop, save and close"
    return win


def train_settings(pairs: Path, out: Path, **kw) -> TrainSettings:
    base = dict(pairs=str(pairs), init="scratch", iterations=30, batch=2, patch=8, lr=2e-3, val_every=10,
                ckpt_every=0, device="cpu", out_root=str(out), model_overrides=dict(TINY))
    base.update(kw)
    return TrainSettings(**base)


def setup_tab(qtbot, pairs: Path, out: Path, **kw):
    """A window showing the Train tab with a tiny scratch run's settings on the form."""
    win = window(qtbot)
    tab = win.tab("train")
    tab.set_form(train_settings(pairs, out, **kw))
    tab.rescan()
    return win, tab


def wait_idle(qtbot, tab, timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(lambda: tab.runner.state == IDLE and not tab.runner.busy, timeout=timeout)
