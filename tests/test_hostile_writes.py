"""Round-2 writes: "never overwrite without --overwrite" cannot be raced, and a kill -9 mid-write leaves no
temporary behind for good (issue 18 items 7 and 9)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from adkviewer.cli import main
from core_helpers import save_png, smooth_image
from adk_model.atomic import atomic_open, atomic_write_bytes
from adk_model.errors import UserError
from adk_model.imageio import save_image

ROOT = Path(__file__).resolve().parent.parent


def test_a_file_created_during_the_write_is_not_replaced(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(UserError, match="already exists; pass --overwrite"):
        with atomic_open(target, overwrite=False) as f:
            f.write(b"mine")
            target.write_bytes(b"theirs")  # another run got there first, after any existence check
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    atomic_write_bytes(target, b"mine")  # overwrite (the default, and --overwrite) still replaces
    assert target.read_bytes() == b"mine"


def test_two_downscales_into_one_file_do_not_both_succeed(tmp_path, capsys, monkeypatch):
    from adk_model import methods

    src = save_png(tmp_path / "a.png", smooth_image(32, 32))
    dst = tmp_path / "o.png"
    real = methods.MethodSet.run

    def racing(self, *a, **k):  # the other run writes the same output while this one computes
        out = real(self, *a, **k)
        save_image(dst, np.zeros((4, 4, 3), np.float32))
        return out

    monkeypatch.setattr(methods.MethodSet, "run", racing)
    rc = main(["downscale", str(src), "-o", str(dst), "--method", "box"])
    err = capsys.readouterr().err
    assert rc == 1 and f"adkviewer: error: {dst} already exists; pass --overwrite to replace it." in err
    assert np.asarray(__import__("PIL.Image").Image.open(dst)).shape == (4, 4, 3)  # theirs, untouched


def test_a_temporary_left_by_kill_9_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "out.png"
    code = (f"import os, signal\nfrom adk_model.atomic import atomic_open\n"
            f"with atomic_open({str(target)!r}) as f:\n    f.write(b'half')\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9
    (left,) = [p for p in tmp_path.iterdir()]
    assert left.name.startswith(".out.png.") and left.name.endswith(".tmp") and not target.exists()
    old = tmp_path / ".out.png.0123456789ab.tmp"  # the older name, without a pid: stale after an hour
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200,) * 2)
    live = tmp_path / f".out.png.{os.getpid()}-feedfeedfeed.tmp"  # a writer still running: left alone
    live.write_bytes(b"x")
    other = tmp_path / ".other.png.1-abc.tmp"  # another target's temporary: not ours to judge
    other.write_bytes(b"x")
    save_image(target, np.full((4, 4, 3), 0.5, np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, other.name])
