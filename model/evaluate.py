"""Scoring methods on HR/LR pairs: the numbers behind `adkviewer eval` and every model card."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .baselines import LstsqFit, fit_lstsq
from .metrics import compute_metrics, psnr
from .methods import ALL_METHODS, MethodSet
from .weights import LoadedWeights
from .wording import count_of


@dataclass
class EvalResult:
    scale: int
    pairs: int
    crop: int
    methods: dict[str, dict[str, float]]
    per_pair: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"scale": self.scale, "pairs": self.pairs, "methods": self.methods}

    def convention(self) -> str:
        crop = f"{self.crop}-px border crop" if self.crop else "full image, no border crop"
        return f"RGB and Y (BT.601) PSNR in dB, SSIM (11x11 Gaussian, sigma 1.5) on RGB; data range 1; {crop}"


def evaluate(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
    methods: list[str],
    method_set: MethodSet,
    crop: int = 0,
    progress: Callable[[str, str], None] | None = None,
) -> EvalResult:
    """Mean PSNR (RGB, Y), SSIM and seconds per method over the pairs."""
    per_pair: dict[str, dict[str, dict[str, float]]] = {}
    for name, hr, lr in pairs:
        per_pair[name] = {}
        for m in methods:
            if progress:
                progress(name, m)
            out, secs = method_set.timed(m, hr)
            scores = compute_metrics(out, lr, crop=crop)
            scores["seconds"] = secs
            per_pair[name][m] = scores
    means = {
        m: {key: float(np.mean([per_pair[n][m][key] for n in per_pair])) for key in ("psnr", "psnr_y", "ssim", "seconds")}
        for m in methods
    } if per_pair else {}
    return EvalResult(scale=method_set.scale, pairs=len(per_pair), crop=crop, methods=means, per_pair=per_pair)


def card_metrics(trainer: Any, lstsq_fit: LstsqFit | None = None, which: str | None = None) -> dict:
    """Validation metrics of a trainer's in-memory model (the one its export writes, `which`) and every baseline,
    by the evaluator of 'adkviewer eval' (for the model card). `lstsq_fit`: the least-squares fit to score
    (default: fitted here on the train split)."""
    scale = trainer.cfg.scale
    ms = MethodSet(scale=scale, device=trainer.device)
    ms.lstsq_fit = lstsq_fit if lstsq_fit is not None else fit_lstsq(trainer.train_pairs, scale, taps=4 * scale,
                                                                       fitted_on="train split")
    ms.set_weights(LoadedWeights(model=trainer.export_model(which), path=Path("trained"), card={"name": "trained"}))
    pairs = [(info.name, hr, lr) for info, (hr, lr) in zip(trainer.val_infos, trainer.val)]
    res = evaluate(pairs, list(ALL_METHODS), ms)
    trainer.model.train()
    return {"convention": res.convention(), "pairs": res.pairs, "split": trainer.cfg.split,
            "methods": {m: {k: round(v, 4) for k, v in d.items()} for m, d in res.methods.items()}}


def reference_psnr(method: str, pairs: Iterable[tuple[np.ndarray, np.ndarray]], scale: int,
                   lstsq_fit: LstsqFit | None = None) -> float:
    """Mean RGB PSNR of a baseline over (HR, LR) pairs: the dashed reference lines beside the validation curve."""
    ms = MethodSet(scale=scale, lstsq_fit=lstsq_fit)
    return float(np.mean([psnr(ms.run(method, hr), lr) for hr, lr in pairs]))


def format_table(res: EvalResult, labels: Callable[[str], str] = str) -> str:
    """A readable table with the best value of each column marked by '*'."""
    cols = [("psnr", "PSNR RGB", max), ("psnr_y", "PSNR Y", max), ("ssim", "SSIM", max), ("seconds", "s/img", min)]
    best = {key: pick(v[key] for v in res.methods.values()) for key, _, pick in cols} if res.methods else {}
    width = max([len(labels(m)) for m in res.methods] + [6])
    lines = [f"x{res.scale}, {count_of(res.pairs, 'pair')}. {res.convention()}. * = best",
             f"{'method':<{width}}  " + "  ".join(f"{h:>10}" for _, h, _ in cols)]
    for m, v in res.methods.items():
        cells = []
        for key, _, _ in cols:
            fmt = "{:.4f}" if key in ("ssim", "seconds") else "{:.2f}"
            cells.append(f"{fmt.format(v[key]) + ('*' if v[key] == best[key] else ' '):>10}")
        lines.append(f"{labels(m):<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
