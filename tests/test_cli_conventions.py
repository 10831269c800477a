"""CLI conventions (issue 17 item 6): --version everywhere, a top-level help that lists the subcommands, --help
that never waits for torch, and device names checked by adk_model's torch-free list (cuda:N included)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from adkviewer.cli import main
from adkviewer.cli.args import SUBCOMMANDS, subcommand_lines


def _exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_every_subcommand_prints_the_installed_version(cmd, capsys):
    assert _exit([cmd, "--version"]) == 0
    assert capsys.readouterr().out.strip() == f"adkviewer {version('adkviewer')}"


def test_top_level_help_lists_each_subcommand_on_its_own_line(capsys):
    assert _exit(["--help"]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    listed = subcommand_lines()
    for name, line in listed:
        assert line and f"{name} {line}" in lines
    assert [name for name, _ in listed] == list(SUBCOMMANDS)  # each subcommand, once, with its parser's own line


def test_help_never_imports_torch():
    """Building every parser and printing every --help leaves torch (and numpy, Pillow) unimported: the help of
    'adkviewer downscale' took 3-7 s when the parsers read their choices from torch-importing modules."""
    code = (
        "import sys\n"
        "from adkviewer.cli import main\n"
        f"for argv in ([], *[[c] for c in {list(SUBCOMMANDS)!r}]):\n"
        "    try:\n"
        "        main([*argv, '--help'])\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code == 0, (argv, stop.code)\n"
        "print('LOADED', sorted(m for m in ('torch', 'numpy', 'PIL', 'safetensors') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


@pytest.mark.parametrize("cmd", ["downscale", "eval", "train"])
def test_device_takes_cuda_n_and_refuses_a_typo_in_one_sentence(cmd, capsys):
    from adk_model.device_names import CHOICES
    from adkviewer.cli.args import build_parser

    required = {"downscale": ["x.png", "-o", "out"], "eval": ["--pairs", "p"], "train": ["--pairs", "p"]}[cmd]
    for name in (*CHOICES, "cuda:1", "CUDA:0"):
        assert build_parser().parse_args([cmd, *required, "--device", name]).device == name.lower()
    assert _exit([cmd, *required, "--device", "gpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "Unknown device 'gpu'" in err and all(name in err for name in (*CHOICES, "cuda:N"))


def test_the_gui_takes_the_same_device_names(capsys):
    from adkviewer.cli.args import build_gui_parser

    assert build_gui_parser().parse_args(["--device", "cuda:2"]).device == "cuda:2"
    assert _exit(["--device", "cuda:x"]) == 2
    assert "Unknown device 'cuda:x'" in capsys.readouterr().err


def test_an_absent_gpu_index_is_one_sentence(monkeypatch):
    import torch

    from adk_model.devices import resolve_device
    from adk_model.errors import UserError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(UserError, match=r"cuda:2 was asked for, but this machine has 2 CUDA GPUs \(cuda:0 to cuda:1\)"):
        resolve_device("cuda:2")
