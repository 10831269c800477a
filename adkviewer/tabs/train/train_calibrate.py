"""Quick calibrate as the Train tab runs it, on the runner's worker thread: score, fit, score again, and save the
calibrated model only if validation does not say it is worse (adk_model.calibration_check, the CLI's rule),
reporting each stage's progress and stopping when cancelled (the model then stays as it was)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from adk_model.calibration_check import calibrate_checked
from adk_model.camera_models import export_per_camera
from adk_model.runs import CALIBRATED
from adk_model.train import Trainer

Report = Callable[[str, int, int], None]  # stage, pairs done, pairs in the stage


def quick_calibrate(trainer: Trainer, rescore: bool, report: Report, cancelled: Callable[[], bool],
                    per_camera: str = "") -> dict[str, Any]:
    """Calibrate `trainer.model` on its train pairs; returns the verdict, before/after val PSNR, the preview,
    (when adopted) the saved weights and, with `per_camera`, each camera's own calibrated model ("cameras").

    `rescore`: score the model before even if it was just validated (it was calibrated since). Cancelled at any
    stage, it raises InterruptedError with the model's tensors as they were before.
    """
    t0 = time.perf_counter()
    known = [h for h in trainer.history if h.get("it") == trainer.iteration and "val_psnr" in h]
    before = ({"psnr": known[-1]["val_psnr"]} if known and trainer.val and not rescore else None)  # just validated
    check = calibrate_checked(trainer.model, trainer.train_pairs, trainer.val, trainer.device, before=before,
                              cancelled=cancelled, report=report, log=trainer.log, held_out=trainer.val_held_out)
    trainer.calibration = check.record()  # the card of any later export records it, adopted or not
    scores = {"before": check.before["psnr"], "after": check.after["psnr"]} if check.checked else {}
    if "ssim" in check.after:
        scores["ssim_after"] = check.after["ssim"]
    info = {**check.record(), **scores, "seconds": round(time.perf_counter() - t0, 2),
            "iteration": trainer.iteration, "preview": check.preview, "gt": trainer.val[0][1] if trainer.val else None}
    if check.adopted:
        info["weights"] = str(save_calibrated(trainer, info))
    if per_camera:  # from the model as it now is (calibrated or kept), each camera on its own pairs
        info["cameras"] = [{"camera": e.camera, "weights": str(e.path), "adopted": e.check.adopted,
                            "sentence": e.check.sentence()}
                           for e in export_per_camera(trainer, per_camera, trainer.log, cancelled, "last", report)]
        info["seconds"] = round(time.perf_counter() - t0, 2)
    return info


def save_calibrated(trainer: Trainer, info: dict[str, Any]) -> Path:
    """The calibrated model into its run folder, so that a run can start from it (as `--init FILE`)."""
    it = trainer.iteration
    pairs = Path(trainer.cfg.pairs).name or "pairs"
    card = {"name": f"{pairs} calibrated" + (f" at iteration {it}" if it else ""),
            "calibration": {k: round(v, 4) if isinstance(v, float) else v
                            for k, v in info.items() if k not in ("preview", "gt")}}
    stem = CALIBRATED + (f"it{it}_x{trainer.cfg.scale}" if it else f"x{trainer.cfg.scale}")
    return trainer.export(Path(trainer.cfg.out) / f"{stem}.safetensors", extra_card=card, which="last")


def camera_note(cameras: list[dict[str, Any]] | None) -> str:
    """What the per-camera models are, after the calibration's own sentence ('' without them)."""
    if not cameras:
        return ""
    each = ", ".join(cam["camera"] + ("" if cam["adopted"] else " (as it was: no fit beat it on its held-out pairs)")
                     for cam in cameras)
    return f" One model per camera, each calibrated on its own pairs, beside it in Compare: {each}."
