"""The window around the Compare tab: remembered settings in a private place, the shortcuts list, pluggable tabs
sharing one session, the settings dialog, --screenshot, and the PySide6 reference-count guard (qt_compat)."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402

from compare_helpers import _open, _write_pair  # noqa: E402
from adkviewer.shell.main_window import MainWindow  # noqa: E402
from adkviewer.state.session import Session  # noqa: E402
from adkviewer.gui.settings import Settings  # noqa: E402


def test_settings_are_remembered_in_a_private_location(qtbot, tmp_path, _private_qsettings):
    win = _open(qtbot, "--methods", "bicubic")
    assert win.settings.path.startswith(str(_private_qsettings))
    win.commands.set_methods(["box", "lanczos"])
    win.commands.set_device("cpu", 256)
    win.compare.vsplit.setSizes([400, 300])
    sizes = win.compare.vsplit.sizes()
    win.open_image(_write_pair(tmp_path)[0])
    win.close()
    again = MainWindow(Settings())
    qtbot.addWidget(again)
    assert again.session.methods == ["box", "lanczos"]
    assert again.session.device == "cpu" and again.session.budget_mb == 256
    assert "tile budget 256 MB" in again.device_label.text()
    again.resize(1280, 800)
    again.show()
    assert again.compare.vsplit.sizes() == sizes
    recent = again.settings.get_list("recent")
    assert recent and recent[0].endswith("pic.png")
    assert again.settings.get_str("folders/open").endswith("HR")
    assert Path(QSettings(QSettings.IniFormat, QSettings.UserScope, "ADK Viewer", "ADK Viewer").fileName()).is_file()


def test_f1_lists_the_shortcuts(qtbot):
    win = _open(qtbot, "--methods", "nearest")
    act = next(a for m in win.menuBar().actions() for a in m.menu().actions() if a.text() == "&Shortcuts")
    assert act.shortcut().toString() == "F1"
    act.trigger()
    assert win._shortcuts_box.isVisible() and "Space" in win._shortcuts_box.text()
    # every menu shortcut is in the list (zoom in/out were missing)
    listed = win._shortcuts_box.text().replace("−", "-")
    for a in (a for m in win.menuBar().actions() for a in m.menu().actions() if not a.shortcut().isEmpty()):
        assert html.escape(a.shortcut().toString(QKeySequence.PortableText)) in listed, a.text()
    win._shortcuts_box.close()


def test_tabs_are_pluggable_and_share_the_session(qtbot):
    from PySide6.QtWidgets import QLabel

    win = _open(qtbot, "--methods", "nearest", "--tab", "inspect")
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == ["Compare", "Inspect", "Differences", "Train"]
    assert win.tabs.currentWidget() is win.tab("inspect")
    new = win.replace_tab("inspect", QLabel("real inspect"))
    assert win.tab("inspect") is new and win.tabs.tabText(1) == "Inspect"
    assert isinstance(win.session, Session) and win.ctx.session is win.session and win.compare.session is win.session


def test_screenshot_writes_a_png_and_returns_0(tmp_path):
    """The real command line, in a fresh process: waits for every result, writes the PNG, exits 0."""
    import os
    import subprocess

    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "adkviewer", "--methods", "nearest", "bicubic", "--swipe",
                           "nearest,bicubic", "--screenshot", str(shot), "--size", "900x600"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert Image.open(shot).size == (900, 600)
    assert not (tmp_path / "config").exists()  # a screenshot run neither reads nor writes settings


def test_settings_dialog_values(qtbot):
    from adkviewer.shell.settings_dialog import SettingsDialog

    dlg = SettingsDialog("cpu", 512)
    qtbot.addWidget(dlg)
    assert dlg.values() == ("cpu", 512)
    assert dlg.device.itemData(0) == "auto" and dlg.device.findData("cpu") >= 0
    dlg.budget.setValue(0)
    assert dlg.budget.text() == "Automatic" and dlg.values() == ("cpu", 0)
    gone = SettingsDialog("mps" if "mps" not in __import__("adk_model.devices").devices.available_devices() else "cpu", 0)
    qtbot.addWidget(gone)
    assert gone.values()[0] in ("mps", "cpu")


def test_many_qt_calls_do_not_exhaust_none_or_true(qtbot):
    """PySide6 6.12 on CPython 3.11 drops a reference to None/True on void calls and emits (see qt_compat)."""
    from PySide6.QtCore import QObject, Signal

    import adkviewer.gui.qt_compat  # noqa: F401

    class O(QObject):
        s = Signal()

    o = O()
    start_none, start_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(30_000):
        o.setObjectName("x")
        o.s.emit()
    assert sys.getrefcount(None) > 1000 and sys.getrefcount(True) > 1000
    assert start_none > 30_000 or sys.getrefcount(None) >= start_none - 10
    assert start_true > 30_000 or sys.getrefcount(True) >= start_true - 10
