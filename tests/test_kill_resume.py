"""A training process killed with SIGKILL at any moment leaves its last complete checkpoint intact and resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core_helpers import TINY, make_pairs
from adk_model.train import TrainConfig, Trainer, read_checkpoint

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

SCRIPT = """
import sys, torch
torch.set_num_threads(1)
from adk_model.train import TrainConfig, Trainer
cfg = TrainConfig(pairs=sys.argv[1], out=sys.argv[2], model_overrides={overrides!r}, iterations=100000, batch=2,
                  patch=8, warmup=2, val_every=0, ckpt_every=1, device="cpu", seed=1)
t = Trainer(cfg)
t.setup()
t.run()
"""


@pytest.mark.parametrize("delay", [0.3, 0.9])
def test_sigkill_during_training_leaves_a_resumable_checkpoint(tmp_path: Path, delay: float) -> None:
    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=3, n_val=1, lr_size=(16, 20))
    out = tmp_path / "run"
    ckpt = out / "checkpoint_last.pt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(overrides=dict(TINY)), str(pairs), str(out)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists():  # wait for the first checkpoint, then kill while it keeps writing more
            assert proc.poll() is None, "training ended before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    state = read_checkpoint(ckpt)  # complete and valid, whatever the moment of the kill
    assert state["iteration"] >= 1
    trainer = Trainer(TrainConfig())
    trainer.setup(resume=str(ckpt), iterations=state["iteration"] + 2)
    assert trainer.iteration == state["iteration"]
    trainer.cfg.ckpt_every = 0
    trainer.run()
    assert trainer.iteration == state["iteration"] + 2
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
