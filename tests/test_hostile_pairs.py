"""Round-2 small items on pairs folders and inputs: every refusal says why, once (issue 18 item 9)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from adkviewer.cli import main
from core_helpers import make_pairs, save_png, smooth_image
from adk_model.data import discover_pairs, no_usable_pairs


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")]


def test_no_usable_pairs_gives_the_reasons(tmp_path):
    pairs = make_pairs(tmp_path / "p", n_train=2, n_val=0)
    for f in (pairs / "LR").iterdir():
        f.write_bytes(b"not an image")
    infos = discover_pairs(pairs, 4)
    msg = no_usable_pairs(pairs, infos, 4)
    assert msg.startswith(f"No usable pairs in {pairs}: p0: unreadable file") and "p1: unreadable file" in msg


def test_train_at_the_wrong_scale_says_which_option_to_pass(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "p", scale=4)
    rc = main(["train", "--pairs", str(pairs), "--scale", "2", "--init", "scratch", "--iterations", "1",
               "--out", str(tmp_path / "run"), "--device", "cpu"])
    (line,) = _errors(capsys.readouterr().err)
    assert rc == 3 and line.endswith("their sizes fit x4, not x2: pass --scale 4."), line


def test_an_ambiguous_pair_is_one_line_not_two_contradicting_ones(tmp_path):
    pairs = make_pairs(tmp_path / "p", n_train=2, n_val=0)
    img = smooth_image(64, 80)
    save_png(pairs / "HR" / "p0.bmp", img)  # p0.png and p0.bmp both claim pair p0; LR/p0.png exists
    infos = [i for i in discover_pairs(pairs, 4) if i.name == "p0"]
    assert len(infos) == 1 and not infos[0].ok and "ambiguous" in infos[0].problem


def test_dangling_and_looping_links_in_hr_lr_are_named(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "p", n_train=3, n_val=0)
    (pairs / "split.json").unlink()
    (pairs / "HR" / "p1.png").unlink()
    os.symlink(tmp_path / "gone.png", pairs / "HR" / "p1.png")  # dangling
    (pairs / "LR" / "p2.png").unlink()
    os.symlink(pairs / "LR" / "loop_b.png", pairs / "LR" / "p2.png")  # p2 -> loop_b -> p2
    os.symlink(pairs / "LR" / "p2.png", pairs / "LR" / "loop_b.png")
    by_name = {i.name: i for i in discover_pairs(pairs, 4)}
    assert by_name["p0"].ok
    assert "symbolic link to nothing" in by_name["p1"].problem and "symbolic link to nothing" in by_name["p2"].problem
    rc = main(["eval", "--pairs", str(pairs), "--split", "all", "--methods", "box", "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 1 and "skipping p1: unreadable file" in err and "skipping p2: unreadable file" in err, err  # skipped: 1


def test_the_same_input_twice_is_processed_once_and_a_dot_name_gives_a_visible_output(tmp_path, capsys):
    from PIL import Image

    a = save_png(tmp_path / "a.png", smooth_image(32, 32))
    dots = tmp_path / "..png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8) + 60).save(dots, format="PNG")
    out = tmp_path / "out"
    (tmp_path / "sub").mkdir()
    again = os.path.join(tmp_path, "sub", "..", "a.png")  # the same file by another path
    rc = main(["downscale", str(a), again, str(dots), "-o", str(out), "--method", "box"])
    err = capsys.readouterr().err
    assert rc == 0 and "wrote 2 images" in err and "is the same file as" in err, err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a_x4_box.png", "image_x4_box.png"], names
