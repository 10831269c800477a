"""Workarounds for bugs in the Qt binding; every GUI module imports this first.

PySide6 6.12.0 on CPython < 3.12: `SignalInstance.emit()` returns `True` without taking a reference, so
every emit from Python (ours and pyqtgraph's: it emits on every pan and zoom) drops one reference to the
`True` singleton. After some thousands of emits CPython aborts with "Fatal Python error: bool_dealloc".
CPython 3.12+ makes True/False immortal, so there the bug is harmless. Where a probe shows the leak, we
give True and False a huge reference count (2**40), which makes them immortal in practice.
"""

from __future__ import annotations

import ctypes
import sys

_PIN = 1 << 40
_applied = False


def emit_drops_true() -> bool:
    """Whether `Signal.emit` in this PySide6 loses a reference to True (probe with a throw-away QObject)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 8


def _pin(obj: object) -> bool:
    """Add _PIN to obj's reference count (CPython stores ob_refcnt first); undone if the count disagrees."""
    cell = ctypes.c_ssize_t.from_address(id(obj))
    before = sys.getrefcount(obj)
    cell.value += _PIN
    if abs(sys.getrefcount(obj) - before - _PIN) > 1000:  # not the layout we expected: leave it alone
        cell.value -= _PIN
        return False
    return True


def apply() -> bool:
    """Apply the workarounds once; returns True when the emit leak was found and True/False were pinned."""
    global _applied
    if _applied:
        return False
    _applied = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if sys.getrefcount(True) > _PIN // 2:  # already pinned by someone
        return False
    if not emit_drops_true():
        return False
    return _pin(True) and _pin(False)


apply()
