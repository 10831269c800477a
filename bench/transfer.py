"""Transfer benchmark: ADK-Net on a camera it was not trained on (leave one camera out, on RealSR x4).

For each direction SRC -> DST: train a model on SRC_001-040 only (validated on SRC_041-050), then on DST with N of
its train pairs (DST_001..N): (a) that model as it is, (b) Quick calibrate on the N pairs, (c) `adkviewer train`
with its defaults on the N pairs; each scored on DST_041-050 against `lstsq` fitted on the same N pairs and
bilinear. Prints one table (dB, gap to lstsq, wall time of each step) and, with --write, puts it in
bench/RESULTS.md. Steps are cached in --work (pretraining resumes from its checkpoint), so a rerun continues.

  python bench/transfer.py --data ../shared/data/realsr_x4 --work ~/adk-transfer --write
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adk_model.baselines import apply_lstsq, classical_downscale, fit_lstsq  # noqa: E402
from adk_model.calibrate import calibrate  # noqa: E402
from adk_model.data import discover_pairs, load_pair  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.train import predict  # noqa: E402
from adk_model.weights import load_weights  # noqa: E402

SCALE = 4


def link_pairs(data: Path, names: list[str], dest: Path, split: dict | None = None) -> Path:
    """A pairs folder of symlinks (the research data is never copied), optionally with a split.json."""
    for role in ("HR", "LR"):
        (dest / role).mkdir(parents=True, exist_ok=True)
        for n in names:
            link = dest / role / f"{n}.png"
            if not link.exists():
                link.symlink_to((data / role / f"{n}.png").resolve())
    if split is not None:
        (dest / "split.json").write_text(json.dumps({"scale": SCALE, **split}))
    return dest


def run(cmd: list[str], log: Path) -> float:
    """Run an adkviewer command, its output into `log`; returns the wall time. Fails loudly."""
    t0 = time.perf_counter()
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if rc != 0:
        raise SystemExit(f"command failed ({rc}), see {log}: {' '.join(cmd)}")
    return time.perf_counter() - t0


def adk(*args: str) -> list[str]:
    return [sys.executable, "-m", "adkviewer", *args]


def pretrain(data: Path, work: Path, cam: str, args) -> tuple[Path, float]:
    """The source model: trained from scratch on one camera's train pairs (resumed if interrupted)."""
    names = [f"{cam}_{i:03d}" for i in range(1, 51)]
    pairs = link_pairs(data, names, work / f"pairs_{cam}",
                       {"train": names[:40], "val": names[40:]})
    out = work / f"source_{cam}"
    final = out / f"adknet_x{SCALE}_lite.safetensors"
    timing = out / "seconds.txt"
    if final.is_file():
        return final, float(timing.read_text()) if timing.is_file() else float("nan")
    ckpt = out / "checkpoint_last.pt"
    cmd = (adk("train", "--resume", str(ckpt)) if ckpt.is_file() else
           adk("train", "--init", "scratch", "--pairs", str(pairs), "--out", str(out), "--no-eval",
               "--iterations", str(args.pretrain_iterations), "--batch", "8", "--patch", "48",
               "--val-every", "200", "--ckpt-every", "100",
               *(["--time-budget", str(args.pretrain_budget)] if args.pretrain_budget else []),
               *(["--set", f"linear_taps={args.linear_taps}"] if args.linear_taps is not None else []),
               *shlex.split(args.pretrain_args)))
    out.mkdir(parents=True, exist_ok=True)
    secs = run(cmd, work / f"source_{cam}.log")
    timing.write_text(f"{secs:.1f}")
    return final, secs


def score(outputs: list[np.ndarray], val: list[tuple[np.ndarray, np.ndarray]]) -> float:
    return float(np.mean([psnr(o, lr) for o, (_, lr) in zip(outputs, val)]))


