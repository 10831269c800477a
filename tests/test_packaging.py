"""pyproject.toml installs every package folder of the repository, `model/` under its import name `adk_model`."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_folder_is_listed_and_model_installs_as_adk_model():
    tool = _pyproject()["tool"]["setuptools"]
    assert tool["package-dir"]["adk_model"] == "model"
    folders = {".".join(p.parent.relative_to(ROOT).parts) for d in ("adkviewer", "model")
               for p in (ROOT / d).rglob("__init__.py")}
    expected = {("adk_model" + f[len("model"):]) if f.split(".")[0] == "model" else f for f in folders}
    assert len(expected) > 10 and set(tool["packages"]) == expected
