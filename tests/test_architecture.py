"""Layering rule of docs/CONVENTIONS.md: `model/` is Qt-free and never imports `adkviewer/`."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "model"
QT_PREFIXES = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "qtpy", "shiboken6", "PySide2", "shiboken2", "superqt")
FORBIDDEN = QT_PREFIXES + ("adkviewer",)


def _forbidden(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in FORBIDDEN)


IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
import model
names = []
for info in pkgutil.walk_packages(model.__path__, "model."):
    names.append(info.name)
    importlib.import_module(info.name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def test_importing_every_model_module_loads_no_qt_and_no_adkviewer():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_API", "PYTEST_QT_API")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", IMPORT_ALL], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # The walk must really have found the package (guards against an empty, vacuous scan).
    for expected in ("model.adknet", "model.resample", "model.inference", "model.weights", "model.train",
                     "model.methods", "model.evaluate"):
        assert expected in result["imported"]
    bad = [m for m in result["modules"] if _forbidden(m)]
    assert not bad, f"importing model/ pulled in {bad}"


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module name imported by a file: import / from-import (absolute) and importlib / __import__ strings."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def test_model_sources_never_import_qt_or_adkviewer():
    files = sorted(MODEL_DIR.rglob("*.py"))
    assert len(files) >= 10
    bad = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        bad += [f"{path.relative_to(ROOT)}:{line}: {name}" for line, name in _imports(tree) if _forbidden(name)]
    assert not bad, "model/ must stay Qt-free and independent of adkviewer/:\n" + "\n".join(bad)


def test_scanner_detects_forbidden_imports():
    """The static scan is not vacuous: it sees every form of import it claims to check."""
    src = ("import PySide6.QtCore\nfrom pyqtgraph import mkPen\nimport importlib\n"
           "importlib.import_module('qtpy')\n__import__('adkviewer.cli')\nfrom . import adknet\nimport numpy\n")
    names = [n for _, n in _imports(ast.parse(src))]
    assert [n for n in names if _forbidden(n)] == ["PySide6.QtCore", "pyqtgraph", "qtpy", "adkviewer.cli"]
