"""Layering rule of docs/CONVENTIONS.md: `model/` is Qt-free and never imports `adkviewer/`."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "model"
# Repository folder -> import name: the folder model/ installs as `adk_model` (pyproject.toml's package-dir).
IMPORT_NAME = {"adkviewer": "adkviewer", "model": "adk_model"}
QT_PREFIXES = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "qtpy", "shiboken6", "PySide2", "shiboken2", "superqt")
FORBIDDEN = QT_PREFIXES + ("adkviewer",)


def _forbidden(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in FORBIDDEN)


IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
import adk_model
names = []
for info in pkgutil.walk_packages(adk_model.__path__, "adk_model."):
    names.append(info.name)
    importlib.import_module(info.name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def _import_in_a_fresh_python(script: str) -> dict:
    """Run an import script in a new interpreter (nothing imported by the tests leaks in); its JSON answer."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_API", "PYTEST_QT_API")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_every_model_module_loads_no_qt_and_no_adkviewer():
    result = _import_in_a_fresh_python(IMPORT_ALL)
    # The walk must really have found the package (guards against an empty, vacuous scan).
    for expected in ("adk_model.adknet", "adk_model.resample", "adk_model.inference", "adk_model.weights", "adk_model.train",
                     "adk_model.methods", "adk_model.evaluate"):
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


OLD_NAME = re.compile(r"(?:^|[\n;])\s*(?:from model[. ]|import model\b)")


