"""One model per camera from a run on a folder that mixes cameras: the run's model, Quick-calibrated on each
camera's own train pairs (its linear part, colour mix and bias), kept only where that camera's val pairs allow.

On RealSR x4 (Canon and Nikon) this gives +0.24 dB on val over one calibration for both (bench/mixed_cameras.py).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .calibration_check import CalibrationCheck, Report, calibrate_checked
from .cameras import CAMERA_BY, file_tag, group_by_camera
from .run_card import export_card
from .weights import save_weights
from .wording import count_of


@dataclass(frozen=True)
class CameraExport:
    """One camera's model as written: its camera, its file and the verdict of its calibration."""

    camera: str
    path: Path
    check: CalibrationCheck


def export_per_camera(trainer: Any, by: str, log: Callable[[str], None], cancelled: Callable[[], bool] | None = None,
                      which: str | None = None, report: Report | None = None) -> list[CameraExport]:
    """Write `<export stem>_<camera>.safetensors` beside the run's export for each camera among its train pairs,
    each from the model the run exports (`which`: "last" for the model as it is now).

    Nothing is written when every train pair is from one camera (the run's own export is that camera's model).
    Cancelled, it stops before the next camera and returns the models written so far.
    """
    train = group_by_camera(trainer.train_infos, by)
    if len(train) < 2:
        only = next(iter(train), "one camera")
        log(f"per camera ({by}): every train pair is from {only}, so the run's own model is that camera's.")
        return []
    pair_of = {info.name: pair for info, pair in zip(trainer.train_infos, trainer.train_pairs)}
    val_of = {info.name: pair for info, pair in zip(trainer.val_infos, trainer.val)}
    val = group_by_camera(trainer.val_infos, by)
    base = trainer.export_model(which)
    stem = f"adknet_x{trainer.model.cfg.scale}_{trainer.cfg.preset}"
    done = []
    for camera, infos in train.items():
        model = copy.deepcopy(base)
        cam_val = [val_of[i.name] for i in val.get(camera, [])]
        log(f"{camera}: {count_of(len(infos), 'train pair')}, {count_of(len(cam_val), 'val pair')}")
        stage = None if report is None else (lambda name, done, n, c=camera: report(f"{c}: {name}", done, n))
        try:
            check = calibrate_checked(model, [pair_of[i.name] for i in infos], cam_val, trainer.device,
                                      cancelled=cancelled, report=stage, log=log, held_out=trainer.val_held_out)
        except InterruptedError:
            log(f"per camera: cancelled, {count_of(len(done), 'camera model')} of {len(train)} written")
            break
        log(f"{camera}: {check.sentence()}")
        path = Path(trainer.cfg.out) / f"{stem}_{file_tag(camera)}.safetensors"
        card = export_card(trainer, path, which)
        card["name"] = f"{stem} for {camera}"
        card["calibration"] = check.record()
        card["camera"] = {"name": camera, "by": by, "train_pairs": [i.name for i in infos],
                          "val_pairs": [i.name for i in val.get(camera, [])]}
        done.append(CameraExport(camera, save_weights(model, path, card), check))
    return done


def camera_models_beside(weights: str | Path) -> dict[str, tuple[str, Path]]:
    """The per-camera models written beside `weights` (export_per_camera): camera -> (how it is known, file)."""
    found: dict[str, tuple[str, Path]] = {}
    for card_path in sorted(Path(weights).parent.glob("*.json")):
        try:
            card = json.loads(card_path.read_text())
        except (OSError, ValueError):
            continue  # not a card, or not readable: not a camera model
        camera = card.get("camera") if isinstance(card, dict) else None
        w = card_path.with_suffix(".safetensors")
        if isinstance(camera, dict) and isinstance(camera.get("name"), str) and camera.get("by") in CAMERA_BY \
                and w.is_file() and w.resolve() != Path(weights).resolve():
            found[camera["name"]] = (camera["by"], w)
    return found
