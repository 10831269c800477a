"""The Qt layer every view stands on: the signal hub, background jobs, settings and the tabs' context.

Importing this package applies the PySide6 workarounds of `qt_compat` once, before any signal is emitted;
every Qt module of the app (shell, widgets, tab views) imports from here.
"""

from adkviewer.gui import qt_compat  # noqa: F401
