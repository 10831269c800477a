"""Wording shared by the engine's logs, the CLI and the GUI, so that no message says '1 pairs'."""

from __future__ import annotations


def count_of(n: int, noun: str) -> str:
    """"1 val pair", "2 val pairs"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