def direction(data: Path, work: Path, src: str, dst: str, args) -> list[dict]:
    infos = {p.name: p for p in discover_pairs(data, SCALE)}
    weights, pre_s = pretrain(data, work, src, args)
    val = [load_pair(infos[f"{dst}_{i:03d}"], SCALE) for i in range(41, 51)]
    src_train = [load_pair(infos[f"{src}_{i:03d}"], SCALE) for i in range(1, 41)]
    src_fit = fit_lstsq(src_train, SCALE, taps=16)
    wider = {t: fit_lstsq(src_train, SCALE, taps=t) for t in args.wider_lstsq}
    model = load_weights(weights).model
    shipped = score([predict(model, hr, "cpu") for hr, _ in val], val)
    rows = [{"src": src, "dst": dst, "n": 0, "bilinear": score([classical_downscale(hr, SCALE, "bilinear")
                                                               for hr, _ in val], val),
             "lstsq": score([apply_lstsq(src_fit, hr) for hr, _ in val], val), "as_is": shipped,
             "pretrain_s": pre_s,
             "lstsq_wider": {str(t): score([apply_lstsq(f, hr) for hr, _ in val], val) for t, f in wider.items()}}]
    print(json.dumps(rows[0]), file=sys.stderr, flush=True)
    for n in args.ns:
        names = [f"{dst}_{i:03d}" for i in range(1, n + 1)]
        train = [load_pair(infos[m], SCALE) for m in names]
        t0 = time.perf_counter()
        fit = fit_lstsq(train, SCALE, taps=16)
        lstsq_s = time.perf_counter() - t0
        wider = {t: fit_lstsq(train, SCALE, taps=t) for t in args.wider_lstsq}
        model = load_weights(weights).model
        t0 = time.perf_counter()
        calibrate(model, train)
        cal_s = time.perf_counter() - t0
        calibrated = score([predict(model, hr, "cpu") for hr, _ in val], val)
        colour_only = load_weights(weights).model  # ablation: the colour mix and bias alone (adknet-v1's calibrate)
        calibrate(colour_only, train, fit_linear=False)
        colour = score([predict(colour_only, hr, "cpu") for hr, _ in val], val)
        ft_dir = work / f"finetune_{src}_to_{dst}_{n}"
        ft_weights = ft_dir / f"adknet_x{SCALE}_lite.safetensors"
        timing = ft_dir / "seconds.txt"
        if not ft_weights.is_file():
            pairs = link_pairs(data, names, work / f"pairs_{dst}_{n}")
            ft_s = run(adk("train", "--pairs", str(pairs), "--init", str(weights), "--out", str(ft_dir), "--no-eval",
                           *args.finetune_args), work / f"finetune_{src}_to_{dst}_{n}.log")
            timing.write_text(f"{ft_s:.1f}")
        ft_s = float(timing.read_text())
        card = json.loads(ft_weights.with_suffix(".json").read_text())
        tuned = score([predict(load_weights(ft_weights).model, hr, "cpu") for hr, _ in val], val)
        # what exporting the best validated iteration would have given (the export itself, unless it is halfway)
        best_alone = tuned if card.get("training", {}).get("exported", {}).get("which") != "halfway" else score(
            [predict(load_weights(ft_dir / f"best_x{SCALE}.safetensors").model, hr, "cpu") for hr, _ in val], val)
        rows.append({"src": src, "dst": dst, "n": n,
                     "bilinear": rows[0]["bilinear"],
                     "lstsq": score([apply_lstsq(fit, hr) for hr, _ in val], val), "lstsq_s": lstsq_s,
                     "lstsq_wider": {str(t): score([apply_lstsq(f, hr) for hr, _ in val], val)
                                     for t, f in wider.items()},
                     "as_is": shipped, "calibrated": calibrated, "calibrate_s": cal_s, "colour_only": colour,
                     "finetuned": tuned, "finetuned_best": best_alone, "finetune_s": ft_s,
                     "exported": card.get("training", {}).get("exported", {}),
                     "iterations": card.get("training", {}).get("iterations")})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict], command: str) -> str:
    lines = [f"`{command}`", "",
             "Scored on DST_041-050 (RGB PSNR dB, full image). N = DST train pairs used; gap = minus lstsq fitted on "
             "the same N pairs (N = 0: lstsq fitted on SRC_001-040).", "",
             "| SRC -> DST | N | bilinear | lstsq | ADK-Net as is (gap) | colour-only calibrate (gap) | "
             "Quick calibrate (gap) | fine-tune defaults (gap) | exported | its best validated it alone (gap) | "
             "lstsq s | calibrate s | fine-tune s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gap = lambda v: f"{v:.2f} ({v - r['lstsq']:+.2f})"  # noqa: E731
        if r["n"] == 0:
            lines.append(f"| {r['src']} -> {r['dst']} | 0 | {r['bilinear']:.2f} | {r['lstsq']:.2f} | "
                         f"{gap(r['as_is'])} | | | | | | | | pretrain {r['pretrain_s']:.0f} s |")
            continue
        ex = r["exported"]
        which = (("halfway to " if ex.get("which") == "halfway" else "") + f"it {ex.get('iteration')} of "
                 f"{r['iterations']}") if ex else "?"
        alone = gap(r["finetuned_best"]) if "finetuned_best" in r else ""
        lines.append(f"| {r['src']} -> {r['dst']} | {r['n']} | {r['bilinear']:.2f} | {r['lstsq']:.2f} | "
                     f"{gap(r['as_is'])} | {gap(r['colour_only'])} | {gap(r['calibrated'])} | {gap(r['finetuned'])} | "
                     f"{which} | {alone} | "
                     f"{r['lstsq_s']:.1f} | {r['calibrate_s']:.1f} | {r['finetune_s']:.0f} |")
    by_n = [r for r in rows if r["n"]]
    if by_n:
        cal = [r["calibrated"] - r["lstsq"] for r in by_n if r["n"] >= 10]
        ft = [r["finetuned"] - r["lstsq"] for r in by_n]
        lines += ["", f"Quick calibrate, N >= 10: mean gap {np.mean(cal):+.2f} dB, worst {min(cal):+.2f}. "
                      f"Fine-tune: mean gap {np.mean(ft):+.2f} dB, worst {min(ft):+.2f}."]
        alone = [r["finetuned_best"] - r["lstsq"] for r in by_n if "finetuned_best" in r]
        if alone:
            lines[-1] += f" Its best validated iteration alone: mean gap {np.mean(alone):+.2f} dB, worst {min(alone):+.2f}."
        for t in by_n[0].get("lstsq_wider", {}):  # the same margins over a wider least-squares kernel
            wide = {(r["src"], r["n"]): r["lstsq_wider"][t] for r in rows}
            cal = [r["calibrated"] - wide[r["src"], r["n"]] for r in by_n if r["n"] >= 10]
            ft = [r["finetuned"] - wide[r["src"], r["n"]] for r in by_n]
            base = [r["as_is"] - wide[r["src"], 0] for r in rows if r["n"] == 0]
            per_row = ", ".join(f"{r['src']} -> {r['dst']} {r['n']}: {r['lstsq_wider'][t]:.2f}" for r in rows)
            lines += ["", f"Against lstsq with {t} taps in place of 16 ({per_row}): as is without pairs, mean gap "
                          f"{np.mean(base):+.2f} dB; Quick calibrate, N >= 10: mean {np.mean(cal):+.2f}, worst "
                          f"{min(cal):+.2f}; fine-tune: mean {np.mean(ft):+.2f}, worst {min(ft):+.2f}."]
    return "\n".join(lines)


def write_results(text: str, key: str = "transfer", title: str = "Transfer to a new camera (bench/transfer.py)") -> None:
    """Put `text` in bench/RESULTS.md between its `key` markers (replacing the last run's), or append it."""
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text() if path.is_file() else ""
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    block = f"{begin}\n## {title}\n\n{text}\n{end}"
    if begin in old:
        head, rest = old.split(begin, 1)
        new = head + block + rest.split(end, 1)[1]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the realsr_x4 folder (HR/, LR/)")
    p.add_argument("--work", required=True, help="folder for runs and links (cached between runs)")
    p.add_argument("--directions", nargs="+", default=["Canon:Nikon", "Nikon:Canon"])
    p.add_argument("--ns", nargs="+", type=int, default=[5, 10, 20, 40])
    p.add_argument("--pretrain-iterations", type=int, default=1500)
    p.add_argument("--pretrain-budget", type=float, default=0.0,
                   help="seconds per source model (default 0: none; a budget makes the source depend on the load)")
    p.add_argument("--linear-taps", type=int, default=None, help="override the preset's linear part (0: none)")
    p.add_argument("--finetune-args", nargs=argparse.REMAINDER, default=[],
                   help="extra `adkviewer train` arguments for (c) (default: none, the CLI's defaults)")
    p.add_argument("--pretrain-args", default="", metavar="ARGS",
                   help="extra `adkviewer train` arguments for the source models, in one string: "
                        "--pretrain-args='--target-blur 0.5' (give a new --work: cached sources are not retrained)")
    p.add_argument("--pretrain-only", action="store_true")
    p.add_argument("--wider-lstsq", nargs="*", type=int, default=[], metavar="TAPS",
                   help="also score the margins over lstsq fitted with these kernel sides (bench/lstsq_taps.py)")
    p.add_argument("--write", action="store_true", help="put the table in bench/RESULTS.md")
    args = p.parse_args()
    data, work = Path(args.data).resolve(), Path(args.work).expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in args.directions:
        src, dst = d.split(":")
        if args.pretrain_only:
            pretrain(data, work, src, args)
            continue
        rows += direction(data, work, src, dst, args)
    if rows:
        text = table(rows, "python bench/transfer.py " + " ".join(sys.argv[1:]))
        print(text)
        (work / "transfer.md").write_text(text + "\n")
        (work / "transfer.json").write_text(json.dumps(rows, indent=1) + "\n")  # for the model card
        if args.write:
            write_results(text)


if __name__ == "__main__":
    main()
