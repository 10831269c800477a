"""Shared test setup: Qt runs headless, and QSettings never touches the user's real settings."""

import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The dataset view's score cache goes to a private folder, never the user's cache (and starts empty).
_CACHE = tempfile.mkdtemp(prefix="adkviewer-test-cache-")
os.environ["ADKVIEWER_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(autouse=True)
def _private_qsettings(tmp_path_factory, request):
    """Point QSettings (INI, user scope) at a fresh temporary folder for every GUI test."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(folder))
    yield folder
