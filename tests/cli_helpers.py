"""Shared pieces of the `adkviewer` CLI tests (test_cli_*.py): the pairs and weights fixtures, running a command
(plain or on a pretend terminal), and the one-error-line check every user mistake must pass."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from adkviewer.cli.entry import main
from core_helpers import make_pairs, perturbed, tiny_config
from adk_model.data import discover_pairs, load_pair, select
from adk_model.splits import read_split
from adk_model.metrics import compute_metrics
from adk_model.weights import save_weights

ROOT = Path(__file__).resolve().parent.parent
S = 4


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_pairs(tmp_path_factory.mktemp("pairs"), scale=S, n_train=3, n_val=2, lr_size=(16, 20))


@pytest.fixture
def pairs(pristine, tmp_path) -> Path:
    """A private copy that a test may damage."""
    return Path(shutil.copytree(pristine, tmp_path / "pairs"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return save_weights(perturbed(tiny_config()), tmp_path_factory.mktemp("w") / "tiny.safetensors")


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so the progress bars draw (they are off for logs and pipes)."""

    def isatty(self) -> bool:
        return True


def _run_tty(monkeypatch, argv: list[str]) -> tuple[int, str]:
    err = _Terminal()
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", err)
        code = main([str(a) for a in argv])
    return code, err.getvalue()


def _one_error(code: int, err: str) -> str:
    """A user mistake: non-zero exit, exactly one 'adkviewer: error:' line, and no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("adkviewer: error:")]
    assert code != 0, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _split_pairs(folder: Path, which: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    split = read_split(folder)
    infos = select(discover_pairs(folder, S), split.val if which == "val" else split.train)
    return [(p.name, *load_pair(p, S)) for p in infos]


def _expected(per_pair_outputs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    scores = [compute_metrics(out, lr) for out, lr in per_pair_outputs]
    return {k: float(np.mean([s[k] for s in scores])) for k in ("psnr", "psnr_y", "ssim")}
