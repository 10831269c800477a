"""Fill the shipped model card with measured numbers: an `adkviewer eval --json` output and the ablation runs' cards.

    python tools/finalize_card.py CARD.json EVAL.json "EVAL COMMAND" ABLATION_CARD.json...
Every number copied here was produced by the evaluator (model/evaluate.py), never typed.
"""

import json
import sys
from pathlib import Path


def main() -> None:
    card_path, eval_path, eval_cmd, *ablations = sys.argv[1:]
    card = json.loads(Path(card_path).read_text())
    card["evaluation"] = {"command": eval_cmd, "hardware": "this project's 2-core CPU dev machine",
                          "convention": card.get("validation", {}).get("convention"),
                          **json.loads(Path(eval_path).read_text())}
    rows = []
    for p in ablations:
        c = json.loads(Path(p).read_text())
        v, t = c["validation"]["methods"], c["training"]
        rows.append({"run": Path(p).parent.name, "config": {k: c["config"][k] for k in
                     ("k", "width", "gen_width", "gen_blocks", "norm", "gain_bias", "colour_mix", "shared_kernel")},
                     "seed": t["settings"]["seed"], "iterations": t["iterations"], "batch": t["settings"]["batch"],
                     "patch": t["settings"]["patch"], "train_seconds": t["seconds"],
                     "val_psnr": round(v["adknet"]["psnr"], 3), "val_ssim": round(v["adknet"]["ssim"], 4),
                     "val_psnr_lstsq": round(v["lstsq"]["psnr"], 3), "command": t["command"]})
    card["ablations"] = rows
    Path(card_path).write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
