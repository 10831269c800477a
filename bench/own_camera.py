"""Your own camera, measured as issue 16 measured five: ADK-Net against lstsq on pairs of one camera.

Splits the pairs in --pairs (one camera; HR/ + LR/, or NAME_HR beside NAME_LR4) into a fit part and a test part (a
seeded third; `adk_model.splits.seeded_split`). On the fit part, as a user would through the CLI and its defaults:
`adkviewer fit-lstsq`'s least-squares kernel, `adkviewer train --calibrate-only` (Quick calibrate) and `adkviewer
train` (fine-tune). Scores bilinear, lstsq, the model as it is, calibrated and fine-tuned on the test part, prints
one table (dB, gap to lstsq, seconds) and writes WORK/own_camera.json. The research data is never copied: the fit
part is a folder of links in --work.

  python bench/own_camera.py --pairs ~/pairs/my_camera --work ~/adk-own
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from adk_model.baselines import apply_lstsq, classical_downscale, fit_lstsq  # noqa: E402
from adk_model.data import PairInfo, discover_pairs, load_pair  # noqa: E402
from adk_model.splits import seeded_split  # noqa: E402
from adk_model.train import predict  # noqa: E402
from adk_model.weights import default_weights, load_weights  # noqa: E402
from transfer import adk, run, score as transfer_score  # noqa: E402

COLUMNS = ("bilinear", "lstsq", "as_is", "calibrated", "finetuned")
HEADS = ("bilinear", "lstsq fitted on the fit pairs", "ADK-Net as is", "after Quick calibrate",
         "after `adkviewer train`")


def link_fit_pairs(infos: list[PairInfo], dest: Path) -> Path:
    """A pairs folder of links to `infos`' files, in their own layout (HR/ + LR/, or side by side)."""
    for p in infos:
        for src in (Path(p.hr_path), Path(p.lr_path)):
            sub = src.parent.name if src.parent.name in ("HR", "LR") else ""
            (dest / sub).mkdir(parents=True, exist_ok=True)
            link = dest / sub / src.name
            if not link.is_symlink():
                link.symlink_to(src.resolve())
    return dest


def measure(args: argparse.Namespace) -> dict:
    work = Path(args.work).expanduser().resolve()
    found = discover_pairs(args.pairs, args.scale)
    infos = [p for p in found if p.ok]
    if len(infos) < 3:
        raise SystemExit(f"{args.pairs}: {len(infos)} usable pairs; a fit part and a test part need at least 3")
    split = seeded_split([p.name for p in infos], args.test_fraction, args.seed)
    by_name = {p.name: p for p in infos}
    fit_infos, test_infos = [by_name[n] for n in split.train], [by_name[n] for n in split.val]
    for p in (p for p in found if not p.ok):
        print(f"skipping {p.name}: {p.problem}", file=sys.stderr)
    if (Path(args.pairs) / "split.json").is_file():
        print("the folder's split.json is not used: this measurement draws its own fit and test parts", file=sys.stderr)
    print(f"fitting on {len(fit_infos)} pairs, scoring on {len(test_infos)} (a seeded {args.test_fraction:.0%}, "
          f"seed {args.seed}); the runs' logs go to {work}", file=sys.stderr, flush=True)
    fit_dir = link_fit_pairs(fit_infos, work / "fit")
    test = [load_pair(p, args.scale) for p in test_infos]
    weights = Path(args.weights) if args.weights else default_weights(args.scale)

    def score(outputs) -> float:
        return transfer_score(outputs, test)

    def adknet(path: Path) -> float:
        model = load_weights(path).model
        return score([predict(model, hr, "cpu") for hr, _ in test])

    row = {"pairs": str(Path(args.pairs).resolve()), "weights": str(weights), "fit_pairs": split.train,
           "test_pairs": split.val, "seed": args.seed}
    row["bilinear"] = score([classical_downscale(hr, args.scale, "bilinear") for hr, _ in test])
    t0 = time.perf_counter()
    fit = fit_lstsq((load_pair(p, args.scale) for p in fit_infos), args.scale, taps=4 * args.scale)
    row["lstsq_s"] = time.perf_counter() - t0
    row["lstsq"] = score([apply_lstsq(fit, hr) for hr, _ in test])
    if args.wide_taps:  # a wider kernel fits RealSR's cameras better (bench/lstsq_taps.py): the stronger baseline
        wide = fit_lstsq((load_pair(p, args.scale) for p in fit_infos), args.scale, taps=args.wide_taps)
        row["lstsq_wide"] = {"taps": args.wide_taps, "psnr": score([apply_lstsq(wide, hr) for hr, _ in test])}
    row["as_is"] = adknet(weights)
    init = ["--init", str(weights)]
    cal = work / "calibrate"
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    say(f"Quick calibrate (adkviewer train --calibrate-only), log: {work / 'calibrate.log'}")
    row["calibrate_s"] = run(adk("train", "--pairs", str(fit_dir), "--calibrate-only", "--out", str(cal), *init),
                             work / "calibrate.log")
    row["calibrated"] = adknet(cal / f"adknet_x{args.scale}_lite.safetensors")
    row["calibration_adopted"] = json.loads((cal / f"adknet_x{args.scale}_lite.json").read_text()).get(
        "calibration", {}).get("adopted")
    say(f"fine-tune (adkviewer train{' ' + ' '.join(args.finetune_args) if args.finetune_args else ', its defaults'}"
        f"), log: {work / 'finetune.log'}")
    ft = work / "finetune"
    row["finetune_s"] = run(adk("train", "--pairs", str(fit_dir), "--out", str(ft), "--no-eval", *init,
                                *args.finetune_args), work / "finetune.log")
    exported = ft / f"adknet_x{args.scale}_lite.safetensors"
    row["finetuned"] = adknet(exported)
    row["exported"] = json.loads(exported.with_suffix(".json").read_text()).get("training", {}).get("exported", {})
    row["finetune_args"] = list(args.finetune_args)
    return row


