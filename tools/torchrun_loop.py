"""Reliability of `adkviewer train` under torchrun: run it N times with --time-budget and count the runs that
finish (exit 0, weights and card written, the same iteration count in the card and the last checkpoint).

    OMP_NUM_THREADS=1 python tools/torchrun_loop.py [--runs 20] [--budget 8] [--pairs FOLDER] [--nproc 2] [--batch 2]

Without --pairs it makes six small synthetic pairs (box-downscaled smooth noise) in a temporary folder. A run
that hangs (the old per-rank budget deadlocked) is killed after --timeout seconds and counted as not finished.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def synthetic_pairs(folder: Path, n: int = 6, lr_size: tuple[int, int] = (24, 32), scale: int = 4) -> Path:
    rng = np.random.default_rng(0)
    names = [f"p{i}" for i in range(n)]
    for name in names:
        coarse = rng.random((lr_size[0] // 2, lr_size[1] // 2, 3))
        hr = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize(
            (lr_size[1] * scale, lr_size[0] * scale), Image.BICUBIC))
        lr = hr.reshape(lr_size[0], scale, lr_size[1], scale, 3).mean(axis=(1, 3))
        for sub, arr in (("HR", hr), ("LR", lr)):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.rint(arr).astype(np.uint8)).save(folder / sub / f"{name}.png")
    (folder / "split.json").write_text(json.dumps({"scale": scale, "train": names[:4], "val": names[4:]}))
    return folder


def one_run(pairs: Path, out: Path, args: argparse.Namespace) -> tuple[bool, str]:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(args.nproc), "--standalone",
           "-m", "adkviewer", "train", "--pairs", str(pairs), "--time-budget", str(args.budget), "--device", "cpu",
           "--batch", str(args.batch), "--patch", "16", "--out", str(out)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return False, f"hung (killed after {args.timeout} s)"
    cards = sorted(out.glob("adknet_x4_*.json"))
    if proc.returncode != 0 or not cards:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return False, f"exit {proc.returncode}: {tail[0][:160]}"
    import torch

    ck = torch.load(out / "checkpoint_last.pt", weights_only=True)
    its = json.loads(cards[0].read_text())["training"]["iterations"]
    if ck["iteration"] != its or "Traceback" in proc.stderr:
        return False, f"card says {its} iterations, checkpoint {ck['iteration']}"
    return True, f"{its} iterations"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--budget", type=float, default=8.0, help="--time-budget of each run, seconds")
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--batch", type=int, default=2, help="patches per step (small: many iterations in the budget)")
    p.add_argument("--pairs", type=Path, default=None)
    p.add_argument("--timeout", type=int, default=180)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pairs = args.pairs or synthetic_pairs(Path(tmp) / "pairs")
        finished = 0
        for i in range(args.runs):
            t0 = time.perf_counter()
            ok, what = one_run(pairs, Path(tmp) / f"run{i}", args)
            finished += ok
            print(f"run {i + 1}/{args.runs}: {'finished' if ok else 'FAILED'} in {time.perf_counter() - t0:.1f} s, "
                  f"{what}", flush=True)
    print(f"torchrun --nproc_per_node {args.nproc} train --time-budget {args.budget:g}: "
          f"finished {finished}/{args.runs}")
    return 0 if finished == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
