"""Benchmark training speed: iterations/s and LR pixels/s of the engine's step on synthetic pairs.

    python bench/bench_train.py --device cpu --batch 8 --patch 48 --steps 10
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import numpy as np
    import torch

    from adk_model.adknet import ADKNet, preset
    from adk_model.data import PairCropDataset
    from adk_model.devices import resolve_device
    from adk_model.train import TrainConfig, lr_at

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", default="lite")
    ap.add_argument("--batch", nargs="+", type=int, default=[8, 16])
    ap.add_argument("--patch", nargs="+", type=int, default=[48, 64])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--system-malloc", action="store_true",
                    help="leave glibc's allocator as it is (the programs call adk_model.allocator.keep_freed_memory)")
    args = ap.parse_args()
    if not args.system_malloc:
        from adk_model.allocator import keep_freed_memory

        keep_freed_memory()
    dev = resolve_device(args.device)
    rng = np.random.default_rng(0)
    pairs = [(rng.random((512, 512, 3), dtype=np.float32), rng.random((128, 128, 3), dtype=np.float32)) for _ in range(4)]
    print(f"# training step benchmark, {time.strftime('%Y-%m-%d %H:%M')}, device {dev}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, preset {args.preset}")
    print(f"# command: python {' '.join(sys.argv)}\n")
    print("| batch | LR patch | s/iteration | iterations/s | LR px/s |")
    print("|---|---|---|---|---|")
    for b in args.batch:
        for p in args.patch:
            model = ADKNet(preset(args.preset)).to(dev).train()
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
            ds = PairCropDataset(pairs, 4, p)
            gen = torch.Generator().manual_seed(0)
            cfg = TrainConfig(lr=1e-3)
            times = []
            for it in range(args.steps + 2):
                hr, lr = ds.batch(gen, b)
                hr, lr = hr.to(dev), lr.to(dev)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                for g in opt.param_groups:
                    g["lr"] = lr_at(cfg, it)
                loss = torch.nn.functional.l1_loss(model(hr).lr, lr)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                if it >= 2:
                    times.append(time.perf_counter() - t)
            s = float(np.median(times))
            print(f"| {b} | {p} | {s:.3f} | {1 / s:.2f} | {b * p * p / s:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
