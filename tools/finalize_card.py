"""Fill the shipped model card with measured numbers: an `adkviewer eval --json` output and the ablation runs' cards.

    python tools/finalize_card.py CARD.json EVAL.json "EVAL COMMAND" ABLATION_CARD.json...
    python tools/finalize_card.py --append CARD.json ABLATION_CARD.json...   (add later runs, keep the rest)
    python tools/finalize_card.py --transfer CARD.json TRANSFER.json TRANSFER.md   (bench/transfer.py's rows and table)
Every number copied here was produced by the evaluator (model/evaluate.py), never typed.
"""

import json
import sys
from pathlib import Path


def ablation_row(path: str) -> dict:
    """One run's card reduced to the fields the shipped card lists per ablation run."""
    c = json.loads(Path(path).read_text())
    v, t = c["validation"]["methods"], c["training"]
    return {"run": Path(path).parent.name, "arch": c.get("arch", "adknet-v1"), "config": {k: c["config"][k] for k in
            ("k", "width", "gen_width", "gen_blocks", "norm", "gain_bias", "colour_mix", "shared_kernel")},
            "seed": t["settings"]["seed"], "iterations": t["iterations"], "batch": t["settings"]["batch"],
            "patch": t["settings"]["patch"], "train_seconds": t["seconds"],
            "val_psnr": round(v["adknet"]["psnr"], 3), "val_ssim": round(v["adknet"]["ssim"], 4),
            "val_psnr_lstsq": round(v["lstsq"]["psnr"], 3), "command": t["command"],
            **({"exported": t["exported"]} if "exported" in t else {}),
            **({"resumed_with": t["resumed_with"]} if t.get("resumed_with") else {})}


def main() -> None:
    args = sys.argv[1:]
    if args[0] == "--transfer":
        card_path, rows, table = args[1:4]
        card = json.loads(Path(card_path).read_text())
        card["transfer"] = {"benchmark": "bench/transfer.py",
                            "about": "this architecture trained on one RealSR camera and adapted to the other "
                                     "(leave one camera out), not these weights, which saw both cameras",
                            "rows": json.loads(Path(rows).read_text()),
                            "table": Path(table).read_text()}
    elif args[0] == "--append":
        card_path, ablations = args[1], args[2:]
        card = json.loads(Path(card_path).read_text())
        new = [ablation_row(p) for p in ablations]
        names = {r["run"] for r in new}
        card["ablations"] = [r for r in card.get("ablations", []) if r["run"] not in names] + new
    else:
        card_path, eval_path, eval_cmd, *ablations = args
        card = json.loads(Path(card_path).read_text())
        card["evaluation"] = {"command": eval_cmd, "hardware": "this project's 2-core CPU dev machine",
                              "convention": card.get("validation", {}).get("convention"),
                              **json.loads(Path(eval_path).read_text())}
        card["ablations"] = [ablation_row(p) for p in ablations]
    Path(card_path).write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
