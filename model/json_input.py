"""JSON from files people hand us (split files, model cards, weights metadata): every failure is a ValueError.

json.loads raises RecursionError (a RuntimeError) on deeply nested input such as '[[[[...]]]]', which the
ValueError handlers around every read would let through as a traceback.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply to be read") from None
