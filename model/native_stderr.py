"""Messages that C decoders (libtiff) print straight to file descriptor 2, collected instead of shown: the
program's one error line is then the only line, and the decoder's own words can go into it."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Iterator

_lock = threading.Lock()  # fd 2 is process-wide: one capture at a time


@contextlib.contextmanager
def captured(lines: list[str]) -> Iterator[None]:
    """While inside, what is written to fd 2 goes to `lines` (appended on exit), not to the terminal."""
    with _lock:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (a detached GUI process): nothing to capture
            yield
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                lines.extend(ln.strip() for ln in tmp.read().decode(errors="replace").splitlines() if ln.strip())
