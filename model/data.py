"""HR/LR pair discovery, train/val splits, pair loading and aligned random crops for training.

Two folder layouts are understood:
- `folder/HR/NAME.ext` with `folder/LR/NAME.ext` (matched by file stem; extensions may differ);
- RealSR naming in one folder: `NAME_HR.ext` beside `NAME_LR{scale}.ext`.
Geometry follows docs/CONVENTIONS.md: LR pixel (i, j) covers HR rows s*i..s*i+s-1, cols s*j..s*j+s-1.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from adk_model import imageio
from adk_model.errors import PairError, UserError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})

_REALSR_HR = re.compile(r"^(?P<name>.+)_HR$")
_REALSR_LR = re.compile(r"^(?P<name>.+)_LR(?P<scale>\d+)$")


@dataclass
class PairInfo:
    """One HR/LR pair found on disk; `ok` is False with a one-line `problem` when it is not usable.

    `hr_path` is None only for an LR file without HR partner; sizes are (width, height) from headers.
    """

    name: str
    hr_path: str | None
    lr_path: str | None
    ok: bool
    problem: str | None
    hr_size: tuple[int, int] | None = None
    lr_size: tuple[int, int] | None = None


# ----------------------------------------------------------------------------------------------
# discovery


def _is_image(p: Path) -> bool:
    """Image files by name, and links to nothing named like one (listed so that their pair says why it fails)."""
    return (p.is_file() or p.is_symlink()) and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def images_in(folder: Path) -> list[Path]:
    """The images of a folder by name, not its subfolders nor hidden files (macOS '._x.png' metadata)."""
    return sorted((p for p in folder.iterdir() if _is_image(p)), key=lambda p: p.name)


def _subfolder(folder: Path, name: str) -> Path | None:
    """`folder/name`, matched case-insensitively (HR, hr, Hr ...)."""
    exact = folder / name
    if exact.is_dir():
        return exact
    for child in folder.iterdir():
        if child.is_dir() and child.name.lower() == name.lower():
            return child
    return None


def _header_size(path: Path) -> tuple[tuple[int, int] | None, str | None]:
    """(width, height) as displayed (EXIF orientation applied) from the header only, or (None, problem)."""
    if path.is_symlink() and not path.exists():
        return None, f"unreadable file '{path}' ({imageio.BROKEN_LINK})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the scan's line says what is wrong; Pillow's warnings are noise
            with imageio.open_image(path) as img:
                w, h = imageio.upright_size(img)
    except Image.DecompressionBombError:
        return None, f"unreadable file '{path}' (too many pixels for Pillow, refused as a possible decompression bomb)"
    except UnidentifiedImageError:
        return None, f"unreadable file '{path}' ({imageio.unsupported_reason(path)})"
    except Exception as exc:  # empty, permission, corrupt header ...
        reason = "empty file" if path.exists() and path.stat().st_size == 0 else (str(exc).strip() or type(exc).__name__)
        return None, f"unreadable file '{path}' ({reason})"
    refused = imageio.over_limit(w, h)
    if refused:
        return None, f"unreadable file '{path}' ({refused})"
    return (w, h), None


def _check_pair(name: str, hr: Path, lr: Path, scale: int) -> PairInfo:
    hr_size, hr_problem = _header_size(hr)
    lr_size, lr_problem = _header_size(lr)
    problem = hr_problem or lr_problem
    if problem is None:
        assert hr_size is not None and lr_size is not None
        hw, hh = hr_size
        lw, lh = lr_size
        if hw < scale or hh < scale:
            problem = f"HR size {hw}x{hh} is smaller than the scale x{scale}"
        elif (lw, lh) != (hw // scale, hh // scale):
            problem = (
                f"LR size {lw}x{lh} is not HR size / scale "
                f"(expected {hw // scale}x{hh // scale} for HR {hw}x{hh} at x{scale})"
            )
    return PairInfo(name, str(hr), str(lr), problem is None, problem, hr_size, lr_size)


def _group(paths: Iterable[Path], role: str, name_of: Callable[[Path], str]) -> tuple[dict[str, Path], list[PairInfo]]:
    """Map pair name -> path; two files with the same pair name (a.png, a.jpg) become a not-ok pair instead."""
    groups: dict[str, list[Path]] = {}
    for p in paths:
        groups.setdefault(name_of(p), []).append(p)
    found: dict[str, Path] = {}
    clashes: list[PairInfo] = []
    for name, ps in groups.items():
        if len(ps) == 1:
            found[name] = ps[0]
            continue
        first = str(ps[0])
        problem = f"several {role} files belong to '{name}' ({', '.join(p.name for p in ps)}), so the pair is ambiguous"
        clashes.append(PairInfo(name, first if role == "HR" else None, first if role == "LR" else None, False, problem))
    return found, clashes


def _pairs_of(hr_files: list[Path], lr_files: list[Path], hr_name: Callable[[Path], str],
              lr_name: Callable[[Path], str], scale: int, lr_hint: str) -> list[PairInfo]:
    """Every pair name once, sorted: an ambiguous name is one not-ok pair (not also 'no HR partner')."""
    hr, hr_clash = _group(hr_files, "HR", hr_name)
    lr, lr_clash = _group(lr_files, "LR", lr_name)
    clashes: dict[str, PairInfo] = {}
    for c in hr_clash + lr_clash:
        clashes.setdefault(c.name, c)
    pairs = _pair_up({n: p for n, p in hr.items() if n not in clashes},
                     {n: p for n, p in lr.items() if n not in clashes}, scale, lr_hint)
    return sorted(pairs + list(clashes.values()), key=lambda p: p.name)


def _pair_up(hr: dict[str, Path], lr: dict[str, Path], scale: int, lr_hint: str) -> list[PairInfo]:
    pairs: list[PairInfo] = []
    for name in sorted(set(hr) | set(lr)):
        if name in hr and name in lr:
            pairs.append(_check_pair(name, hr[name], lr[name], scale))
        elif name in hr:
            pairs.append(PairInfo(name, str(hr[name]), None, False, f"no LR partner (expected {lr_hint.format(name=name)})"))
        else:
            pairs.append(PairInfo(name, None, str(lr[name]), False, "no HR partner"))
    return pairs


def discover_pairs(folder: str | os.PathLike, scale: int) -> list[PairInfo]:
    """Find HR/LR pairs (HR/ + LR/ subfolders, or NAME_HR beside NAME_LR{scale}) and check sizes from headers only.

    Returns every pair sorted by name, usable or not; raises PairError when the folder is missing or has no images.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise PairError(f"The scale must be a positive whole number, got {scale!r}.")
    scale = int(scale)
    root = Path(folder)
    if not root.exists():
        raise PairError(f"Pairs folder '{root}' does not exist.")
    if not root.is_dir():
        raise PairError(f"Pairs folder '{root}' is a file, not a folder.")

    hr_dir, lr_dir = _subfolder(root, "HR"), _subfolder(root, "LR")
    if hr_dir is not None or lr_dir is not None:
        if hr_dir is None or lr_dir is None:
            have, missing = ("HR", "LR") if lr_dir is None else ("LR", "HR")
            raise PairError(f"Pairs folder '{root}' has a {have} subfolder but no {missing} subfolder.")
        hr_files, lr_files = images_in(hr_dir), images_in(lr_dir)
        if not hr_files and not lr_files:
            raise PairError(f"Pairs folder '{root}' has HR and LR subfolders but no images in them.")
        return _pairs_of(hr_files, lr_files, lambda p: p.stem, lambda p: p.stem, scale, f"{lr_dir.name}/{{name}}.*")

    files = images_in(root)
    if not files:
        raise PairError(
            f"Pairs folder '{root}' contains no images "
            f"(expected HR/ and LR/ subfolders, or NAME_HR.png beside NAME_LR{scale}.png)."
        )
    hr_paths: list[Path] = []
    lr_paths: list[Path] = []
    other_scales: set[int] = set()
    for p in files:
        m_hr, m_lr = _REALSR_HR.match(p.stem), _REALSR_LR.match(p.stem)
        if m_hr:
            hr_paths.append(p)
        elif m_lr:
            if int(m_lr["scale"]) == scale:
                lr_paths.append(p)
            else:
                other_scales.add(int(m_lr["scale"]))
    if not hr_paths and not lr_paths:
        extra = f" (only LR files for x{', x'.join(map(str, sorted(other_scales)))} were found)" if other_scales else ""
        raise PairError(
            f"Pairs folder '{root}' has images but none named NAME_HR / NAME_LR{scale}, and no HR/ and LR/ subfolders{extra}."
        )
    return _pairs_of(hr_paths, lr_paths, lambda p: _REALSR_HR.match(p.stem)["name"],
                     lambda p: _REALSR_LR.match(p.stem)["name"], scale, f"{{name}}_LR{scale}.*")


