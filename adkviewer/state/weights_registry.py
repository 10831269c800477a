"""The ADK-Net weights a person can choose from: the shipped ones plus those the Train tab exported.

Qt-free: it works on the `Settings` wrapper (or anything with get_list / set), so the Compare side, the
Train tab and tests share one list. Exported weights are remembered under the key "weights/recent".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adk_model.weights import describe_weights, shipped_weights

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
        """The card's name, and for an export the folder (a Train-tab run) it lies in: two runs' best_x4 differ."""
        return f"{self.name} (shipped)" if self.shipped else f"{self.name} — {self.path.parent.name}"


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
    info = describe_weights(path)
    return None if info.problem else WeightsChoice(path, info.name, info.scale, shipped)


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
