"""Mixed cameras: does a folder that mixes cameras gain from one Quick calibrate (linear part) per camera?

On a pairs folder with a split (RealSR x4: Canon and Nikon), with the pairs grouped by camera (name prefix or EXIF):
lstsq fitted once on the mixed train pairs and once per camera, ADK-Net as it is, Quick calibrate once on the mixed
train pairs and once per camera, and (with --finetune) `adkviewer train` defaults on the mixed folder, its result
then also calibrated per camera. Each is scored on every camera's val pairs. Prints one table and, with --write,
puts it in bench/RESULTS.md. The fine-tune is cached in --work.

  python bench/mixed_cameras.py --data ../shared/data/realsr_x4 --work ~/adk-mixed --finetune --write
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from adk_model.baselines import apply_lstsq, classical_downscale, fit_lstsq  # noqa: E402
from adk_model.calibrate import calibrate  # noqa: E402
from adk_model.cameras import CAMERA_BY, group_by_camera  # noqa: E402
from adk_model.data import discover_pairs, load_pair  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.splits import read_split  # noqa: E402
from adk_model.validation import predict  # noqa: E402
from adk_model.weights import default_weights, load_weights  # noqa: E402
from transfer import SCALE, adk, link_pairs, run, write_results  # noqa: E402


def scores(make, val: dict[str, list]) -> dict[str, float]:
    """PSNR per camera of `make(camera, hr)` on that camera's val pairs, and over all val pairs."""
    out, every = {}, []
    for cam, pairs in val.items():
        vals = [psnr(make(cam, hr), lr) for hr, lr in pairs]
        out[cam] = float(np.mean(vals))
        every += vals
    out["all"] = float(np.mean(every))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="pairs folder with a split.json (train and val lists)")
    p.add_argument("--work", required=True, help="folder for the fine-tune and links (cached between runs)")
    p.add_argument("--weights", default=None, help="the model to start from (default: the shipped one)")
    p.add_argument("--by", choices=CAMERA_BY, default="prefix", help="how a pair's camera is known")
    p.add_argument("--train-per-camera", type=int, default=0,
                   help="use only the first N train pairs of each camera (default 0: all)")
    p.add_argument("--finetune", action="store_true", help="also fine-tune on the mixed folder (minutes)")
    p.add_argument("--label", default="shipped", help="names this run's table in bench/RESULTS.md (one per start)")
    p.add_argument("--write", action="store_true", help="put the table in bench/RESULTS.md")
    args = p.parse_args()
    data, work = Path(args.data).resolve(), Path(args.work).expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    weights = Path(args.weights) if args.weights else default_weights(SCALE)
    split = read_split(data / "split.json")
    infos = {i.name: i for i in discover_pairs(data, SCALE)}
    train_g = group_by_camera([infos[n] for n in split.train], args.by)
    if args.train_per_camera:
        train_g = {c: v[: args.train_per_camera] for c, v in train_g.items()}
    val_g = group_by_camera([infos[n] for n in split.val], args.by)
    train = {c: [load_pair(i, SCALE) for i in v] for c, v in train_g.items()}
    val = {c: [load_pair(i, SCALE) for i in v] for c, v in val_g.items() if c in train}
    mixed = [pair for pairs in train.values() for pair in pairs]
    rows: list[tuple[str, dict[str, float], float]] = []

    def row(label: str, make, seconds: float = float("nan")) -> None:
        rows.append((label, scores(make, val), seconds))
        print(json.dumps({"method": label, **rows[-1][1], "seconds": seconds}), file=sys.stderr, flush=True)

    row("bilinear", lambda c, hr: classical_downscale(hr, SCALE, "bilinear"))
    t0 = time.perf_counter()
    one_fit = fit_lstsq(mixed, SCALE, taps=16)
    row("lstsq, one fit on the mixed pairs", lambda c, hr: apply_lstsq(one_fit, hr), time.perf_counter() - t0)
    t0 = time.perf_counter()
    fits = {c: fit_lstsq(pairs, SCALE, taps=16) for c, pairs in train.items()}
    row("lstsq, one fit per camera", lambda c, hr: apply_lstsq(fits[c], hr), time.perf_counter() - t0)
    start = load_weights(weights).model
    row("ADK-Net as is", lambda c, hr: predict(start, hr, "cpu"))

    def calibrated_rows(base, label: str) -> None:
        one = copy.deepcopy(base)
        t0 = time.perf_counter()
        calibrate(one, mixed)
        row(f"{label}, Quick calibrate once on the mixed pairs", lambda c, hr: predict(one, hr, "cpu"),
            time.perf_counter() - t0)
        per = {c: copy.deepcopy(base) for c in train}
        t0 = time.perf_counter()
        for c, pairs in train.items():
            calibrate(per[c], pairs)
        row(f"{label}, Quick calibrate per camera", lambda c, hr: predict(per[c], hr, "cpu"),
            time.perf_counter() - t0)

    calibrated_rows(start, "ADK-Net")
    if args.finetune:
        names = [i.name for v in train_g.values() for i in v]
        ft_dir = work / "finetune_mixed"
        ft_weights = ft_dir / f"adknet_x{SCALE}_lite.safetensors"
        timing = ft_dir / "seconds.txt"
        if not ft_weights.is_file():
            pairs_dir = link_pairs(data, names, work / "pairs_mixed")
            secs = run(adk("train", "--pairs", str(pairs_dir), "--init", str(weights), "--out", str(ft_dir),
                           "--no-eval"), work / "finetune_mixed.log")
            timing.write_text(f"{secs:.1f}")
        tuned = load_weights(ft_weights).model
        row("fine-tune defaults on the mixed folder", lambda c, hr: predict(tuned, hr, "cpu"),
            float(timing.read_text()))
        calibrated_rows(tuned, "that fine-tune")
    cams = list(val)
    lines = [f"`python bench/mixed_cameras.py {' '.join(sys.argv[1:])}`", "",
             f"Start: `{weights.name}`. Train pairs per camera: "
             + ", ".join(f"{c} {len(train[c])}" for c in cams) + "; val pairs: "
             + ", ".join(f"{c} {len(val[c])}" for c in cams)
             + ". RGB PSNR dB, full image; gap = minus lstsq fitted once on the mixed pairs.", "",
             "| method | " + " | ".join(f"{c} val" for c in cams) + " | all val (gap) | seconds |",
             "|---|" + "---|" * (len(cams) + 2)]
    base = rows[1][1]["all"]
    for label, s, secs in rows:
        lines.append(f"| {label} | " + " | ".join(f"{s[c]:.2f}" for c in cams)
                     + f" | {s['all']:.2f} ({s['all'] - base:+.2f}) | {'' if np.isnan(secs) else f'{secs:.1f}'} |")
    text = "\n".join(lines)
    print(text)
    (work / "mixed_cameras.md").write_text(text + "\n")
    if args.write:
        write_results(text, f"mixed-cameras-{args.label}", f"Mixed cameras, from the {args.label} model "
                      "(bench/mixed_cameras.py)")

if __name__ == "__main__":
    main()