def table(row: dict, label: str) -> str:
    gap = lambda v: f"{row[v]:.2f}" if v in ("bilinear", "lstsq") else f"{row[v]:.2f} ({row[v] - row['lstsq']:+.2f})"  # noqa: E731
    cells = {c: gap(c) for c in COLUMNS}
    if row.get("calibration_adopted") is False:
        cells["calibrated"] += " (kept as is)"
    ex = row["exported"]
    which = ("halfway to " if ex.get("which") == "halfway" else "") + f"it {ex.get('iteration')}" if ex else "?"
    if ex.get("iteration") == 0:
        which = "its start (no iteration beat it on validation)"
    heads = [*HEADS[:-1], HEADS[-1] + (" " + " ".join(row["finetune_args"]) if row.get("finetune_args") else
                                       " defaults")]
    return "\n".join([
        f"| camera (fit / test pairs) | {' | '.join(heads)} | fine-tune exported | lstsq s | calibrate s | "
        f"fine-tune s |",
        "|---|" + "---|" * (len(HEADS) + 4),
        f"| {label} ({len(row['fit_pairs'])} / {len(row['test_pairs'])}) | {' | '.join(cells[c] for c in COLUMNS)} | "
        f"{which} | {row['lstsq_s']:.1f} | {row['calibrate_s']:.1f} | {row['finetune_s']:.0f} |",
        "", "RGB PSNR dB on the test pairs, full image; in brackets the gap to lstsq (the global least-squares kernel "
        "of `adkviewer fit-lstsq`) fitted on the fit pairs. Seconds of wall time; the fine-tune's include the Quick "
        "calibrate it starts with.", *_wide_line(row)])


def _wide_line(row: dict) -> list[str]:
    """The same margins over lstsq with a wider kernel (--wide-taps), which may be the stronger linear baseline."""
    wide = row.get("lstsq_wide")
    if not wide:
        return []
    v = wide["psnr"]
    gaps = ", ".join(f"{name} {row[c] - v:+.2f}" for c, name in
                     (("as_is", "as is"), ("calibrated", "calibrated"), ("finetuned", "fine-tuned")))
    return ["", f"Against lstsq with {wide['taps']} taps ({v:.2f} dB; `fit-lstsq --taps {wide['taps']}`): {gaps} dB."]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", required=True, help="one camera's HR/LR pairs")
    p.add_argument("--work", required=True, help="a new folder for links to the fit pairs, the two runs, their logs and own_camera.json")
    p.add_argument("--scale", type=int, default=4, help="HR side / LR side of the pairs (default 4)")
    p.add_argument("--test-fraction", type=float, default=1 / 3, help="the seeded part scored, not fitted (a third)")
    p.add_argument("--seed", type=int, default=0, help="of the fit/test split")
    p.add_argument("--weights", default="", help="the model to start from (default: the shipped weights)")
    p.add_argument("--label", default="", help="the camera's name in the table (default: the folder's)")
    p.add_argument("--wide-taps", type=int, default=None,
                   help="also the margins over lstsq with this kernel side (default 5*scale; 0: not measured)")
    p.add_argument("--finetune-args", nargs=argparse.REMAINDER, default=[],
                   help="more `adkviewer train` options for the fine-tune (after everything else)")
    args = p.parse_args(argv)
    if args.wide_taps is None:
        args.wide_taps = 5 * args.scale
    work = Path(args.work).expanduser()
    if (work / "calibrate").exists() or (work / "finetune").exists():
        raise SystemExit(f"{work} holds an earlier measurement (calibrate/ or finetune/): give another --work")
    row = measure(args)
    (work / "own_camera.json").write_text(json.dumps(row, indent=1))
    print(table(row, args.label or Path(args.pairs).resolve().name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
