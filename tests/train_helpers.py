"""Shared pieces of the training-engine tests (test_train_*.py): the tiny pairs, a fast config, and comparing or
resuming trainers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core_helpers import TINY, make_pairs
from adk_model.train import TrainConfig, Trainer

K = 3


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    """3 train + 2 val pairs, LR 16 x 20 at x4, LR = colour-shifted box downscale of a smooth HR."""
    return make_pairs(tmp_path_factory.mktemp("pairs"), scale=4, n_train=3, n_val=2, lr_size=(16, 20))


def _cfg(pairs: Path, out: Path, **kw) -> TrainConfig:
    base = dict(pairs=str(pairs), split="val", scale=4, preset="lite", model_overrides=dict(TINY), iterations=2 * K,
                batch=2, patch=8, lr=2e-3, warmup=2, val_every=0, ckpt_every=0, out=str(out), seed=3, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def _state(t: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in t.model.state_dict().items()}


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _resume(path: str | Path, **kw) -> Trainer:
    t = Trainer(TrainConfig(), **kw)  # everything comes from the checkpoint
    t.setup(resume=str(path))
    return t
