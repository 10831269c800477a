"""bench/own_camera.py: issue 16's per-camera table for a camera the team does not have, through the CLI's defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core_helpers import make_pairs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import own_camera  # noqa: E402


def test_own_camera_fits_on_two_thirds_scores_the_rest_and_prints_the_issue_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    pairs = make_pairs(tmp_path / "cam", n_train=6, n_val=0, lr_size=(24, 24))
    (pairs / "split.json").unlink()  # a user's folder as it comes
    work = tmp_path / "work"
    code = own_camera.main(["--pairs", str(pairs), "--work", str(work), "--label", "mine", "--finetune-args",
                            "--iterations", "4", "--batch", "1", "--patch", "8", "--val-every", "2", "--device", "cpu"])
    assert code == 0
    row = json.loads((work / "own_camera.json").read_text())
    assert len(row["fit_pairs"]) == 4 and len(row["test_pairs"]) == 2  # a seeded third scored, never fitted
    assert not set(row["fit_pairs"]) & set(row["test_pairs"])
    # the runs saw the fit part only: a folder of links to those pairs, nothing copied
    linked = sorted(p.stem for p in (work / "fit" / "HR").iterdir())
    assert linked == row["fit_pairs"] and all(p.is_symlink() for p in (work / "fit" / "LR").iterdir())
    fine = json.loads((work / "finetune" / "adknet_x4_lite.json").read_text())["training"]
    assert sorted(fine["train_pairs"] + fine["val_pairs"]) == row["fit_pairs"]
    # the shifted-colour LR is far from the shipped model and within reach of a linear fit: calibration must close it
    assert row["calibrated"] > row["as_is"] + 1.0 and row["lstsq"] > row["bilinear"]
    out = capsys.readouterr().out
    assert out.splitlines()[2].startswith("| mine (4 / 2) | ") and "after `adkviewer train` --iterations 4" in out
    assert f"{row['calibrated']:.2f} ({row['calibrated'] - row['lstsq']:+.2f})" in out
    wide = row["lstsq_wide"]  # and over a 20-tap lstsq, the stronger linear baseline on RealSR's cameras
    assert wide["taps"] == 20 and f"Against lstsq with 20 taps ({wide['psnr']:.2f} dB" in out
    assert f"calibrated {row['calibrated'] - wide['psnr']:+.2f}" in out
    # a second measurement into the same folder would mix two runs: refused
    try:
        own_camera.main(["--pairs", str(pairs), "--work", str(work)])
    except SystemExit as e:
        assert "holds an earlier measurement" in str(e)
    else:
        raise AssertionError("a reused --work was accepted")


def test_transfer_seeds_puts_the_runs_side_by_side_with_their_mean_and_spread(tmp_path, capsys):
    import transfer_seeds

    for seed, gaps in ((0, (1.0, 2.0)), (1, (1.5, 1.0))):
        rows = [{"src": "A", "dst": "B", "n": 0, "finetuned": 0.0, "lstsq": 0.0, "calibrated": 0.0}]
        rows += [{"src": "A", "dst": "B", "n": n, "lstsq": 30.0, "finetuned": 30.0 + g, "calibrated": 31.0}
                 for n, g in zip((5, 10), gaps)]
        (tmp_path / f"s{seed}").mkdir()
        (tmp_path / f"s{seed}" / "transfer.json").write_text(json.dumps(rows))
    assert transfer_seeds.main(["--work", str(tmp_path / "s0"), str(tmp_path / "s1")]) == 0
    out = capsys.readouterr().out
    assert "| A -> B | 5 | +1.00 | +1.00 | +1.50 | +1.25 | 0.50 |" in out
    assert "| A -> B | 10 | +1.00 | +2.00 | +1.00 | +1.50 | 1.00 |" in out
    assert "seed 0 +1.500, seed 1 +1.250; over the runs +1.375 dB. Worst per run: seed 0 +1.00, seed 1 +1.00." in out


def test_the_transfer_table_also_gives_the_margins_over_a_wider_lstsq():
    """--wider-lstsq 20: each row's margin measured against the wider fit of the same pairs (N = 0: the source
    camera's), beside the issue's 16-tap margins."""
    import transfer

    def row(src, n, lstsq, wide, cal=None, ft=None):
        r = {"src": src, "dst": "X", "n": n, "bilinear": 30.0, "lstsq": lstsq, "as_is": 32.0,
             "lstsq_wider": {"20": wide}}
        if n == 0:
            return {**r, "pretrain_s": 1.0}
        return {**r, "lstsq_s": 1.0, "calibrated": cal, "calibrate_s": 1.0, "colour_only": cal, "finetuned": ft,
                "finetune_s": 1.0, "exported": {}, "iterations": 10}

    rows = [row("A", 0, 31.0, 31.5), row("A", 10, 31.0, 31.4, cal=32.0, ft=32.2),
            row("B", 0, 30.0, 30.1), row("B", 10, 30.0, 30.6, cal=31.0, ft=31.8)]
    text = transfer.table(rows, "cmd")
    assert "Quick calibrate, N >= 10: mean gap +1.00 dB, worst +1.00. Fine-tune: mean gap +1.50 dB" in text
    wide = text.split("Against lstsq with 20 taps in place of 16")[1]
    assert "as is without pairs, mean gap +1.20 dB" in wide  # (32 - 31.5 + 32 - 30.1) / 2
    assert "Quick calibrate, N >= 10: mean +0.50, worst +0.40" in wide  # 32 - 31.4, 31 - 30.6
    assert "fine-tune: mean +1.00, worst +0.80" in wide  # 32.2 - 31.4, 31.8 - 30.6
