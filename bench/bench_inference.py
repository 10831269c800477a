"""Benchmark ADK-Net inference: seconds, HR MP/s and peak memory per image size, FLOP efficiency, click latency.

Each size runs in its own process so that peak RSS is that size's own. Prints markdown tables.
    python bench/bench_inference.py --sizes 1 4 12 48 --device cpu [--weights W] [--budget-mb 512]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_hr(mp: float, scale: int) -> "np.ndarray":
    """A synthetic uint8 photo-like image (gradients plus noise), size a multiple of the scale."""
    import numpy as np

    side = int((mp * 1e6 / 1.5) ** 0.5) // scale * scale
    h, w = side, int(side * 1.5) // scale * scale
    rng = np.random.default_rng(0)
    img = np.empty((h, w, 3), np.uint8)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    for r0 in range(0, h, 256):  # in bands, so the generator itself adds no image-sized temporaries to peak RSS
        r1 = min(h, r0 + 256)
        for c in range(3):
            img[r0:r1, :, c] = (y[r0:r1] * (0.5 + 0.2 * c)).astype(np.uint8)
            img[r0:r1, :, c] += rng.integers(0, 40, size=(r1 - r0, w), dtype=np.uint8)
    return img


def load_model(weights: str | None, scale: int):
    from adk_model.adknet import ADKNet, preset
    from adk_model.weights import default_weights, load_weights

    path = weights or default_weights(scale)
    if path:
        return load_weights(path).model, Path(path).name
    return ADKNet(preset("lite", scale=scale)), "random lite init (no weights shipped)"


def child(args) -> None:
    import numpy as np
    import torch

    from adk_model.devices import amp_enabled, resolve_device
    from adk_model.inference import AdkRunner

    dev = resolve_device(args.device)
    model, _ = load_model(args.weights, args.scale)
    amp = amp_enabled("bf16" if args.amp else "off", dev)  # CUDA only: one sentence elsewhere
    runner = AdkRunner(model, dev, args.budget_mb * 2**20 if args.budget_mb else None, amp=amp)
    warm = make_hr(0.05, args.scale)
    runner.downscale(warm)
    hr = make_hr(args.child, args.scale)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    out = runner.downscale(hr)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t
    res = {
        "mp": hr.shape[0] * hr.shape[1] / 1e6, "seconds": secs, "tile": runner.tile_size(),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "image_mb": (hr.nbytes + out.nbytes) / 2**20,  # the photo and its result, which any caller holds
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None,
        "finite": bool(np.isfinite(out).all()),
    }
    if args.click:
        lat = []
        rng = np.random.default_rng(1)
        h, w = out.shape[:2]
        for n in range(25):
            i, j = int(rng.integers(0, h)), int(rng.integers(0, w))
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            runner.neighbourhood(hr, i, j, radius=0)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if n >= 5:
                lat.append(time.perf_counter() - t)
        res["click_ms_median"] = 1000 * float(np.median(lat))
        res["click_ms_max"] = 1000 * float(np.max(lat))
    print(json.dumps(res))


def efficiency(args) -> dict:
    """Achieved FLOP/s of ADK-Net vs a same-run reference conv (3x3, the lite trunk's width) on the same device."""
    import torch

    from adk_model.adknet import count_flops_per_lr_pixel
    from adk_model.devices import amp_enabled, resolve_device
    from adk_model.inference import AdkRunner

    dev = resolve_device(args.device)
    model, _ = load_model(args.weights, args.scale)
    cfg = model.cfg
    amp = amp_enabled("bf16" if args.amp else "off", dev)  # CUDA only: one sentence elsewhere
    runner = AdkRunner(model, dev, args.budget_mb * 2**20 if args.budget_mb else None, amp=amp)
    hr = make_hr(args.eff_mp, args.scale)  # a real photo's size: full tiles, and a GPU filled
    runner.downscale(hr)

    def timed(fn, reps):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t) / reps

    side = runner.tile_size()
    conv = torch.nn.Conv2d(cfg.width, cfg.width, 3, padding=1).to(dev).eval()
    x = torch.randn(1, cfg.width, side, side, device=dev)
    lr_px = hr.shape[0] * hr.shape[1] / cfg.scale**2
    model_flops = count_flops_per_lr_pixel(cfg) * lr_px
    ref_flops = 2 * cfg.width * cfg.width * 9 * side * side
    # Alternate model and reference within each round, so a shared machine's load changes hit both alike;
    # the median round is reported, with the spread.
    rounds = []
    with torch.inference_mode():
        conv(x)
        for _ in range(args.rounds):
            secs = timed(lambda: runner.downscale(hr), 1)
            ref_secs = timed(lambda: conv(x), max(3, int(secs / max(timed(lambda: conv(x), 1), 1e-6) / 2)))
            rounds.append((model_flops / secs, ref_flops / ref_secs))
    ratios = sorted(a / r for a, r in rounds)
    achieved, ref = sorted(rounds, key=lambda ar: ar[0] / ar[1])[len(rounds) // 2]
    return {"flops_per_hr_px": count_flops_per_lr_pixel(cfg) / cfg.scale**2, "achieved": achieved,
            "reference": ref, "ratio": achieved / ref, "ratios": ratios,
            "ref_shape": f"conv3x3 {cfg.width}->{cfg.width} on {side}x{side}"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=float, default=[1, 4, 12, 48])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--weights")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--budget-mb", type=int, default=None)
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on CUDA")
    ap.add_argument("--child", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--click", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-efficiency", action="store_true")
    ap.add_argument("--eff-mp", type=float, default=12.0, help="image size (MP) for the efficiency ratio")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the table shows the median (range)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating model/reference rounds for the efficiency ratio")
    ap.add_argument("--system-malloc", action="store_true",
                    help="leave glibc's allocator as it is (the programs call adk_model.allocator.keep_freed_memory)")
    args = ap.parse_args()
    if not args.system_malloc:
        from adk_model.allocator import keep_freed_memory

        keep_freed_memory()
    if args.child:
        child(args)
        return
    import torch

    _, wname = load_model(args.weights, args.scale)
    print(f"# ADK-Net inference benchmark, {time.strftime('%Y-%m-%d %H:%M')}, device {args.device}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"weights: {wname}, amp: {args.amp}, "
          f"allocator: {'glibc default' if args.system_malloc else 'keeps freed memory'}")
    print(f"# command: python {' '.join(sys.argv)}\n")
    print("| HR MP | seconds | HR MP/s | tile (LR px) | peak RSS MB | less in/out arrays MB | CUDA peak MB "
          "| click ms (median/max) |")
    print("|---|---|---|---|---|---|---|---|")
    runs: dict[float, list[dict]] = {mp: [] for mp in args.sizes}
    for _ in range(args.repeat):  # sizes round-robin, so a change of machine load hits every size alike
        for mp in args.sizes:
            cmd = [sys.executable, __file__, "--child", str(mp), "--device", args.device, "--scale", str(args.scale)]
            cmd += ["--weights", args.weights] if args.weights else []
            cmd += ["--budget-mb", str(args.budget_mb)] if args.budget_mb else []
            cmd += ["--amp"] if args.amp else []
            cmd += ["--system-malloc"] if args.system_malloc else []
            cmd += ["--click"] if mp >= 12 and mp < 13 else []
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                print(f"| {mp} | failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode} |")
                continue
            runs[mp].append(json.loads(p.stdout.strip().splitlines()[-1]))

    def median(rs: list[dict], key: str) -> float:
        return sorted(r[key] for r in rs)[len(rs) // 2]

    def spread(rs: list[dict], key: str, fmt: str) -> str:
        vals = sorted(r[key] for r in rs)
        return f"{median(rs, key):{fmt}}" + (f" ({vals[0]:{fmt}}-{vals[-1]:{fmt}})" if len(vals) > 1 else "")

    for mp, rs in runs.items():
        if not rs:
            continue
        r = rs[0]
        click = (f"{median(rs, 'click_ms_median'):.1f} / {max(x['click_ms_max'] for x in rs):.1f}"
                 if "click_ms_median" in r else "")
        cuda = f"{median(rs, 'cuda_peak_mb'):.0f}" if r["cuda_peak_mb"] is not None else ""
        print(f"| {r['mp']:.1f} | {spread(rs, 'seconds', '.2f')} | {r['mp'] / median(rs, 'seconds'):.2f} | "
              f"{r['tile']} | {spread(rs, 'rss_mb', '.0f')} | {median(rs, 'rss_mb') - r['image_mb']:.0f} | {cuda} "
              f"| {click} |", flush=True)
    if runs.get(12) and runs.get(48) and len(runs[12]) == len(runs[48]):
        t = sorted(b["seconds"] / a["seconds"] for a, b in zip(runs[12], runs[48]))
        m = sorted(b["rss_mb"] / a["rss_mb"] for a, b in zip(runs[12], runs[48]))
        ws = sorted((b["rss_mb"] - b["image_mb"]) / (a["rss_mb"] - a["image_mb"]) for a, b in zip(runs[12], runs[48]))
        print(f"\n48 MP / 12 MP (per repeat, median first): time x{t[len(t) // 2]:.2f} "
              f"[{' '.join(f'{v:.2f}' for v in t)}] (pixels x4.00), "
              f"peak RSS x{m[len(m) // 2]:.2f} [{' '.join(f'{v:.2f}' for v in m)}], "
              f"less the in/out arrays x{ws[len(ws) // 2]:.2f} [{' '.join(f'{v:.2f}' for v in ws)}]")
    if not args.no_efficiency:
        e = efficiency(args)
        print(f"\nFLOPs per HR pixel: {e['flops_per_hr_px'] / 1e3:.1f} k. Achieved {e['achieved'] / 1e9:.1f} GFLOP/s; "
              f"reference {e['ref_shape']}: {e['reference'] / 1e9:.1f} GFLOP/s; ratio {e['ratio']:.2f} "
              f"(median of {len(e['ratios'])} alternating rounds; all: {' '.join(f'{r:.2f}' for r in e['ratios'])})")


if __name__ == "__main__":
    main()
