"""adk_model.data: pair discovery in both layouts, splits, pair loading and aligned, reproducible crops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adk_model import data
from adk_model.data import PairCropDataset, PairInfo, discover_pairs, load_pair, select
from adk_model.splits import Split, read_split, seeded_split
from adk_model.errors import ImageLoadError, PairError

S = 4


def _img(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(path: Path, h: int, w: int, seed: int = 0, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_img(h, w, seed)).save(path, **kw)
    return path


def _box(hr: np.ndarray, s: int) -> np.ndarray:
    """Mean over s x s blocks: LR pixel (i, j) covers HR rows s*i..s*i+s-1, cols s*j..s*j+s-1."""
    h, w, c = hr.shape
    return hr.reshape(h // s, s, w // s, s, c).mean(axis=(1, 3))


def _by_name(pairs: list[PairInfo]) -> dict[str, PairInfo]:
    return {p.name: p for p in pairs}


# ---------------------------------------------------------------------------------------------- discovery


@pytest.fixture
def hr_lr_folder(tmp_path: Path) -> Path:
    root = tmp_path / "pairs"
    _save(root / "HR" / "good.png", 32, 24)
    _save(root / "LR" / "good.jpg", 8, 6)  # extensions may differ
    _save(root / "HR" / "odd.png", 35, 26)  # not a multiple of 4: floor sizes
    _save(root / "LR" / "odd.bmp", 8, 6)
    _save(root / "HR" / "lonely_hr.png", 16, 16)
    _save(root / "LR" / "lonely_lr.png", 4, 4)
    _save(root / "HR" / "wrong.png", 32, 32)
    _save(root / "LR" / "wrong.png", 9, 8)
    (root / "HR" / "text.png").write_text("not an image")
    _save(root / "LR" / "text.png", 4, 4)
    _save(root / "HR" / "twice.png", 16, 16)
    _save(root / "HR" / "twice.tif", 16, 16)
    _save(root / "LR" / "twice.png", 4, 4)
    (root / "HR" / "readme.txt").write_text("ignored: not an image extension")
    (root / "HR" / ".hidden.png").write_text("ignored: hidden")
    return root


def test_hr_lr_layout_every_problem_named(hr_lr_folder: Path) -> None:
    pairs = discover_pairs(hr_lr_folder, S)
    assert [p.name for p in pairs] == sorted(p.name for p in pairs)
    by = _by_name(pairs)
    assert set(by) == {"good", "odd", "lonely_hr", "lonely_lr", "wrong", "text", "twice"}

    good = by["good"]
    assert good.ok and good.problem is None
    assert good.hr_path == str(hr_lr_folder / "HR" / "good.png") and good.lr_path == str(hr_lr_folder / "LR" / "good.jpg")
    assert good.hr_size == (24, 32) and good.lr_size == (6, 8)
    assert by["odd"].ok

    assert not by["lonely_hr"].ok and by["lonely_hr"].lr_path is None
    assert by["lonely_hr"].problem.startswith("no LR partner")
    assert not by["lonely_lr"].ok and by["lonely_lr"].hr_path is None
    assert by["lonely_lr"].problem == "no HR partner"
    assert by["wrong"].problem == "LR size 8x9 is not HR size / scale (expected 8x8 for HR 32x32 at x4)"
    assert by["text"].problem.startswith("unreadable file '") and "text.png" in by["text"].problem
    assert not by["twice"].ok and "ambiguous" in by["twice"].problem
    for p in pairs:
        assert p.ok == (p.problem is None)


def test_discovery_reads_headers_only(tmp_path: Path) -> None:
    root = tmp_path / "p"
    hr = _save(root / "HR" / "a.png", 64, 64)
    _save(root / "LR" / "a.png", 16, 16)
    raw = hr.read_bytes()
    hr.write_bytes(raw[: len(raw) // 2])  # header intact, pixel data truncated
    (info,) = discover_pairs(root, S)
    assert info.ok  # a header-only check cannot see the truncation ...
    with pytest.raises(ImageLoadError, match="truncated"):
        load_pair(info, S)  # ... which loading then reports clearly


def test_exif_orientation_counts_for_size(tmp_path: Path) -> None:
    root = tmp_path / "p"
    img = Image.fromarray(_img(16, 24))  # stored 24 wide, 16 high
    exif = img.getexif()
    exif[0x0112] = 6
    (root / "HR").mkdir(parents=True)
    img.save(root / "HR" / "r.jpg", exif=exif)
    _save(root / "LR" / "r.png", 6, 4)  # displayed HR is 16x24 -> LR 4x6
    (info,) = discover_pairs(root, S)
    assert info.ok, info.problem
    assert info.hr_size == (16, 24)
    hr, lr = load_pair(info, S)
    assert hr.shape == (24, 16, 3) and lr.shape == (6, 4, 3)


def test_realsr_layout(tmp_path: Path) -> None:
    root = tmp_path / "realsr"
    _save(root / "Canon_001_HR.png", 32, 32)
    _save(root / "Canon_001_LR4.png", 8, 8)
    _save(root / "Canon_002_HR.png", 16, 16)
    _save(root / "Canon_002_LR2.png", 8, 8)  # other scale: not a x4 partner
    _save(root / "Nikon_003_LR4.jpg", 8, 8)
    _save(root / "Nikon_004_HR.tiff", 16, 16)
    _save(root / "Nikon_004_LR4.webp", 5, 4)
    by = _by_name(discover_pairs(root, S))
    assert set(by) == {"Canon_001", "Canon_002", "Nikon_003", "Nikon_004"}
    assert by["Canon_001"].ok
    assert by["Canon_001"].hr_path == str(root / "Canon_001_HR.png")
    assert by["Canon_001"].lr_path == str(root / "Canon_001_LR4.png")
    assert by["Canon_002"].problem == "no LR partner (expected Canon_002_LR4.*)"
    assert by["Nikon_003"].problem == "no HR partner"
    assert by["Nikon_004"].problem.startswith("LR size 4x5 is not HR size / scale (expected 4x4")

    by2 = _by_name(discover_pairs(root, 2))
    assert by2["Canon_002"].ok and by2["Canon_002"].lr_path == str(root / "Canon_002_LR2.png")
    assert by2["Canon_001"].problem.startswith("no LR partner")


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(PairError, match="does not exist"):
        discover_pairs(tmp_path / "missing", S)
    f = tmp_path / "file.png"
    f.write_text("x")
    with pytest.raises(PairError, match="not a folder"):
        discover_pairs(f, S)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(PairError, match="contains no images"):
        discover_pairs(empty, S)
    plain = tmp_path / "plain"
    _save(plain / "holiday.jpg", 8, 8)
    with pytest.raises(PairError, match="none named NAME_HR"):
        discover_pairs(plain, S)
    only_hr = tmp_path / "only_hr"
    _save(only_hr / "HR" / "a.png", 8, 8)
    with pytest.raises(PairError, match="no LR subfolder"):
        discover_pairs(only_hr, S)
    hollow = tmp_path / "hollow"
    (hollow / "HR").mkdir(parents=True)
    (hollow / "LR").mkdir()
    with pytest.raises(PairError, match="no images"):
        discover_pairs(hollow, S)
    with pytest.raises(PairError) as exc:
        discover_pairs(tmp_path / "missing", S)
    assert str(tmp_path / "missing") in str(exc.value) and str(exc.value).endswith(".")


# ---------------------------------------------------------------------------------------------- splits


def test_read_split(tmp_path: Path) -> None:
    (tmp_path / "split.json").write_text(json.dumps({"scale": 4, "train": ["a", "b"], "val": ["c"]}))
    for arg in (tmp_path, tmp_path / "split.json", str(tmp_path)):
        assert read_split(arg) == Split(scale=4, train=["a", "b"], val=["c"])


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "does not exist"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"scale": "4", "train": ["a"], "val": []}', "scale"),
        ('{"scale": 0, "train": ["a"], "val": []}', "scale"),
        ('{"scale": true, "train": ["a"], "val": []}', "scale"),
        ('{"scale": 4, "train": "a", "val": []}', "train"),
        ('{"scale": 4, "train": ["a"]}', "val"),
        ('{"scale": 4, "train": ["a", 3], "val": []}', "train"),
        ('{"scale": 4, "train": ["a", "a"], "val": []}', "more than once"),
        ('{"scale": 4, "train": ["a", "b"], "val": ["b"]}', "both"),
        ('{"scale": 4, "train": [], "val": []}', "empty"),
    ],
)
def test_read_split_errors(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "split.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PairError, match=match) as exc:
        read_split(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_seeded_split() -> None:
    names = [f"img_{i:02d}" for i in range(20)]
    a = seeded_split(names, 0.25, seed=7)
    assert a == seeded_split(list(reversed(names)), 0.25, seed=7)  # order of input does not matter
    assert len(a.val) == 5 and len(a.train) == 15
    assert sorted(a.train + a.val) == names and not set(a.train) & set(a.val)
    assert a.val != seeded_split(names, 0.25, seed=8).val
    assert a.scale is None and seeded_split(names, 0.25, seed=7, scale=4).scale == 4
    tiny = seeded_split(["x", "y"], 0.01, seed=0)
    assert len(tiny.val) == 1 and len(tiny.train) == 1
    assert seeded_split(names, 0.0, seed=0).val == []
    with pytest.raises(PairError):
        seeded_split(names, 1.0, seed=0)
    with pytest.raises(PairError, match="duplicates"):
        seeded_split(["a", "a"], 0.5, seed=0)


def test_select(hr_lr_folder: Path) -> None:
    pairs = discover_pairs(hr_lr_folder, S)
    chosen = select(pairs, ["odd", "good"])
    assert [p.name for p in chosen] == ["odd", "good"]
    with pytest.raises(PairError, match="not in the pairs folder: ghost, spook"):
        select(pairs, ["good", "ghost", "spook"])
    with pytest.raises(PairError, match="'wrong' cannot be used: LR size 8x9"):
        select(pairs, ["good", "wrong"])
    assert [p.ok for p in select(pairs, ["good", "wrong"], require_ok=False)] == [True, False]


# ---------------------------------------------------------------------------------------------- loading


def test_load_pair_crops_hr(hr_lr_folder: Path) -> None:
    by = _by_name(discover_pairs(hr_lr_folder, S))
    hr, lr = load_pair(by["odd"], S)
    assert hr.shape == (32, 24, 3) and lr.shape == (8, 6, 3)
    assert hr.dtype == np.float32 and lr.dtype == np.float32
    np.testing.assert_array_equal(hr, _img(35, 26)[:32, :24] / np.float32(255))  # top-left kept


def test_load_pair_errors(tmp_path: Path) -> None:
    hr = _save(tmp_path / "h.png", 16, 16)
    lr = _save(tmp_path / "l.png", 3, 4)
    with pytest.raises(PairError, match="not HR size / scale"):
        load_pair(PairInfo("x", str(hr), str(lr), True, None), S)
    with pytest.raises(PairError, match="'y' cannot be used: no LR partner"):
        load_pair(PairInfo("y", str(hr), None, False, "no LR partner"), S)


# ---------------------------------------------------------------------------------------------- crops


def _box_pairs(n: int = 3, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        hr = rng.random((S * (12 + i), S * (10 + 2 * i), 3), dtype=np.float32)
        out.append((hr, _box(hr, S).astype(np.float32)))
    return out


def _patch_box(hr: torch.Tensor) -> np.ndarray:
    return _box(hr.permute(1, 2, 0).numpy().astype(np.float64), S)


def _dihedral(lr: np.ndarray) -> list[np.ndarray]:
    return [np.rot90(f, k) for f in (lr, lr[:, ::-1]) for k in range(4)]


def test_crops_aligned_with_augmentation() -> None:
    pairs = _box_pairs()
    ds = PairCropDataset(pairs, scale=S, patch_lr=6, augment=True)
    g = torch.Generator().manual_seed(123)
    seen_transforms = set()
    for _ in range(60):
        hr, lr = ds.sample(g)
        assert hr.shape == (3, 24, 24) and lr.shape == (3, 6, 6)
        assert hr.dtype == torch.float32 and lr.dtype == torch.float32
        np.testing.assert_allclose(_patch_box(hr), lr.permute(1, 2, 0).numpy(), atol=1e-6)
        # the LR patch is a real crop of one pair's LR under one of the 8 flips/rotations
        patch = lr.permute(1, 2, 0).numpy()
        found = False
        for _, full in pairs:
            for t, cand in enumerate(_dihedral(full)):
                windows = np.lib.stride_tricks.sliding_window_view(cand, (6, 6), axis=(0, 1))  # (y, x, C, 6, 6)
                if (windows == patch.transpose(2, 0, 1)).all(axis=(2, 3, 4)).any():
                    found = True
                    seen_transforms.add(t)
        assert found
    assert len(seen_transforms) >= 6  # augmentation really varies orientation


def test_crops_without_augmentation_are_plain_crops() -> None:
    pairs = _box_pairs(1)
    hr_full, lr_full = pairs[0]
    ds = PairCropDataset(pairs, scale=S, patch_lr=5, augment=False)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        hr, lr = ds.sample(g)
        lr_np, hr_np = lr.permute(1, 2, 0).numpy(), hr.permute(1, 2, 0).numpy()
        hits = [
            (y, x)
            for y in range(lr_full.shape[0] - 4)
            for x in range(lr_full.shape[1] - 4)
            if np.array_equal(lr_full[y : y + 5, x : x + 5], lr_np)
        ]
        assert len(hits) == 1
        y, x = hits[0]
        np.testing.assert_array_equal(hr_full[S * y : S * (y + 5), S * x : S * (x + 5)], hr_np)


def test_crops_deterministic_with_generator() -> None:
    ds = PairCropDataset(_box_pairs(), scale=S, patch_lr=4)
    a = ds.batch(torch.Generator().manual_seed(42), 8)
    b = ds.batch(torch.Generator().manual_seed(42), 8)
    c = ds.batch(torch.Generator().manual_seed(43), 8)
    assert a[0].shape == (8, 3, 16, 16) and a[1].shape == (8, 3, 4, 4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    # checkpointing the generator state resumes the exact same stream
    g = torch.Generator().manual_seed(5)
    ds.batch(g, 3)
    state = g.get_state()
    first = ds.batch(g, 4)
    g2 = torch.Generator()
    g2.set_state(state)
    again = ds.batch(g2, 4)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])


def test_getitem_uses_global_torch_rng_and_dataloader() -> None:
    pairs = _box_pairs(2)
    ds = PairCropDataset(pairs, scale=S, patch_lr=4, repeat=3)
    assert len(ds) == 6 and ds.num_pairs == 2
    torch.manual_seed(9)
    x = ds[1]
    torch.manual_seed(9)
    y = ds[1]
    assert torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])
    np.testing.assert_allclose(_patch_box(x[0]), x[1].permute(1, 2, 0).numpy(), atol=1e-6)
    with pytest.raises(IndexError):
        ds[6]
    loader = torch.utils.data.DataLoader(ds, batch_size=3, shuffle=True)
    hr, lr = next(iter(loader))
    assert hr.shape == (3, 3, 16, 16) and lr.shape == (3, 3, 4, 4)


def test_patches_are_copies() -> None:
    pairs = _box_pairs(1)
    ds = PairCropDataset(pairs, scale=S, patch_lr=4, augment=False)
    hr, lr = ds.sample(torch.Generator().manual_seed(0), pair_index=0)
    before = ds.batch(torch.Generator().manual_seed(1), 2)
    hr.fill_(7.0)
    lr.fill_(7.0)
    after = ds.batch(torch.Generator().manual_seed(1), 2)
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])


def test_dataset_validation() -> None:
    hr = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(PairError, match="no training pairs"):
        PairCropDataset([], scale=S, patch_lr=2)
    with pytest.raises(PairError, match="'bad': HR is 16x16"):
        PairCropDataset([(hr, np.zeros((3, 4, 3), np.float32))], scale=S, patch_lr=2, names=["bad"])
    with pytest.raises(PairError, match="smaller than the 8-pixel training patch"):
        PairCropDataset([(hr, np.zeros((4, 4, 3), np.float32))], scale=S, patch_lr=8)


def test_realsr_data_if_present() -> None:
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "realsr_x4"
    if not root.is_dir():
        pytest.skip("shared RealSR data not available")
    pairs = discover_pairs(root, 4)
    assert len(pairs) == 100 and all(p.ok for p in pairs)
    split = read_split(root)
    assert split.scale == 4 and len(split.val) == 20 and len(split.train) == 80
    assert len(select(pairs, split.train + split.val)) == 100
    assert data.IMAGE_EXTENSIONS >= {".png", ".jpg", ".webp"}


def test_the_ground_truth_of_one_hr_is_its_pair_in_discover_pairs(hr_lr_folder: Path, tmp_path: Path) -> None:
    """The GUI's finder (File → Open on an HR) follows the same naming as a pairs folder, in both layouts."""
    realsr = tmp_path / "realsr"
    for name in ("Cam_1", "Cam_2"):
        _save(realsr / f"{name}_HR.png", 32, 32)
        _save(realsr / f"{name}_LR4.png", 8, 8)
    _save(realsr / "Cam_3_HR.png", 32, 32)  # no partner
    for folder, scale in ((hr_lr_folder, 2), (realsr, 4)):
        pairs = discover_pairs(folder, scale)
        partnered = [p for p in pairs if p.hr_path and p.lr_path]
        assert partnered
        for p in partnered:
            assert data.find_ground_truth(p.hr_path, (scale,)) == Path(p.lr_path), p.name
        lonely = [p for p in pairs if (p.problem or "").startswith("no LR partner")]
        assert lonely
        for p in lonely:
            assert data.find_ground_truth(p.hr_path, (scale,)) is None, p.name
