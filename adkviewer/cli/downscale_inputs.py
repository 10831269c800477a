"""What `adkviewer downscale` works on: files, folders (optionally recursive) and quoted globs, gathered into one
duplicate-free, sorted list, so every rank or shard of a batch sees the same list and takes its own part of it."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Input:
    """One image to downscale and the subfolder of -o its output goes to (mirroring the input tree)."""

    src: Path
    subfolder: Path = Path()


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def _folder(folder: Path, recursive: bool, note: Callable[[str], None]) -> list[Input]:
    """A folder's images; with `recursive` those of its subfolders too, each keeping its place below the folder."""
    from adk_model.data import images_in

    if not recursive:
        skipped = _visible_dirs(folder)
        if skipped:
            names = ", ".join(p.name for p in skipped[:3]) + (", …" if len(skipped) > 3 else "")
            note(f"{folder}: skipping {len(skipped)} subfolder{'s' if len(skipped) > 1 else ''} ({names}); "
                 f"pass --recursive to include them")
        return [Input(p) for p in images_in(folder)]
    found: list[Input] = []
    for root, dirs, _files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # hidden folders (.git, .thumbnails) stay out
        here = Path(root)
        found += [Input(p, here.relative_to(folder)) for p in images_in(here)]
    return found


def _is_pattern(text: str) -> bool:
    return any(c in text for c in "*?[")


def _pattern_root(pattern: str) -> Path:
    """The fixed leading folders of a glob ('photos/2024/**/*.jpg' -> photos/2024): what --recursive mirrors below."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _is_pattern(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _pattern(pattern: str, recursive: bool, note: Callable[[str], None]) -> list[Input]:
    """A glob the shell left alone (quoted, or any pattern on Windows), expanded here; '**' spans folders."""
    from adk_model.data import IMAGE_EXTENSIONS
    from adk_model.errors import UserError

    matches = [Path(m) for m in glob.glob(pattern, recursive=True)]
    if not matches:
        raise UserError(f"{pattern} matches no files.")
    root = _pattern_root(pattern)
    found: list[Input] = []
    for m in sorted(matches):
        if m.is_dir():
            found += [Input(i.src, m.relative_to(root) / i.subfolder if recursive else i.subfolder)
                      for i in _folder(m, recursive, note)]
        elif m.suffix.lower() in IMAGE_EXTENSIONS:
            found.append(Input(m, m.parent.relative_to(root) if recursive else Path()))
    if not found:
        raise UserError(f"{pattern} matches no images ({', '.join(sorted(IMAGE_EXTENSIONS))}).")
    return found


def gather_inputs(given: list[str], recursive: bool, note: Callable[[str], None]) -> list[Input]:
    """Every input once, in a stable sorted order (output subfolder, then name), whatever order they were given."""
    from adk_model.data import IMAGE_EXTENSIONS
    from adk_model.errors import UserError
    from adk_model.imageio import distinct_inputs

    found: list[Input] = []
    for text in map(str, given):
        path = Path(text)
        if path.is_dir():
            images = _folder(path, recursive, note)
            if not images:
                raise UserError(f"{path} is a folder with no images ({', '.join(sorted(IMAGE_EXTENSIONS))})"
                                + ("." if recursive else "; pass --recursive to look in its subfolders."))
            found += images
        elif not path.exists() and _is_pattern(text):
            found += _pattern(text, recursive, note)
        else:
            found.append(Input(path))  # a missing or unreadable file is that input's own error, later
    kept = set(distinct_inputs([item.src for item in found], note))  # the same file twice is said, and done once
    unique: dict[Path, Input] = {}
    for item in found:
        if item.src in kept:
            unique.setdefault(item.src, item)
    return sorted(unique.values(), key=lambda i: (i.subfolder.parts, i.src.name, str(i.src)))
