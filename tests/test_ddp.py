"""DDP on the CPU: `adkviewer train` under torchrun with 2 gloo ranks trains, and only rank 0 writes files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import adk_model.train as train_mod
from core_helpers import make_pairs
from adk_model.train import DistInfo, TrainConfig, Trainer, read_checkpoint
from adk_model.weights import load_weights

ROOT = Path(__file__).resolve().parent.parent
KNOWN_ABORT = "terminate called without an active exception"

# Runs `adkviewer train` in each rank, recording every file a rank writes (and its barrier / destroy calls)
# in spy/rank<RANK>.log, so the test can tell which rank wrote what.
SPY = r"""
import os, sys
from pathlib import Path

spy = Path(sys.argv[1])
rank = os.environ.get("RANK", "?")

def record(what):
    with open(spy / f"rank{rank}.log", "a") as f:
        f.write(f"{what}\n")

import contextlib
import torch.distributed as dist
import adk_model.atomic as A
import adk_model.train as T

# Every project write goes through model.atomic (a temporary file, then os.replace, or os.link for a file that
# must not be overwritten): spy on both levels.
_atomic_open, _replace, _link = A.atomic_open, os.replace, os.link
@contextlib.contextmanager
def atomic_open(path, *a, **k):
    record(f"write {path}")
    with _atomic_open(path, *a, **k) as f:
        yield f
def replace(src, dst, *a, **k):
    record(f"write {dst}")
    return _replace(src, dst, *a, **k)
def link(src, dst, *a, **k):
    record(f"write {dst}")
    return _link(src, dst, *a, **k)
A.atomic_open, os.replace, os.link = atomic_open, replace, link

_barrier, _destroy = dist.barrier, dist.destroy_process_group
def barrier(*a, **k):
    record("call barrier")
    return _barrier(*a, **k)
def destroy_process_group(*a, **k):
    record("call destroy")
    return _destroy(*a, **k)
dist.barrier, dist.destroy_process_group = barrier, destroy_process_group

_close = T.Trainer.close
def close(self):
    # Ranks start from different seeds and see different pairs: equal weights at the end mean DDP synchronised.
    record("weights " + repr(sum(float(p.double().sum()) for p in self.model.parameters())))
    return _close(self)
T.Trainer.close = close

