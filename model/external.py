"""A person's own downscaling results as a method: one LR file, or a folder of them matched to pairs by name.

They are read by the one image loader and must be exactly the LR size the built-in methods give, so they are
scored, shown and compared like any other method; every problem is one sentence naming the pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from . import imageio
from .data import IMAGE_EXTENSIONS
from .errors import UserError
from .method_registry import STEM, ExtraMethod


def external_file(method: ExtraMethod, names: Sequence[str]) -> Path:
    """The file holding `method`'s result for a pair known by `names` (its pair name, then its HR file's stem).

    A single file is the result for whatever image is open; in a folder, `pattern` with {stem} replaced is the
    file name, any image extension when the pattern has none.
    """
    src = Path(method.path)
    if src.is_file():
        return src
    if not src.is_dir():
        raise UserError(f"{method.name}: '{src}' does not exist.")
    tried: list[str] = []
    for name in dict.fromkeys(n for n in names if n):
        wanted = method.pattern.replace(STEM, name)
        if Path(wanted).suffix.lower() in IMAGE_EXTENSIONS:
            candidates = [src / wanted]
        else:
            candidates = [src / f"{wanted}{ext}" for ext in sorted(IMAGE_EXTENSIONS)]
        for c in candidates:
            if c.is_file():
                return c
        tried.append(wanted)
    pair = names[0] if names else "this image"
    raise UserError(f"{method.name} for {pair}: no result in {src} (looked for {', '.join(tried) or 'a name'}"
                    f"{'' if Path(method.pattern).suffix else ' with an image extension'}).")


def load_external(method: ExtraMethod, names: Sequence[str], lr_shape: tuple[int, int]) -> np.ndarray:
    """The result as float32 (h, w, 3) in [0, 1]; a missing, unreadable or wrong-size file is a UserError."""
    path = external_file(method, names)
    pair = names[0] if names else path.stem
    try:
        img = imageio.load_image(path)
    except UserError as e:
        raise UserError(f"{method.name} for {pair}: {e}") from None
    h, w = img.array.shape[:2]
    if (h, w) != tuple(lr_shape):
        raise UserError(f"{method.name} for {pair}: '{path.name}' is {w}x{h}, but this pair's LR is "
                        f"{lr_shape[1]}x{lr_shape[0]} (HR size / scale).")
    return img.array


def naming_pair(pair: str, why: str, method: str = "") -> str:
    """A problem said with its pair (and method) once: an external result's sentence names them itself."""
    if f" for {pair}: " in why or why.startswith(f"{pair}: "):
        return why
    return f"{method} on {pair}: {why}" if method else f"{pair}: {why}"
