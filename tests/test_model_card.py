"""What the GUI says about an ADK-Net model comes from its card: what it reproduces, its data, its scores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from adk_model.model_card import OWN_CAMERA, summarize_card
from adk_model.weights import card_path, shipped_weights

from adkviewer.state.model_info import card_html, model_blurb


def test_the_shipped_card_says_what_the_model_reproduces_and_its_validation_table():
    path = shipped_weights(4)[0]
    s = summarize_card(path)
    assert s.problem is None and s.name == "adknet_x4_lite" and s.scale == 4
    assert "short-focal-length" in s.reproduces and "RealSR's Canon and Nikon" in s.reproduces
    assert "blur and colour" in s.reproduces
    assert s.scores_title.startswith("Validation (20 pairs") and s.scores[0].method == "adknet"
    assert round(s.scores[0].psnr, 2) == 32.76 and round(s.scores[0].ssim, 4) == 0.9636  # the README's table
    assert [r.psnr for r in s.scores] == sorted((r.psnr for r in s.scores), reverse=True)
    assert any("80 train, 20 validation" in line for line in s.trained_on)
    blurb = model_blurb(path)
    assert blurb.startswith("adknet_x4_lite reproduces the short-focal-length") and blurb.endswith(OWN_CAMERA)
    page = card_html(s)
    assert "32.76" in page and "Least-squares kernel" in page and "Quick calibrate or fine-tune" in page


def test_a_fine_tuned_card_names_its_pairs_and_a_missing_card_says_nothing_is_known(tmp_path):
    mine = tmp_path / "mine.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    card_path(mine).write_text(json.dumps({
        "name": "canon fine-tuned 200 it",
        "training": {"pairs": "/data/my_canon", "split": "fraction:0.2:seed=0", "train_pairs": ["a", "b", "c"],
                     "val_pairs": ["d"], "iterations": 200, "seconds": 61.0,
                     "exported": {"which": "best validated", "iteration": 150}},
        "validation": {"pairs": 1, "methods": {"bicubic": {"psnr": 28.0, "psnr_y": 29.0, "ssim": 0.9},
                                               "adknet": {"psnr": 30.5, "psnr_y": 31.5, "ssim": 0.95}}}}))
    s = summarize_card(mine)
    assert s.reproduces == "the LR images of the pairs in 'my_canon' (3 train pairs): their blur and colour"
    assert "iterations: 200 in 61 s" in s.trained_on and "exported: best validated (iteration 150)" in s.trained_on
    assert [r.method for r in s.scores] == ["adknet", "bicubic"] and s.scores_title.startswith("Validation (1 pairs")
    card_path(mine).unlink()
    s = summarize_card(mine)
    assert s.problem == "no model card mine.json" and s.name == "mine" and "not recorded" in s.reproduces
    assert "nothing is known about how this model was made" in card_html(s)
    card_path(mine).write_text("[1, 2")
    assert summarize_card(mine).problem.startswith("unreadable model card")


def test_a_fine_tune_card_says_halfway_and_one_that_handed_back_its_start_says_so(tmp_path):
    mine = tmp_path / "mine.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    training = {"pairs": "/data/nikon12", "train_pairs": ["a", "b"], "val_pairs": ["c"], "iterations": 300,
                "start_model": {"name": "adknet_x4_lite", "reproduces": "RealSR's Canon and Nikon"},
                "exported": {"which": "halfway", "iteration": 100, "val_psnr": 31.0}}
    card_path(mine).write_text(json.dumps({"name": "ft", "training": training}))
    s = summarize_card(mine)
    assert "exported: halfway between the start and iteration 100" in s.trained_on
    assert s.method_label() == "ADK-Net · ft (halfway to it 100 of 300, 2 train pairs)"
    assert s.reproduces.startswith("adknet_x4_lite fine-tuned on the LR images of the pairs in 'nikon12'")
    for calibration, words in (({"adopted": True}, "adknet_x4_lite calibrated to the LR images of the pairs in "
                                "'nikon12' (2 train pairs) (no fine-tuning iteration beat that on held-out pairs)"),
                               ({"adopted": False}, "adknet_x4_lite, unchanged (neither quick calibrate nor "
                                "fine-tuning on 'nikon12' beat it on held-out pairs): RealSR's Canon and Nikon")):
        training["exported"] = {"which": "best validated", "iteration": 0, "val_psnr": 31.0}
        card_path(mine).write_text(json.dumps({"name": "ft", "training": training, "calibration": calibration}))
        assert summarize_card(mine).reproduces.startswith(words)


def test_a_run_opened_by_its_name_does_not_repeat_it_in_the_label():
    """'ADK-Net · RUN (best of RUN (it 0, 31.03 dB), 10 train pairs)' named the run twice (a new user's trial)."""
    from adk_model.model_card import CardSummary

    run = "nikon12-x4-20261207-204356"
    s = CardSummary(path=Path("best_x4.json"), name=f"best of {run} (it 0, 31.03 dB)", train_pairs=tuple(f"p{i}" for i in range(10)), own_pairs=10)
    assert s.method_label(run) == f"ADK-Net · {run} (best at it 0, 31.03 dB, 10 train pairs)"
    assert s.method_label("mine") == f"ADK-Net · mine (best of {run} (it 0, 31.03 dB), 10 train pairs)"