from adkviewer.cli.entry import main
code = main(sys.argv[2:])
record(f"exit {code}")
sys.exit(code)
"""


def _run_torchrun(tmp_path: Path, pairs: Path, attempt: int) -> tuple[subprocess.CompletedProcess, Path, Path]:
    work = tmp_path / f"attempt{attempt}"
    spy, out = work / "spy", work / "out"
    spy.mkdir(parents=True)
    script = work / "spy_train.py"
    script.write_text(SPY)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env["CUDA_VISIBLE_DEVICES"] = ""  # gloo on the CPU even where a GPU exists
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           str(script), str(spy),
           "train", "--pairs", str(pairs), "--device", "cpu", "--iterations", "4", "--batch", "1", "--patch", "8",
           "--val-every", "2", "--ckpt-every", "2", "--no-eval", "--seed", "1", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return proc, spy, out


def _log(spy: Path, rank: int) -> list[str]:
    f = spy / f"rank{rank}.log"
    return f.read_text().splitlines() if f.exists() else []


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_train_and_only_rank0_writes(tmp_path):
    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=3, n_val=2, lr_size=(16, 20))
    for attempt in range(2):
        proc, spy, out = _run_torchrun(tmp_path, pairs, attempt)
        outputs = (out / "adknet_x4_lite.safetensors").is_file() and (out / "checkpoint_last.pt").is_file()
        # shared/docs/adknet.md: a rank may abort at exit after the work is done; that, and only that, is retried.
        if proc.returncode != 0 and attempt == 0 and KNOWN_ABORT in proc.stderr and outputs \
                and "Traceback" not in proc.stderr:
            continue
        break
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr

    assert sorted(p.name for p in out.iterdir()) == ["adknet_x4_lite.json", "adknet_x4_lite.safetensors",
                                                     "best_x4.json", "best_x4.safetensors", "checkpoint_last.pt"]
    ck = read_checkpoint(out / "checkpoint_last.pt")
    assert ck["iteration"] == 4 and ck["train_config"]["device"] == "cpu"
    loaded = load_weights(out / "adknet_x4_lite.safetensors", expect_scale=4)
    assert all(torch.isfinite(v).all() for v in loaded.model.state_dict().values())
    card = json.loads((out / "adknet_x4_lite.json").read_text())
    assert card["training"]["iterations"] == 4 and " x2 on " in card["training"]["hardware"]

    rank0, rank1 = _log(spy, 0), _log(spy, 1)
    assert rank0 and rank1, proc.stderr[-4000:]
    writes0 = [line for line in rank0 if line.startswith("write ") and str(out) in line]
    assert [line for line in rank1 if line.startswith("write ") and str(out) in line] == []  # rank 1 writes nothing
    assert any("checkpoint_last.pt" in w for w in writes0) and any(w.endswith(".json") for w in writes0)
    assert any("adknet_x4_lite.safetensors" in w for w in writes0)
    sums = [[line for line in log if line.startswith("weights ")] for log in (rank0, rank1)]
    assert len(sums[0]) == 1 and sums[0] == sums[1]  # identical weights on both ranks: gradients were all-reduced
    for log in (rank0, rank1):
        assert log[-1] == "exit 0"
        calls = [line for line in log if line.startswith("call ")]
        assert calls[-2:] == ["call barrier", "call destroy"]  # Trainer.close: barrier, then destroy


class _FakeDist:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def is_initialized(self) -> bool:
        return True

    def barrier(self) -> None:
        self.calls.append("barrier")

    def destroy_process_group(self) -> None:
        self.calls.append("destroy")


def test_close_barriers_before_destroying_the_group(monkeypatch):
    fake = _FakeDist()
    monkeypatch.setattr(train_mod, "dist", fake)
    Trainer(TrainConfig(), dist_info=DistInfo(rank=1, world=2)).close()
    assert fake.calls == ["barrier", "destroy"]
    fake.calls.clear()
    Trainer(TrainConfig(), dist_info=DistInfo()).close()  # single process: nothing to tear down
    assert fake.calls == []


def test_dist_from_env(monkeypatch):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    assert train_mod.dist_from_env() == DistInfo(0, 1, 0)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    info = train_mod.dist_from_env()
    assert info == DistInfo(1, 2, 1) and not info.is_main
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    assert train_mod.dist_from_env().world == 1


# Rank 1 of `adkviewer train` under torchrun, made different from rank 0 in two ways: a clock ten times slower at
# the time budget's measurement (alone it would fit 50 iterations in --time-budget 1, rank 0 fits 90), and a
# SIGINT to itself after iteration 60 (as a scheduler or a stray kill sends one rank). Each rank records where it
# ended in spy/rank<RANK>.log.
RANK_APART = r"""
import os, signal, sys
from pathlib import Path

spy = Path(sys.argv[1])
rank = int(os.environ["RANK"])
import adk_model.train as T

_fit = T.Trainer.fit_time_budget
def fit_time_budget(self):
    self.elapsed = 5.0 if rank == 1 else 0.5  # the first 50 iterations took 5 s on rank 1, 0.5 s on rank 0
    return _fit(self)
T.Trainer.fit_time_budget = fit_time_budget
_step = T.Trainer.step
def step(self):
    loss = _step(self)
    if rank == 1 and self.iteration == 60:
        os.kill(os.getpid(), signal.SIGINT)
    return loss
T.Trainer.step = step
_close = T.Trainer.close
def close(self):
    with open(spy / f"rank{rank}.log", "a") as f:
        f.write(f"ended {self.iteration} of {self.cfg.iterations}\n")
    return _close(self)
T.Trainer.close = close

from adkviewer.cli.entry import main
code = main(sys.argv[2:])
with open(spy / f"rank{rank}.log", "a") as f:
    f.write(f"exit {code}\n")
