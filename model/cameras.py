"""Which camera made a pair: by the EXIF make and model of its files, or by the name's prefix (Canon_001 -> Canon).

A folder that mixes cameras gets one Quick calibrate per camera (bench/mixed_cameras.py measures what that gives),
since a camera's linear part (blur, colour response) is its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from .data import PairInfo
from .errors import UserError
from .imageio import open_image

CAMERA_BY = ("prefix", "exif")
UNKNOWN = "unknown camera"
_EXIF_MAKE, _EXIF_MODEL = 0x010F, 0x0110
_PREFIX = re.compile(r"^(.+?)[_\- .]")
_SAFE = re.compile(r"[^A-Za-z0-9.+-]+")


def name_prefix(name: str) -> str:
    """The part of a pair's name before its first separator (`_`, `-`, space, dot), or the name less its digits."""
    m = _PREFIX.match(name)
    if m:
        return m.group(1)
    return name.rstrip("0123456789") or name


def exif_camera(path: str | None) -> str | None:
    """'Make Model' from a file's EXIF (read from the header, no pixels decoded), or None when it has none."""
    if path is None:
        return None
    try:
        with open_image(path) as img:
            exif = img.getexif()
    except (OSError, ValueError, SyntaxError):  # an unreadable header: the pair's own check reports the file
        return None
    make, model = (str(exif.get(tag, "")).strip("\x00 ") for tag in (_EXIF_MAKE, _EXIF_MODEL))
    if model.lower().startswith(make.lower()):  # "Canon" + "Canon EOS 5D" -> "Canon EOS 5D"
        make = ""
    found = " ".join(p for p in (make, model) if p)
    return found or None


def camera_of(info: PairInfo, by: str) -> str:
    """The camera of one pair, named as `by` says (see CAMERA_BY)."""
    if by == "prefix":
        return name_prefix(info.name)
    if by == "exif":
        return exif_camera(info.hr_path) or exif_camera(info.lr_path) or UNKNOWN
    raise UserError(f"--per-camera takes {' or '.join(CAMERA_BY)}, not {by!r}.")


def camera_of_file(path: str | Path, by: str) -> str:
    """The camera of one photo to downscale, named as the pairs' cameras are (its name's prefix, or its EXIF)."""
    path = Path(path)
    return camera_of(PairInfo(path.stem, str(path), None, True, None), by)


def group_by_camera(infos: Sequence[PairInfo], by: str) -> dict[str, list[PairInfo]]:
    """Pairs grouped by camera, cameras in order of first appearance."""
    groups: dict[str, list[PairInfo]] = defaultdict(list)
    for info in infos:
        groups[camera_of(info, by)].append(info)
    return dict(groups)


def file_tag(camera: str) -> str:
    """A camera's name as it can stand in a file name (`Canon EOS 5D` -> `Canon-EOS-5D`)."""
    return _SAFE.sub("-", camera).strip("-.") or "camera"