def pair_name_of(hr_path: str | os.PathLike) -> str:
    """The pair name an HR file has in a pairs folder: RealSR's NAME_HR.png is NAME, HR/NAME.png is NAME."""
    stem = Path(hr_path).stem
    m = _REALSR_HR.match(stem)
    return m["name"] if m else stem


def find_ground_truth(hr_path: str | os.PathLike, scales: Sequence[int] = (2, 3, 4)) -> Path | None:
    """The LR partner of one HR file by the pairing rules of `discover_pairs`: `.../HR/NAME.*` -> `.../LR/NAME.*`,
    or RealSR `NAME_HR.*` -> `NAME_LR{s}.*` (the first of `scales` found); None when there is none."""
    hr = Path(hr_path)
    folder = hr.parent
    candidates: list[Path] = []
    if folder.name.lower() == "hr" and folder.parent.is_dir():
        lr_dir = _subfolder(folder.parent, "LR")
        if lr_dir is not None:
            candidates += [p for p in images_in(lr_dir) if p.stem == hr.stem]
    m = _REALSR_HR.match(hr.stem)
    if m and folder.is_dir():
        beside = images_in(folder)
        candidates += [p for s in scales for p in beside if p.stem == f"{m['name']}_LR{s}"]
    return candidates[0] if candidates else None


