"""The dataset view's Qt-free parts: the pairs of a split (shared with eval), stepping through them, scoring
through eval's metric path with a cache on disk, problems that touch one pair only, and the CSV exports."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

import adk_model.evaluate as evaluate_module
from adk_model.errors import UserError
from adk_model.evaluate import evaluate
from adk_model.method_registry import external_method
from adk_model.methods import MethodSet
from adk_model.split_pairs import default_split, fit_train_lstsq, split_pairs
from adkviewer.cli.evaluate import load_eval_pairs
from adkviewer.state.dataset import DatasetState
from adkviewer.state.dataset_export import PER_PAIR_COLUMNS, SUMMARY_COLUMNS, per_pair_csv, summary_csv
from adkviewer.state.dataset_scoring import CACHE_ENV, MethodsSpec, ScoreCache, ScoringRun, cache_dir, score_rows
from core_helpers import make_pairs, save_png, smooth_image

METHODS = ("nearest", "box", "bicubic", "lstsq")


@pytest.fixture
def pairs(tmp_path):
    return make_pairs(tmp_path / "pairs", 4, n_train=3, n_val=3, lr_size=(12, 16))


def _score(state: DatasetState, cache: ScoreCache, methods=METHODS, extras=()) -> list[tuple]:
    """One synchronous scoring run of the open folder; what it reported."""
    reports: list[tuple] = []

    def report(kind, *args):
        reports.append((kind, *args))
        if kind == "pair":
            state.add_scores(*args)

    spec = MethodsSpec(scale=state.scale, methods=tuple(methods), extras=tuple((e.key, e) for e in extras))
    run = ScoringRun(state.token, [(r.info, state.names_of(r)) for r in state.usable], list(state.pairs.train),
                     str(state.folder), spec, cache)
    score_rows(run, lambda: False, report)
    return reports


def test_split_pairs_is_what_eval_uses_and_the_gui_lists_problems(pairs):
    for split in ("val", "train", "all"):
        sp = split_pairs(pairs, split)
        scale, chosen, train, _, _ = load_eval_pairs(str(pairs), split, None)
        assert (sp.scale, [p.name for p in sp.chosen], [p.name for p in sp.train]) == \
            (scale, [p.name for p in chosen], [p.name for p in train])
    assert [p.name for p in split_pairs(pairs, "val").chosen] == ["p3", "p4", "p5"]
    assert default_split(pairs) == "val"
    (pairs / "split.json").unlink()
    assert default_split(pairs) == "all"
    make_pairs(pairs, 4, n_train=3, n_val=3, lr_size=(12, 16))
    save_png(pairs / "LR" / "p4.png", smooth_image(10, 10))  # wrong size: unusable
    with pytest.raises(UserError, match="p4"):
        split_pairs(pairs, "val")  # eval: a chosen pair that is unusable is the error
    sp = split_pairs(pairs, "val", strict=False)  # the GUI: listed with its reason, skipped
    assert [p.name for p in sp.chosen] == ["p3", "p5"] and [p.name for p in sp.problems] == ["p4"]
    st = DatasetState()
    st.open(pairs)
    assert st.split == "val" and [r.name for r in st.rows] == ["p3", "p5", "p4"]
    assert "10x10" in st.rows[2].problem and not st.rows[2].ok
    with pytest.raises(UserError, match="does not exist"):
        st.open(pairs / "nothing")
    assert st.folder == pairs  # unchanged


def test_next_and_previous_skip_problem_pairs_and_follow_the_table_order(pairs):
    save_png(pairs / "LR" / "p4.png", smooth_image(10, 10))
    st = DatasetState()
    st.open(pairs, "all")
    names = [r.name for r in st.rows]
    assert names[-1] == "p4" and len(names) == 6
    assert st.neighbour(range(6), +1) == 0 and st.neighbour(range(6), -1) == 4  # none current: first / last
    st.go_to(0)
    order = [4, 3, 2, 1, 0, 5]  # a sorted table's order
    assert st.neighbour(order, +1) is None and st.neighbour(order, -1) == 1
    st.go_to(3)
    assert st.neighbour(range(6), +1) == 4 and st.neighbour(range(6), +1, start=4) is None  # p4 (row 5) skipped
    assert st.go_to(5) is None and st.index == 3  # a problem row does not open


def test_scores_equal_eval_and_a_second_run_comes_from_the_cache(pairs, tmp_path, monkeypatch):
    st = DatasetState()
    st.open(pairs, "val")
    cache = ScoreCache(tmp_path / "cache" / "scores.json")
    reports = _score(st, cache)
    assert any(r[0] == "fit" for r in reports)  # lstsq fitted on the train split, as eval fits it
    ms = MethodSet(scale=4)
    ms.lstsq_fit = fit_train_lstsq(st.pairs.train, 4, "train")
    from adk_model.data import load_pair
    res = evaluate(((p.name, *load_pair(p, 4)) for p in st.pairs.chosen), list(METHODS), ms)
    got = st.summary(METHODS)
    for m in METHODS:
        for k in ("psnr", "psnr_y", "ssim"):
            assert got[m][k] == pytest.approx(res.methods[m][k], abs=1e-9), (m, k)
        assert got[m]["pairs"] == 3
    assert (tmp_path / "cache" / "scores.json").is_file()
    # Reopened (a new cache object reads the file): nothing is scored or fitted again.
    monkeypatch.setattr(evaluate_module, "score_pair", lambda *a, **k: pytest.fail("scored again"))
    st2 = DatasetState()
    st2.open(pairs, "val")
    reports = _score(st2, ScoreCache(tmp_path / "cache" / "scores.json"))
    assert not any(r[0] == "fit" for r in reports) and st2.summary(METHODS) == got
    monkeypatch.undo()
    # A changed LR file scores that pair again, and only that pair.
    lr = np.asarray(Image.open(pairs / "LR" / "p4.png"), np.float32) / 255
    save_png(pairs / "LR" / "p4.png", np.clip(lr + 0.05, 0, 1))
    os.utime(pairs / "LR" / "p4.png", ns=(1, 10**18))
    seen = []
    real = evaluate_module.score_pair
    monkeypatch.setattr(evaluate_module, "score_pair", lambda hr, lr, methods, *a, **k: (seen.append(methods),
                                                                                         real(hr, lr, methods, *a, **k))[1])
    st3 = DatasetState()
    st3.open(pairs, "val")
    _score(st3, ScoreCache(tmp_path / "cache" / "scores.json"))
    assert len(seen) == 1 and st3.scores["p3"] == st.scores["p3"] and st3.scores["p4"] != st.scores["p4"]


def test_a_missing_or_wrong_size_external_file_touches_only_its_pair(pairs, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    for p in ("p3", "p4", "p5"):
        hr = Image.open(pairs / "HR" / f"{p}.png").convert("RGB")
        hr.resize((hr.width // 4, hr.height // 4), Image.BICUBIC).save(out / f"{p}_x4.png")
    (out / "p4_x4.png").unlink()
    save_png(out / "p5_x4.png", smooth_image(8, 8))
    ext = external_method("mine", str(out), "{stem}_x4.png")
    st = DatasetState()
    st.open(pairs, "val")
    _score(st, ScoreCache(tmp_path / "c.json"), ("bicubic", ext.key), [ext])
    assert abs(st.scores["p3"][ext.key]["psnr"] - st.scores["p3"]["bicubic"]["psnr"]) < 0.01
    assert "p4" in st.problems["p4"][ext.key] and "p5" in st.problems["p5"][ext.key]
    assert "8x8" in st.problems["p5"][ext.key]
    assert all("bicubic" in st.scores[p] for p in ("p3", "p4", "p5"))
    assert st.summary(("bicubic", ext.key))[ext.key]["pairs"] == 1


def test_csv_exports_use_evals_key_names(pairs, tmp_path):
    st = DatasetState()
    st.open(pairs, "val")
    _score(st, ScoreCache(tmp_path / "c.json"), ("adknet", "bicubic"))
    rows = list(csv.DictReader(io.StringIO(per_pair_csv(st, ("adknet", "bicubic")))))
    assert tuple(rows[0]) == PER_PAIR_COLUMNS and len(rows) == 6
    assert tuple(rows[0])[:10] == ("pair", "method", "label", "kind", "psnr", "psnr_y", "ssim", "seconds", "pairs",
                                   "problem")  # eval's CSV columns
    p3 = {r["method"]: r for r in rows if r["pair"] == "p3"}
    assert float(p3["bicubic"]["psnr"]) == pytest.approx(st.scores["p3"]["bicubic"]["psnr"], abs=1e-4)
    summary = list(csv.DictReader(io.StringIO(summary_csv(st, ("adknet", "bicubic")))))
    assert tuple(summary[0]) == SUMMARY_COLUMNS and [r["method"] for r in summary] == ["adknet", "bicubic"]
    k, n = st.beaten(("adknet", "bicubic"))["bicubic"]
    assert summary[1]["beaten_by_adknet"] == f"{k} of {n}" and n == 3
    margin = st.margin("p3", ("adknet", "bicubic"))
    assert margin == pytest.approx(st.scores["p3"]["adknet"]["psnr"] - st.scores["p3"]["bicubic"]["psnr"])


def test_the_cache_lives_in_the_folder_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here"
    c = ScoreCache()
    c.put("k", {"psnr": 1.0})
    c.save()
    assert json.loads((tmp_path / "here" / "dataset_scores.json").read_text())["scores"] == {"k": {"psnr": 1.0}}
    (tmp_path / "here" / "dataset_scores.json").write_text("{broken")
    assert ScoreCache().get("k") is None  # a broken file starts afresh
