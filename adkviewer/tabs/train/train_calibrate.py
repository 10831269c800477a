"""Quick calibrate as the Train tab runs it, on the runner's worker thread: score, fit, score again and save the
calibrated model, reporting each stage's progress and stopping when cancelled (the model then stays as it was)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from adk_model.train import Trainer, calibrate, validate
from adk_model.wording import count_of

Report = Callable[[str, int, int], None]  # stage, pairs done, pairs in the stage


def quick_calibrate(trainer: Trainer, rescore: bool, report: Report, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Calibrate `trainer.model` on its train pairs; returns before/after PSNR, the preview and the saved weights.

    `rescore`: score the model before even if it was just validated (it was calibrated since). Cancelled at any
    stage, it raises InterruptedError with the model's tensors as they were before.
    """
    t0 = time.perf_counter()
    model = trainer.model
    pairs = trainer.val or trainer.train_pairs
    where = "val" if trainer.val else "train (no validation pairs)"

    def stage(name: str, total: int) -> Callable[[int, int], None]:
        report(name, 0, total)  # the stage shows as it starts
        return lambda done, n: report(name, done, n)

    known = [h["val_psnr"] for h in trainer.history if h.get("it") == trainer.iteration and "val_psnr" in h]
    if known and trainer.val and not rescore:
        before = {"psnr": known[-1]}  # just validated at this iteration: no need to score it again
    else:
        scored = count_of(len(pairs), "val pair" if trainer.val else "train pair")
        trainer.log(f"quick calibrate: scoring the model on {scored}{where[len(where.split()[0]):]}…")
        before, _ = validate(model, pairs, trainer.device, cancelled, stage("scoring the model", len(pairs)))
    fitted = count_of(len(trainer.train_pairs), "train pair")
    part = "the linear part, colour mix and bias" if model.linear is not None else "the colour head"
    trainer.log(f"quick calibrate: fitting {part} on {fitted}…")
    kept = {k: v.detach().clone() for k, v in model.state_dict().items()}  # small: the model, not the data
    try:
        calibrate(model, trainer.train_pairs, trainer.device, cancelled=cancelled, progress=stage("fitting", len(trainer.train_pairs)))
        after, preview = validate(model, pairs, trainer.device, cancelled,
                                  stage("scoring the calibrated model", len(pairs)))
    except InterruptedError:
        model.load_state_dict(kept)
        raise
    info = {"before": before.get("psnr", float("nan")), "after": after.get("psnr", float("nan")),
            "ssim_after": after.get("ssim", float("nan")), "seconds": time.perf_counter() - t0, "on": where,
            "iteration": trainer.iteration, "preview": preview, "gt": pairs[0][1]}
    info["weights"] = str(save_calibrated(trainer, info))
    return info


def save_calibrated(trainer: Trainer, info: dict[str, Any]) -> Path:
    """The calibrated model into its run folder, so that a run can start from it (as `--init FILE`)."""
    it = trainer.iteration
    pairs = Path(trainer.cfg.pairs).name or "pairs"
    card = {"name": f"{pairs} calibrated" + (f" at iteration {it}" if it else ""),
            "calibration": {k: round(v, 4) if isinstance(v, float) else v
                            for k, v in info.items() if k not in ("preview", "gt")}}
    stem = f"calibrated_it{it}_x{trainer.cfg.scale}" if it else f"calibrated_x{trainer.cfg.scale}"
    return trainer.export(Path(trainer.cfg.out) / f"{stem}.safetensors", extra_card=card, which="last")
