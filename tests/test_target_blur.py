"""--target-blur: LR targets of a training run blurred by a random Gaussian (a softer lens than the pairs'), off by
default and then leaving every crop as before."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core_helpers import one_thread  # noqa: F401 (fixture)
from train_helpers import _cfg, pairs  # noqa: F401,F811 (fixture)
from adk_model.data import PairCropDataset, gaussian_blur
from adk_model.train import Trainer
from adkviewer.cli.args import build_parser
from adkviewer.cli.train import train_config

pytestmark = pytest.mark.usefixtures("one_thread")


def _pairs(n=2, size=24, scale=2):
    rng = np.random.default_rng(0)
    return [(rng.random((size * scale, size * scale, 3), dtype=np.float32),
             rng.random((size, size, 3), dtype=np.float32)) for _ in range(n)]


def test_the_blur_keeps_the_mean_lowers_the_variance_and_zero_is_the_identity():
    img = torch.rand(3, 20, 20, generator=torch.Generator().manual_seed(0))
    assert gaussian_blur(img, 0.0) is img
    soft = gaussian_blur(img, 1.0)
    assert soft.shape == img.shape
    assert torch.allclose(soft.mean(), img.mean(), atol=0.01) and soft.var() < img.var() / 2
    assert gaussian_blur(img, 2.0).var() < soft.var()


def test_off_by_default_the_crops_and_their_random_stream_are_those_of_before():
    plain = PairCropDataset(_pairs(), 2, 8)
    off = PairCropDataset(_pairs(), 2, 8, target_blur=0.0)
    on = PairCropDataset(_pairs(), 2, 8, target_blur=1.5)
    a, b, c = (d.batch(torch.Generator().manual_seed(3), 4) for d in (plain, off, on))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    first, blurred = plain.sample(torch.Generator().manual_seed(3)), on.sample(torch.Generator().manual_seed(3))
    assert torch.equal(first[0], blurred[0])  # the same crop, and its HR input is never touched
    assert c[1].var() < a[1].var() and blurred[1].var() < first[1].var()  # the targets are softer


def test_the_command_line_sets_it_refuses_nonsense_and_the_run_uses_it(pairs, tmp_path, capsys):
    argv = ["train", "--pairs", str(pairs), "--init", "scratch"]
    assert train_config(build_parser().parse_args(argv), argv).target_blur == 0.0
    cfg = train_config(build_parser().parse_args(argv + ["--target-blur", "0.6"]), argv)
    assert cfg.target_blur == 0.6
    for bad in ("nan", "-1", "4", "soft"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(argv + ["--target-blur", bad])
        assert "--target-blur" in capsys.readouterr().err
    t = Trainer(_cfg(pairs, tmp_path / "r", init="scratch", target_blur=0.6))
    t.setup()
    assert t.dataset.target_blur == 0.6 and np.isfinite(t.step())
