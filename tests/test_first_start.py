"""First start on Linux (issue 17 item 8): no display, or Qt's X11 libraries missing, is one sentence and exit 3
before QApplication exists (Qt would abort the process with SIGABRT)."""

from __future__ import annotations

import pytest

from adkviewer.shell.first_start import XCB_PACKAGES, missing_libraries, platform_problem


def _loader(absent: set[str]):
    def load(name: str) -> None:
        if name in absent:
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        if name.endswith("libQt6XcbQpa.so.6") and "libxcb-xinerama.so.0" in absent:
            raise OSError("libxcb-xinerama.so.0: cannot open shared object file: No such file or directory")
    return load


def test_no_display_is_one_sentence_naming_the_headless_ways():
    text = platform_problem({}, "linux", _loader(set()))
    assert text.startswith("there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    assert "adkviewer downscale" in text and "QT_QPA_PLATFORM=offscreen adkviewer IMAGE --screenshot" in text
    assert text.count(". ") == 0 and text.endswith(".")


@pytest.mark.parametrize("absent, packages", [
    ({"libxcb-cursor.so.0"}, "libxcb-cursor0"),
    (set(XCB_PACKAGES), "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"),
    ({"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}, "libxcb-icccm4 libxcb-keysyms1"),  # this project's machine
])
def test_missing_xcb_libraries_name_their_debian_packages(absent, packages):
    text = platform_problem({"DISPLAY": ":0"}, "linux", _loader(absent))
    assert f"sudo apt-get install {packages})" in text and "QT_QPA_PLATFORM=offscreen" in text
    assert all(so in text for so in absent) and text.count(". ") == 0


def test_another_missing_library_is_named_from_the_plugins_own_load_error(tmp_path):
    plugin = tmp_path / "libQt6XcbQpa.so.6"
    assert missing_libraries(_loader({"libxcb-xinerama.so.0"}), plugin) == ["libxcb-xinerama.so.0"]
    assert missing_libraries(_loader(set()), plugin) == []


@pytest.mark.parametrize("environ, platform", [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),                  # headless on purpose
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),                  # Qt picks its Wayland plugin
    ({"DISPLAY": ":0"}, "darwin"), ({}, "win32"),                  # not X11's business
])
def test_no_refusal_where_qt_does_not_need_x11(environ, platform):
    assert platform_problem(environ, platform, _loader(set(XCB_PACKAGES))) is None


def test_explicit_xcb_without_display_is_refused_too():
    assert platform_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": ""}, "linux", _loader(set())).startswith(
        "there is no display")


def test_the_gui_exits_3_before_any_qapplication(monkeypatch, capsys):
    import adkviewer.shell.app as app
    import adkviewer.shell.first_start as first_start
    from adkviewer.cli import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(first_start.sys, "platform", "linux")
    monkeypatch.setattr(app, "make_app", lambda *a: pytest.fail("QApplication was made"))
    assert main([]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("adkviewer: error: there is no display")
