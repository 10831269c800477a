"""What the Differences tab shows, with no Qt in it: which image against which reference, mode, channel,
gain, and the cached error maps and statistics.

Every map comes from `adk_model.metrics.error_map` (the one metric function for all modes) and is cached in a
`adk_model.metrics.MetricCache` keyed by (image key, reference key, mode, channel). A source's key is its name and
the session's generation (the ground truth's whole generation, a method's the part its result depends on), so
a new image, scale, device, weights or ground truth never hits a stale map; a method recomputed within a
generation drops its maps (`source_changed`). The maps, histograms and statistics of a mode are computed off
the GUI thread (`request` -> `compute_maps` on a worker -> `store`, which keeps them only if the arrays they
were computed from are still the session's).
"""

from __future__ import annotations

import re

import csv
import io
from dataclasses import dataclass
from typing import Callable, Hashable

import numpy as np

from adk_model.errors import UserError
from adk_model.methods import ALL_METHODS
from adk_model.error_display import CHANNEL_LABELS, FORMULAS, MODE_LABELS, UNITS, axis_label, display_levels  # noqa: F401
from adk_model.metrics import ERROR_CHANNELS, ERROR_MODES, ErrorStats, MetricCache, error_map, error_stats

from adkviewer.state.session import GT, Session

NO_GT_NOTE = ("No ground-truth LR for this image, so the reference is another method "
              "(File → Open ground truth… adds one).")
HIST_BINS = 128
GAIN_MIN, GAIN_MAX = 1.0, 1000.0
STATS_CSV_HEADER = ("image", "reference", "mode", "channel", "mean", "max", "p99", "min", "p1")
_MODE_ALIASES = {"abs": "absolute", "sq": "squared", "rel": "relative", "diff": "signed"}
_CHANNEL_ALIASES = {"r": "R", "g": "G", "b": "B", "luma": "luma", "y": "luma", "l": "luma", "lum": "luma"}
_REF_ALIASES = {"gt": GT, "ground-truth": GT, "groundtruth": GT}
DEFAULT_REFERENCE_METHOD = "bicubic"  # the reference when there is no ground truth: the usual baseline


@dataclass(frozen=True)
class DiffSpec:
    """A difference asked for on the command line (`--diff`); reference None: ground truth, else a baseline."""

    image: str
    reference: str | None = None
    mode: str = "signed"
    channel: str = "luma"


def _split_keys(text: str, known: tuple[str, ...]) -> list[str]:
    """Split at ':' except inside a known key that holds one (an added method: ext:mine, adknet:ft)."""
    held = {}
    for i, key in enumerate(sorted((k for k in known if ":" in k), key=len, reverse=True)):
        token = f"\0{i}\0"
        text = re.sub(rf"(?<![^:-]){re.escape(key)}(?=$|[:-])", token, text, flags=re.IGNORECASE)
        held[token] = key
    parts = [p.strip() for p in text.split(":")]
    for token, key in held.items():
        parts = [p.replace(token, key) for p in parts]
    return parts


def _image_and_ref(head: str, known: tuple[str, ...]) -> tuple[str, str | None]:
    """'adknet-bicubic' -> ('adknet', 'bicubic'); a known key with a '-' in it (ext:my-method) stays whole."""
    if head in known or head in _REF_ALIASES or "-" not in head:
        return head, None
    for i, ch in enumerate(head):
        if ch == "-" and head[:i] in known:
            return head[:i], head[i + 1:]
    return tuple((head.split("-", 1) + [None])[:2])  # type: ignore[return-value]


