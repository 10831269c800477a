"""The banner's messages, Qt-free: a few current ones, no repeats, dropped when their image or job is superseded."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("info", "warning", "error")
# scopes: the open image and its jobs; a training run; the saved settings (device); the last file saved;
# the Train tab's pairs folder (no folder, unusable pairs: stale once the folder is scanned again);
# the last attempt to open a file (a failed open is stale once another file is opened or tried)
# the Compare tab's least-squares fit from a pairs folder
IMAGE, TRAIN, SETTINGS, SAVE, PAIRS, OPEN, FIT = "image", "train", "settings", "save", "pairs", "open", "fit"


@dataclass(frozen=True)
class Message:
    level: str
    text: str
    scope: str = IMAGE

    def line(self) -> str:
        return {"error": "✖", "warning": "⚠"}.get(self.level, "ℹ") + " " + self.text


@dataclass
class MessageList:
    """Oldest first; a repeated text moves to the end instead of showing twice, and only the newest `limit` stay."""

    limit: int = 3
    items: list[Message] = field(default_factory=list)

    def add(self, msg: Message) -> None:
        self.items = ([m for m in self.items if m.text != msg.text] + [msg])[-self.limit:]

    def dismiss(self, index: int) -> None:
        del self.items[index]

    def supersede(self, scope: str) -> None:
        """A new image or job of this scope started: what was said about the previous one no longer applies."""
        self.items = [m for m in self.items if m.scope != scope]

    def clear(self) -> None:
        self.items = []

    @property
    def level(self) -> str:
        """The worst level shown ('' when empty)."""
        return max((m.level for m in self.items), key=LEVELS.index, default="")

    def text(self) -> str:
        return "\n".join(m.line() for m in self.items)
