"""Mixed cameras (issue 16 item 5): pairs are grouped by camera (name prefix or EXIF), and `train --per-camera`
writes one model per camera, Quick-calibrated on that camera's own pairs, whose card says which camera."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adkviewer.cli.args import build_parser
from adkviewer.cli.entry import main
from core_helpers import one_thread, two_camera_pairs  # noqa: F401 (fixture)
from adk_model.cameras import CAMERA_BY, UNKNOWN, exif_camera, file_tag, group_by_camera, name_prefix
from adk_model.data import PairInfo, discover_pairs, load_pair
from adk_model.imageio import load_image
from adk_model.metrics import psnr
from adk_model.model_card import reproduces
from adk_model.validation import predict
from adk_model.weights import load_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def _exif_jpeg(path: Path, make: str | None, model: str | None) -> Path:
    exif = Image.Exif()
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    Image.new("RGB", (8, 8), (90, 120, 30)).save(path, exif=exif.tobytes())
    return path


def test_a_pairs_camera_is_its_name_prefix():
    assert [name_prefix(n) for n in ("Canon_001", "Nikon-12", "sony a7 3", "img12", "123", "pic.v2")] == \
        ["Canon", "Nikon", "sony", "img", "123", "pic"]
    assert file_tag("Canon EOS 5D Mark II") == "Canon-EOS-5D-Mark-II" and file_tag("///") == "camera"


def test_exif_names_the_camera_once_and_files_without_it_say_nothing(tmp_path):
    assert exif_camera(str(_exif_jpeg(tmp_path / "a.jpg", "Canon", "Canon EOS 5D"))) == "Canon EOS 5D"
    assert exif_camera(str(_exif_jpeg(tmp_path / "b.jpg", "NIKON CORPORATION", "D810"))) == "NIKON CORPORATION D810"
    assert exif_camera(str(_exif_jpeg(tmp_path / "c.jpg", None, None))) is None
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    assert exif_camera(str(tmp_path / "broken.jpg")) is None and exif_camera(None) is None
    infos = [PairInfo(n, str(tmp_path / f), None, True, None) for n, f in
             (("x1", "a.jpg"), ("x2", "b.jpg"), ("x3", "c.jpg"), ("x4", "a.jpg"))]
    groups = group_by_camera(infos, "exif")
    assert list(groups) == ["Canon EOS 5D", "NIKON CORPORATION D810", UNKNOWN]
    assert [i.name for i in groups["Canon EOS 5D"]] == ["x1", "x4"]


def test_the_cli_offers_the_ways_the_model_knows():
    action = next(a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions
                  if a.dest == "per_camera")
    assert tuple(action.choices) == CAMERA_BY


def _val_psnr(weights: Path, folder: Path, cam: str) -> float:
    model = load_weights(weights).model
    split = json.loads((folder / "split.json").read_text())
    infos = {i.name: i for i in discover_pairs(folder, 4)}
    pairs = [load_pair(infos[n], 4) for n in split["val"] if n.startswith(cam)]
    return float(np.mean([psnr(predict(model, hr, "cpu"), lr) for hr, lr in pairs]))


def test_calibrate_only_per_camera_writes_one_model_per_camera_that_fits_it_better(tmp_path, capsys):
    pairs = two_camera_pairs(tmp_path / "mixed")
    out = tmp_path / "cal"
    code = main(["train", "--pairs", str(pairs), "--calibrate-only", "--per-camera", "prefix", "--device", "cpu",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    one = out / "adknet_x4_lite.safetensors"
    per = {c: out / f"adknet_x4_lite_{c}.safetensors" for c in "AB"}
    assert all(p.is_file() for p in per.values()), sorted(out.iterdir())
    for cam, path in per.items():
        assert f"wrote {path} ({cam})" in err
        card = json.loads(path.with_suffix(".json").read_text())
        assert card["camera"] == {"name": cam, "by": "prefix", "train_pairs": [f"{cam}_{i:03d}" for i in range(4)],
                                  "val_pairs": [f"{cam}_004", f"{cam}_005"]}
        assert card["name"] == f"adknet_x4_lite for {cam}" and card["calibration"]["val_pairs"] == 2
        assert reproduces(card).startswith(f"adknet_x4_lite calibrated to the {cam} pairs in 'mixed' (4 train pairs)")
        # each camera's model is at least as good on that camera's val pairs as the one model for both
        assert _val_psnr(path, pairs, cam) >= _val_psnr(one, pairs, cam)
    # the two cameras differ in colour response: one calibration for both cannot fit A as its own does
    assert _val_psnr(per["A"], pairs, "A") > _val_psnr(one, pairs, "A") + 1.0


def test_a_folder_of_one_camera_writes_no_extra_model_and_says_why(tmp_path, capsys):
    pairs = two_camera_pairs(tmp_path / "mixed")
    for f in list((pairs / "HR").glob("B_*")) + list((pairs / "LR").glob("B_*")):
        f.unlink()
    split = json.loads((pairs / "split.json").read_text())
    (pairs / "split.json").write_text(json.dumps({k: [n for n in v if not str(n).startswith("B")]
                                                  if isinstance(v, list) else v for k, v in split.items()}))
    code = main(["train", "--pairs", str(pairs), "--calibrate-only", "--per-camera", "prefix", "--device", "cpu",
                 "--out", str(tmp_path / "cal")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "per camera (prefix): every train pair is from A, so the run's own model is that camera's." in err
    assert sorted(p.name for p in (tmp_path / "cal").glob("*.safetensors")) == ["adknet_x4_lite.safetensors"]


def test_downscale_per_camera_sends_each_photo_through_its_cameras_model(tmp_path, capsys):
    pairs = two_camera_pairs(tmp_path / "mixed")
    out = tmp_path / "cal"
    assert main(["train", "--pairs", str(pairs), "--calibrate-only", "--per-camera", "prefix", "--device", "cpu",
                 "--out", str(out)]) == 0
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, src in (("A_photo", "A_004"), ("B_photo", "B_004"), ("C_photo", "A_005"), ("C_other", "B_005")):
        (photos / f"{name}.png").write_bytes((pairs / "HR" / f"{src}.png").read_bytes())
    capsys.readouterr()
    main_w = out / "adknet_x4_lite.safetensors"
    code = main(["downscale", str(photos), "-o", str(tmp_path / "lr"), "--per-camera", "--weights", str(main_w),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    for photo, weights in (("A_photo", out / "adknet_x4_lite_A.safetensors"),
                           ("B_photo", out / "adknet_x4_lite_B.safetensors"), ("C_photo", main_w)):
        written = load_image(next((tmp_path / "lr").glob(f"{photo}*.png"))).array
        hr = load_image(photos / f"{photo}.png").array
        expected = predict(load_weights(weights).model, hr, "cpu")
        assert np.abs(written - expected).max() <= 0.5 / 255 + 1e-6, photo
    # said once, for the first photo of that camera (inputs go in name order)
    said = f"C_other.png: its camera (C) has no model of its own beside {main_w.name}, so its photos use {main_w.name}"
    assert said in err and err.count("has no model of its own") == 1, err
    assert "models used: adknet_x4_lite.safetensors 2, A 1, B 1" in err


def test_downscale_per_camera_says_what_it_needs(tmp_path, capsys):
    pairs = two_camera_pairs(tmp_path / "mixed", n_train=1, n_val=0)
    photo = pairs / "HR" / "A_000.png"
    code = main(["downscale", str(photo), "-o", str(tmp_path / "lr"), "--per-camera", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "--per-camera: there are no per-camera models beside " in err, err
    code = main(["downscale", str(photo), "-o", str(tmp_path / "lr"), "--per-camera", "--method", "bicubic"])
    err = capsys.readouterr().err
    assert code == 3 and "it needs --method adknet" in err and err.count("\n") == 1, err
