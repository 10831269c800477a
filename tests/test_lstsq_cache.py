"""`adkviewer eval` (and the dataset view, through the same function) fits the least-squares kernel of a train split
once: the next run of the same files takes it from the cache, with the same numbers; a changed file, or a damaged
cache entry, is fitted again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from adkviewer.cli.entry import main
from core_helpers import box, make_pairs, save_png
from adk_model.data import discover_pairs
from adk_model.imageio import load_image
from adk_model.lstsq_cache import cached_lstsq, lstsq_key
from adk_model.split_pairs import fit_train_lstsq


def _eval(capsys, pairs: Path) -> tuple[dict, str]:
    code = main(["eval", "--pairs", str(pairs), "--methods", "bicubic", "lstsq", "--json", "--device", "cpu"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out), out.err


def test_a_second_eval_of_the_same_files_reuses_the_fit_with_the_same_numbers(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "pairs", n_train=3, n_val=2)
    first, err = _eval(capsys, pairs)
    assert "fitting the least-squares kernel on the train split" in err and "from the cache" not in err
    again, err = _eval(capsys, pairs)
    assert "fitting the least-squares kernel" not in err
    assert "lstsq fitted on the train split (3 pairs), from the cache" not in err  # --json: no summary line
    assert again["methods"]["lstsq"]["psnr"] == first["methods"]["lstsq"]["psnr"]
    assert again["lstsq_fit"] == first["lstsq_fit"]

    # a train LR changed on disk: its pair's key changes, so the kernel is fitted again and the score moves
    hr = load_image(pairs / "HR" / "p0.png").array
    save_png(pairs / "LR" / "p0.png", box(hr, 4))
    changed, err = _eval(capsys, pairs)
    assert "fitting the least-squares kernel on the train split" in err
    assert changed["methods"]["lstsq"]["psnr"] != first["methods"]["lstsq"]["psnr"]
    code = main(["eval", "--pairs", str(pairs), "--methods", "lstsq", "--device", "cpu"])
    assert code == 0 and "lstsq fitted on the train split (3 pairs), from the cache" in capsys.readouterr().err


def test_a_damaged_cache_entry_is_fitted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ADKVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    pairs = make_pairs(tmp_path / "pairs", n_train=2, n_val=1)
    infos = [p for p in discover_pairs(pairs, 4) if p.name in ("p0", "p1")]
    fresh = fit_train_lstsq(infos, 4, "mine", infos=infos)
    entry = tmp_path / "cache" / "lstsq" / f"{lstsq_key(infos, 4)}.safetensors"
    assert entry.is_file()
    kept = cached_lstsq(infos, 4, "now named so")
    assert kept is not None and kept.fitted_on == "now named so"
    assert np.array_equal(kept.weight, fresh.weight) and np.array_equal(kept.bias, fresh.bias)
    entry.write_bytes(b"\x00" * 64)
    assert cached_lstsq(infos, 4, "x") is None
    refit = fit_train_lstsq(infos, 4, "mine", infos=infos)
    assert np.array_equal(refit.weight, fresh.weight)
    assert cached_lstsq(infos, 4, "x") is not None  # the damaged entry was overwritten
    # another set of pairs is another entry
    assert lstsq_key(infos[:1], 4) != lstsq_key(infos, 4)


def test_a_cache_that_cannot_be_written_costs_only_the_next_fit(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("ADKVIEWER_CACHE_DIR", str(blocker))
    pairs = make_pairs(tmp_path / "pairs", n_train=2, n_val=1)
    infos = [p for p in discover_pairs(pairs, 4) if p.name in ("p0", "p1")]
    fit = fit_train_lstsq(infos, 4, "mine", infos=infos)
    assert fit.weight.shape == (3, 3 * 16 * 16) and cached_lstsq(infos, 4, "x") is None
