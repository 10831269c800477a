"""Where ADK Viewer keeps what it can compute again (scores, least-squares fits), and a file as a cache-key part."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV = "ADKVIEWER_CACHE_DIR"


def cache_dir() -> Path:
    """$ADKVIEWER_CACHE_DIR, else the platform's cache folder for adkviewer."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "adkviewer"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "adkviewer" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "adkviewer"


def file_id(path: str | os.PathLike | None) -> str:
    """A file as a cache key part: its resolved path, size and modification time ('missing' when absent)."""
    if not path:
        return "none"
    try:
        st = Path(path).stat()
    except OSError:
        return f"{path}|missing"
    return f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"
