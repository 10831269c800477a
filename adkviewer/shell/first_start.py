"""Before Qt starts on Linux: a missing display or missing X11 libraries make Qt abort the process (SIGABRT, a
message about platform plugins), so they are found first and said in one sentence. Imports no Qt."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Callable, Mapping

# What Qt's xcb plugin links to and minimal systems lack: soname -> Debian/Ubuntu package.
XCB_PACKAGES = {"libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
                "libxcb-keysyms.so.1": "libxcb-keysyms1"}
HEADLESS = ("the command line needs no display (adkviewer downscale, eval, train), and "
            "QT_QPA_PLATFORM=offscreen adkviewer IMAGE --screenshot out.png renders the window into a file")
_SONAME = re.compile(r"(lib[\w.+-]+\.so(?:\.\d+)*)")


def xcb_plugin() -> Path | None:
    """PySide6's Qt library behind the xcb plugin, found without importing PySide6 (or None)."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        lib = Path(folder) / "Qt" / "lib" / "libQt6XcbQpa.so.6"
        if lib.exists():
            return lib
    return None


def _loads(name: str, load: Callable[[str], object]) -> str | None:
    """None if the dynamic loader can load `name`, else the soname it could not find."""
    try:
        load(name)
        return None
    except OSError as exc:
        found = _SONAME.search(str(exc))
        return found.group(1) if found else name


def missing_libraries(load: Callable[[str], object] = ctypes.CDLL, plugin: Path | None = None) -> list[str]:
    """Sonames the xcb plugin needs that the loader cannot find: the known ones, then whatever loading the
    plugin itself names."""
    missing = [so for so in XCB_PACKAGES if _loads(so, load)]
    if not missing and plugin is not None:
        other = _loads(str(plugin), load)
        if other and other != str(plugin):
            missing.append(other)
    return missing


def platform_problem(environ: Mapping[str, str] | None = None, platform: str | None = None,
                     load: Callable[[str], object] = ctypes.CDLL, plugin: Path | None = None) -> str | None:
    """One sentence saying why Qt's window system plugin cannot start here, or None (also off Linux, and with a
    platform other than xcb, which Qt then reports itself)."""
    environ = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen not in ("", "xcb") or (not chosen and environ.get("WAYLAND_DISPLAY")):
        return None
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return f"there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); {HEADLESS}."
    missing = missing_libraries(load, plugin if plugin is not None else xcb_plugin())
    if not missing:
        return None
    packages = " ".join(XCB_PACKAGES.get(so, so) for so in missing)
    return (f"Qt's X11 plugin cannot start without {' and '.join(missing)}: install "
            f"{'it' if len(missing) == 1 else 'them'} (Debian/Ubuntu: sudo apt-get install {packages}), or work "
            f"headless: {HEADLESS}.")
