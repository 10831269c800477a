"""The one method registry: built-in methods, plus the ones a person adds (more ADK-Net weights, their own results).

Torch-free, so the CLI's parsers and the GUI's lists can read it cheaply. A method is named by its key
everywhere: the built-ins' fixed keys, `adknet:NAME` for more ADK-Net weights, `ext:NAME` for results made
outside the program (an LR image, or a folder of them matched to pairs by name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import UserError


@dataclass(frozen=True)
class MethodInfo:
    """One method in the registry: its key, names on screen, what it needs, and when the GUI computes it."""

    key: str
    label: str            # tables, lists, the CLI's eval table
    short: str            # view titles, readouts, combos, where space is short
    title: str            # the Compare panel's title
    needs: str = ""       # "weights" (ADK-Net), "fit" (least-squares), "files" (external), "" (classical)
    run_rank: int = 0     # the order of the GUI's method worker: the headline method first
    beside: bool = False  # cheap and single-threaded (Pillow): the GUI runs it beside the others when cores allow


# The built-in methods, in display order: the CLI's choices, the tabs' lists and labels, and the order in
# which the GUI computes all come from here. ADK-Net, the headline, runs first; the classical filters (about
# 3 s together at 12 MP) run beside it on a second thread, and the least-squares kernel (5 s at 12 MP, torch on
# every core) after it. With one core everything runs in rank order on one thread.
METHODS: dict[str, MethodInfo] = {m.key: m for m in (
    MethodInfo("adknet", "ADK-Net", "ADK-Net", "ADK-Net", needs="weights", run_rank=0),
    MethodInfo("nearest", "Nearest", "Nearest", "Nearest", run_rank=2, beside=True),
    MethodInfo("box", "Box (area)", "Box", "Box (area)", run_rank=3, beside=True),
    MethodInfo("bilinear", "Bilinear", "Bilinear", "Bilinear", run_rank=4, beside=True),
    MethodInfo("bicubic", "Bicubic", "Bicubic", "Bicubic", run_rank=5, beside=True),
    MethodInfo("lanczos", "Lanczos-3", "Lanczos-3", "Lanczos-3", run_rank=6, beside=True),
    MethodInfo("lstsq", "Least-squares kernel", "Least-squares", "Least-squares", needs="fit", run_rank=7),
)}
ALL_METHODS = tuple(METHODS)
LABELS = {m.key: m.label for m in METHODS.values()}
# Where space is short (view titles, readouts, combos); "gt" is the ground truth.
SHORT_LABELS = {"gt": "GT", **{m.key: m.short for m in METHODS.values()}}
TITLES = {m.key: m.title for m in METHODS.values()}
RUN_ORDER = tuple(sorted(METHODS, key=lambda k: METHODS[k].run_rank))

ADKNET_PREFIX, EXTERNAL_PREFIX = "adknet:", "ext:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")
STEM = "{stem}"


@dataclass(frozen=True)
class ExtraMethod:
    """A method a person added: more ADK-Net weights (`path` a weights file), or their own results (`path` an
    LR image, or a folder of them found by `pattern`, in which {stem} is the pair's name)."""

    key: str
    name: str
    path: str
    pattern: str = STEM
    label: str = ""       # a longer label (ADK-Net weights: from the model card); default: the name

    @property
    def is_adknet(self) -> bool:
        return self.key.startswith(ADKNET_PREFIX)

    def info(self) -> MethodInfo:
        if self.is_adknet:
            label = self.label or f"ADK-Net · {self.name}"
            return MethodInfo(self.key, label, f"ADK-Net·{self.name}", label, needs="weights", run_rank=1)
        label = self.label or self.name
        return MethodInfo(self.key, label, self.name, f"{label} (external)", needs="files", run_rank=8, beside=True)


def check_name(name: str, what: str) -> str:
    """A method name a person typed, as a key part: letters, digits and _ . + - (so keys stay one word)."""
    if not _NAME.match(name or ""):
        raise UserError(f"{what} name {name!r} must start with a letter or digit and hold only letters, digits "
                        f"and _ . + - (at most 40 characters).")
    if name.lower() in {*METHODS, "gt"}:
        raise UserError(f"{what} name {name!r} is a built-in method's key; choose another name.")
    return name


def external_method(name: str, path: str, pattern: str = STEM) -> ExtraMethod:
    """The user's own results as a method (`ext:NAME`)."""
    if STEM not in pattern or "/" in pattern or "\\" in pattern:
        raise UserError(f"File name pattern {pattern!r} must hold {STEM} (the pair's name) and no folder, "
                        f"e.g. {{stem}}_x4_mine.png.")
    return ExtraMethod(EXTERNAL_PREFIX + check_name(name, "Method"), name, str(path), pattern)


def adknet_method(name: str, weights: str, label: str = "") -> ExtraMethod:
    """More ADK-Net weights as a method beside the main one (`adknet:NAME`)."""
    return ExtraMethod(ADKNET_PREFIX + check_name(name, "Model"), name, str(weights), label=label)


def unique_name(wanted: str, taken: set[str]) -> str:
    """A valid method name from free text (a model card's name), not among `taken`: 'ft', 'ft-2', ..."""
    base = re.sub(r"[^A-Za-z0-9_.+-]+", "-", wanted).strip("-._+")[:36] or "model"
    if base.lower() in {*METHODS, "gt"}:
        base += "-1"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def parse_named(text: str, what: str) -> tuple[str, str]:
    """'NAME=PATH' (the CLI's --external and --adknet) -> (NAME, PATH)."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise UserError(f"{what} {text!r}: write NAME=PATH, e.g. mine=results/x4.")
    return name, path


def parse_external(text: str) -> ExtraMethod:
    """--external NAME=PATH: PATH an LR file or a folder of them; a last part holding {stem} is the file name
    pattern in its folder (NAME=results/{stem}_x4_mine.png)."""
    name, path = parse_named(text, "--external")
    head, sep, tail = path.replace("\\", "/").rpartition("/")
    if STEM in tail:
        return external_method(name, head if sep else ".", tail)
    if STEM in path:
        raise UserError(f"--external {text!r}: {STEM} may only appear in the file name, not in a folder.")
    return external_method(name, path)


def method_info(key: str, extras: Mapping[str, ExtraMethod] | None = None) -> MethodInfo:
    """The registry entry of any method key, built-in or added."""
    if key in METHODS:
        return METHODS[key]
    if extras and key in extras:
        return extras[key].info()
    choices = ", ".join([*ALL_METHODS, *(extras or {})])
    for prefix, flag, what in ((EXTERNAL_PREFIX, "--external", "PATH"), (ADKNET_PREFIX, "--adknet", "WEIGHTS")):
        if key.startswith(prefix) and key[len(prefix):]:  # an added method's key, not added: say how to add it
            raise UserError(f"Unknown method {key!r}: add it with {flag} {key[len(prefix):]}={what}, "
                            f"or choose from {choices}.")
    raise UserError(f"Unknown method {key!r}; choose from {choices}.")


def known(extras: Mapping[str, ExtraMethod] | None = None) -> tuple[str, ...]:
    """Every method key in display order: ADK-Net, its added weights, the built-ins, then external results."""
    extras = extras or {}
    models = [k for k, e in extras.items() if e.is_adknet]
    outside = [k for k, e in extras.items() if not e.is_adknet]
    return (ALL_METHODS[0], *models, *ALL_METHODS[1:], *outside)


def run_order(keys: Iterable[str], extras: Mapping[str, ExtraMethod] | None = None) -> list[str]:
    """Keys in the order the GUI computes them (the headline first)."""
    order = known(extras)
    return sorted(keys, key=lambda k: (method_info(k, extras).run_rank, order.index(k) if k in order else 99))
