"""One staleness key, Qt-free: every change of the session moves `Session.generation` on exactly once (the part
that changed), results go stale with it, and the caches and the Differences jobs are checked against it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from adk_model.adknet import ADKNet, preset
from adk_model.weights import save_weights, shipped_weights

from adkviewer.state.generation import Generation
from adkviewer.state.session import GT, MethodResult, Session
from adkviewer.tabs.diff.diff_state import DiffState, compute_maps
from tests.test_commands import _commands


def _png(path, h=48, w=48, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _with_results(session: Session, *methods: str) -> None:
    h, w = session.lr_shape
    for i, m in enumerate(methods):
        session.results[m] = MethodResult(m, lr=np.full((h, w, 3), 0.1 * (i + 1), np.float32), seconds=0.0)


def test_generation_bumps_name_their_parts_and_results_ignore_the_ground_truth():
    g = Generation()
    assert g.bumped("image") == Generation(image=1)
    assert g.bumped("ground_truth", "scale") == Generation(scale=1, ground_truth=1)  # one change, two parts
    assert g.bumped("ground_truth").results == g.results  # a ground truth only scores results
    assert g.bumped("image").methods == g.methods != g.bumped("device").methods  # a MethodSet outlives an image
    with pytest.raises(ValueError, match="unknown generation part"):
        g.bumped("colour")


def test_every_command_moves_the_generation_on_once(tmp_path):
    cmd, _ev, jobs, _st = _commands()
    s = cmd.session
    before = s.generation
    assert cmd.open_image(_png(tmp_path / "a.png"))
    assert s.generation == before.bumped("image")  # once (it was bumped twice per open: by the session and restart)
    for change, part in ((lambda: cmd.set_scale(2), "scale"), (lambda: cmd.set_device("cpu", 64), "device"),
                         (lambda: cmd.set_weights(None), "weights")):
        _with_results(s, "bicubic")
        before = s.generation
        change()
        assert s.generation == before.bumped(part) and s.results == {}, part
    assert jobs.calls[-3:] == ["restart", "restart", "restart"]  # the work restarts; the key moved on once


def test_a_ground_truth_changes_its_part_and_keeps_results_unless_it_sets_the_scale(tmp_path):
    s = Session()
    s.open_image(_png(tmp_path / "hr.png", 48, 48))
    _with_results(s, "bicubic")
    before = s.generation
    s.open_ground_truth(_png(tmp_path / "lr4.png", 12, 12, seed=1))
    assert s.generation == before.bumped("ground_truth") and "bicubic" in s.results
    s.clear_ground_truth()
    assert s.generation == before.bumped("ground_truth").bumped("ground_truth") and "bicubic" in s.results
    before = s.generation
    s.open_ground_truth(_png(tmp_path / "lr2.png", 24, 24, seed=2))  # x2: the scale follows it
    assert s.scale == 2 and s.generation == before.bumped("ground_truth", "scale") and s.results == {}
    before = s.generation
    s.set_scale(4)  # the x2 ground truth is set aside: one change of two parts
    assert s.generation == before.bumped("scale", "ground_truth") and not s.has_gt


def test_the_weights_and_method_set_caches_key_on_the_generation(tmp_path):
    s = Session(device="cpu")
    s.open_image(_png(tmp_path / "a.png"))
    ms = s.method_set()
    s.open_image(_png(tmp_path / "b.png", seed=3))
    assert s.method_set() is ms  # another image: the loaded model stays
    mine = tmp_path / "mine.safetensors"
    torch.manual_seed(0)
    save_weights(ADKNet(preset("lite", scale=2)), mine, {"name": "x2 net"})
    s.set_weights(mine)
    assert s.method_set() is not ms
    assert s.adknet_weights() == shipped_weights(4)[0]  # weights for x2: at x4 the shipped ones run
    shutil.copy(shipped_weights(4)[0], mine)  # rewritten as x4 weights: the answer is cached for this generation
    assert s.adknet_weights() == shipped_weights(4)[0]
    s.set_weights(mine)  # "call this after new weights were written": the next generation reads the file again
    assert s.adknet_weights() == mine


def test_difference_maps_of_a_stale_job_are_not_kept(tmp_path):
    s = Session()
    s.open_image(_png(tmp_path / "a.png"))
    _with_results(s, "nearest", "bicubic")
    st = DiffState(s)
    st.choose(image="nearest", reference="bicubic", mode="absolute", channel="G")
    assert st.result() is None and st.waiting()  # nothing is computed on the caller's thread
    req = st.request()
    assert req.channels == ("R", "G", "B", "luma")
    maps = compute_maps(req)
    # within the generation, nearest is recomputed: the job read the old array, its maps are dropped
    _with_results(s, "nearest")
    st.source_changed("nearest")
    assert not st.current(req) and not st.store(req, maps) and st.result() is None
    req = st.request()
    assert st.store(req, compute_maps(req)) and not st.waiting() and st.request() is None
    want = np.abs(s.results["nearest"].lr[..., 1] - s.results["bicubic"].lr[..., 1])
    np.testing.assert_allclose(st.result().err, want, atol=1e-6)
    # a new generation (another device): the same arrays no longer count, the key says so
    st.choose(mode="signed")
    req = st.request()
    s.set_device("cpu")
    assert not st.store(req, compute_maps(req))


def test_a_ground_truth_map_follows_the_ground_truth_generation(tmp_path):
    s = Session()
    s.open_image(_png(tmp_path / "a.png"))
    s.open_ground_truth(_png(tmp_path / "lr.png", 12, 12, seed=1))
    _with_results(s, "bicubic")
    st = DiffState(s)
    st.choose(image="bicubic", reference=GT)
    req = st.request()
    old_key = req.ref_key
    s.open_ground_truth(_png(tmp_path / "lr_b.png", 12, 12, seed=2))  # another ground truth, same scale
    assert st.key(GT) != old_key and not st.store(req, compute_maps(req))
    assert st.key("bicubic") == req.image_key  # the method's key did not move: its result is still valid


def test_a_new_least_squares_fit_moves_only_its_part_and_drops_only_its_result(tmp_path):
    s = Session(device="cpu")
    s.open_image(_png(tmp_path / "a.png"))
    _with_results(s, "bicubic", "lstsq")
    ms, before = s.method_set(), s.generation
    s.set_lstsq(s.scale, tmp_path / "my_fit.safetensors")
    assert s.generation == before.bumped("lstsq") and set(s.results) == {"bicubic"}  # the others stay
    assert s.generation.output_of("bicubic") == before.output_of("bicubic")  # their results are still current
    assert s.generation.output_of("lstsq") != before.output_of("lstsq") and s.method_set() is not ms
    s.set_lstsq(2, tmp_path / "x2_fit.safetensors")  # another scale's fit: nothing here changes
    assert s.generation == before.bumped("lstsq")
