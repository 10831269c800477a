"""The state every tab shares (image, ground truth, scale, methods, results, selected pixel), with no Qt in it.

Widgets are thin views over a `Session`; `adkviewer.hub.SessionHub` tells them when it changes.
All computation goes through `model/` (MethodSet, compute_metrics), so the GUI agrees with the CLI.
What the methods are called and what each runs from are `MethodLabels` (`session_labels`), a base of `Session`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adk_model.data import find_ground_truth, pair_name_of
from adk_model.errors import UserError
from adk_model.imageio import LoadedImage, crop_to_multiple, load_image, to_uint8
from adk_model.method_registry import ExtraMethod, known
from adk_model.methods import ALL_METHODS, MethodSet
from adk_model.weights import default_weights, describe_weights

from adkviewer.state.generation import Generation
from adkviewer.state.session_parts import SCALES, MethodResult, OpenedFiles, read_files, scale_of, weights_name  # noqa: F401
from adkviewer.state.metrics_export import MetricsRow
from adkviewer.state.session_labels import (GT, GT_LABEL, MethodLabels, no_lstsq_message,  # noqa: F401
                                            no_weights_message)

NO_GT_MESSAGE = "no ground-truth LR: metrics off (File → Open ground truth…)"


# beside a score of a model on a pair it was trained on (its card lists it): not a test score
TRAIN_PAIR_MARK = "[trained on this pair]"
DOUBT_SSIM = 0.3  # every method below this SSIM: the ground truth is probably of another scene (real pairs: > 0.8)


@dataclass
class Session(MethodLabels):
    """Everything the Compare, Inspect and Train tabs share; changed through methods so views can be notified."""

    hr_path: str | None = None
    hr_full: np.ndarray | None = None       # as loaded (not cropped to the scale)
    hr_notes: list[str] = field(default_factory=list)
    gt_path: str | None = None
    gt: np.ndarray | None = None
    gt_notes: list[str] = field(default_factory=list)
    gt_auto: bool = False                   # found beside the HR rather than chosen
    gt_problem: str | None = None           # why a ground truth found or given with the HR is not used
    scale: int = 4
    device: str = "auto"
    budget_mb: int = 0                      # 0: automatic tile memory budget
    weights_path: str | None = None         # ADK-Net weights chosen by the user (for their scale)
    lstsq_paths: dict[int, str] = field(default_factory=dict)  # least-squares fits made by the user, per scale
    methods: list[str] = field(default_factory=lambda: list(ALL_METHODS))  # ticked, in display order
    extras: dict[str, ExtraMethod] = field(default_factory=dict)  # added methods (weights, own results), by key
    pair_name: str | None = None            # the open image's name in a pairs folder (external results use it)
    results: dict[str, MethodResult] = field(default_factory=dict)
    selected_pixel: tuple[int, int] | None = None  # LR (row, col), for the Inspect tab
    generation: Generation = field(default_factory=Generation)  # the staleness key: one step per change
    _method_set: tuple[Generation, MethodSet] | None = field(default=None, repr=False)  # and what it was built for
    _gt_aside: tuple | None = field(default=None, repr=False)  # a ground truth for another scale
    _weights_cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ image and ground truth

    @property
    def hr(self) -> np.ndarray | None:
        """The HR cropped (top-left kept) to a multiple of the scale, as every method sees it."""
        if self.hr_full is None:
            return None
        return crop_to_multiple(self.hr_full, self.scale)[0]

    @property
    def lr_shape(self) -> tuple[int, int] | None:
        if self.hr_full is None:
            return None
        return self.hr_full.shape[0] // self.scale, self.hr_full.shape[1] // self.scale

    @property
    def has_gt(self) -> bool:
        return self.gt is not None

    def open_image(self, path: str | Path, gt_path: str | Path | None = None, fixed_scale: bool = False,
                   files: OpenedFiles | None = None, pair_name: str | None = None) -> list[str]:
        """Use an HR (and its ground truth, chosen or found beside it); returns notes for the status bar.

        `files` are the already-read files (see `read_files`, which a GUI runs off its main thread).
        Raises UserError, leaving the session unchanged, if the HR cannot be used. A ground truth that
        cannot be used only leaves the metrics off: why is in `gt_problem`.
        """
        files = files or read_files(path, gt_path)
        img = files.hr
        crop_to_multiple(img.array, self.scale, name=str(path))  # too small for the scale: the loader's message
        self.hr_path, self.hr_full, self.hr_notes = str(path), img.array, list(img.notes)
        self.pair_name = pair_name
        self.gt_path, self.gt, self.gt_notes, self.gt_auto, self.gt_problem = None, None, [], False, None
        self._gt_aside = None
        kept, self.selected_pixel = self.selected_pixel, None
        notes = list(img.notes)
        if files.gt_error is not None:
            self.gt_problem = files.gt_error
        elif files.gt is not None:
            try:
                notes += self._use_ground_truth(files.gt_path, fixed_scale, files.gt_auto, files.gt)
            except UserError as e:
                self.gt_problem = str(e)
        crop_note = crop_to_multiple(self.hr_full, self.scale)[1]
        if crop_note:
            notes.append(crop_note)
        h, w = self.lr_shape
        if kept is not None and 0 <= kept[0] < h and 0 <= kept[1] < w:
            self.selected_pixel = kept  # the next image of a series is inspected at the same spot
        self._changed("image")
        return notes

    def image_notes(self) -> list[str]:
        """What the loader did to the open HR (16 bits reduced, alpha over white, orientation) and its crop at this
        scale: shown beside the image for as long as it is open."""
        if self.hr_full is None:
            return []
        crop_note = crop_to_multiple(self.hr_full, self.scale)[1]
        return list(self.hr_notes) + ([crop_note] if crop_note else [])

    def open_ground_truth(self, path: str | Path, fixed_scale: bool = False, auto: bool = False,
                          image: LoadedImage | None = None) -> list[str]:
        """Use an LR as ground truth; its size must be HR size / scale (the scale follows it unless fixed, and
        then the results are dropped)."""
        old_scale = self.scale
        notes = self._use_ground_truth(path, fixed_scale, auto, image)
        self._changed("ground_truth", *(("scale",) if self.scale != old_scale else ()))
        return notes

    def _use_ground_truth(self, path: str | Path, fixed_scale: bool, auto: bool,
                          image: LoadedImage | None) -> list[str]:
        if self.hr_full is None:
            raise UserError("Open an HR image before its ground-truth LR.")
        img = image or load_image(path)
        s = scale_of(self.hr_full.shape, img.array.shape, prefer=self.scale)
        notes = [f"ground truth: {n}" for n in img.notes]
        if s is None or (fixed_scale and s != self.scale):
            h, w = self.hr_full.shape[:2]
            gh, gw = img.array.shape[:2]
            kept = (f"the previous ground truth '{Path(self.gt_path).name}' is still used" if self.gt is not None
                    else "metrics are off")  # a mis-click must not silently score against the old one either
            raise UserError(
                f"Ground truth '{Path(path).name}' is {gw}x{gh}, which is not HR size / scale "
                f"(expected {w // self.scale}x{h // self.scale} for the {w}x{h} HR at x{self.scale}); {kept}.")
        if s != self.scale:
            notes.append(f"scale set to x{s} from the ground truth's size")
            self.scale = s
        self.gt_path, self.gt, self.gt_notes, self.gt_auto = str(path), img.array, notes, auto
        self.gt_problem, self._gt_aside = None, None
        for r in self.results.values():
            r.metrics = None
        return notes

    def gt_for_another_scale(self) -> tuple[str, int] | None:
        """(file name, its scale) of a ground truth set aside because the scale changed, else None."""
        if self._gt_aside is None or self.hr_full is None:
            return None
        return Path(self._gt_aside[0] or "").name, scale_of(self.hr_full.shape, self._gt_aside[1].shape) or 0

    def clear_ground_truth(self) -> None:
        """Metrics off: no ground truth any more (the results stay)."""
        self._drop_ground_truth()
        self._changed("ground_truth")

    def _drop_ground_truth(self) -> None:
        self.gt_path, self.gt, self.gt_notes, self.gt_auto = None, None, [], False
        for r in self.results.values():
            r.metrics = None

    def set_scale(self, scale: int) -> list[str]:
        """Change the scale. A ground truth that does not fit it is set aside (metrics off) and comes back
        when the scale fits it again; the returned notes say so."""
        if scale not in SCALES:
            raise UserError(f"Scale x{scale} is not supported; choose x2, x3 or x4.")
        notes: list[str] = []
        self.scale = int(scale)
        parts = ["scale"]
        if self.hr_full is not None:
            if self.gt is not None and scale_of(self.hr_full.shape, self.gt.shape, prefer=scale) != scale:
                notes.append(f"Ground truth '{Path(self.gt_path or '').name}' is for another scale, not x{scale}; "
                             "metrics are off at this scale.")
                self._gt_aside = (self.gt_path, self.gt, self.gt_notes, self.gt_auto)
                self._drop_ground_truth()
                parts.append("ground_truth")
            elif self.gt is None and self._gt_aside is not None:
                path, gt, gt_notes, auto = self._gt_aside
                if scale_of(self.hr_full.shape, gt.shape, prefer=scale) == scale:
                    self.gt_path, self.gt, self.gt_notes, self.gt_auto = path, gt, gt_notes, auto
                    self._gt_aside = None
                    parts.append("ground_truth")
                    notes.append(f"ground truth {Path(path).name} fits x{scale}: metrics are on again")
            crop_note = crop_to_multiple(self.hr_full, self.scale)[1]
            if crop_note:
                notes.append(crop_note)
        self._changed(*parts)
        return notes

    def _changed(self, *parts: str) -> None:
        """One change: the next generation; results are dropped when what every method depends on changed
        (not for a ground truth, which only scores them, nor a least-squares fit, whose own result goes)."""
        old, self.generation = self.generation, self.generation.bumped(*parts)
        if self.generation.results != old.results:
            self.results = {}

    # ------------------------------------------------------------------ methods

    def set_device(self, device: str, budget_mb: int = 0) -> None:
        """Run on this device with this tile budget (0: automatic); the results are dropped."""
        self.device, self.budget_mb = device, int(budget_mb)
        self._changed("device")

    def set_weights(self, path: str | Path | None) -> None:
        """Use these ADK-Net weights (None: the shipped ones); also call this after new weights were written."""
        self.weights_path = str(path) if path else None
        self._changed("weights")

    def method_set(self) -> MethodSet:
        """The MethodSet for the current scale/device/budget (weights load lazily when ADK-Net first runs)."""
        if self._method_set is not None and self._method_set[0] == self.generation.methods:
            return self._method_set[1]
        from adk_model.devices import resolve_device

        ms = MethodSet(scale=self.scale, device=resolve_device(self.device), weights_path=self.adknet_weights(),
                       lstsq_path=self.lstsq_paths.get(self.scale),
                       budget_bytes=self.budget_mb * 2**20 if self.budget_mb else None, extras=dict(self.extras))
        self._method_set = (self.generation.methods, ms)
        return ms

    def set_lstsq(self, scale: int, path: str | Path | None) -> None:
        """Use this least-squares fit at `scale` (None: the shipped one, if any); at the current scale its old
        result goes (the others stay)."""
        if path:
            self.lstsq_paths[int(scale)] = str(path)
        else:
            self.lstsq_paths.pop(int(scale), None)
        if scale == self.scale:
            self._changed("lstsq")
            self.results.pop("lstsq", None)

    def known_methods(self) -> tuple[str, ...]:
        """Every method that can be ticked, in display order (the built-ins and the added ones)."""
        return known(self.extras)

    def add_method(self, extra: ExtraMethod, tick: bool = True) -> None:
        """Add (or replace, by key) a method: more ADK-Net weights or one's own results; others' results stay."""
        self.extras[extra.key] = extra
        self.results.pop(extra.key, None)
        if tick and extra.key not in self.methods:
            self.methods = [k for k in self.known_methods() if k in self.methods or k == extra.key]
        self._changed("extras")

    def remove_method(self, key: str) -> None:
        if self.extras.pop(key, None) is None:
            return
        self.results.pop(key, None)
        self.methods = [m for m in self.methods if m != key]
        self._changed("extras")

    def names(self) -> tuple[str, ...]:
        """The open image's names by which external results are found: its pair's name, then its file's stem."""
        if not self.hr_path:
            return ()
        stem = Path(self.hr_path).stem
        return tuple(dict.fromkeys((self.pair_name or pair_name_of(self.hr_path), stem)))

    def adknet_weights(self, scale: int | None = None) -> Path | None:
        """The weights ADK-Net uses at a scale: the user's choice if it is for that scale, else the shipped ones.

        Cached for the generation (a new image, scale, device or weights looks again), so labels are cheap.
        """
        scale = scale or self.scale
        key = (scale, self.generation.results)
        if key not in self._weights_cache:
            self._weights_cache = {k: v for k, v in self._weights_cache.items() if k[1] == key[1]}
            self._weights_cache[key] = self._find_weights(scale)
        return self._weights_cache[key]

    def _find_weights(self, scale: int) -> Path | None:
        if self.weights_path:
            info = describe_weights(self.weights_path)
            if info.problem:
                return Path(self.weights_path) if scale == self.scale else None  # its error shows when run
            if info.scale == scale:
                return Path(self.weights_path)
        return default_weights(scale)


    def missing(self) -> list[str]:
        """Ticked methods with neither a result nor a message yet."""
        return [m for m in self.methods if m not in self.results]

    def complete(self) -> bool:
        return all(m in self.results and not self.results[m].partial for m in self.methods)

    def gt_doubt(self) -> str | None:
        """Why the ground truth may not belong to the image (every ticked method scores far below any sensible
        SSIM against it), once every method has its result; else None."""
        if self.gt is None or not self.complete():
            return None
        scored = [r.metrics["ssim"] for m in self.methods if (r := self.results.get(m)) is not None and r.metrics]
        if not scored or max(scored) >= DOUBT_SSIM:
            return None
        every = "Every method scores" if len(scored) > 1 else "The method scores"
        return (f"{every} SSIM below {DOUBT_SSIM:g} (best {max(scored):.2f}) against ground truth "
                f"'{Path(self.gt_path or '').name}': it may not belong to this image.")

    # ------------------------------------------------------------------ views of the results

    def image_of(self, key: str) -> np.ndarray | None:
        if key == GT:
            return self.gt
        r = self.results.get(key)
        return r.lr if r is not None else None

    def readout(self, row: int, col: int) -> list[tuple[str, str, tuple[float, float, float] | None]]:
        """(key, label, RGB) at LR pixel (row, col) for the ground truth and every ticked method."""
        out = []
        for key in ([GT] if self.has_gt else []) + list(self.methods):
            arr = self.image_of(key)
            r = self.results.get(key)
            shown = arr is not None and 0 <= row < arr.shape[0] and 0 <= col < arr.shape[1]
            if shown and r is not None and r.partial and not np.any(arr[row, col]):
                shown = False  # tile not computed yet
            rgb = tuple(float(v) for v in arr[row, col]) if shown else None
            out.append((key, self.label(key), rgb))
        return out

    def metrics_rows(self) -> list[MetricsRow]:
        rows: list[MetricsRow] = []
        if self.hr_full is None:
            return rows
        for m in self.methods:
            r = self.results.get(m)
            label = self.label(m) + (f" {TRAIN_PAIR_MARK}" if self.trained_on_image(m) else "")
            if r is None:
                rows.append(MetricsRow(m, label, None, None, None, None, "computing…", self.model_name(m)))
                continue
            met = r.metrics or {}
            msg = r.message or (f"tile {r.tiles_done}/{r.tiles_total}…" if r.partial else None)
            rows.append(MetricsRow(m, label, met.get("psnr"), met.get("psnr_y"), met.get("ssim"),
                                   None if r.partial or self._external(m) else r.seconds, msg, self.model_name(m)))
        return rows


def display_uint8(arr: np.ndarray) -> np.ndarray:
    """An LR float image as the uint8 RGB shown on screen (same rounding as saved PNGs)."""
    return to_uint8(arr)


__all__ = ["Session", "MethodResult", "MetricsRow", "find_ground_truth", "GT", "SCALES", "NO_GT_MESSAGE",
           "ALL_METHODS"]
