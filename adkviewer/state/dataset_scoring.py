"""Scoring every (pair, method) of the dataset view off the GUI thread, with a cache on disk, Qt-free.

Each pair goes through `adk_model.evaluate.score_pair`, the one metric path of `adkviewer eval`, with the methods
eval would build (`MethodsSpec`: the session's weights, added methods and least-squares fit; fitted on the
folder's train split as eval fits it); results arrive pair by pair through the job's progress. The cache keys
a score by the pair's files, the method and what its output comes from (the weights' SHA-256, the fit, the
external result file), so re-opening a folder costs nothing and a changed file is scored again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from adk_model.atomic import atomic_write_bytes
from adk_model.cache_files import CACHE_ENV, cache_dir, file_id  # noqa: F401 (CACHE_ENV: part of this API)
from adk_model.errors import UserError
from adk_model.method_registry import ExtraMethod

CACHE_FILE = "dataset_scores.json"
CACHE_VERSION = 1
MAX_ENTRIES = 50_000   # the oldest scores go first beyond this
SAVE_EVERY_S = 1.0     # the cache file is rewritten at most this often while scoring (and at the end)


@lru_cache(maxsize=64)
def _sha256(_file_id: str, path: str) -> str:
    from adk_model.eval_report import file_sha256

    return file_sha256(path)


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, computed once per content version (path, size, mtime)."""
    try:
        return _sha256(file_id(path), str(path))
    except OSError:
        return f"unreadable:{path}"


class ScoreCache:
    """Scores by key, in a JSON file written atomically; a broken or foreign file is started afresh."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / CACHE_FILE
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, float]] | None = None
        self._dirty, self._saved_at = False, 0.0

    def _load(self) -> dict[str, dict[str, float]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                ok = isinstance(raw, dict) and raw.get("version") == CACHE_VERSION and isinstance(raw.get("scores"), dict)
                self._data = dict(raw["scores"]) if ok else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str) -> dict[str, float] | None:
        with self._lock:
            v = self._load().get(key)
            return dict(v) if isinstance(v, dict) else None

    def put(self, key: str, scores: Mapping[str, float]) -> None:
        with self._lock:
            data = self._load()
            data.pop(key, None)
            data[key] = {k: float(v) for k, v in scores.items()}
            while len(data) > MAX_ENTRIES:
                data.pop(next(iter(data)))
            self._dirty = True

    def save(self, force: bool = True) -> None:
        """Write the file if anything changed (not more often than SAVE_EVERY_S unless `force`); a folder that
        cannot be written only loses the cache."""
        with self._lock:
            if not self._dirty or (not force and time.monotonic() - self._saved_at < SAVE_EVERY_S):
                return
            text = json.dumps({"version": CACHE_VERSION, "scores": self._data}, allow_nan=False)
            try:
                atomic_write_bytes(self.path, text.encode("utf-8"))
            except (OSError, UserError, ValueError):
                return
            self._dirty, self._saved_at = False, time.monotonic()

    def __len__(self) -> int:
        with self._lock:
            return len(self._load())


@dataclass(frozen=True)
class MethodsSpec:
    """What the methods of a scoring run come from, taken from the session in the GUI thread."""

    scale: int
    methods: tuple[str, ...]
    device: str = "cpu"
    weights: str | None = None          # the main ADK-Net's weights file (None: none for this scale)
    lstsq_path: str | None = None       # a fit of the person's own (None: fitted on the train split, or shipped)
    budget_bytes: int | None = None
    extras: tuple[tuple[str, ExtraMethod], ...] = field(default=())

    @property
    def extra_map(self) -> dict[str, ExtraMethod]:
        return dict(self.extras)


def spec_from_session(session: Any, scale: int) -> MethodsSpec:
    """Every method the session knows, at the dataset's scale, as `adkviewer eval` would run them."""
    w = session.adknet_weights(scale)
    return MethodsSpec(scale=scale, methods=tuple(session.known_methods()), device=session.device,
                       weights=str(w) if w else None, lstsq_path=session.lstsq_paths.get(scale),
                       budget_bytes=session.budget_mb * 2**20 if session.budget_mb else None,
                       extras=tuple(session.extras.items()))


