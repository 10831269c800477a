"""The open pairs folder of the dataset view, Qt-free: its split, the pairs (problem pairs with their reason),
the scores found so far, the current pair and stepping to the next or previous one.

The pairs come from `adk_model.split_pairs` and the means from `adk_model.evaluate.summarise`, the very calls of
`adkviewer eval`, so the dataset summary equals eval's table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from adk_model.evaluate import convention, summarise
from adk_model.split_pairs import SplitPairs, default_split, pair_names, split_pairs

HEADLINE = "adknet"  # the margin and "beaten by" compare every method with this one


@dataclass
class DatasetRow:
    """One line of the pairs table: a usable pair (`info`), or a problem pair and why it is skipped."""

    name: str
    info: object | None = None  # PairInfo when usable
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class DatasetState:
    """A pairs folder opened in the dataset view, with per-pair scores as they arrive."""

    folder: Path | None = None
    split: str = "all"
    scale: int = 4
    rows: list[DatasetRow] = field(default_factory=list)
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # pair -> method -> scores
    problems: dict[str, dict[str, str]] = field(default_factory=dict)  # pair -> method -> why it has no score
    index: int | None = None  # the usable pair shown in the tabs (index into `rows`)
    pairs: SplitPairs | None = None
    token: int = 0  # one step per open: scores of an older open are dropped

    def open(self, folder: str | Path, split: str | None = None, scale: int | None = None) -> None:
        """Read the folder and its split (default: val with a split.json, else all); UserError leaves it unchanged."""
        split = split or default_split(folder)
        sp = split_pairs(folder, split, scale, strict=False)
        self.folder, self.split, self.scale, self.pairs = Path(folder), split, sp.scale, sp
        self.rows = ([DatasetRow(p.name, info=p) for p in sp.chosen]
                     + [DatasetRow(p.name, problem=p.problem or "unusable") for p in sp.problems])
        self.scores, self.problems, self.index = {}, {}, None
        self.token += 1

    def restart(self) -> int:
        """Scores start over (the methods changed; the cache answers what it holds): the new token."""
        self.scores, self.problems = {}, {}
        self.token += 1
        return self.token

    @property
    def usable(self) -> list[DatasetRow]:
        return [r for r in self.rows if r.ok]

    def row_of(self, name: str) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.name == name), None)

    # ------------------------------------------------------------------ the current pair

    def current(self) -> DatasetRow | None:
        return self.rows[self.index] if self.index is not None else None

    def go_to(self, index: int) -> DatasetRow | None:
        """Make a usable row current (a problem row is not opened): the row, or None."""
        if 0 <= index < len(self.rows) and self.rows[index].ok:
            self.index = index
            return self.rows[index]
        return None

    def neighbour(self, order: Sequence[int], delta: int, start: int | None = None) -> int | None:
        """The usable row `delta` steps (+1 next, -1 previous) from `start` (default: the current row) in `order`
        (row indices as the table shows them); the first (or last) one when none is current; None past either end."""
        ok = [i for i in order if 0 <= i < len(self.rows) and self.rows[i].ok]
        start = self.index if start is None else start
        if not ok:
            return None
        if start not in ok:
            return ok[0] if delta > 0 else ok[-1]
        j = ok.index(start) + delta
        return ok[j] if 0 <= j < len(ok) else None

    # ------------------------------------------------------------------ scores

    def add_scores(self, token: int, pair: str, scores: Mapping[str, Mapping[str, float]],
                   problems: Mapping[str, str]) -> bool:
        """Scores of a pair from the scorer; False (ignored) when they belong to an earlier open."""
        if token != self.token:
            return False
        self.scores.setdefault(pair, {}).update({m: dict(v) for m, v in scores.items()})
        for m in problems:
            self.scores.get(pair, {}).pop(m, None)
        if problems:
            self.problems.setdefault(pair, {}).update(problems)
        for m in scores:
            self.problems.get(pair, {}).pop(m, None)
        return True

    def scored(self) -> int:
        """How many usable pairs have a score or a problem for at least one method."""
        return sum(1 for r in self.usable if r.name in self.scores or r.name in self.problems)

    def failed(self) -> int:
        """How many usable pairs have only problems (an image that would not decode fails every method)."""
        return sum(1 for r in self.usable if r.name in self.problems and not self.scores.get(r.name))

    def complete(self, methods: Sequence[str]) -> bool:
        return all(all(m in self.scores.get(r.name, {}) or m in self.problems.get(r.name, {}) for m in methods)
                   for r in self.usable)

    def summary(self, methods: Sequence[str]) -> dict[str, dict[str, float]]:
        """Means per method over the pairs scored so far: `summarise`, as `adkviewer eval` prints them."""
        per_pair = {r.name: self.scores[r.name] for r in self.usable if r.name in self.scores}
        return summarise(per_pair, methods)

    def margin(self, pair: str, methods: Sequence[str]) -> float | None:
        """ADK-Net's PSNR minus the best other method's on this pair (None until both are there)."""
        got = self.scores.get(pair, {})
        head = got.get(HEADLINE, {}).get("psnr")
        others = [got[m]["psnr"] for m in methods if m != HEADLINE and m in got and math.isfinite(got[m]["psnr"])]
        if head is None or not others or not math.isfinite(head):
            return None
        return head - max(others)

    def beaten(self, methods: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Per method: (pairs on which ADK-Net's PSNR is higher, pairs where both have a score)."""
        out: dict[str, tuple[int, int]] = {}
        for m in methods:
            if m == HEADLINE:
                continue
            both = [s for s in self.scores.values() if m in s and HEADLINE in s]
            out[m] = (sum(1 for s in both if s[HEADLINE]["psnr"] > s[m]["psnr"]), len(both))
        return out

    def shipped_lstsq_note(self, given: str | None) -> str | None:
        """Where Least-squares is the shipped fit here (none `given`, no train split), that sentence (as eval's)."""
        from adk_model.eval_report import shipped_lstsq_note

        return None if self.pairs is None else shipped_lstsq_note(given, len(self.pairs.train), self.scale)

    def convention(self) -> str:
        return convention(0)

    def names_of(self, row: DatasetRow) -> tuple[str, ...]:
        return pair_names(row.info) if row.info is not None else (row.name,)

    def describe(self) -> str:
        """One line: the folder, split, scale and how many pairs (and problem pairs)."""
        if self.folder is None:
            return "No pairs folder. File → Open pairs folder…, or drop a folder on the window."
        bad = len(self.rows) - len(self.usable)
        extra = f", {bad} skipped (see their reason)" if bad else ""
        return f"{self.folder.name}: {self.split} split, x{self.scale}, {len(self.usable)} pairs{extra}"
