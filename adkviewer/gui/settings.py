"""Remembered settings (folders, window layout, ticked methods, device) through QSettings, with typed access.

Settings are an INI file in the user's config folder (QSettings IniFormat, user scope); tests point
`QSettings.setPath` at a temporary folder, and `--screenshot` runs use a throw-away in-memory store so a
capture neither depends on nor changes what a person has set.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from adkviewer.resources import APPLICATION, ORGANISATION

MAX_RECENT = 10


class Settings:
    """Typed wrapper over QSettings (or over a dict when `memory` is True)."""

    def __init__(self, memory: bool = False) -> None:
        self._mem: dict[str, Any] | None = {} if memory else None
        self._qs = None if memory else QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANISATION, APPLICATION)

    @property
    def path(self) -> str | None:
        return None if self._qs is None else self._qs.fileName()

    def _get(self, key: str, default: Any = None) -> Any:
        if self._mem is not None:
            return self._mem.get(key, default)
        return self._qs.value(key, default)

    def set(self, key: str, value: Any) -> None:
        if self._mem is not None:
            self._mem[key] = value
        else:
            self._qs.setValue(key, value)

    def sync(self) -> None:
        if self._qs is not None:
            self._qs.sync()

    def get_str(self, key: str, default: str = "") -> str:
        v = self._get(key, default)
        return default if v is None else str(v)

    def get_int(self, key: str, default: int = 0) -> int:
        try:
            return int(self._get(key, default))
        except (TypeError, ValueError):
            return default

    def get_list(self, key: str) -> list[str]:
        v = self._get(key, None)
        if v is None or v == "":
            return []
        if isinstance(v, str):
            return [v]
        return [str(x) for x in v]

    def has(self, key: str) -> bool:
        if self._mem is not None:
            return key in self._mem
        return self._qs.contains(key)

    def get_bytes(self, key: str) -> QByteArray | None:
        v = self._get(key, None)
        return v if isinstance(v, QByteArray) else None

    def add_recent(self, path: str) -> list[str]:
        recent = [p for p in self.get_list("recent") if p != path]
        recent.insert(0, path)
        recent = recent[:MAX_RECENT]
        self.set("recent", recent)
        return recent
