"""How wide must the least-squares baseline be? `lstsq` at several kernel sides, on one camera's pairs and on RealSR.

The issue's targets are margins over `lstsq`, "the best a non-adaptive linear downscaler can do"; this checks
that the default side (4 x scale = 16 taps at x4) is that best. For each camera of realsr_x4, the kernel is
fitted on CAM_001..N (N nested: the normal equations of the first N pairs are reused for the next N) and scored
on CAM_041-050; the "RealSR" rows fit the fixed split's 80 train pairs and score its 20 val pairs. With --work
(bench/transfer.py's), the source models' Quick calibrate is also run with their 16-tap linear part widened to
each side (zero-padded, then fitted): whether ADK-Net gains what lstsq gains.

  python bench/lstsq_taps.py --data ../shared/data/realsr_x4 --work ~/adk-transfer --write
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from adk_model.adknet import ADKNet  # noqa: E402
from adk_model.baselines import LstsqFit, accumulate_normal_equations, apply_lstsq, solve_ridge  # noqa: E402
from adk_model.calibrate import calibrate  # noqa: E402
from adk_model.data import discover_pairs, load_pair  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.train import predict  # noqa: E402
from adk_model.weights import default_weights, load_weights  # noqa: E402
from transfer import SCALE, write_results  # noqa: E402

CAMERAS = ("Canon", "Nikon")


def as_fit(xtx: np.ndarray, xty: np.ndarray, taps: int) -> LstsqFit:
    sol = solve_ridge(xtx, xty)  # as fit_lstsq solves it
    return LstsqFit(SCALE, taps, np.ascontiguousarray(sol[:-1].T, np.float32), np.ascontiguousarray(sol[-1], np.float32))


def score(outputs, val) -> float:
    return float(np.mean([psnr(o, lr) for o, (_, lr) in zip(outputs, val)]))


def widened(model: ADKNet, taps: int) -> ADKNet:
    """The same model with its linear part zero-padded to `taps` (the same output until calibrate fits it)."""
    if taps == model.cfg.linear_taps:
        return model
    wide = ADKNet(replace(model.cfg, linear_taps=taps, arch=""))
    state = dict(model.state_dict())
    d = (taps - model.cfg.linear_taps) // 2
    state["linear.weight"] = torch.nn.functional.pad(state["linear.weight"], (d, d, d, d))
    wide.load_state_dict(state)
    return wide


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--work", default="", help="bench/transfer.py's --work: also Quick calibrate its source models")
    p.add_argument("--taps", nargs="+", type=int, default=[12, 16, 20, 24])
    p.add_argument("--ns", nargs="+", type=int, default=[10, 20, 40])
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    infos = {q.name: q for q in discover_pairs(Path(args.data), SCALE)}
    pair = lambda cam, i: load_pair(infos[f"{cam}_{i:03d}"], SCALE)  # noqa: E731
    val = {cam: [pair(cam, i) for i in range(41, 51)] for cam in CAMERAS}
    lstsq: dict[tuple[str, int, int], float] = {}
    seconds: dict[int, float] = {}
    for taps in args.taps:
        n_feat = 3 * taps * taps + 1
        full = [np.zeros((n_feat, n_feat)), np.zeros((n_feat, 3))]
        t0 = time.perf_counter()
        for cam in CAMERAS:
            xtx, xty = np.zeros((n_feat, n_feat)), np.zeros((n_feat, 3))
            for i in range(1, max(args.ns) + 1):
                accumulate_normal_equations(*pair(cam, i), SCALE, taps, xtx, xty)
                if i in args.ns:
                    fit = as_fit(xtx, xty, taps)
                    lstsq[cam, i, taps] = score([apply_lstsq(fit, hr) for hr, _ in val[cam]], val[cam])
                    print(f"lstsq {cam} N={i} taps={taps}: {lstsq[cam, i, taps]:.3f}", file=sys.stderr, flush=True)
            if max(args.ns) == 40:
                full[0] += xtx
                full[1] += xty
        seconds[taps] = time.perf_counter() - t0
        if max(args.ns) == 40:  # the fixed split: Canon and Nikon 001-040 -> their 041-050
            fit = as_fit(*full, taps)
            both = val["Canon"] + val["Nikon"]
            lstsq["RealSR", 80, taps] = score([apply_lstsq(fit, hr) for hr, _ in both], both)
    adk: dict[tuple[str, int, int], float] = {}
    if ("RealSR", 80, 16) in lstsq:  # the shipped model (trained on those 80 pairs) on the 20 val pairs
        both = val["Canon"] + val["Nikon"]
        adk["RealSR", 80, 16] = score([predict(load_weights(default_weights(SCALE)).model, hr, "cpu")
                                       for hr, _ in both], both)
    if args.work:
        for src, dst in (("Canon", "Nikon"), ("Nikon", "Canon")):
            weights = Path(args.work) / f"source_{src}" / f"adknet_x{SCALE}_lite.safetensors"
            for n in args.ns:
                train = [pair(dst, i) for i in range(1, n + 1)]
                for taps in args.taps:
                    model = widened(load_weights(weights).model, taps)
                    calibrate(model, train)
                    adk[dst, n, taps] = score([predict(model, hr, "cpu") for hr, _ in val[dst]], val[dst])
                    print(f"ADK-Net {src}->{dst} N={n} linear {taps}: {adk[dst, n, taps]:.3f}", file=sys.stderr,
                          flush=True)
    cols = " | ".join(f"{t} taps" for t in args.taps)
    shipped = 16  # the preset's linear part, and fit-lstsq's default side (4 x scale)
    gaps = bool(adk) and shipped in args.taps
    if gaps:
        cols += " | Quick calibrate − lstsq 16 | − best lstsq (side)"
    lines = [f"`python bench/lstsq_taps.py {' '.join(sys.argv[1:])}`", "",
             "RGB PSNR dB on CAM_041-050 (RealSR: the fixed split's 20 val pairs), full image; fitted on CAM_001..N "
             "(RealSR: its 80 train pairs). "
             "Each cell: lstsq at that kernel side" + (", then / ADK-Net (bench/transfer.py's source model of the "
                                                      "other camera) Quick calibrated with its linear part that "
                                                      "wide" if args.work else "") +
             "; RealSR's 16-tap cell: / the shipped model as it is.", "",
             f"| pairs | N | {cols} |", "|---|---|" + "---|" * (len(args.taps) + 2 * gaps)]
    for cam in (*CAMERAS, "RealSR"):
        for n in ([80] if cam == "RealSR" else args.ns):
            if (cam, n, args.taps[0]) not in lstsq:
                continue
            cells = [f"{lstsq[cam, n, t]:.2f}" + (f" / {adk[cam, n, t]:.2f}" if (cam, n, t) in adk else "")
                     for t in args.taps]
            if gaps:
                best = max(args.taps, key=lambda t: lstsq[cam, n, t])
                cells += ([f"{adk[cam, n, shipped] - lstsq[cam, n, shipped]:+.2f}",
                           f"{adk[cam, n, shipped] - lstsq[cam, n, best]:+.2f} ({best})"] if (cam, n, shipped) in adk
                          else ["", ""])
            lines.append(f"| {cam} | {n} | " + " | ".join(cells) + " |")
    if gaps:
        qc = [adk[k] - lstsq[k] for k in adk if k[2] == shipped and k[0] != "RealSR"]
        best = [adk[c, n, shipped] - max(lstsq[c, n, t] for t in args.taps) for c, n, t in adk
                if t == shipped and c != "RealSR"]
        lines += ["", f"Quick calibrate as shipped (16-tap linear part) minus lstsq: mean {np.mean(qc):+.2f} dB at 16 "
                      f"taps (worst {min(qc):+.2f}), mean {np.mean(best):+.2f} at lstsq's best side (worst "
                      f"{min(best):+.2f})."]
    lines += ["", f"Seconds to fit and score per side (both cameras, {max(args.ns)} pairs each, nested): " +
              ", ".join(f"{t} taps {seconds[t]:.0f} s" for t in args.taps) + "."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_results(text, key="lstsq-taps", title="How wide the lstsq baseline must be (bench/lstsq_taps.py)")


if __name__ == "__main__":
    main()
