"""Training engine, its checkpoints: bit-exact resume, atomic and validated checkpoint files, pause/stop, the
time budget, and the NaN crash checkpoint."""

from __future__ import annotations

import math
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import adk_model.atomic as atomic_mod
from core_helpers import one_thread  # noqa: F401 (fixture)
from train_helpers import K, _assert_same_state, _cfg, _resume, _state, pairs  # noqa: F401,F811 (fixture)
from adk_model.errors import UserError
from adk_model.train import Callbacks, TrainConfig, Trainer, read_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- (a) resume determinism


def test_resume_gives_the_same_weights_as_a_straight_run(pairs, tmp_path):
    copies: list[Path] = []

    def keep(path: str) -> None:
        dst = tmp_path / f"copy_{len(copies)}.pt"
        shutil.copy(path, dst)
        copies.append(dst)

    straight = Trainer(_cfg(pairs, tmp_path / "run", ckpt_every=K, val_every=2), Callbacks(on_checkpoint=keep))
    straight.setup()
    straight.run()
    assert straight.finished and straight.iteration == 2 * K and len(copies) == 2
    assert any("val_psnr" in h for h in straight.history)
    final = _state(straight)
    at_k = read_checkpoint(copies[0])
    assert at_k["iteration"] == K
    assert any(not torch.equal(at_k["model"][n], final[n]) for n in final)  # training did change the weights

    resumed = _resume(copies[0])
    # the same run, continued in the folder where its checkpoint now is
    assert resumed.iteration == K and resumed.cfg.out == str(tmp_path.resolve())
    assert replace(resumed.cfg, out=straight.cfg.out) == straight.cfg
    resumed.run()
    assert resumed.finished and resumed.iteration == 2 * K
    _assert_same_state(final, _state(resumed))
    # The optimiser moments continue too, not only the weights.
    for sa, sb in zip(straight.opt.state_dict()["state"].values(), resumed.opt.state_dict()["state"].values()):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])
    assert [h for h in resumed.history if "loss" in h] == [h for h in straight.history if "loss" in h]


def test_a_resumed_copy_of_a_run_writes_into_the_copy_not_the_original(pairs, tmp_path, monkeypatch):
    """A run folder copied (or trained with a relative --out from another directory) and resumed wrote its checkpoints
    and weights into the original folder named in the checkpoint, overwriting that run."""
    monkeypatch.chdir(tmp_path)
    t = Trainer(_cfg(pairs, "run", iterations=K, ckpt_every=K))  # relative, as `--out run` stores it
    t.setup()
    t.run()
    original = (tmp_path / "run" / "checkpoint_last.pt").read_bytes()
    shutil.copytree(tmp_path / "run", tmp_path / "copy")
    more = Trainer(TrainConfig())
    more.setup(resume=str(tmp_path / "copy" / "checkpoint_last.pt"), iterations=K + 2)
    more.run()
    assert more.cfg.out == str((tmp_path / "copy").resolve())
    assert read_checkpoint(tmp_path / "copy" / "checkpoint_last.pt")["iteration"] == K + 2
    assert (tmp_path / "run" / "checkpoint_last.pt").read_bytes() == original


def test_resume_with_no_more_iterations_than_done_is_refused(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=K, ckpt_every=K))
    t.setup()
    ck = t.run()
    with pytest.raises(UserError, match=f"already at iteration {K}: give more than {K}"):
        Trainer(TrainConfig()).setup(resume=ck, iterations=K)


def test_resume_with_a_new_iteration_budget(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=K, ckpt_every=K))
    t.setup()
    ck = t.run()
    assert ck and read_checkpoint(ck)["iteration"] == K
    more = Trainer(TrainConfig())
    more.setup(resume=ck, iterations=K + 2)
    assert more.cfg.iterations == K + 2 and more.iteration == K
    more.run()
    assert more.iteration == K + 2 and more.finished


# ----------------------------------------------------------------------------- (b) atomic checkpoints


