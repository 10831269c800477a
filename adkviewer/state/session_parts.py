"""What the session is made of besides itself: a method's result, and the files of an image as read from disk.

Qt-free and safe on any thread (`read_files` touches no session state, so a GUI runs it off its main thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from adk_model.data import find_ground_truth
from adk_model.errors import UserError
from adk_model.imageio import LoadedImage, load_image
from adk_model.weights import card_path, describe_weights

SCALES = (2, 3, 4)


@dataclass
class MethodResult:
    """One method's output for the current image: the LR, or a message saying why there is none."""

    method: str
    lr: np.ndarray | None = None        # float32 (h, w, 3) in [0, 1]; while partial, tiles not done are 0
    seconds: float | None = None
    metrics: dict[str, float] | None = None
    message: str | None = None          # no weights, an error, cancelled ...
    partial: bool = False               # True while ADK-Net fills in tile by tile
    tiles_done: int = 0
    tiles_total: int = 0

    @property
    def ready(self) -> bool:
        return self.lr is not None and not self.partial and self.message is None


def weights_name(path: str | Path) -> str:
    """The name on a weights file's model card (read without loading the weights), else its file stem; read once
    per version of the files, as labels ask for it on every result and every step through a dataset."""
    def stamp(p: Path) -> int:
        try:
            return p.stat().st_mtime_ns
        except OSError:
            return -1

    return _weights_name(str(path), stamp(Path(path)), stamp(card_path(path)))


@lru_cache(maxsize=64)
def _weights_name(path: str, _weights_mtime: int, _card_mtime: int) -> str:
    return describe_weights(path).name


def scale_of(hr_shape: tuple[int, ...], lr_shape: tuple[int, ...], prefer: int | None = None) -> int | None:
    """The scale s in SCALES for which LR is exactly HR // s (preferring `prefer`), or None."""
    order = ([prefer] if prefer in SCALES else []) + [s for s in SCALES if s != prefer]
    for s in order:
        if (hr_shape[0] // s, hr_shape[1] // s) == tuple(lr_shape[:2]):
            return s
    return None


@dataclass
class OpenedFiles:
    """An HR and its ground truth as read from disk (no session state touched: safe on any thread)."""

    hr: LoadedImage
    gt_path: Path | None = None
    gt: LoadedImage | None = None
    gt_error: str | None = None
    gt_auto: bool = False


def read_files(path: str | Path, gt_path: str | Path | None = None) -> OpenedFiles:
    """Read an HR and its ground truth (given, or found beside it); an HR problem raises UserError."""
    hr = load_image(path)
    auto = gt_path is None
    found = Path(gt_path) if gt_path is not None else find_ground_truth(path, SCALES)
    out = OpenedFiles(hr=hr, gt_path=found, gt_auto=auto)
    if found is not None:
        try:
            out.gt = load_image(found)
        except UserError as e:
            out.gt_error = f"Ground truth not used: {e}"
    return out
