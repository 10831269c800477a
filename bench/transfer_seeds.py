"""How much of bench/transfer.py's verdict is the seed: its gaps to lstsq from several runs side by side.

Reads WORK/transfer.json of each --work given (runs of bench/transfer.py on the same source models that differ only
in `--finetune-args --seed S`, which also redraws the seeded 20% the fine-tune validates on) and prints, per
direction and N, the fine-tune's gap to lstsq in each run, their mean and spread, then the means the issue's targets
are stated in.

  python bench/transfer_seeds.py --work ~/adk-transfer ~/adk-transfer-seed1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load(work: Path) -> dict[tuple[str, str, int], dict]:
    rows = json.loads((work / "transfer.json").read_text())
    return {(r["src"], r["dst"], r["n"]): r for r in rows if r["n"]}


def table(runs: list[dict[tuple[str, str, int], dict]], labels: list[str]) -> str:
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    lines = ["| SRC -> DST | N | Quick calibrate (gap) | " + " | ".join(f"fine-tune, {lab}" for lab in labels)
             + " | fine-tune mean | spread |", "|---|---|---|" + "---|" * (len(labels) + 2)]
    means, cal = [], []
    for k in keys:
        gaps = [r[k]["finetuned"] - r[k]["lstsq"] for r in runs]
        c = runs[0][k]["calibrated"] - runs[0][k]["lstsq"]  # closed form: the same in every run
        means.append(float(np.mean(gaps)))
        cal.append(c)
        lines.append(f"| {k[0]} -> {k[1]} | {k[2]} | {c:+.2f} | " + " | ".join(f"{g:+.2f}" for g in gaps)
                     + f" | {np.mean(gaps):+.2f} | {max(gaps) - min(gaps):.2f} |")
    per_run = [float(np.mean([r[k]["finetuned"] - r[k]["lstsq"] for k in keys])) for r in runs]
    worst = [min(r[k]["finetuned"] - r[k]["lstsq"] for k in keys) for r in runs]
    lines += ["", "Fine-tune mean gap per run: " + ", ".join(f"{lab} {m:+.3f}" for lab, m in zip(labels, per_run))
              + f"; over the runs {np.mean(per_run):+.3f} dB. Worst per run: "
              + ", ".join(f"{lab} {w:+.2f}" for lab, w in zip(labels, worst))
              + f". Quick calibrate mean gap {np.mean(cal):+.3f} dB over the same rows."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", nargs="+", required=True, help="bench/transfer.py --work folders, one per seed")
    p.add_argument("--labels", nargs="+", default=None, help="a name per --work (default: seed 0, seed 1, ...)")
    args = p.parse_args(argv)
    labels = args.labels or [f"seed {i}" for i in range(len(args.work))]
    print(table([load(Path(w).expanduser()) for w in args.work], labels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