def imports_of_the_folder_name(root: Path) -> list[str]:
    """Imports of the top-level name `model`, in code or in code strings run by tests: in a checkout the folder
    model/ makes them work, but no install has that name (it is `adk_model`). This file's planted ones aside."""
    bad = []
    folders = ("adkviewer", "model", "tests", "bench", "tools")
    for path in sorted(p for d in folders for p in (root / d).rglob("*.py") if p != Path(__file__).resolve()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = [(line, n) for line, n in _imports(tree) if n == "model" or n.startswith("model.")]
        names += [(n.lineno, "a code string") for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and OLD_NAME.search(n.value)]
        bad += [f"{path.relative_to(root)}:{line}: {name}" for line, name in names]
    return bad


def test_nothing_imports_the_folder_name_model():
    assert len(list((ROOT / "tests").glob("test_*.py"))) > 10  # the scan sees the real tree
    bad = imports_of_the_folder_name(ROOT)
    assert not bad, "import adk_model (the installed name of model/), not model:\n" + "\n".join(bad)


def test_folder_name_check_fails_on_planted_imports(tmp_path):
    """The check is not vacuous: each form of a stale import is named, and the installed name passes."""
    files = {"adkviewer/a.py": "import model.adknet\nfrom adk_model import weights\n",
             "tests/test_b.py": "from model import weights\nmodel.train(True)\n",
             "tools/c.py": 'CODE = "import os\\nfrom model.atomic import atomic_open"\nimport adk_model.train\n'}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert imports_of_the_folder_name(tmp_path) == [
        "adkviewer/a.py:1: model.adknet", "tests/test_b.py:1: model", "tools/c.py:1: a code string"]


# ---------------------------------------------------------------------------- the layers inside adkviewer/
#
# cli/ and state/ (and every tab's <tab>_state.py) import no Qt; nothing in the GUI imports the CLI; only the
# shell imports main_window; a tab imports neither the shell nor another tab; widgets import no tab and no
# shell; qt_compat is imported once, by the GUI package; no import cycles in adkviewer/ or model/.

GUI_PACKAGES = ("adkviewer.gui", "adkviewer.shell", "adkviewer.widgets", "adkviewer.tabs", "adkviewer.dataset")
CLI_DOOR_TO_GUI = "adkviewer.shell.app"  # the one GUI module the CLI may import, inside a function (run_gui)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    parts[0] = IMPORT_NAME[parts[0]]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _edges(root: Path, packages: tuple[str, ...] = ("adkviewer", "model")) -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at module level) for every import in the packages' files, relative ones
    resolved and `from pkg import submodule` counted as importing the submodule."""
    files = {_module_name(root, p): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    out = []
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        top_level = {id(n) for n in tree.body} | {id(n) for s in tree.body if isinstance(s, (ast.If, ast.Try))
                                                    for n in ast.walk(s)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in files]
                targets = subs or [target]
            else:
                targets = [n for _, n in _imports(node)] if isinstance(node, ast.Call) else []
            for t in targets:
                out.append((mod, t, node.lineno, id(node) in top_level))
    return out


def _cycles(edges: list[tuple[str, str, int, bool]]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for a, b, _, _ in edges:
        if a != b and _under(b, "adkviewer") or _under(b, "adk_model"):
            graph.setdefault(a, set()).add(b)
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    return found


def _is_qt(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in QT_PREFIXES)


def _qt_free(mod: str) -> bool:
    return (_under(mod, "adkviewer.cli") or _under(mod, "adkviewer.state")
            or (_under(mod, "adkviewer.tabs") and mod.endswith("_state")))


def layer_violations(root: Path) -> list[str]:
    """Every broken layering rule in the tree at `root`, one line each (empty: the tree is clean)."""
    bad = []
    for a, b, line, top in _edges(root):
        where = f"{a}:{line} imports {b}"
        if _qt_free(a) and _is_qt(b):
            bad.append(f"{where}: CLI and state modules are Qt-free")
        if _under(a, "adkviewer.cli") and any(_under(b, g) for g in GUI_PACKAGES) and (
                b != CLI_DOOR_TO_GUI or top):
            bad.append(f"{where}: the CLI reaches the GUI only through {CLI_DOOR_TO_GUI}, inside run_gui")
        if _under(a, "adkviewer.state") and (any(_under(b, g) for g in GUI_PACKAGES) or _under(b, "adkviewer.cli")):
            bad.append(f"{where}: state/ is below the GUI and the CLI")
        if _under(a, "adkviewer.tabs") and a.endswith("_state") and any(_under(b, g) for g in GUI_PACKAGES):
            bad.append(f"{where}: a tab's state module stands on state/ and model/ only")
        if any(_under(a, g) for g in GUI_PACKAGES) and _under(b, "adkviewer.cli"):
            bad.append(f"{where}: nothing in the GUI imports the CLI")
        if b == "adkviewer.shell.main_window" and not _under(a, "adkviewer.shell"):
            bad.append(f"{where}: only the shell imports main_window")
        if _under(a, "adkviewer.tabs"):
            own = ".".join(a.split(".")[:3])
            if _under(b, "adkviewer.shell"):
                bad.append(f"{where}: a tab does not import the shell")
            if _under(b, "adkviewer.tabs") and b != "adkviewer.tabs" and not _under(b, own):
                bad.append(f"{where}: a tab does not import another tab")
        if _under(a, "adkviewer.dataset") and (_under(b, "adkviewer.shell") or _under(b, "adkviewer.tabs")):
            bad.append(f"{where}: the dataset view, like a tab, stands on the narrow context (no shell, no tab)")
        if (_under(a, "adkviewer.tabs") or _under(a, "adkviewer.widgets") or _under(a, "adkviewer.gui")) \
                and _under(b, "adkviewer.dataset"):
            bad.append(f"{where}: only the shell builds the dataset view")
        if _under(a, "adkviewer.widgets") and (_under(b, "adkviewer.tabs") or _under(b, "adkviewer.shell")):
            bad.append(f"{where}: widgets know no tab and no shell")
        if _under(a, "adkviewer.gui") and (_under(b, "adkviewer.tabs") or _under(b, "adkviewer.shell")):
            bad.append(f"{where}: gui/ is below the shell and the tabs")
        if b == "adkviewer.gui.qt_compat" and a != "adkviewer.gui":
            bad.append(f"{where}: qt_compat is imported once, by the GUI package (adkviewer/gui/__init__.py)")
    for tab in sorted(p for p in (root / "adkviewer" / "tabs").iterdir() if p.is_dir() and p.name != "__pycache__"):
        if not (tab / f"{tab.name}_tab.py").is_file():
            bad.append(f"adkviewer/tabs/{tab.name}/ has no {tab.name}_tab.py (each tab: <tab>_tab.py, <tab>_state.py)")
    bad += [" -> ".join(c) + ": import cycle" for c in _cycles(_edges(root))]
    return bad


def test_adkviewer_layers_hold():
    assert (ROOT / "adkviewer" / "tabs").is_dir() and len(_edges(ROOT)) > 200  # the scan sees the real tree
    bad = layer_violations(ROOT)
    assert not bad, "layering rules broken:\n" + "\n".join(bad)


def _plant(root: Path, files: dict[str, str]) -> Path:
    clean = {
        "model/__init__.py": "", "model/a.py": "import numpy\n",
        "adkviewer/__init__.py": "", "adkviewer/cli/__init__.py": "",
        "adkviewer/cli/entry.py": "def run():\n    from adkviewer.shell.app import run_gui\n",
        "adkviewer/state/__init__.py": "", "adkviewer/state/session.py": "from adk_model import a\n",
        "adkviewer/gui/__init__.py": "from adkviewer.gui import qt_compat\n", "adkviewer/gui/qt_compat.py": "",
        "adkviewer/gui/hub.py": "from PySide6.QtCore import QObject\n",
        "adkviewer/shell/__init__.py": "", "adkviewer/shell/app.py": "",
        "adkviewer/shell/main_window.py": "from adkviewer.tabs.compare.compare_tab import CompareTab\n",
        "adkviewer/widgets/__init__.py": "", "adkviewer/widgets/view_grid.py": "import pyqtgraph\n",
        "adkviewer/tabs/__init__.py": "", "adkviewer/tabs/compare/__init__.py": "",
        "adkviewer/tabs/compare/compare_tab.py": "from adkviewer.gui.hub import x\nfrom adkviewer.widgets import view_grid\n",
        "adkviewer/tabs/diff/__init__.py": "", "adkviewer/tabs/diff/diff_tab.py": "from .diff_state import y\n",
        "adkviewer/tabs/diff/diff_state.py": "from adkviewer.state.session import s\n",
        "adkviewer/dataset/__init__.py": "", "adkviewer/dataset/pairs_panel.py": "from adkviewer.gui.hub import x\n",
        "adkviewer/shell/dataset_dock.py": "from adkviewer.dataset import pairs_panel\n",
    }
    for rel, text in {**clean, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_layer_check_fails_on_planted_violations(tmp_path):
    """The check is not vacuous: a clean miniature tree passes, and each planted violation is named."""
    assert layer_violations(_plant(tmp_path / "clean", {})) == []
    planted = {
        "adkviewer/state/session.py": "from PySide6.QtCore import Signal\nfrom adk_model import a\n",
        "adkviewer/tabs/diff/diff_tab.py": "from ..compare import compare_tab\nfrom .diff_state import y\n",
        "adkviewer/tabs/compare/compare_tab.py": "from adkviewer.shell.main_window import MainWindow\n",
        "adkviewer/widgets/view_grid.py": "from adkviewer.tabs.diff.diff_tab import DiffTab\n",
        "adkviewer/cli/entry.py": "from adkviewer.shell.app import run_gui\n",
        "adkviewer/gui/hub.py": "from adkviewer.cli import entry\nfrom adkviewer.gui import qt_compat\n",
        "adkviewer/tabs/diff/diff_state.py": "import pyqtgraph\nfrom adkviewer.gui.hub import h\n",
        "adkviewer/dataset/pairs_panel.py": "from adkviewer.shell.main_window import MainWindow\n",
        "adkviewer/dataset/pairs_model.py": "from adkviewer.tabs.compare import compare_tab\n",
        "adkviewer/tabs/compare/lstsq_fitter.py": "from adkviewer.dataset import pairs_model\n",
        "model/a.py": "from adk_model import b\n", "model/b.py": "from . import a\n",
    }
    bad = "\n".join(layer_violations(_plant(tmp_path / "bad", planted)))
    for expected in ("adkviewer.state.session:1 imports PySide6.QtCore: CLI and state modules are Qt-free",
                     "adkviewer.tabs.diff.diff_tab:1 imports adkviewer.tabs.compare.compare_tab: a tab does not "
                     "import another tab",
                     "adkviewer.tabs.compare.compare_tab:1 imports adkviewer.shell.main_window: only the shell",
                     "a tab does not import the shell",
                     "adkviewer.widgets.view_grid:1 imports adkviewer.tabs.diff.diff_tab: widgets know no tab",
                     "adkviewer.cli.entry:1 imports adkviewer.shell.app: the CLI reaches the GUI only through",
                     "adkviewer.gui.hub:1 imports adkviewer.cli.entry: nothing in the GUI imports the CLI",
                     "adkviewer.gui.hub:2 imports adkviewer.gui.qt_compat: qt_compat is imported once",
                     "adkviewer.tabs.diff.diff_state:1 imports pyqtgraph: CLI and state modules are Qt-free",
                     "adkviewer.tabs.diff.diff_state:2 imports adkviewer.gui.hub: a tab's state module",
                     "adkviewer.dataset.pairs_panel:1 imports adkviewer.shell.main_window: the dataset view, like a tab",
                     "adkviewer.dataset.pairs_model:1 imports adkviewer.tabs.compare.compare_tab: the dataset view",
                     "adkviewer.tabs.compare.lstsq_fitter:1 imports adkviewer.dataset.pairs_model: only the shell",
                     "adk_model.a -> adk_model.b -> adk_model.a: import cycle"):
        assert expected in bad, expected


IMPORT_QT_FREE = r"""
import importlib, json, pkgutil, sys
import adkviewer.cli, adkviewer.state, adkviewer.tabs
names = [i.name for p in (adkviewer.cli, adkviewer.state) for i in pkgutil.walk_packages(p.__path__, p.__name__ + ".")]
names += [i.name for i in pkgutil.walk_packages(adkviewer.tabs.__path__, "adkviewer.tabs.") if i.name.endswith("_state")]
for n in names:
    importlib.import_module(n)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def test_importing_the_cli_and_every_state_module_loads_no_qt():
    result = _import_in_a_fresh_python(IMPORT_QT_FREE)
    for expected in ("adkviewer.cli.entry", "adkviewer.state.session", "adkviewer.state.commands",
                     "adkviewer.tabs.diff.diff_state", "adkviewer.tabs.train.train_state",
                     "adkviewer.tabs.inspect.inspect_state"):
        assert expected in result["imported"]
    bad = [m for m in result["modules"] if _is_qt(m)]
    assert not bad, f"importing the CLI and the state modules pulled in {bad}"