def test_checkpoints_are_atomic_and_validated(pairs, tmp_path, monkeypatch):
    out = tmp_path / "run"
    t = Trainer(_cfg(pairs, out, iterations=2, ckpt_every=1))
    t.setup()
    last = Path(t.run())
    assert last == out / "checkpoint_last.pt" and read_checkpoint(last)["iteration"] == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    good = last.read_bytes()

    # A failure in the middle of writing leaves the previous checkpoint intact and no temporary file.
    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        t.save_checkpoint()
    monkeypatch.undo()
    assert last.read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint_last.pt"]

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint" * 50)
    with pytest.raises(UserError, match="garbage.pt"):
        read_checkpoint(garbage)
    other = tmp_path / "other.pt"
    torch.save({"model": {}, "iteration": 3}, other)
    with pytest.raises(UserError, match="not an ADK Viewer checkpoint"):
        read_checkpoint(other)
    with pytest.raises(UserError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(UserError):
        Trainer(TrainConfig()).setup(resume=str(garbage))


# ----------------------------------------------------------------------------- (c) stop and pause


def test_stop_from_a_callback_writes_a_resumable_checkpoint(pairs, tmp_path):
    logs: list[str] = []
    holder: dict[str, Trainer] = {}

    def on_iter(it, loss, lr):
        assert math.isfinite(loss) and lr > 0
        if it == 2:
            holder["t"].request_stop()

    t = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run", iterations=6),
                              Callbacks(on_iter=on_iter, on_log=logs.append))
    t.setup()
    ck = t.run()
    assert t.iteration == 2 and not t.finished
    assert ck == str(tmp_path / "run" / "checkpoint_last.pt")
    assert read_checkpoint(ck)["iteration"] == 2
    assert any("stopped at iteration 2" in m for m in logs)

    fresh = _resume(ck)
    assert fresh.iteration == 2
    fresh.run()
    assert fresh.iteration == 6 and fresh.finished


def test_pause_holds_the_loop_until_resumed_or_stopped(pairs, tmp_path):
    holder: dict[str, Trainer] = {}

    def on_iter(it, loss, lr):
        if it == 2:
            holder["t"].request_pause()

    t = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run", iterations=6), Callbacks(on_iter=on_iter))
    t.setup()
    th = threading.Thread(target=t.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not (t.paused and t.iteration == 2) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert t.paused and t.iteration == 2 and th.is_alive()
    t.request_resume()
    th.join(30)
    assert not th.is_alive() and t.iteration == 6 and t.finished

    # Stop while paused: ends at once with a checkpoint.
    t2 = holder["t"] = Trainer(_cfg(pairs, tmp_path / "run2", iterations=6), Callbacks(on_iter=on_iter))
    t2.setup()
    th = threading.Thread(target=t2.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not t2.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    t2.request_stop()
    th.join(30)
    assert not th.is_alive() and t2.iteration == 2 and not t2.finished
    assert read_checkpoint(t2.checkpoint_path())["iteration"] == 2


def test_time_budget_shrinks_the_iteration_count(pairs, tmp_path):
    logs: list[str] = []
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=10_000, batch=1, time_budget_s=1e-6),
                Callbacks(on_log=logs.append))
    t.setup()
    t.run()
    assert t.iteration == t.cfg.iterations == 50 and t.finished
    assert any("budget" in m for m in logs)


# ----------------------------------------------------------------------------- (f) NaN


def test_nan_loss_raises_and_leaves_a_resumable_crash_checkpoint(pairs, tmp_path):
    t = Trainer(_cfg(pairs, tmp_path / "run", iterations=6))
    t.setup()
    real, calls = t.net, {"n": 0}

    def poisoned(hr):
        calls["n"] += 1
        out = real(hr)
        if calls["n"] > 3:
            out.lr = out.lr * float("nan")
        return out

    t.net = poisoned
    with pytest.raises(FloatingPointError, match="iteration 3"):
        t.run()
    crash = t.checkpoint_path("crash")
    ck = read_checkpoint(crash)
    assert ck["iteration"] == 3
    assert all(torch.isfinite(v).all() for v in ck["model"].values())
    assert not list((tmp_path / "run").glob("*.tmp"))

    fresh = _resume(crash)
    assert fresh.iteration == 3
    fresh.run()
    assert fresh.finished and fresh.iteration == 6
    assert all(torch.isfinite(v).all() for v in fresh.model.state_dict().values())



def test_a_pickle_checkpoint_is_refused_without_running_it(tmp_path):
    from test_weights import _evil_pt

    marker = tmp_path / "pwned"
    evil = _evil_pt(tmp_path / "checkpoint_last.pt", marker)
    with pytest.raises(UserError) as e:
        read_checkpoint(evil)
    assert "checkpoint_last.pt" in str(e.value) and "weights_only" not in str(e.value)
    assert not marker.exists()