def parse_diff_spec(text: str, known: tuple[str, ...] = ALL_METHODS) -> DiffSpec:
    """`METHOD[:MODE[:CHANNEL[:REF]]]`, or `METHOD-REF[:MODE[:CHANNEL]]` (REF a method or `gt`); UserError if bad.

    `known`: every method key, the added ones (whose keys hold a ':') too."""
    where = f"--diff {text!r}"
    lower = {k.lower(): k for k in known}
    parts = _split_keys(str(text), known)
    if len(parts) > 4 or not parts[0]:
        raise UserError(f"{where}: use METHOD[:MODE[:CHANNEL[:REF]]], e.g. adknet:signed:luma:bicubic.")
    image, ref = _image_and_ref(parts[0] if parts[0] in known else parts[0].lower(), known)
    image = lower.get(image.lower(), image)
    if len(parts) == 4 and parts[3]:
        given = lower.get(parts[3].lower(), parts[3].lower())
        if ref is not None and given != lower.get(ref.lower(), ref):
            raise UserError(f"{where}: the reference is given twice ({ref} and {parts[3]}).")
        ref = given
    mode = parts[1].lower() if len(parts) > 1 and parts[1] else "signed"
    mode = _MODE_ALIASES.get(mode, mode)
    channel = parts[2] if len(parts) > 2 and parts[2] else "luma"
    channel = _CHANNEL_ALIASES.get(channel.lower(), channel)
    if image not in known:
        raise UserError(f"{where}: unknown method {image!r}; choose from {', '.join(known)}.")
    if ref is not None:
        ref = _REF_ALIASES.get(ref.lower(), lower.get(ref.lower(), ref))
        if ref != GT and ref not in known:
            raise UserError(f"{where}: unknown reference {ref!r}; choose gt or one of {', '.join(known)}.")
    if mode not in ERROR_MODES:
        raise UserError(f"{where}: unknown mode {mode!r}; choose from {', '.join(ERROR_MODES)}.")
    if channel not in ERROR_CHANNELS:
        raise UserError(f"{where}: unknown channel {channel!r}; choose from R, G, B, luma.")
    return DiffSpec(image, ref, mode, channel)


@dataclass(frozen=True)
class DiffResult:
    """One error map with what is shown beside it (computed once per cache key)."""

    err: np.ndarray          # (h, w) float32, from error_map
    stats: ErrorStats        # error_stats(err): mean, max, p99, min, p1 of the values as given (signed included)
    lo: float                # min and max of err
    hi: float
    hist: np.ndarray         # counts, HIST_BINS
    edges: np.ndarray        # HIST_BINS + 1 bin edges


@dataclass(frozen=True, eq=False)
class DiffRequest:
    """One job: the maps of every channel of one mode the cache lacks, for one pair, with the arrays it reads."""

    image: str
    reference: str
    mode: str
    image_key: Hashable
    ref_key: Hashable
    img: np.ndarray
    ref: np.ndarray
    channels: tuple[str, ...]

    def same_work(self, other: DiffRequest | None) -> bool:
        """`other` computes the same maps from the same arrays (no need to ask again)."""
        return (other is not None and (self.image_key, self.ref_key, self.mode, self.channels) ==
                (other.image_key, other.ref_key, other.mode, other.channels)
                and self.img is other.img and self.ref is other.ref)


def compute_maps(req: DiffRequest, cancelled: Callable[[], bool] = lambda: False) -> dict[str, DiffResult]:
    """Off the GUI thread: each requested channel's error map with its histogram and statistics."""
    out = {}
    for channel in req.channels:
        if cancelled():
            raise InterruptedError("a newer difference was asked for")
        out[channel] = _compute(req.img, req.ref, req.mode, channel)
    return out


def _compute(img: np.ndarray, ref: np.ndarray, mode: str, channel: str) -> DiffResult:
    err = error_map(img, ref, mode, channel)
    lo, hi = (float(err.min()), float(err.max())) if err.size else (0.0, 0.0)
    if mode == "signed":
        m = max(abs(lo), abs(hi)) or 1e-6
        rng = (-m, m)
    else:
        rng = (min(lo, 0.0), hi if hi > 0 else 1e-6)
    hist, edges = np.histogram(err, bins=HIST_BINS, range=rng)
    return DiffResult(err, error_stats(err), lo, hi, hist, edges)


