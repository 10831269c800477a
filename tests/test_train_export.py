"""Training engine, what a run hands back: the exported weights and card, the best validated weights, never a
model worse than the start, patience, and pairs that are unreadable, unsplit or smaller than the patch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from core_helpers import TINY, one_thread  # noqa: F401 (fixture)
from train_helpers import _cfg, pairs  # noqa: F401,F811 (fixture)
from adk_model.errors import UserError
from adk_model.train import Callbacks, Trainer, load_split_pairs, validate
from adk_model.model_card import summarize_card
from adk_model.weights import card_path, load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- (g) export


def test_export_writes_weights_and_a_card_that_load(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=2, val_every=2, command="adkviewer train --test",
                     export="last"))
    t.setup()
    t.run()
    path = t.export(extra_card={"validation": {"pairs": 2}})
    assert path == tmp_path / "run" / "adknet_x4_lite.safetensors" and path.is_file()
    card = json.loads(card_path(path).read_text())
    tr = card["training"]
    assert tr["train_pairs"] == ["p0", "p1", "p2"] and tr["val_pairs"] == ["p3", "p4"]
    assert tr["iterations"] == 2 and tr["command"] == "adkviewer train --test" and tr["split"] == "val"
    assert tr["pairs"] == str(pairs) and "cores" in tr["hardware"] and "CPU" in tr["hardware"]
    assert tr["settings"]["batch"] == 2 and tr["settings"]["model_overrides"] == TINY
    assert "psnr" in tr["best_val"] and tr["exported"] == {"which": "last", "iteration": 2}
    assert card["validation"] == {"pairs": 2} and card["scale"] == 4 and card["config"] == t.model.cfg.to_dict()
    (pairs / "split.json").rename(pairs / "split.off")  # without a split file the card says what validated
    try:
        t2 = Trainer(_cfg(pairs, tmp_path / "run2", iterations=1, val_every=1, export="last"))
        t2.setup()
        t2.run()
        tr2 = json.loads(card_path(t2.export()).read_text())["training"]
        assert tr2["split"] == f"fraction:0.2 (seed {t2.cfg.seed}; the folder has no split.json)"
        assert len(tr2["val_pairs"]) == 1
    finally:
        (pairs / "split.off").rename(pairs / "split.json")

    loaded = load_weights(path, expect_scale=4)
    assert loaded.notes == [] and loaded.model.cfg == t.model.cfg
    hr = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        assert torch.equal(loaded.model(hr).lr, t.model.eval()(hr).lr)


def test_an_unreadable_train_pair_is_skipped_and_named(pairs, tmp_path):
    broken = Path(shutil.copytree(pairs, tmp_path / "pairs"))
    (broken / "HR" / "p1.png").write_bytes(b"garbage")
    logs: list[str] = []
    t = Trainer(_cfg(broken, tmp_path / "run", iterations=1), Callbacks(on_log=logs.append))
    t.setup()
    assert [p.name for p in t.train_infos] == ["p0", "p2"] and [p.name for p in t.val_infos] == ["p3", "p4"]
    assert any(m.startswith("skipping p1: unreadable file") for m in logs)
    t.run()
    assert t.finished


def test_training_errors_name_the_setting(pairs, tmp_path):
    with pytest.raises(UserError, match="k=13"):
        Trainer(_cfg(pairs, tmp_path / "run", model_overrides={**TINY, "k": 13})).setup()
    with pytest.raises(UserError, match="depth"):
        Trainer(_cfg(pairs, tmp_path / "run", model_overrides={"depth": 3})).setup()


def test_a_pairs_folder_without_split_json_validates_on_a_seeded_fifth(pairs, tmp_path):
    """Users' own folders rarely have split.json: training still starts, on a seeded 20% validation split."""
    folder = tmp_path / "nosplit"
    shutil.copytree(pairs, folder)
    (folder / "split.json").unlink()
    logs: list[str] = []
    cfg = _cfg(folder, tmp_path / "out")
    train_infos, _, val_infos, _ = load_split_pairs(cfg, logs.append)
    assert len(val_infos) == 1 and len(train_infos) == 4
    assert any("seeded 20%" in m for m in logs)
    again = load_split_pairs(cfg)[2]
    assert [p.name for p in again] == [p.name for p in val_infos]


def test_the_best_validation_weights_are_kept_beside_the_final_ones(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", val_every=2))
    t.setup()
    t.run()
    best = t.best_weights_path()
    assert best.is_file() and t.best["it"] in (0, 2, 4, 6)  # iteration 0, the starting model, is a candidate
    loaded = load_weights(best)
    assert loaded.card["best_val"]["psnr"] == pytest.approx(t.best["psnr"])
    # File → ADK-Net weights lists several runs' best_x4: the card names its run and iteration, and its pairs
    assert loaded.card["name"].startswith(f"best of run (it {t.best['it']}, ")
    assert summarize_card(best).reproduces.startswith(f"the LR images of the pairs in '{pairs.name}' (3 train pairs)")
    assert validate(loaded.model, t.val, t.device)[0]["psnr"] == pytest.approx(t.best["psnr"], abs=1e-4)


def test_a_run_never_hands_back_a_model_worse_than_its_start(pairs, tmp_path):
    """A learning rate that wrecks the model: the start (validated as iteration 0) is what the export holds."""
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", init="scratch", iterations=6, val_every=2, lr=5.0, warmup=1),
                Callbacks(on_log=logs.append))
    t.setup()
    start = validate(t.model, t.val, t.device)[0]["psnr"]
    t.run()
    assert t.history[0]["it"] == 0 and t.history[0]["val_psnr"] == pytest.approx(start)
    assert validate(t.model, t.val, t.device)[0]["psnr"] < start - 1  # the last iteration is worse...
    assert t.best["it"] == 0
    path = t.export()
    card = json.loads(card_path(path).read_text())["training"]["exported"]
    assert card["which"] == "best validated" and card["iteration"] == 0
    assert validate(load_weights(path).model, t.val, t.device)[0]["psnr"] == pytest.approx(start, abs=1e-4)
    assert any("validating the starting model" in m for m in logs)


def test_patience_stops_a_run_whose_validation_no_longer_improves(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", init="scratch", iterations=40, val_every=2, lr=5.0, warmup=1,
                     patience=2), Callbacks(on_log=logs.append))
    t.setup()
    t.run()
    assert t.finished and t.iteration == 4 and t.best["it"] == 0  # validations at 2 and 4 were worse than the start
    assert any("early stop at iteration 4" in m for m in logs)


def test_pairs_smaller_than_the_patch_shrink_the_patch_instead_of_failing(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", patch=64, iterations=1), Callbacks(on_log=logs.append))
    t.setup()
    assert t.cfg.patch == 16  # the tiny pairs' LR is 16 x 20
    assert any("patches shrink from 64 to 16" in m for m in logs)
    t.run()
    assert t.iteration == 1
