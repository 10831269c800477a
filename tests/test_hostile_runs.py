"""Round-2: tracebacks that were still reachable in training, resuming, split files and evaluation each give
one sentence (issue 18 item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from adkviewer.cli import main
from core_helpers import make_pairs
from adk_model.splits import read_split
from adk_model.errors import PairError, UserError
from adk_model.train import Trainer

TINY_SET = ["--set", "width=8", "--set", "gen_width=8", "--set", "branch_width=8", "--set", "hr_features=4",
            "--set", "feat_blocks=1", "--set", "gen_blocks=1"]


def _run(capsys, argv) -> tuple[int, list[str], str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")], err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[Path, Path]:
    """A finished two-iteration run (pairs folder, checkpoint) that each test copies and edits."""
    root = tmp_path_factory.mktemp("run")
    pairs = make_pairs(root / "pairs")
    code = main([str(a) for a in ["train", "--pairs", pairs, "--init", "scratch", *TINY_SET, "--iterations", 2,
                                  "--batch", 1, "--patch", 8, "--ckpt-every", 1, "--val-every", 1, "--no-eval",
                                  "--out", root / "out", "--device", "cpu"]])
    assert code == 0
    return pairs, root / "out" / "checkpoint_last.pt"


def test_cpu_out_of_memory_in_training_is_one_line(run_dir, tmp_path, capsys, monkeypatch):
    pairs, _ = run_dir
    real = Trainer.step

    def step(self):
        if self.iteration == 1:  # the text torch's CPU allocator raises (a RuntimeError, not MemoryError)
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate "
                               "memory: you tried to allocate 68719476736 bytes. Error code 12")
        return real(self)

    monkeypatch.setattr(Trainer, "step", step)
    code, lines, err = _run(capsys, ["train", "--pairs", pairs, "--init", "scratch", *TINY_SET, "--iterations", 3,
                                     "--batch", 1, "--patch", 8, "--out", tmp_path / "o", "--device", "cpu"])
    assert code == 3 and len(lines) == 1, err
    assert "ran out of memory at iteration 1" in lines[0] and "smaller batch or patch" in lines[0]


def _edit(ckpt: dict, key: str, value) -> dict:
    """Set a (dotted) key, or delete it with value=KeyError."""
    def index(target, k: str):  # list positions and the optimizer's parameter ids are ints
        return int(k) if isinstance(target, list) or (k.isdigit() and int(k) in target) else k

    *path, last = key.split(".")
    target = ckpt
    for k in path:
        target = target[index(target, k)]
    last = index(target, last)
    if value is KeyError:
        del target[last]
    else:
        target[last] = value(target[last]) if callable(value) else value
    return ckpt


EDITS = {
    "no model": ("model", KeyError, "no 'model' entry"),
    "no optimizer": ("optimizer", KeyError, "no 'optimizer' entry"),
    "no rng": ("rng_torch", KeyError, "no 'rng_torch' entry"),
    "no train config": ("train_config", KeyError, "no 'train_config' entry"),
    "iteration text": ("iteration", "5", "iteration is '5'"),
    "lr text": ("train_config.lr", "fast", "'lr' is 'fast'"),
    "lr nan": ("train_config.lr", float("nan"), "'lr' is nan"),
    "batch zero": ("train_config.batch", 0, "not above 0"),
    "optimizer lr nan": ("optimizer.param_groups.0.lr", float("nan"), "optimizer's lr is nan"),
    "bad rng": ("rng_torch", torch.zeros(7, dtype=torch.uint8), "random-number state 'rng_torch'"),
    "rng text": ("rng_gen", "seed", "random-number state 'rng_gen'"),
    "nan weights": ("model.mix", lambda t: t * float("nan"), "tensor 'mix' holds 9 NaN"),
    "wrong shape": ("model.mix", torch.zeros(4, 4), "tensor 'mix' has the wrong shape"),
    "huge config": ("model_config.k", 10000, "k=10000"),
    "moment shape": ("optimizer.state.0.exp_avg", torch.zeros(2), "optimizer entry 'exp_avg' has shape"),
    "best nan": ("best", {"psnr": float("nan"), "it": 1}, "best-result"),
    "best model nan": ("best_model", lambda m: {k: v * float("nan") for k, v in m.items()}, "best model is unusable"),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_hand_edited_checkpoints_are_refused_in_one_sentence(run_dir, tmp_path, capsys, name):
    pairs, ckpt_path = run_dir
    key, value, words = EDITS[name]
    ckpt = torch.load(ckpt_path, weights_only=True)
    bad = tmp_path / "out" / "checkpoint_last.pt"
    bad.parent.mkdir()
    torch.save(_edit(ckpt, key, value), bad)
    code, lines, err = _run(capsys, ["train", "--pairs", pairs, "--resume", bad, "--iterations", 3,
                                     "--device", "cpu"])
    assert code == 3 and len(lines) == 1, err
    assert "checkpoint_last.pt cannot be resumed" in lines[0] and words in lines[0], lines[0]
    assert not (bad.parent / "adknet_x4_lite.safetensors").exists()


def test_the_unedited_checkpoint_still_resumes(run_dir, tmp_path, capsys):
    import shutil
    pairs, ckpt_path = run_dir
    copy = Path(shutil.copytree(ckpt_path.parent, tmp_path / "out")) / ckpt_path.name
    code, lines, err = _run(capsys, ["train", "--pairs", pairs, "--resume", copy, "--iterations", 3, "--no-eval",
                                     "--device", "cpu"])
    assert code == 0 and not lines, err


def test_deeply_nested_split_file_is_one_sentence(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "pairs")
    (pairs / "split.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PairError, match="nested too deeply"):
        read_split(pairs)
    code, lines, err = _run(capsys, ["eval", "--pairs", pairs, "--methods", "box", "--device", "cpu"])
    assert code == 3 and len(lines) == 1 and "nested too deeply" in lines[0], err
    card = tmp_path / "w.json"  # the same through a model card beside weights: a note, not a crash
    card.write_text("{\"a\":" * 100_000 + "1" + "}" * 100_000)
    from adk_model.weights import read_card
    from core_helpers import tiny_config
    notes: list[str] = []
    read_card(tmp_path / "w.safetensors", tiny_config(), notes)
    assert notes and "unreadable" in notes[0]


def test_an_empty_val_list_says_there_is_nothing_to_score(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "pairs")
    split = json.loads((pairs / "split.json").read_text())
    (pairs / "split.json").write_text(json.dumps({**split, "val": []}))
    code, lines, err = _run(capsys, ["eval", "--pairs", pairs, "--methods", "box", "--json", "--device", "cpu"])
    assert code == 3 and len(lines) == 1 and '"val" list of the split file is empty' in lines[0], err
