"""Where the bundled files live (demo image, shipped weights), so no widget hard-codes a path."""

from __future__ import annotations

from pathlib import Path

from adk_model.weights import RESOURCES

DEMO_DIR = RESOURCES / "demo"
DEMO_IMAGE = DEMO_DIR / "astronaut.png"
ORGANISATION = "ADK Viewer"
APPLICATION = "ADK Viewer"


def demo_image() -> Path | None:
    """The bundled demo photo, or None if the install lacks it."""
    return DEMO_IMAGE if DEMO_IMAGE.is_file() else None
