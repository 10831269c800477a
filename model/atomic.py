"""Atomic file writes: a temporary file in the same folder, then a rename, so a crash never leaves half a file.

Without `overwrite`, the temporary is published with os.link, which fails if the target exists, so two writers
into one name (or a file created meanwhile) can never both "succeed". Temporaries carry their writer's pid, and
those of dead writers (a kill -9 mid-write) are removed by the next write of the same target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
import uuid
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import UserError

STALE_S = 3600  # a temporary without a pid in its name (older format) is stale after this long


def _temp_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Delete `.NAME.*.tmp` beside `path` left by writers that no longer run."""
    prefix = f".{path.name}."
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for p in entries:
        if not (p.name.startswith(prefix) and p.name.endswith(".tmp")):
            continue
        tag = p.name[len(prefix):-4]
        pid = tag.split("-", 1)[0]
        try:
            stale = not _alive(int(pid)) if "-" in tag and pid.isdigit() else time.time() - p.stat().st_mtime > STALE_S
            if stale:
                p.unlink()
        except OSError:
            pass


def _publish_new(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` only if no file has it (os.link is atomic and refuses an existing name)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise UserError(f"{path} already exists; pass --overwrite to replace it.") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # A filesystem without hard links: claim the name exclusively, then move the data over the claim.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise UserError(f"{path} already exists; pass --overwrite to replace it.") from None
        os.replace(tmp, path)
        return
    tmp.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Open a temporary file for binary writing; on success it is synced and renamed to `path` (replacing it
    only with `overwrite`; otherwise an existing `path` is a UserError and is left untouched)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = _temp_name(path)
    # os.open with 0o666 lets the umask decide permissions, like a normally created file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _publish_new(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> None:
    with atomic_open(path, overwrite) as f:
        f.write(data)
