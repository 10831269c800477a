"""The programs keep freed memory for reuse (glibc), which the tiled CPU forward depends on for its speed."""

from __future__ import annotations

import sys

import pytest

from adkviewer.cli import entry as cli
from adk_model.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_is_accepted_by_glibc():
    assert keep_freed_memory() is True


def test_the_program_entry_point_asks_for_it(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(1) or True)
    assert cli.main(["downscale", str(tmp_path / "missing.png"), "-o", str(tmp_path / "out")]) != 0
    assert calls == [1]
    assert "missing.png" in capsys.readouterr().err
