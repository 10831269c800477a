"""Inputs and output checks for .ci/run's installed-wheel step (NumPy and Pillow only, no project import).

  make-inputs DIR          a small photo-like image DIR/photo.png and pairs DIR/pairs/{HR,LR} with split.json
  same-image A B           the two images decode to the same pixels
  table FILE               FILE holds eval's table: a header and a row per method with numbers
  screenshot FILE W H      FILE is a W x H PNG with real content (not blank, not one flat colour)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth gradients plus texture, so every method gives a different, non-trivial result."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.5 + 0.4 * np.sin(6 * x + c) * np.cos(4 * y - c) for c in (0.0, 1.0, 2.0)], -1)
    return np.clip(base + 0.05 * rng.standard_normal((h, w, 3)), 0, 1)


def _save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((arr * 255 + 0.5).astype(np.uint8)).save(path)


def make_inputs(folder: Path) -> None:
    """The downscale input and an eval pairs folder (LR = 4x4 box average of HR, as a camera would roughly)."""
    _save(folder / "photo.png", _photo(96, 128, 0))
    names = [f"p{i}" for i in range(4)]
    for i, name in enumerate(names):
        hr = np.rint(_photo(64, 64, 10 + i) * 255) / 255  # what the PNG holds, so LR comes from the stored HR
        _save(folder / "pairs" / "HR" / f"{name}.png", hr)
        _save(folder / "pairs" / "LR" / f"{name}.png", hr.reshape(16, 4, 16, 4, 3).mean(axis=(1, 3)))
    split = {"scale": 4, "train": names[:2], "val": names[2:]}
    (folder / "pairs" / "split.json").write_text(json.dumps(split))


def same_image(a: Path, b: Path) -> None:
    """The wheel's output equals the editable install's, pixel for pixel (same code, same torch, same CPU)."""
    pa, pb = (np.asarray(Image.open(p).convert("RGB")) for p in (a, b))
    assert pa.shape == pb.shape and np.array_equal(pa, pb), f"{a} and {b} differ"


def table(path: Path) -> None:
    """eval printed its table: the header, and 4 numbers for each method, ADK-Net (the shipped weights) included."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    head = next((i for i, line in enumerate(lines) if line.startswith("method") and "PSNR" in line), None)
    assert head is not None, f"no table header in {path}:\n" + "\n".join(lines)
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[head + 1:]]  # labels hold single spaces
    rows = {label: [float(v.rstrip("*")) for v in values] for label, *values in cells}
    assert len(rows) >= 7 and all(len(v) == 4 for v in rows.values()), f"rows without 4 numbers in {path}"
    assert any(name.startswith("ADK-Net") for name in rows) and "Bicubic" in rows, f"methods missing in {path}"


def screenshot(path: Path, w: int, h: int) -> None:
    """The window showed the demo's results: an empty window has a few hundred colours, the demo's tens of thousands."""
    img = np.asarray(Image.open(path).convert("RGB"), np.float32)
    assert img.shape == (h, w, 3), f"{path} is {img.shape[1]}x{img.shape[0]}, not {w}x{h}"
    colours = len(np.unique(img.reshape(-1, 3)[::7], axis=0))
    assert img.std() > 10 and colours > 5000, f"{path} looks empty (std {img.std():.1f}, {colours} colours)"


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    if cmd == "make-inputs":
        make_inputs(Path(rest[0]))
    elif cmd == "same-image":
        same_image(Path(rest[0]), Path(rest[1]))
    elif cmd == "table":
        table(Path(rest[0]))
    elif cmd == "screenshot":
        screenshot(Path(rest[0]), int(rest[1]), int(rest[2]))
    else:
        sys.exit(__doc__)
    print(f"ok: {cmd} {' '.join(rest)}")
