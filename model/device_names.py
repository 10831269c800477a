"""The device names a person may type (auto, cpu, cuda, cuda:N, mps): torch-free, so the CLI's parsers and the
GUI's lists check them without importing torch."""

from __future__ import annotations

import re

from .errors import UserError

CHOICES = ("auto", "cpu", "cuda", "mps")
SPELLING = "auto, cpu, cuda, cuda:N (a GPU's index) or mps"
_CUDA_INDEX = re.compile(r"^cuda:(\d{1,3})$")
AMP_CHOICES = ("off", "bf16")  # --amp: bf16 autocast on CUDA, where its PSNR change can be measured


def check_device_name(text: str) -> str:
    """The name in lower case when it is one of CHOICES or cuda:N; anything else is one sentence naming them."""
    name = (text or "").strip().lower()
    if name in CHOICES or _CUDA_INDEX.match(name):
        return name
    raise UserError(f"Unknown device {text!r}; choose {SPELLING}.")


def cuda_index(name: str) -> int | None:
    """N of 'cuda:N', else None (plain 'cuda' means torch's current GPU)."""
    m = _CUDA_INDEX.match(name)
    return int(m.group(1)) if m else None
