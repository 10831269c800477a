"""What a normal install gets: pyproject.toml installs every folder, `model/` as `adk_model` and `resources/` as
`adk_model.resources`; the wheel holds the package data and nothing generic at top level; the sdist its tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = {"adkviewer": "adkviewer", "model": "adk_model", "resources": "adk_model.resources"}
SOURCES = ("adkviewer", "model", "resources", "tests", "tools", ".ci", "pyproject.toml", "README.md", "LICENSE",
           "MANIFEST.in", "main.py")


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _files(folder: Path) -> set[str]:
    """Every file under a folder, relative to it, bytecode caches aside."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_every_folder_is_a_listed_package_under_its_import_name():
    tool = _pyproject()["tool"]["setuptools"]
    assert tool["package-dir"] == {"adk_model": "model", "adk_model.resources": "resources"}
    folders = [p for top in PACKAGE_DIR for p in [ROOT / top, *(ROOT / top).rglob("*")]
               if p.is_dir() and p.name != "__pycache__"]
    expected = {".".join([PACKAGE_DIR[p.relative_to(ROOT).parts[0]], *p.relative_to(ROOT).parts[1:]]) for p in folders}
    assert {"adk_model.resources.weights", "adkviewer.tabs.train"} <= expected
    assert set(tool["packages"]) == expected


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """A wheel and an sdist built by setuptools from a copy of the sources (the tree itself stays clean)."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("building needs setuptools >= 77 (PEP 639 license fields)")
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    code = ("import sys; from setuptools import build_meta as b; out = sys.argv[1]; "  # the hooks rewrite sys.argv
            "w = b.build_wheel(out); s = b.build_sdist(out); print('BUILT', w, s)")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel, sdist = next(line for line in proc.stdout.splitlines() if line.startswith("BUILT ")).split()[1:]
    return {"wheel": out / wheel, "sdist": out / sdist}


def test_wheel_holds_the_package_data_and_no_generic_top_level_name(built):
    with zipfile.ZipFile(built["wheel"]) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {n.split("/")[0] for n in names} == {"adk_model", "adkviewer", "adkviewer-0.1.0.dist-info"}
    data = {n[len("adk_model/resources/"):] for n in names if n.startswith("adk_model/resources/")}
    assert "weights/adknet_x4_lite.safetensors" in data and data == _files(ROOT / "resources")
    assert {f"adk_model/{f}" for f in _files(ROOT / "model")} <= names
    assert "License-Expression: MIT" in metadata and "adkviewer-0.1.0.dist-info/licenses/LICENSE" in names


def test_sdist_holds_what_its_tests_need(built):
    with tarfile.open(built["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for folder in ("tests", "resources", "model", "adkviewer"):
        assert {f"{folder}/{f}" for f in _files(ROOT / folder)} <= names, folder
    assert {"LICENSE", "pyproject.toml", "tools/gpu_train.sh", ".ci/constraints-min.txt"} <= names


def test_declared_lower_bounds_are_the_versions_ci_installs_as_minimums():
    """.ci/run runs the suite at .ci/constraints-min.txt; that only proves the floors if the two agree."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = _pyproject()["project"]
    floors = {}
    for line in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        req = Requirement(line)
        floors[req.name.lower()] = Version(next(s.version for s in req.specifier if s.operator == ">="))
    pins = {}
    for line in (ROOT / ".ci" / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        if line.split("#")[0].strip():
            name, _, version = line.split("#")[0].strip().partition("==")
            pins[name.lower()] = Version(version)
    assert len(floors) >= 10 and pins == floors


def test_version_flag_prints_the_installed_distributions_version(capsys):
    from importlib.metadata import version

    from adkviewer.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"adkviewer {version('adkviewer')}"
    assert version("adkviewer") == _pyproject()["project"]["version"]
