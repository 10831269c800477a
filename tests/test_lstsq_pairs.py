"""A least-squares fit from a pairs folder (the GUI's offer where none ships): its pairs, progress, cancel, file."""

from __future__ import annotations

import numpy as np
import pytest

from core_helpers import make_pairs
from adk_model.baselines import fit_lstsq, load_lstsq
from adk_model.data import discover_pairs, load_pair
from adk_model.errors import UserError
from adk_model.lstsq_pairs import fit_on_folder, fit_pairs, save_new_fit


def test_the_fit_uses_split_json_train_pairs_else_every_pair_and_equals_the_plain_fit(tmp_path):
    folder = make_pairs(tmp_path / "cam", scale=2, n_train=3, n_val=2, lr_size=(12, 14))
    chosen, words, bad = fit_pairs(folder, 2)
    assert [p.name for p in chosen] == ["p0", "p1", "p2"] and words == "cam train split (3 pairs)" and not bad
    seen = []
    fit = fit_on_folder(folder, 2, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)] and fit.scale == 2 and fit.taps == 8
    plain = fit_lstsq((load_pair(p, 2) for p in chosen), 2, taps=8)
    np.testing.assert_allclose(fit.weight, plain.weight, atol=1e-6)
    (folder / "split.json").unlink()
    chosen, words, _ = fit_pairs(folder, 2)
    assert len(chosen) == 5 and words == "cam, every pair (5 pairs)"
    with pytest.raises(UserError, match="set the scale|choose the scale"):
        fit_pairs(folder, 3)  # x2 pairs at x3: says which scale fits


def test_a_cancelled_fit_raises_and_a_saved_one_never_overwrites(tmp_path):
    folder = make_pairs(tmp_path / "cam", scale=2, n_train=2, n_val=1, lr_size=(12, 14))
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1  # after the first pair

    with pytest.raises(InterruptedError):
        fit_on_folder(folder, 2, cancelled=cancelled)
    fit = fit_on_folder(folder, 2)
    first = save_new_fit(fit, tmp_path / "fits", "cam")
    second = save_new_fit(fit, tmp_path / "fits", "cam")
    assert (first.name, second.name) == ("lstsq_x2_cam.safetensors", "lstsq_x2_cam-2.safetensors")
    assert load_lstsq(second).fitted_on == "cam train split (2 pairs)"
    assert len(discover_pairs(folder, 2)) == 3