sys.exit(code)
"""


@pytest.mark.slow
def test_ranks_share_rank_0s_budget_and_a_signal_to_one_stops_both_at_one_iteration(tmp_path, capsys):
    """Each rank fitted its own iteration count to --time-budget (counts one apart deadlocked 1 run in 4), and
    Ctrl-C saved wherever it landed and printed '--resume None' on rank 1; now rank 0 decides the count, and a stop
    is agreed at an iteration boundary, with one checkpoint and one resume command."""
    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=2, n_val=1, lr_size=(16, 20))
    run, spy = tmp_path / "run", tmp_path / "spy"
    spy.mkdir()
    (tmp_path / "rank_apart.py").write_text(RANK_APART)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           str(tmp_path / "rank_apart.py"), str(spy), "train", "--pairs", str(pairs), "--device", "cpu", "--batch", "1",
           "--patch", "8", "--val-every", "0", "--no-eval", "--no-calibrate", "--iterations", "100000",
           "--time-budget", "1", "--ckpt-every", "0", "--out", str(run)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    ends = [_log(spy, r) for r in (0, 1)]
    # rank 0's count, 50 + (0.9 * 1 s - 0.5 s) / 10 ms, on both; both stopped after iteration 60
    assert ends[0] == ends[1] == ["ended 60 of 90", "exit 130"], (ends, proc.stderr[-4000:])
    # no rank's traceback: the one there is torchrun's own report that its ranks exited 130 (interrupted)
    assert proc.stderr.count("Traceback") == 1 and "raise ChildFailedError(" in proc.stderr, proc.stderr[-4000:]
    ckpt = run / "checkpoint_last.pt"
    said = [line for line in proc.stderr.splitlines() if "resume with" in line]
    assert said == [f"stopped at iteration 60 on all 2 ranks; resume with: torchrun --nproc_per_node 2 -m adkviewer "
                    f"train --pairs {pairs} --resume {ckpt}"], proc.stderr[-4000:]
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint_last.pt"]  # --ckpt-every 0: written at the stop
    assert read_checkpoint(ckpt)["iteration"] == 60

    from adkviewer.cli.entry import main
    assert main(["train", "--pairs", str(pairs), "--resume", str(ckpt), "--no-eval"]) == 0  # finishes its 90
    assert read_checkpoint(ckpt)["iteration"] == 90 and "resumed" in capsys.readouterr().err


def test_more_ranks_than_gpus_is_one_sentence(monkeypatch):
    from adk_model import ddp

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ddp.SameOnEveryRank, match=r"^torchrun started 2 processes on this machine but it has "
                                                  r"1 CUDA GPU: pass --nproc_per_node 1 or fewer, or --device cpu"):
        ddp.check_devices(2, "auto", {"LOCAL_WORLD_SIZE": "2"})
    ddp.check_devices(2, "cpu", {"LOCAL_WORLD_SIZE": "2"})  # gloo on the CPU: any number of ranks
    ddp.check_devices(1, "cuda", {})


def test_the_launcher_as_the_card_and_the_resume_command_spell_it():
    from adk_model import ddp

    env = {"LOCAL_WORLD_SIZE": "4"}
    assert ddp.launch_record(8, env) == {"launcher": "torchrun", "nproc_per_node": 4, "nnodes": 2, "world_size": 8}
    assert ddp.launch_record(1) == {"launcher": "single process"}
    assert ddp.resume_command("my pairs", "/r/c.pt", 8, env) == \
        "torchrun --nnodes 2 --nproc_per_node 4 -m adkviewer train --pairs 'my pairs' --resume /r/c.pt"
    assert ddp.resume_command("p", "c.pt", 1) == "adkviewer train --pairs p --resume c.pt"


def test_ckpt_every_0_still_writes_the_end(tmp_path):
    pairs = make_pairs(tmp_path / "pairs", scale=4, n_train=2, n_val=1, lr_size=(16, 20))
    t = Trainer(TrainConfig(pairs=str(pairs), iterations=3, batch=1, patch=8, val_every=0, ckpt_every=0,
                            out=str(tmp_path / "run"), device="cpu", calibrate_first=False))
    t.setup()
    assert t.run() == str(tmp_path / "run" / "checkpoint_last.pt")
    assert read_checkpoint(tmp_path / "run" / "checkpoint_last.pt")["iteration"] == 3
