"""Shared pieces of the Compare-tab window tests (test_gui_compare_*.py, and the export and cosmetics tests): open
the real window, write a small HR/LR pair, and check that every view shares one camera."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gui_helpers import open_window
from adkviewer.cli.args import build_gui_parser
from adkviewer.shell.main_window import MainWindow

WAIT_MS = 20_000


def _args(*argv: str) -> argparse.Namespace:
    return build_gui_parser().parse_args(list(argv))


def _open(qtbot, *argv: str) -> MainWindow:
    return open_window(qtbot, list(argv), timeout_ms=WAIT_MS)


def _smooth_image(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * x + 3 * y + c) for c in range(3)], axis=2)
    img += 0.08 * rng.standard_normal((h, w, 3))
    return np.clip(img, 0, 1)


def _write_pair(root: Path, name: str = "pic", hr_size: tuple[int, int] = (96, 80), scale: int = 4) -> tuple[Path, Path]:
    """An HR/ and LR/ pair: a box-downscaled, slightly shifted and tinted LR stands in for a camera LR."""
    (root / "HR").mkdir(parents=True, exist_ok=True)
    (root / "LR").mkdir(parents=True, exist_ok=True)
    hr = _smooth_image(*hr_size, seed=1)
    h, w = hr_size[0] // scale, hr_size[1] // scale
    lr = hr[: h * scale, : w * scale].reshape(h, scale, w, scale, 3).mean(axis=(1, 3))
    lr = np.clip(np.roll(lr, 1, axis=1) * [1.02, 0.98, 1.0] + 0.01, 0, 1)
    hp, lp = root / "HR" / f"{name}.png", root / "LR" / f"{name}.png"
    Image.fromarray((hr * 255).round().astype(np.uint8)).save(hp)
    Image.fromarray((lr * 255).round().astype(np.uint8)).save(lp)
    return hp, lp


def _zoom(panel) -> float:
    return panel.vb.width() / panel.vb.viewRect().width()


def _assert_same_camera(win, ref_key: str) -> None:
    grid = win.compare.grid
    ref = grid.panel(ref_key)
    c = ref.vb.viewRect().center()
    for k in grid.order:
        p = grid.panel(k)
        pc = p.vb.viewRect().center()
        assert abs(pc.x() - c.x()) < 1e-6 and abs(pc.y() - c.y()) < 1e-6, k
        assert _zoom(p) == pytest.approx(_zoom(ref), rel=1e-6), k