class DiffState:
    """Selection, gain and the cache of the Differences tab over one `Session`."""

    def __init__(self, session: Session, cache_size: int = 48) -> None:
        self.session = session
        self.cache = MetricCache(cache_size)
        self.image: str | None = None
        self.reference: str | None = None
        self.mode = "signed"
        self.channel = "luma"
        self.gain = 1.0
        self.picked = False          # a person (or --diff) chose image/reference: keep them while valid

    # ------------------------------------------------------------------ sources and their keys

    def status(self, name: str | None) -> str | None:
        """Why `name` has no image to compare yet (None when it has one)."""
        s = self.session
        if name is None:
            return "nothing chosen"
        if s.hr_full is None:
            return "no image open"
        if name == GT:
            return None if s.has_gt else "no ground-truth LR"
        r = s.results.get(name)
        if r is None:
            return "computing…" if name in s.methods else f"{self.label(name)} is not ticked in Compare"
        if r.message:
            return r.message
        if r.partial or r.lr is None:
            return "computing…"
        return None

    def array(self, name: str | None) -> np.ndarray | None:
        return None if self.status(name) is not None else self.session.image_of(name)

    def key(self, name: str) -> Hashable | None:
        """Cache key of a source's current array, or None when it has none."""
        return None if self.array(name) is None else self._source_key(name)

    def _source_key(self, name: str) -> Hashable:
        g = self.session.generation
        return (name, g if name == GT else g.output_of(name))

    def source_changed(self, name: str) -> None:
        """A method's result changed within the generation (or the ground truth did): drop the maps made from it."""
        self.cache.invalidate(self._source_key(name))

    def image_changed(self) -> None:
        """A new image, scale, device or weights: nothing cached is valid any more (the keys say so; free them)."""
        self.cache.clear()

    # ------------------------------------------------------------------ choices

    def label(self, name: str | None) -> str:
        return "—" if name is None else self.session.label(name)

    def short(self, name: str | None) -> str:
        return "—" if name is None else self.session.short_label(name)

    def image_choices(self) -> list[str]:
        """Every method, the added ones too (ones not ticked in Compare are ticked when chosen)."""
        return list(self.session.known_methods())

    def reference_choices(self) -> list[str]:
        """The ground truth (when there is one) and every method."""
        return ([GT] if self.session.has_gt else []) + self.image_choices()

    def default_image(self) -> str | None:
        ticked = self.session.methods
        return "adknet" if "adknet" in ticked else (ticked[0] if ticked else None)

    def default_reference(self, image: str | None) -> str | None:
        if self.session.has_gt:
            return GT
        ticked = [m for m in self.session.methods if m != image]
        if DEFAULT_REFERENCE_METHOD in ticked:
            return DEFAULT_REFERENCE_METHOD
        return ticked[0] if ticked else None

    def ensure_valid(self) -> None:
        """Keep a chosen pair while it is offered; otherwise (or before any choice) use the defaults."""
        s = self.session
        if not self.picked or self.image not in self.image_choices():
            self.image = self.default_image()
        if self.image is not None and self.image not in s.methods and not self.picked:
            self.image = self.default_image()
        if not self.picked or self.reference not in self.reference_choices():
            self.reference = self.default_reference(self.image)

    def choose(self, image: str | None = None, reference: str | None = None, mode: str | None = None,
               channel: str | None = None) -> None:
        """Change what is compared (None leaves a part as it is); bad names raise UserError."""
        if image is not None:
            if image not in self.image_choices():
                raise UserError(f"Cannot show the difference of {image!r}: choose from {', '.join(self.image_choices())}.")
            self.image, self.picked = image, True
        if reference is not None:
            if reference not in self.reference_choices():
                if reference == GT:
                    raise UserError("This image has no ground-truth LR to compare against; choose a method as the "
                                    "reference (or open a ground truth with File → Open ground truth…).")
                raise UserError(f"Cannot use {reference!r} as the reference: choose from "
                                f"{', '.join(self.reference_choices())}.")
            self.reference, self.picked = reference, True
        if image is not None and reference is None and self.reference == self.image:
            self.reference = self.default_reference(self.image)
        if mode is not None:
            if mode not in ERROR_MODES:
                raise UserError(f"Unknown error mode {mode!r}; choose from {', '.join(ERROR_MODES)}.")
            self.mode = mode
        if channel is not None:
            if channel not in ERROR_CHANNELS:
                raise UserError(f"Unknown channel {channel!r}; choose from {', '.join(ERROR_CHANNELS)}.")
            self.channel = channel

    def set_gain(self, gain: float) -> None:
        self.gain = float(min(max(gain, GAIN_MIN), GAIN_MAX))

    # ------------------------------------------------------------------ results

    def why_not(self) -> str | None:
        """Why no difference can be shown now (one sentence), or None."""
        s = self.session
        if s.hr_full is None:
            return "No image open. File → Open… or drop one on the window."
        if self.image is None:
            return "Tick a method in Compare to see its difference."
        if self.reference is None:
            return ("There is nothing to compare against: no ground-truth LR, and only one method is ticked. "
                    "Choose a reference method above, or open a ground truth.")
        if self.image == self.reference:
            return (f"{self.label(self.image)} is compared with itself, so the difference is zero everywhere; "
                    "choose another reference.")
        for name in (self.image, self.reference):
            why = self.status(name)
            if why is not None:
                return f"{self.label(name)}: {why}"
        return None

    def result(self, mode: str | None = None, channel: str | None = None) -> DiffResult | None:
        """The chosen pair's error map from the cache, or None: see why_not, or `request` for the job to run."""
        if self.why_not() is not None:
            return None
        return self.cache.peek(self.key(self.image), self.key(self.reference), mode or self.mode,
                               channel or self.channel)

    def request(self) -> DiffRequest | None:
        """The job the chosen pair and mode need (every channel not cached), or None: all there, or see why_not."""
        if self.why_not() is not None:
            return None
        ik, rk = self.key(self.image), self.key(self.reference)
        missing = tuple(c for c in ERROR_CHANNELS if self.cache.peek(ik, rk, self.mode, c) is None)
        if not missing:
            return None
        return DiffRequest(self.image, self.reference, self.mode, ik, rk, self.array(self.image),
                           self.array(self.reference), missing)

    def current(self, req: DiffRequest) -> bool:
        """The request's sources are still the session's: same generation and the very same arrays."""
        return all(self.key(name) == key and self.array(name) is arr
                   for name, key, arr in ((req.image, req.image_key, req.img), (req.reference, req.ref_key, req.ref)))

    def store(self, req: DiffRequest, maps: dict[str, DiffResult]) -> bool:
        """Keep a job's maps if they are still current (True); a stale job's are dropped."""
        if not self.current(req):
            return False
        for channel, res in maps.items():
            self.cache.put(req.image_key, req.ref_key, req.mode, channel, res)
        return True

    def waiting(self) -> bool:
        """Everything to show is there except the maps of the chosen mode, which a job still computes."""
        return self.why_not() is None and self.result() is None

    def channel_stats(self) -> dict[str, ErrorStats]:
        """Mean, max and p99 of the current mode's error in every channel (R, G, B, luma)."""
        out = {}
        for c in ERROR_CHANNELS:
            r = self.result(channel=c)
            if r is not None:
                out[c] = r.stats
        return out

    def levels(self, res: DiffResult | None = None) -> tuple[float, float]:
        """Display range: the map's largest magnitude divided by the gain, centred at 0 for signed error."""
        res = res or self.result()
        if res is None:
            return (-1.0, 1.0) if self.mode == "signed" else (0.0, 1.0)
        return display_levels(res.lo, res.hi, self.mode, self.gain)

    def value_at(self, row: int, col: int) -> float | None:
        res = self.result()
        if res is None or not (0 <= row < res.err.shape[0] and 0 <= col < res.err.shape[1]):
            return None
        return float(res.err[row, col])

    # ------------------------------------------------------------------ text

    def title(self) -> str:
        return (f"{self.short(self.image)} vs {self.short(self.reference)} · "
                f"{self.mode} · {CHANNEL_LABELS[self.channel]}")

    def axis_label(self) -> str:
        """What the colour bar and histogram measure, with units."""
        return axis_label(self.mode, self.channel)

    def stats_csv(self) -> str:
        """The per-channel statistics as CSV (full precision), one row per channel."""
        stats = self.channel_stats()
        if not stats:
            raise UserError(f"There are no statistics to export: {self.why_not() or 'they are still computed'}")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(STATS_CSV_HEADER)
        for c, st in stats.items():
            w.writerow([self.image, self.reference, self.mode, c]
                       + [repr(float(v)) for v in (st.mean, st.max, st.p99, st.min, st.p1)])
        return buf.getvalue()

    def file_stem(self) -> str:
        from pathlib import Path

        stem = Path(self.session.hr_path).stem if self.session.hr_path else "image"
        return f"{stem}_x{self.session.scale}_{self.image}-vs-{self.reference}_{self.mode}_{self.channel}"


__all__ = ["DiffState", "DiffSpec", "DiffResult", "DiffRequest", "compute_maps", "parse_diff_spec", "MODE_LABELS", "CHANNEL_LABELS", "NO_GT_NOTE"]
