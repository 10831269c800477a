"""Fine-tuning variants on the transfer benchmark's source models: which defaults beat Quick calibrate?

Uses the source models that bench/transfer.py trained in --work (source_SRC/) and its pairs folders. For each
variant and N, fine-tunes on DST_001..N (the CLI's seeded 20% held out to validate) and scores the exported
model on DST_041-050, beside the model as is, Quick calibrate on the same N pairs and lstsq. With --refit the
exported model is also scored after a closed-form re-fit on all N pairs (train + validation); with --again-on-all,
after a second run from the same calibrated start on all N pairs for the first run's best iteration count (its
halfway point exported, as the CLI does), the usual refit-on-train+val once the count is chosen. Appends one JSON
line per run to WORK/finetune_variants.jsonl (cached: a rerun skips what is there) and prints the table.

  python bench/finetune_variants.py --data ../shared/data/realsr_x4 --work ~/adk-transfer --ns 10 40
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from adk_model.baselines import apply_lstsq, fit_lstsq  # noqa: E402
from adk_model.calibrate import calibrate  # noqa: E402
from adk_model.data import discover_pairs, load_pair  # noqa: E402
from adk_model.export_choice import halfway  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.train import FINE_TUNE, Trainer, TrainConfig, predict  # noqa: E402
from adk_model.weights import load_weights  # noqa: E402
from transfer import SCALE, link_pairs  # noqa: E402

# name -> (TrainConfig overrides, parameter groups trained (None: all the engine trains), EMA decay (0: none),
# pull towards the start (L2-SP, decoupled: each step moves every weight lr * pull of its way back; 0: none))
VARIANTS = {
    "default": ({}, None, 0.0, 0.0),
    "lr3e-5": ({"lr": 3e-5}, None, 0.0, 0.0),
    "kernel-head": ({"lr": 3e-4}, ("branch", "head", "mix", "mix_bias"), 0.0, 0.0),
    "ema0.99": ({}, None, 0.99, 0.0),
    "l2sp30": ({}, None, 0.0, 30.0),
    "l2sp300": ({}, None, 0.0, 300.0),
}


def finetune(cfg: TrainConfig, groups: tuple[str, ...] | None, ema_decay: float = 0.0, pull: float = 0.0) -> Trainer:
    """One run of the training engine, optionally training only some parameter groups, validating (and so
    keeping as best, and exporting halfway to) an exponential moving average of the weights started at the start,
    or pulling the weights towards the start after every step."""
    tr = Trainer(cfg)
    tr.setup()
    if pull:
        _pull_to_start(tr, pull)
    if groups:
        for name, p in tr.model.named_parameters():
            if name.split(".")[0] not in groups:
                p.requires_grad_(False)
        tr.opt = torch.optim.AdamW([p for p in tr.model.parameters() if p.requires_grad], lr=cfg.lr,
                                   weight_decay=cfg.weight_decay)
    if ema_decay:
        _average_weights(tr, ema_decay)
    tr.run()
    return tr


def _average_weights(tr: Trainer, decay: float) -> None:
    """After every step, fold the weights into a moving average; every validation scores (and keeps) the average."""
    ema = {k: v.detach().clone() for k, v in tr.model.state_dict().items()}
    step, run_validation = tr.step, tr.run_validation

    def averaged_step() -> float:
        loss = step()
        with torch.no_grad():
            for k, v in tr.model.state_dict().items():
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay) if v.is_floating_point() else ema[k].copy_(v)
        return loss

    def validate_average(known=None) -> None:
        live = {k: v.detach().clone() for k, v in tr.model.state_dict().items()}
        tr.model.load_state_dict(ema)
        run_validation(known if tr.iteration == 0 else None)
        tr.model.load_state_dict(live)

    tr.step, tr.run_validation = averaged_step, validate_average


def _pull_to_start(tr: Trainer, pull: float) -> None:
    """L2-SP (Li et al. 2018) in decoupled form, as AdamW decays towards 0: after each step every trained weight
    moves lr * pull of its distance back to the calibrated start, so the weights wander at most about 1 / pull."""
    start = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
    step = tr.step

    def pulled_step() -> float:
        loss = step()
        shrink = min(1.0, tr.opt.param_groups[0]["lr"] * pull)
        with torch.no_grad():
            for n, p in tr.model.named_parameters():
                if p.requires_grad:
                    p.sub_(shrink * (p - start[n]))
        return loss

    tr.step = pulled_step


def again_on_all(cfg: TrainConfig, iterations: int) -> Trainer:
    """The same fine-tune from the same calibrated start on every pair (none held out) for `iterations` steps of the
    same schedule, its model set halfway between that start and where it ends."""
    tr = Trainer(TrainConfig(**{**cfg.to_dict(), "split": "all", "out": cfg.out + "_all", "val_every": 0}))
    tr.setup()
    start = {k: v.detach().clone() for k, v in tr.model.state_dict().items()}
    while tr.iteration < iterations:
        tr.step()
    tr.model.load_state_dict(halfway(start, tr.model.state_dict()))
    return tr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True, help="bench/transfer.py's --work (its source models)")
    p.add_argument("--directions", nargs="+", default=["Canon:Nikon"])
    p.add_argument("--ns", nargs="+", type=int, default=[10, 40])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--refit", action="store_true", help="also score after a re-fit on all N pairs")
    p.add_argument("--again-on-all", action="store_true",
                   help="also score a second run on all N pairs for the first run's best iteration count")
    p.add_argument("--print-only", action="store_true", help="print the table of the runs in the cache; run none")
    args = p.parse_args()
    data, work = Path(args.data).resolve(), Path(args.work).expanduser().resolve()
    cache = work / "finetune_variants.jsonl"
    done = [json.loads(line) for line in cache.read_text().splitlines()] if cache.is_file() else []
    if args.print_only:
        args.directions = []
    infos = {q.name: q for q in discover_pairs(data, SCALE)}
    for d in args.directions:
        src, dst = d.split(":")
        weights = work / f"source_{src}" / f"adknet_x{SCALE}_lite.safetensors"
        val = [load_pair(infos[f"{dst}_{i:03d}"], SCALE) for i in range(41, 51)]
        score = lambda m: float(np.mean([psnr(predict(m, hr, "cpu"), lr) for hr, lr in val]))  # noqa: E731
        for n in args.ns:
            names = [f"{dst}_{i:03d}" for i in range(1, n + 1)]
            train = [load_pair(infos[m], SCALE) for m in names]
            fit = fit_lstsq(train, SCALE, taps=16)
            base = {"lstsq": float(np.mean([psnr(apply_lstsq(fit, hr), lr) for hr, lr in val]))}
            model = load_weights(weights).model
            base["as_is"] = score(model)
            calibrate(model, train)
            base["calibrated"] = score(model)
            for v in args.variants:
                if any(r["src"] == src and r["dst"] == dst and r["n"] == n and r["variant"] == v for r in done):
                    continue
                overrides, groups, ema_decay, pull = VARIANTS[v]
                settings = {"iterations": FINE_TUNE.iterations, "lr": FINE_TUNE.lr, "val_every": FINE_TUNE.val_every,
                            "patience": FINE_TUNE.patience, **overrides}  # the CLI's fine-tuning defaults, varied
                cfg = TrainConfig(pairs=str(link_pairs(data, names, work / f"pairs_{dst}_{n}")), init=str(weights),
                                  ckpt_every=0, out=str(work / f"variant_{v}_{src}_to_{dst}_{n}"), **settings)
                t0 = time.perf_counter()
                tr = finetune(cfg, groups, ema_decay, pull)
                exported = tr.export_model()
                row = {"src": src, "dst": dst, "n": n, "variant": v, **base, "finetuned": score(exported),
                       "best_it": tr.best.get("it"), "iterations": tr.iteration,
                       "seconds": round(time.perf_counter() - t0, 1)}
                if args.refit:
                    calibrate(exported, tr.train_pairs + tr.val)
                    row["refit_all"] = score(exported)
                if args.again_on_all:
                    row["again_on_all"] = (score(again_on_all(cfg, tr.best["it"]).model.eval()) if tr.best.get("it")
                                           else row["finetuned"])  # the start was kept: the same start again
                done.append(row)
                with open(cache, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps(row), file=sys.stderr, flush=True)
    print("| SRC -> DST | N | variant | lstsq | as is | Quick calibrate | fine-tuned (gap) | re-fit on all | "
          "again on all N (gap) | best it |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in done:
        refit = f"{r['refit_all']:.2f}" if "refit_all" in r else ""
        again = f"{r['again_on_all']:.2f} ({r['again_on_all'] - r['lstsq']:+.2f})" if "again_on_all" in r else ""
        print(f"| {r['src']} -> {r['dst']} | {r['n']} | {r['variant']} | {r['lstsq']:.2f} | {r['as_is']:.2f} | "
              f"{r['calibrated']:.2f} | {r['finetuned']:.2f} ({r['finetuned'] - r['lstsq']:+.2f}) | {refit} | {again} | "
              f"{r['best_it']} of {r['iterations']} |")


if __name__ == "__main__":
    main()
