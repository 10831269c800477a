"""Batch scale-out of `adkviewer downscale`: torchrun ranks and --shard processes split one sorted input list, each
output written once and equal to a single process's; --skip-existing finishes a batch; --recursive and quoted
globs gather the inputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adkviewer.cli import main
from adkviewer.cli.shard import parse_shard, resolve_shard
from core_helpers import save_png, smooth_image

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"\((\d+) written, (\d+) skipped, (\d+) failed\)")


def _images(folder: Path, names: list[str]) -> list[Path]:
    return [save_png(folder / f"{n}.png", smooth_image(24, 32, seed=i)) for i, n in enumerate(names)]


def _run(capsys, argv: list) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _counts(err: str) -> list[tuple[int, int, int]]:
    return [tuple(map(int, m.groups())) for m in SUMMARY.finditer(err)]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def batch(tmp_path, capsys):
    """Five images and what one process writes for them (the reference every split must reproduce)."""
    inputs = _images(tmp_path / "in", ["e", "a", "d", "b", "c"])
    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", tmp_path / "single", "--method", "adknet",
                              "--device", "cpu"])
    assert code == 0 and _counts(err) == [(5, 0, 0)], err
    return tmp_path, inputs, _files(tmp_path / "single")


def test_two_torchrun_ranks_write_every_output_once_equal_to_one_process(batch):
    tmp_path, _, single = batch
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone", "-m", "adkviewer",
           "downscale", str(tmp_path / "in"), "-o", str(tmp_path / "ranks"), "--method", "adknet", "--device", "cpu"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {r: [line for line in proc.stderr.splitlines() if line.startswith(f"rank {r}/2: ")] for r in (0, 1)}
    # every n-th of the sorted list: rank 0 a, c, e; rank 1 b, d; each says its own part
    assert [_counts(line) for line in lines[0]] == [[(3, 0, 0)]], proc.stderr[-3000:]
    assert [_counts(line) for line in lines[1]] == [[(2, 0, 0)]], proc.stderr[-3000:]
    assert _files(tmp_path / "ranks") == single  # 3 + 2 = 5 files: each written once, by the one rank it fell to


def test_shards_cover_the_batch_once_and_skip_existing_finishes_it(batch, capsys):
    tmp_path, _, single = batch
    out = tmp_path / "sharded"
    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", out, "--method", "adknet", "--device", "cpu",
                              "--shard", "1/2"])
    assert code == 0 and err.splitlines()[-1].startswith("shard 1/2: wrote 2 images") and _counts(err) == [(2, 0, 0)]
    assert sorted(_files(out)) == ["b_x4_adknet.png", "d_x4_adknet.png"]
    # an interrupted write leaves only a temporary (model/atomic.py), which is not taken for an output
    (out / ".a_x4_adknet.png.999999-0123456789ab.tmp").write_bytes(b"half")

    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", out, "--method", "adknet", "--device", "cpu"])
    assert code != 0 and "already exists" in err and "--skip-existing" in err and "--overwrite" in err
    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", out, "--method", "adknet", "--device", "cpu",
                              "--skip-existing"])
    assert code == 0 and _counts(err) == [(3, 2, 0)], err
    assert _files(out) == single

    again = tmp_path / "again"
    for i in (0, 1):
        code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", again, "--method", "adknet", "--device", "cpu",
                                  "--shard", f"{i}/2"])
        assert code == 0, err
    assert _files(again) == single


def test_recursive_mirrors_the_tree_and_without_it_subfolders_are_named(tmp_path, capsys):
    _images(tmp_path / "in", ["top"])
    _images(tmp_path / "in" / "day1", ["a", "b"])
    _images(tmp_path / "in" / "day1" / "raw", ["a"])  # same name as day1/a: apart in the mirrored tree
    _images(tmp_path / "in" / ".thumbs", ["hidden"])
    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", tmp_path / "flat", "--method", "box"])
    assert code == 0 and "skipping 1 subfolder (day1); pass --recursive" in err, err
    assert sorted(_files(tmp_path / "flat")) == ["top_x4_box.png"]

    code, err = _run(capsys, ["downscale", tmp_path / "in", "-o", tmp_path / "tree", "--method", "box",
                              "--recursive"])
    assert code == 0 and _counts(err) == [(4, 0, 0)] and "skipping" not in err, err
    assert sorted(_files(tmp_path / "tree")) == ["day1/a_x4_box.png", "day1/b_x4_box.png",
                                                 "day1/raw/a_x4_box.png", "top_x4_box.png"]
    (tmp_path / "only_sub" / "x").mkdir(parents=True)
    _images(tmp_path / "only_sub" / "x", ["p"])
    code, err = _run(capsys, ["downscale", tmp_path / "only_sub", "-o", tmp_path / "o3", "--method", "box"])
    assert code != 0 and "no images" in err and "--recursive" in err


def test_quoted_globs_are_expanded_by_the_program(tmp_path, capsys):
    _images(tmp_path / "in", ["a", "b"])
    _images(tmp_path / "in" / "sub", ["c"])
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    code, err = _run(capsys, ["downscale", str(tmp_path / "in" / "*.png"), "-o", tmp_path / "o1", "--method", "box"])
    assert code == 0 and sorted(_files(tmp_path / "o1")) == ["a_x4_box.png", "b_x4_box.png"], err
    code, err = _run(capsys, ["downscale", str(tmp_path / "in" / "**" / "*.png"), str(tmp_path / "in" / "a.png"),
                              "-o", tmp_path / "o2", "--method", "box", "--recursive"])
    assert code == 0 and _counts(err) == [(3, 0, 0)], err  # a.png named twice is done once
    assert sorted(_files(tmp_path / "o2")) == ["a_x4_box.png", "b_x4_box.png", "sub/c_x4_box.png"]
    code, err = _run(capsys, ["downscale", str(tmp_path / "in" / "*.jpg"), "-o", tmp_path / "o3", "--method", "box"])
    assert code == 3 and err.strip().endswith("*.jpg matches no files."), err


def test_shard_and_existing_flags_are_usage_errors_in_one_sentence(tmp_path, capsys):
    _images(tmp_path, ["a"])
    for bad in ("2/2", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(SystemExit) as e:
            main(["downscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), f"--shard={bad}"])
        assert e.value.code == 2 and "0 <= I < N" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["downscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--overwrite", "--skip-existing"])
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert parse_shard("3/4") == (3, 4)


def test_shard_under_torchrun_splits_each_shard_between_the_ranks():
    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}
    s = resolve_shard((1, 3), env)
    assert (s.index, s.count, s.label, s.talks) == (3, 6, "shard 1/3, rank 1/2", False)
    assert s.take(list(range(14))) == [3, 9]
    alone = resolve_shard(None, {})
    assert (alone.index, alone.count, alone.prefix(), alone.talks) == (0, 1, "", True)
