"""--loss: the training loss is L1 by default, or MSE (what PSNR measures), from the command line to the step."""

from __future__ import annotations

import pytest

from core_helpers import one_thread  # noqa: F401 (fixture)
from train_helpers import _cfg, pairs  # noqa: F401,F811 (fixture)
from adk_model.train import Trainer
from adkviewer.cli.args import build_parser
from adkviewer.cli.train import train_config

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_command_line_picks_the_loss_and_l1_is_the_default(pairs):
    argv = ["train", "--pairs", str(pairs), "--init", "scratch"]
    assert train_config(build_parser().parse_args(argv), argv).loss == "l1"
    argv += ["--loss", "mse"]
    assert train_config(build_parser().parse_args(argv), argv).loss == "mse"


def test_the_same_first_step_under_mse_reports_the_squared_error(pairs, tmp_path):
    """Same seed, same batch, same model: the first step's loss is the mean absolute error or its squared kin."""
    losses = {}
    for loss in ("l1", "mse"):
        t = Trainer(_cfg(pairs, tmp_path / loss, init="scratch", loss=loss))
        t.setup()
        losses[loss] = t.step()
    assert 0 < losses["mse"] < losses["l1"]  # errors below 1: squares are smaller
    assert losses["mse"] >= losses["l1"] ** 2 - 1e-9  # mean of squares >= square of the mean
