"""Quick calibrate's regressors on a new camera: would the fit gain from more of ADK-Net's adaptive part?

Quick calibrate fits [global linear taps, the adaptive output before the colour mix (3), 1] -> LR by least squares,
its pull towards the model chosen by cross-validation over whole pairs (`adk_model.calibrate.solve_toward`). The
variants add regressors the adaptive part could also offer, each with the model's own value as the prior:
  split  - the kernel sum, the gain term and the bias term apart (9 in place of 3): the fit may weigh ADK-Net's
           learned per-pixel tone (gain, bias) apart from its kernels, which adknet.md suspects learn one camera.
  blur1  - beside the adaptive output, the same per-pixel kernels (with gain and bias) applied to the HR blurred by
           a Gaussian of sigma 1 HR pixel: a global knob on the adaptive kernels' width, for a lens of other blur.
Uses bench/transfer.py's source models (WORK/source_SRC/); fits on DST_001..N, scores on DST_041-050 (RGB PSNR).

  python bench/calibration_features.py --data ../shared/data/realsr_x4 --work ~/adk-transfer --write
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from adk_model.adknet import ADKNet  # noqa: E402
from adk_model.baselines import accumulate_normal_equations  # noqa: E402
from adk_model.calibrate import FOLDS, MAX_ROWS, _Fold, _host, solve_toward  # noqa: E402
from adk_model.data import discover_pairs, gaussian_blur, load_pair  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.resample import patch_view  # noqa: E402
from adk_model.validation import to_tensor  # noqa: E402
from adk_model.weights import load_weights  # noqa: E402
from transfer import SCALE, write_results  # noqa: E402

VARIANTS = ("premix", "split", "blur1")


@torch.no_grad()
def regressors(model: ADKNet, hr: np.ndarray) -> dict[str, np.ndarray]:
    """Each variant's per-pixel adaptive regressors (h, w, e), float64, from one forward pass with its kernels."""
    o = model(to_tensor(hr), return_terms=True)
    hwc = lambda t: t[0].permute(1, 2, 0).double().numpy()  # noqa: E731
    gain, bias, premix = hwc(o.gain), hwc(o.bias), hwc(o.premix)
    ksum = (premix - bias) / (1 + gain)
    kernels = o.kernels[0].permute(0, 3, 4, 1, 2)  # (3, h, w, k, k)
    blurred = patch_view(gaussian_blur(to_tensor(hr)[0], 1.0)[None], model.cfg.scale, model.cfg.k)[0]
    kblur = (blurred * kernels).sum(dim=(-1, -2)).permute(1, 2, 0).double().numpy()
    return {"premix": premix, "split": np.concatenate([ksum, gain * ksum, bias], axis=2),
            "blur1": np.concatenate([premix, (1 + gain) * kblur + bias], axis=2)}


def prior(model: ADKNet, variant: str) -> np.ndarray:
    """The model as it is in each variant's layout [linear taps, regressor weights, bias]: its current output."""
    mix = _host(model.mix).T
    weights = {"premix": [mix], "split": [mix, mix, mix], "blur1": [mix, 0 * mix]}[variant]
    return np.concatenate([_host(model.linear.weight).reshape(3, -1).T, *weights, _host(model.mix_bias)[None]])


