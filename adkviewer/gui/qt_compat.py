"""Workarounds for bugs in the Qt binding; every GUI module imports this first.

PySide6/shiboken6 6.12.0 on CPython < 3.12 returns the singletons `None` (from every void method, e.g.
`setText`, `update`, `processEvents`) and `True` (from `Signal.emit`) without taking a reference, as if
they were immortal (which they are only from CPython 3.12). Each such call drops one reference, and after
some thousands of calls (pyqtgraph makes dozens per pan or zoom) CPython aborts with "Fatal Python error:
none_dealloc" or "bool_dealloc". Where a probe shows the leak, we give None, True and False a huge
reference count (2**40), which makes them immortal in practice, as CPython 3.12+ does itself.
"""

from __future__ import annotations

import ctypes
import sys

_PIN = 1 << 40
_applied = False


def leaking_singletons() -> list[object]:
    """The singletons this PySide6 loses references to (probed with a throw-away QObject)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    n = 16
    found = []
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.ping.emit()
    if sys.getrefcount(True) < before - n // 2:
        found.append(True)
    before = sys.getrefcount(None)
    for _ in range(n):
        probe.setObjectName("probe")
    if sys.getrefcount(None) < before - n // 2:
        found.append(None)
    return found


def _pin(obj: object) -> bool:
    """Add _PIN to obj's reference count (CPython stores ob_refcnt first); undone if the count disagrees."""
    cell = ctypes.c_ssize_t.from_address(id(obj))
    before = sys.getrefcount(obj)
    cell.value += _PIN
    if abs(sys.getrefcount(obj) - before - _PIN) > 10_000:  # not the layout we expected: leave it alone
        cell.value -= _PIN
        return False
    return True


def apply() -> list[str]:
    """Apply the workarounds once; returns the names of the singletons that were pinned."""
    global _applied
    if _applied:
        return []
    _applied = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return []
    if not leaking_singletons():
        return []
    return [repr(o) for o in (None, True, False) if sys.getrefcount(o) < _PIN // 2 and _pin(o)]


pinned = apply()