def lstsq_identity(spec: MethodsSpec, train: list) -> str:
    """What the least-squares scores come from: the person's fit file, the train split's files, or the shipped fit."""
    from adk_model.methods import shipped_lstsq

    if spec.lstsq_path:
        return f"fit:{sha256_of(spec.lstsq_path)}"
    if train:
        from adk_model.lstsq_cache import lstsq_key

        return f"train:{lstsq_key(train, spec.scale)}"
    shipped = shipped_lstsq(spec.scale)
    return f"shipped:{sha256_of(shipped)}" if shipped else "none"


def method_identity(spec: MethodsSpec, method: str, lstsq_id: str, names: tuple[str, ...]) -> str:
    """What one method's output on one pair comes from (part of its cache key)."""
    extras = spec.extra_map
    if method == "adknet":
        return f"w:{sha256_of(spec.weights)}" if spec.weights else "w:none"
    if method == "lstsq":
        return lstsq_id
    e = extras.get(method)
    if e is None:
        return "builtin"
    if e.is_adknet:
        return f"w:{sha256_of(e.path)}"
    from adk_model.external import external_file

    try:
        return f"ext:{file_id(external_file(e, names))}"
    except UserError:
        return "ext:missing"


def pair_key(pair, method: str, identity: str, scale: int, crop: int = 0) -> str:
    return f"v{CACHE_VERSION}|x{scale}|c{crop}|{file_id(pair.hr_path)}|{file_id(pair.lr_path)}|{method}|{identity}"


@dataclass
class ScoringRun:
    """What the worker needs: the pairs (PairInfo, names), the train pairs, the methods, and the cache."""

    token: int
    rows: list[tuple[Any, tuple[str, ...]]]
    train: list
    folder: str
    spec: MethodsSpec
    cache: ScoreCache


def score_rows(run: ScoringRun, cancelled: Callable[[], bool], report: Callable[..., None]) -> int:
    """Score every (pair, method) not in the cache; report ('pair', token, name, scores, problems) per pair and
    ('fit', done, total) while fitting the least-squares kernel. Returns the number of pairs done."""
    from adk_model.data import load_pair
    from adk_model.devices import resolve_device
    from adk_model.evaluate import score_pair
    from adk_model.methods import MethodSet
    from adk_model.split_pairs import fit_train_lstsq
    from adk_model.wording import count_of

    spec = run.spec
    lstsq_id = lstsq_identity(spec, run.train)
    todo: list[tuple[Any, tuple[str, ...], dict, dict[str, str]]] = []
    for info, names in run.rows:  # what the cache holds is reported at once
        keys = {m: pair_key(info, m, method_identity(spec, m, lstsq_id, names), spec.scale) for m in spec.methods}
        have = {m: v for m, k in keys.items() if (v := run.cache.get(k)) is not None}
        if have:
            report("pair", run.token, info.name, have, {})
        if len(have) < len(keys):
            todo.append((info, names, have, keys))
    if not todo:
        return len(run.rows)
    ms = MethodSet(scale=spec.scale, device=resolve_device(spec.device), weights_path=spec.weights,
                   lstsq_path=spec.lstsq_path, budget_bytes=spec.budget_bytes, extras=spec.extra_map)
    if "lstsq" in spec.methods and not spec.lstsq_path and run.train and any("lstsq" not in h for _, _, h, _ in todo):
        def fitting():
            for i, p in enumerate(run.train):
                if cancelled():
                    raise InterruptedError("cancelled")
                report("fit", i, len(run.train))
                yield p
        ms.lstsq_fit = fit_train_lstsq(fitting(), spec.scale,
                                       f"{run.folder} train split ({count_of(len(run.train), 'pair')})", run.train)
    done = len(run.rows) - len(todo)
    for info, names, have, keys in todo:
        if cancelled():
            break
        missing = [m for m in spec.methods if m not in have]
        try:
            hr, lr = load_pair(info, spec.scale)
        except UserError as e:
            report("pair", run.token, info.name, {}, {m: str(e) for m in missing})
            continue
        scores, problems = score_pair(hr, lr, missing, ms, names=names, cancelled=cancelled)
        for m, v in scores.items():
            run.cache.put(keys[m], v)
        run.cache.save(force=False)
        report("pair", run.token, info.name, scores, problems)
        done += 1
    run.cache.save()
    return done