def fit(model: ADKNet, pairs: list[tuple[np.ndarray, np.ndarray, dict]], variant: str,
        start: np.ndarray) -> tuple[np.ndarray, float]:
    """Quick calibrate's cross-validated fit with this variant's regressors, pulled towards `start` (the model as
    it was, in that layout): (solution, chosen pull)."""
    s, taps = model.cfg.scale, model.cfg.linear_taps
    extra = pairs[0][2][variant].shape[2]
    folds = [_Fold(3 * taps * taps + extra + 1) for _ in range(min(FOLDS, len(pairs)))]
    total = sum((hr.shape[0] // s) * (hr.shape[1] // s) for hr, _, _ in pairs)
    stride = max(1, math.ceil(total / MAX_ROWS))
    for i, (hr, lr, reg) in enumerate(pairs):
        f = folds[i % len(folds)]
        f.rows += accumulate_normal_equations(hr, np.asarray(lr, np.float64), s, taps, f.xtx, f.xty,
                                              extra=reg[variant], stride=stride, yty=f.yty)
    choice = solve_toward(folds, start)
    return choice.w, choice.weight


@torch.no_grad()
def score(model: ADKNet, w: np.ndarray, val: list[tuple[np.ndarray, np.ndarray, dict]], variant: str) -> float:
    """Mean RGB PSNR of the fitted output, clipped to [0, 1], on the scoring pairs."""
    taps = model.cfg.linear_taps
    n_lin = 3 * taps * taps
    model.linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w[:n_lin].T.reshape(3, 3, taps, taps))))
    out = []
    for hr, lr, reg in val:
        linear = model.linear_part(to_tensor(hr))[0].permute(1, 2, 0).double().numpy()
        y = linear + reg[variant] @ w[n_lin:-1] + w[-1]
        out.append(psnr(np.clip(y, 0, 1).astype(np.float32), lr))
    return float(np.mean(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the realsr_x4 folder (HR/, LR/)")
    p.add_argument("--work", required=True, help="bench/transfer.py's --work (its source models)")
    p.add_argument("--directions", nargs="+", default=["Canon:Nikon", "Nikon:Canon"])
    p.add_argument("--ns", nargs="+", type=int, default=[10, 20, 40])
    p.add_argument("--write", action="store_true", help="put the table in bench/RESULTS.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    data, work = Path(args.data).resolve(), Path(args.work).expanduser().resolve()
    infos = {q.name: q for q in discover_pairs(data, SCALE)}
    lines = ["| SRC -> DST | N | as is | " + " | ".join(f"{v} (pull)" for v in VARIANTS) + " | best − premix |",
             "|---" * (len(VARIANTS) + 4) + "|"]
    deltas: list[float] = []
    t0 = time.perf_counter()
    for d in args.directions:
        src, dst = d.split(":")
        model = load_weights(work / f"source_{src}" / f"adknet_x{SCALE}_lite.safetensors").model.eval()
        starts = {v: prior(model, v) for v in VARIANTS}  # before any fit is scored (that writes the linear part)
        cache: dict[str, tuple] = {}

        def pair(name: str) -> tuple:
            if name not in cache:
                hr, lr = load_pair(infos[name], SCALE)
                cache[name] = (hr, lr, regressors(model, hr))
            return cache[name]

        val = [pair(f"{dst}_{i:03d}") for i in range(41, 51)]
        as_is = score(model, starts["premix"], val, "premix")
        for n in args.ns:
            train = [pair(f"{dst}_{i:03d}") for i in range(1, n + 1)]
            scores = {}
            for v in VARIANTS:
                w, pull = fit(model, train, v, starts[v])
                scores[v] = (score(model, w, val, v), pull)
            best = max(scores[v][0] for v in VARIANTS[1:]) - scores["premix"][0]
            deltas.append(best)
            cells = " | ".join(f"{s:.2f} ({'keep' if math.isinf(pw) else f'{pw:g}'})" for s, pw in scores.values())
            lines.append(f"| {src} -> {dst} | {n} | {as_is:.2f} | {cells} | {best:+.2f} |")
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"Best variant minus premix (today's Quick calibrate): mean {np.mean(deltas):+.3f} dB, "
                 f"worst {min(deltas):+.3f}, best {max(deltas):+.3f}; {time.perf_counter() - t0:.0f} s in all.")
    text = "\n".join(lines)
    print("\n" + text)
    if args.write:
        write_results(f"`{' '.join(['python', 'bench/calibration_features.py', *sys.argv[1:]])}`\n\n{text}",
                      "calibration-features", "Quick calibrate's regressors on a new camera "
                      "(bench/calibration_features.py)")


if __name__ == "__main__":
    main()
