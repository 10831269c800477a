"""Scoring methods on HR/LR pairs: the numbers behind `adkviewer eval` and every model card."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .baselines import LstsqFit, fit_lstsq
from .errors import UserError
from .metrics import compute_metrics, psnr
from .methods import ALL_METHODS, MethodSet
from .weights import LoadedWeights
from .wording import count_of


SCORES = ("psnr", "psnr_y", "ssim", "seconds")


@dataclass
class EvalResult:
    """Scores of methods on pairs: means over the pairs each method could be scored on, and per pair."""

    scale: int
    pairs: int
    crop: int
    methods: dict[str, dict[str, float]]
    per_pair: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    problems: dict[str, dict[str, str]] = field(default_factory=dict)  # pair -> method -> why it has no score

    def convention(self) -> str:
        return convention(self.crop)


def convention(crop: int = 0) -> str:
    """How every score of the program is computed, said once (tables, the GUI's dataset summary, JSON)."""
    where = f"{crop}-px border crop" if crop else "full image, no border crop"
    return f"RGB and Y (BT.601) PSNR in dB, SSIM (11x11 Gaussian, sigma 1.5) on RGB; data range 1; {where}"


def score_pair(hr: np.ndarray, lr: np.ndarray, methods: Sequence[str], method_set: MethodSet, crop: int = 0,
               names: tuple[str, ...] = (), cancelled: Callable[[], bool] | None = None,
               ) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """One pair through each method: (scores by method, why a method has none). The one scoring path of
    `adkviewer eval` and the GUI's dataset table; a method's problem on this pair touches no other."""
    scores: dict[str, dict[str, float]] = {}
    problems: dict[str, str] = {}
    for m in methods:
        if cancelled is not None and cancelled():
            break
        try:
            out, secs = method_set.timed(m, hr, names=names, cancelled=cancelled)
        except UserError as e:
            problems[m] = str(e)
            continue
        # an external method's time is reading the person's file, not their method's: none is recorded
        external = m in method_set.extras and not method_set.extras[m].is_adknet
        scores[m] = {**compute_metrics(out, lr, crop=crop), **({} if external else {"seconds": secs})}
    return scores, problems


def summarise(per_pair: Mapping[str, Mapping[str, Mapping[str, float]]], methods: Sequence[str],
              ) -> dict[str, dict[str, float]]:
    """Mean of each score per method over the pairs that have it (non-finite values skipped), with the count."""
    means: dict[str, dict[str, float]] = {}
    for m in methods:
        rows = [p[m] for p in per_pair.values() if m in p]
        if not rows:
            continue
        block: dict[str, float] = {}
        for key in SCORES:
            vals = [r[key] for r in rows if key in r and np.isfinite(r[key])]
            block[key] = float(np.mean(vals)) if vals else float("nan")
        block["pairs"] = len(rows)
        means[m] = block
    return means


def evaluate(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
    methods: list[str],
    method_set: MethodSet,
    crop: int = 0,
    names: Mapping[str, tuple[str, ...]] | None = None,
) -> EvalResult:
    """Mean PSNR (RGB, Y), SSIM and seconds per method over the pairs; `names` gives a pair's other names (its
    HR file's stem) by which external results may be found."""
    per_pair: dict[str, dict[str, dict[str, float]]] = {}
    problems: dict[str, dict[str, str]] = {}
    for name, hr, lr in pairs:
        per_pair[name], trouble = score_pair(hr, lr, methods, method_set, crop, (name, *(names or {}).get(name, ())))
        if trouble:
            problems[name] = trouble
    return EvalResult(scale=method_set.scale, pairs=len(per_pair), crop=crop, methods=summarise(per_pair, methods),
                      per_pair=per_pair, problems=problems)


def card_metrics(trainer: Any, lstsq_fit: LstsqFit | None = None, which: str | None = None,
                 progress: Callable[[], None] | None = None) -> dict:
    """Validation metrics of a trainer's in-memory model (the one its export writes, `which`) and every baseline,
    by the evaluator of 'adkviewer eval' (for the model card). `lstsq_fit`: the least-squares fit to score
    (default: fitted here on the train split); `progress`: called after each pair (it can take a minute)."""
    scale = trainer.cfg.scale
    ms = MethodSet(scale=scale, device=trainer.device)
    ms.lstsq_fit = lstsq_fit if lstsq_fit is not None else fit_lstsq(trainer.train_pairs, scale, taps=4 * scale,
                                                                       fitted_on="train split")
    ms.set_weights(LoadedWeights(model=trainer.export_model(which), path=Path("trained"), card={"name": "trained"}))
    pairs = [(info.name, hr, lr) for info, (hr, lr) in zip(trainer.val_infos, trainer.val)]
    res = evaluate(_counted(pairs, progress), list(ALL_METHODS), ms)
    trainer.model.train()
    return {"convention": res.convention(), "pairs": res.pairs, "split": trainer.cfg.split,
            "methods": {m: {k: round(v, 4) for k, v in d.items()} for m, d in res.methods.items()}}


def _counted(items: Iterable[Any], progress: Callable[[], None] | None) -> Iterator[Any]:
    """The items, calling `progress` after each one is done with."""
    for item in items:
        yield item
        if progress is not None:
            progress()


def reference_psnr(method: str, pairs: Iterable[tuple[np.ndarray, np.ndarray]], scale: int,
                   lstsq_fit: LstsqFit | None = None) -> float:
    """Mean RGB PSNR of a baseline over (HR, LR) pairs: the dashed reference lines beside the validation curve."""
    ms = MethodSet(scale=scale, lstsq_fit=lstsq_fit)
    return float(np.mean([psnr(ms.run(method, hr), lr) for hr, lr in pairs]))


def format_table(res: EvalResult, labels: Callable[[str], str] = str) -> str:
    """A readable table with the best value of each column marked by '*'."""
    cols = [("psnr", "PSNR RGB", max), ("psnr_y", "PSNR Y", max), ("ssim", "SSIM", max), ("seconds", "s/img", min)]
    best = {key: pick([v[key] for v in res.methods.values() if np.isfinite(v[key])], default=None)
            for key, _, pick in cols}  # a non-finite mean (no value at all) shows as '—', never as best
    # a method that could not be scored on every pair says on how many its means are
    names = {m: labels(m) + (f" ({count_of(v['pairs'], 'pair')})" if v.get("pairs", res.pairs) != res.pairs else "")
             for m, v in res.methods.items()}
    width = max([len(n) for n in names.values()] + [6])
    lines = [f"x{res.scale}, {count_of(res.pairs, 'pair')}. {res.convention()}. * = best",
             f"{'method':<{width}}  " + "  ".join(f"{h:>10}" for _, h, _ in cols)]
    for m, v in res.methods.items():
        cells = []
        for key, _, _ in cols:
            fmt = "{:.4f}" if key in ("ssim", "seconds") else "{:.2f}"
            text = fmt.format(v[key]) if np.isfinite(v[key]) else "—"
            cells.append(f"{text + ('*' if v[key] == best[key] else ' '):>10}")
        lines.append(f"{names[m]:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
