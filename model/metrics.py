"""Image-quality metrics and error maps, with one code path for every error display mode.

Conventions (label them in every table):
- PSNR/SSIM use data range 1 on float RGB in [0, 1], full image, no border crop, by default.
- ``y=True`` uses BT.601 "studio-swing" luma as in the super-resolution literature:
  ``Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255`` on [0, 1] RGB, so Y lies in [16/255, 235/255].
- SSIM is ``pytorch_msssim.ssim``: 11x11 Gaussian window, sigma 1.5, 'valid' filtering, K = (0.01, 0.03);
  on RGB it is the mean of the per-channel SSIMs.
- Error maps' "luma" channel is that same Y (``to_y``, the one luma here), so the mean of a squared-luma map
  is exactly the MSE behind "PSNR Y". Being studio swing, a luma error is 219/255 of the full-range
  ``0.299 R + 0.587 G + 0.114 B`` one (PSNR Y reads 1.32 dB above that full-range luma's); the literature's Y
  is kept rather than the plainer full-range sum so that PSNR Y stays comparable with published numbers, the
  model cards and bench/RESULTS.md.

Following tev, every error mode goes through ``error_map``, and its statistics are cached by
(image, reference, mode, channel) in ``MetricCache``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import numpy as np
import torch

SSIM_WIN = 11
SSIM_SIGMA = 1.5
ERROR_MODES = ("signed", "absolute", "squared", "relative")
ERROR_CHANNELS = ("R", "G", "B", "luma")
RELATIVE_EPS = 1e-2

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def _pair(pred: np.ndarray, ref: np.ndarray, crop: int) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and crop ``crop`` pixels from every border of both images, as float64."""
    pred, ref = np.asarray(pred), np.asarray(ref)
    if pred.shape != ref.shape:
        raise ValueError(f"image shapes differ: {pred.shape} vs {ref.shape}")
    if pred.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {pred.shape}")
    if crop < 0:
        raise ValueError(f"crop must be >= 0, got {crop}")
    if crop:
        if 2 * crop >= min(pred.shape[:2]):
            raise ValueError(f"crop {crop} leaves nothing of a {pred.shape[0]}x{pred.shape[1]} image")
        pred = pred[crop:-crop, crop:-crop]
        ref = ref[crop:-crop, crop:-crop]
    return pred.astype(np.float64, copy=False), ref.astype(np.float64, copy=False)