def no_usable_pairs(folder: str | os.PathLike, infos: Sequence[PairInfo], scale: int, what: str = "pairs",
                    how: str = "set the scale to {fit}") -> str:
    """'No usable pairs in FOLDER: why', with which scale would fit when every pair only fails on the size ratio
    (`how` says how to choose it: the GUI's scale control, or the CLI's option), else the first reasons."""
    fits = set()
    for p in infos:
        s = round(p.hr_size[0] / p.lr_size[0]) if p.hr_size and p.lr_size and min(p.lr_size) > 0 else 0
        if s < 2 or (p.hr_size[0] // s, p.hr_size[1] // s) != tuple(p.lr_size):
            fits = set()
            break
        fits.add(s)
    if len(fits) == 1 and scale not in fits:
        fit = fits.pop()
        return f"No usable {what} in {folder}: their sizes fit x{fit}, not x{scale}: {how.format(fit=fit)}."
    bad = [p for p in infos if not p.ok]
    if not bad:
        return f"No usable {what} in {folder}."
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    return f"No usable {what} in {folder}: " + "; ".join(f"{p.name}: {p.problem}" for p in bad[:3]) + more + "."


def select(pairs: Sequence[PairInfo], names: Sequence[str], require_ok: bool = True) -> list[PairInfo]:
    """Pick pairs by name in the order of `names`; PairError names the missing (or unusable) ones."""
    by_name = {p.name: p for p in pairs}
    missing = [n for n in names if n not in by_name]
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise PairError(
            f"{len(missing)} pair name(s) are not in the pairs folder: {', '.join(missing[:5])}{more}."
        )
    chosen = [by_name[n] for n in names]
    if require_ok:
        bad = [p for p in chosen if not p.ok]
        if bad:
            more = f" (and {len(bad) - 1} more unusable pair(s))" if len(bad) > 1 else ""
            raise PairError(f"Pair '{bad[0].name}' cannot be used: {bad[0].problem}{more}.")
    return chosen


# ----------------------------------------------------------------------------------------------
# loading


def load_pair(info: PairInfo, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Load (hr, lr) as float32 (H, W, 3); HR is cropped to a multiple of `scale` and LR must be exactly HR / scale."""
    if not info.ok or info.hr_path is None or info.lr_path is None:
        raise PairError(f"Pair '{info.name}' cannot be used: {info.problem or 'it is incomplete'}.")
    hr = imageio.load_image(info.hr_path).array
    lr = imageio.load_image(info.lr_path).array
    hr, _ = imageio.crop_to_multiple(hr, scale, name=info.hr_path)
    expected = (hr.shape[0] // scale, hr.shape[1] // scale)
    if lr.shape[:2] != expected:
        raise PairError(
            f"Pair '{info.name}': LR '{info.lr_path}' is {lr.shape[1]}x{lr.shape[0]}, "
            f"not HR size / scale (expected {expected[1]}x{expected[0]} at x{scale})."
        )
    return np.ascontiguousarray(hr), lr


def load_decodable(infos: Iterable[PairInfo], scale: int, skip: Callable[[PairInfo, str], None]
                   ) -> Iterator[tuple[PairInfo, np.ndarray, np.ndarray]]:
    """Load pairs one at a time, leaving out (told to `skip` with its sentence) one whose image proves truncated or
    corrupt only when decoded: the scan reads headers, so such a pair is treated as one it could tell is broken."""
    for info in infos:
        try:
            hr, lr = load_pair(info, scale)
        except UserError as e:  # ImageLoadError, PairError: one sentence each
            skip(info, str(e).rstrip("."))
            continue
        yield info, hr, lr


def gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """(C, h, w) blurred by a separable Gaussian of `sigma` pixels, edges reflected (sigma below 0.05: unchanged)."""
    if sigma < 0.05:
        return img
    radius = min(math.ceil(3 * sigma), (min(img.shape[-2:]) - 1) // 2)
    r = torch.arange(-radius, radius + 1, dtype=img.dtype)
    k = torch.exp(-(r**2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.pad(img[:, None], (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(F.conv2d(x, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1))
    return x[:, 0]


class PairCropDataset(torch.utils.data.Dataset):
    """Aligned random HR/LR crops from pairs held in memory, with identical flips/rotations on both.

    `sample`/`batch` take a torch.Generator (reproducible, checkpointable); `__getitem__` (index = pair,
    modulo the number of pairs) uses torch's global RNG so a DataLoader's per-worker seeding applies.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[np.ndarray, np.ndarray]],
        scale: int,
        patch_lr: int,
        augment: bool = True,
        repeat: int = 1,
        names: Sequence[str] | None = None,
        target_blur: float = 0.0,
    ) -> None:
        if not pairs:
            raise PairError("There are no training pairs to crop from.")
        if scale < 1 or patch_lr < 1 or repeat < 1:
            raise ValueError("scale, patch_lr and repeat must be positive")
        self.scale, self.patch_lr, self.augment, self.repeat = int(scale), int(patch_lr), bool(augment), int(repeat)
        self.target_blur = float(target_blur)  # >0: each LR target blurred by a Gaussian of sigma U(0, this) LR px
        self.names = list(names) if names is not None else [f"pair {i}" for i in range(len(pairs))]
        self._hr: list[torch.Tensor] = []
        self._lr: list[torch.Tensor] = []
        for name, (hr, lr) in zip(self.names, pairs):
            if hr.ndim != 3 or lr.ndim != 3 or hr.shape[2] != 3 or lr.shape[2] != 3:
                raise ValueError(f"{name}: arrays must be (H, W, 3), got {hr.shape} and {lr.shape}")
            lh, lw = lr.shape[:2]
            if hr.shape[:2] != (lh * self.scale, lw * self.scale):
                raise PairError(
                    f"Pair '{name}': HR is {hr.shape[1]}x{hr.shape[0]} but LR {lw}x{lh} times x{self.scale} "
                    f"is {lw * self.scale}x{lh * self.scale}."
                )
            if lh < self.patch_lr or lw < self.patch_lr:
                raise PairError(f"Pair '{name}': LR {lw}x{lh} is smaller than the {self.patch_lr}-pixel training patch.")
            self._hr.append(torch.from_numpy(np.ascontiguousarray(hr, dtype=np.float32)).permute(2, 0, 1).contiguous())
            self._lr.append(torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float32)).permute(2, 0, 1).contiguous())

    @property
    def num_pairs(self) -> int:
        return len(self._hr)

    def __len__(self) -> int:
        return self.num_pairs * self.repeat

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.sample(None, pair_index=index % self.num_pairs)

    def sample(
        self, generator: torch.Generator | None, pair_index: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One aligned (hr (3, P*s, P*s), lr (3, P, P)) crop; the pair is drawn at random unless given."""
        if pair_index is None:
            pair_index = int(torch.randint(self.num_pairs, (1,), generator=generator))
        hr, lr = self._hr[pair_index], self._lr[pair_index]
        p, s = self.patch_lr, self.scale
        _, lh, lw = lr.shape
        y = int(torch.randint(lh - p + 1, (1,), generator=generator))
        x = int(torch.randint(lw - p + 1, (1,), generator=generator))
        lr_patch = lr[:, y : y + p, x : x + p]
        hr_patch = hr[:, y * s : (y + p) * s, x * s : (x + p) * s]
        if self.augment:
            hflip, vflip, rot = (bool(b) for b in torch.randint(2, (3,), generator=generator))
            if hflip:
                lr_patch, hr_patch = lr_patch.flip(-1), hr_patch.flip(-1)
            if vflip:
                lr_patch, hr_patch = lr_patch.flip(-2), hr_patch.flip(-2)
            if rot:
                lr_patch, hr_patch = torch.rot90(lr_patch, 1, (-2, -1)), torch.rot90(hr_patch, 1, (-2, -1))
        if self.target_blur > 0:  # a softer lens than the pairs': drawn only when asked (default runs unchanged)
            lr_patch = gaussian_blur(lr_patch, float(torch.rand((), generator=generator)) * self.target_blur)
        # clone: callers may modify patches in place without touching the stored images
        return hr_patch.contiguous().clone(), lr_patch.contiguous().clone()

    def batch(self, generator: torch.Generator | None, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`batch_size` random crops stacked as (hr (B, 3, P*s, P*s), lr (B, 3, P, P))."""
        samples = [self.sample(generator) for _ in range(batch_size)]
        return torch.stack([h for h, _ in samples]), torch.stack([l for _, l in samples])
