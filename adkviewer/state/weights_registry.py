"""The ADK-Net weights a person can choose from: the shipped ones plus those the Train tab exported.

Qt-free: it works on the `Settings` wrapper (or anything with get_list / set), so the Compare side, the
Train tab and tests share one list. Exported weights are remembered under the key "weights/recent".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from model.errors import UserError
from model.weights import read_metadata, shipped_weights

RECENT_KEY = "weights/recent"
MAX_REMEMBERED = 10


@dataclass(frozen=True)
class WeightsChoice:
    path: Path
    name: str
    scale: int | None
    shipped: bool

    @property
    def label(self) -> str:
        return f"{self.name} (shipped)" if self.shipped else self.name


def remember(settings, path: str | Path) -> list[str]:
    """Put exported weights first in the remembered list (most recent first, at most MAX_REMEMBERED)."""
    p = str(Path(path).resolve())
    items = [x for x in settings.get_list(RECENT_KEY) if x != p]
    items.insert(0, p)
    items = items[:MAX_REMEMBERED]
    settings.set(RECENT_KEY, items)
    return items


def _describe(path: Path, shipped: bool) -> WeightsChoice | None:
    """Name and scale from the file's metadata and model card, without loading the tensors; None if unreadable."""
    try:
        cfg = json.loads(read_metadata(path).get("config", "{}"))
    except (UserError, ValueError, OSError):
        return None
    name = path.stem
    try:
        card = json.loads(path.with_suffix(".json").read_text())
        if isinstance(card, dict) and card.get("name"):
            name = str(card["name"])
    except (OSError, ValueError):
        pass
    scale = cfg.get("scale") if isinstance(cfg, dict) else None
    return WeightsChoice(path, name, scale if isinstance(scale, int) else None, shipped)


def available_weights(settings=None, scale: int | None = None) -> list[WeightsChoice]:
    """Shipped weights, then remembered exports that still exist and are readable (optionally for one scale)."""
    out: list[WeightsChoice] = []
    seen: set[str] = set()
    paths = [(p, True) for p in shipped_weights()]
    if settings is not None:
        paths += [(Path(p), False) for p in settings.get_list(RECENT_KEY)]
    for p, shipped in paths:
        key = str(p.resolve())
        if key in seen or not p.is_file():
            continue
        seen.add(key)
        choice = _describe(p, shipped)
        if choice is not None and (scale is None or choice.scale == scale):
            out.append(choice)
    return out