def to_y(img: np.ndarray) -> np.ndarray:
    """BT.601 studio-swing luma of a [0, 1] RGB image, (H, W) float64: the usual SR-paper Y channel."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {img.shape}")
    return 16.0 / 255.0 + img @ _Y_WEIGHTS


def psnr(pred: np.ndarray, ref: np.ndarray, y: bool = False, crop: int = 0) -> float:
    """PSNR in dB with data range 1 (mean over all pixels and channels; ``inf`` when identical)."""
    if y:
        pred, ref = to_y(pred), to_y(ref)
    pred, ref = _pair(pred, ref, crop)
    mse = float(np.mean((pred - ref) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def ssim(pred: np.ndarray, ref: np.ndarray, y: bool = False, crop: int = 0) -> float:
    """SSIM (pytorch_msssim, Gaussian 11x11, sigma 1.5, range 1); nan for images under 11 px in a dimension."""
    from pytorch_msssim import ssim as _ssim

    if y:
        pred, ref = to_y(pred), to_y(ref)
    pred, ref = _pair(pred, ref, crop)
    if min(pred.shape[:2]) < SSIM_WIN:
        return math.nan
    if pred.ndim == 2:
        pred, ref = pred[:, :, None], ref[:, :, None]
    x = torch.from_numpy(np.ascontiguousarray(pred.transpose(2, 0, 1)))[None]
    r = torch.from_numpy(np.ascontiguousarray(ref.transpose(2, 0, 1)))[None]
    with torch.no_grad():
        val = _ssim(x, r, data_range=1.0, size_average=True, win_size=SSIM_WIN, win_sigma=SSIM_SIGMA)
    return float(val)


def compute_metrics(pred: np.ndarray, ref: np.ndarray, crop: int = 0) -> dict[str, float]:
    """RGB PSNR, Y-channel PSNR and RGB SSIM of ``pred`` against ``ref``."""
    return {
        "psnr": psnr(pred, ref, crop=crop),
        "psnr_y": psnr(pred, ref, y=True, crop=crop),
        "ssim": ssim(pred, ref, crop=crop),
    }


# ----------------------------------------------------------------------------- error maps


def _channel(img: np.ndarray, channel: str) -> np.ndarray:
    if channel == "luma":
        return to_y(img)  # the Y of PSNR Y
    return img[:, :, "RGB".index(channel)]


def error_map(img: np.ndarray, ref: np.ndarray, mode: str, channel: str) -> np.ndarray:
    """Per-pixel error of ``img`` against ``ref`` as (H, W) float32: the single path for every error view.

    Modes: "signed" (img - ref), "absolute" |img - ref|, "squared" (img - ref)^2,
    "relative" |img - ref| / (ref + 1e-2). Channels: "R", "G", "B" or "luma" (`to_y`: PSNR Y's BT.601 Y).
    """
    if mode not in ERROR_MODES:
        raise ValueError(f"unknown error mode {mode!r}; valid: {', '.join(ERROR_MODES)}")
    if channel not in ERROR_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; valid: {', '.join(ERROR_CHANNELS)}")
    img, ref = _pair(img, ref, 0)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB images, got shape {img.shape}")
    a, b = _channel(img, channel), _channel(ref, channel)
    d = a - b
    if mode == "signed":
        out = d
    elif mode == "absolute":
        out = np.abs(d)
    elif mode == "squared":
        out = d * d
    else:
        out = np.abs(d) / (b + RELATIVE_EPS)
    return out.astype(np.float32)


@dataclass(frozen=True)
class ErrorStats:
    """Summary of an error map, as shown next to it (computed on its values as given, signed included)."""

    mean: float
    max: float
    p99: float
    min: float = math.nan   # with p1, the negative side of a signed error (the other modes are >= 0)
    p1: float = math.nan


def error_stats(err: np.ndarray) -> ErrorStats:
    """Mean, maximum, minimum and 99th / 1st percentiles of an error map (float64 accumulation)."""
    e = np.asarray(err, dtype=np.float64)
    if e.size == 0:
        return ErrorStats(math.nan, math.nan, math.nan)
    p1, p99 = np.percentile(e, [1, 99])
    return ErrorStats(mean=float(e.mean()), max=float(e.max()), p99=float(p99), min=float(e.min()), p1=float(p1))


class MetricCache:
    """Small thread-safe LRU cache keyed by (image key, reference key, metric or mode, channel).

    Keys are chosen by the caller (e.g. a file path plus a version counter), so an edited image gets
    a new key rather than a stale entry.
    """

    def __init__(self, maxsize: int = 64) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        image_key: Hashable,
        ref_key: Hashable,
        mode: str,
        channel: str,
        compute_fn: Callable[[], Any],
    ) -> Any:
        """Return the cached value for this key, calling ``compute_fn()`` only on a miss."""
        key = (image_key, ref_key, mode, channel)
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute_fn()  # outside the lock: may be slow
        with self._lock:
            if key in self._data:  # another thread got there first; keep one object
                self._data.move_to_end(key)
                return self._data[key]
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def peek(self, image_key: Hashable, ref_key: Hashable, mode: str, channel: str) -> Any | None:
        """The cached value for this key, or None; never computes (for a caller that computes elsewhere)."""
        key = (image_key, ref_key, mode, channel)
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, image_key: Hashable, ref_key: Hashable, mode: str, channel: str, value: Any) -> None:
        """Store a value computed elsewhere (e.g. on a worker thread), evicting the least recently used."""
        with self._lock:
            self._data[(image_key, ref_key, mode, channel)] = value
            self._data.move_to_end((image_key, ref_key, mode, channel))
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def invalidate(self, key: Hashable) -> None:
        """Drop every entry whose image or reference key is ``key``."""
        with self._lock:
            for k in [k for k in self._data if k[0] == key or k[1] == key]:
                del self._data[k]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._data.clear()

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return tuple(key) in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
