"""What the command line asks the tabs to show once an image is open (--diff, --field): each is taken once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LaunchRequests:
    diff: str | None = None    # --diff SPEC, for the Differences tab
    field: str | None = None   # --field STAT, for the Inspect tab's field map

    def take(self, name: str) -> str | None:
        """The request, forgotten once taken (a later image does not repeat it)."""
        value = getattr(self, name)
        setattr(self, name, None)
        return value
