"""Methods a person adds: their own results (one file, or a folder matched by name) and more ADK-Net weights,
scored by the one scoring path of `adkviewer eval` and the GUI's dataset table."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from adk_model.data import discover_pairs, load_pair
from adk_model.errors import UserError
from adk_model.evaluate import evaluate, score_pair, summarise
from adk_model.external import external_file
from adk_model.metrics import psnr
from adk_model.method_registry import (ALL_METHODS, adknet_method, external_method, known, method_info,
                                       parse_external, parse_named, run_order)
from adk_model.methods import MethodSet
from adk_model.weights import save_weights

from core_helpers import make_pairs, one_thread, perturbed, tiny_config  # noqa: F401

S = 4


def pil_bicubic_folder(pairs, out, pattern="{stem}.png"):
    """What a person's own script would write: PIL's RGB bicubic resize of each HR, saved as 8-bit PNG."""
    out.mkdir(parents=True, exist_ok=True)
    for info in discover_pairs(pairs, S):
        hr = Image.open(info.hr_path).convert("RGB")
        hr.resize((hr.width // S, hr.height // S), Image.BICUBIC).save(out / pattern.replace("{stem}", info.name))
    return out


def test_keys_names_and_order():
    ext = external_method("mine", "/x")
    model = adknet_method("ft", "/w.safetensors", label="ADK-Net · ft (500 it)")
    extras = {ext.key: ext, model.key: model}
    assert ext.key == "ext:mine" and model.key == "adknet:ft"
    assert known(extras) == ("adknet", "adknet:ft", *ALL_METHODS[1:], "ext:mine")
    assert method_info("ext:mine", extras).needs == "files" and method_info("adknet:ft", extras).needs == "weights"
    assert method_info("adknet:ft", extras).label == "ADK-Net · ft (500 it)"
    assert run_order(["ext:mine", "lstsq", "adknet:ft", "adknet"], extras) == ["adknet", "adknet:ft", "lstsq",
                                                                            "ext:mine"]
    assert parse_named("mine=res/x4", "--external") == ("mine", "res/x4")
    assert parse_external("mine=res/x4") == external_method("mine", "res/x4")
    assert parse_external("mine=res/x4/{stem}_x4_mine.png") == external_method("mine", "res/x4", "{stem}_x4_mine.png")
    assert parse_external("mine={stem}.png").path == "."
    with pytest.raises(UserError, match="only appear in the file name"):
        parse_external("mine=res/{stem}/x.png")
    for bad in ("mine", "=x", "mine="):
        with pytest.raises(UserError, match="NAME=PATH"):
            parse_named(bad, "--external")
    for bad_name in ("bicubic", "gt", "has space", "", "a/b"):
        with pytest.raises(UserError):
            external_method(bad_name, "/x")
    with pytest.raises(UserError, match="stem"):
        external_method("mine", "/x", pattern="result.png")
    with pytest.raises(UserError, match="Unknown method 'ext:nope'"):
        method_info("ext:nope", extras)


def test_folder_matched_by_pattern_and_extension(tmp_path):
    res = tmp_path / "res"
    res.mkdir()
    Image.new("RGB", (4, 4)).save(res / "p0_x4_mine.png")
    Image.new("RGB", (4, 4)).save(res / "p1.jpg")
    assert external_file(external_method("a", str(res), "{stem}_x4_mine.png"), ("p0",)).name == "p0_x4_mine.png"
    assert external_file(external_method("b", str(res)), ("p1",)).name == "p1.jpg"  # any image extension
    # the pair's name first, then its HR file's stem (RealSR's NAME_HR.png)
    Image.new("RGB", (4, 4)).save(res / "Canon_001_HR.png")
    assert external_file(external_method("c", str(res)), ("Canon_001", "Canon_001_HR")).name == "Canon_001_HR.png"
    with pytest.raises(UserError, match=r"a for p9: no result in .*p9_x4_mine\.png"):
        external_file(external_method("a", str(res), "{stem}_x4_mine.png"), ("p9",))
    one = external_method("one", str(res / "p1.jpg"))
    assert external_file(one, ("anything",)).name == "p1.jpg"  # a single file is the open image's result


def test_pil_bicubic_folder_scores_as_the_builtin_and_problems_stay_per_pair(tmp_path, one_thread):
    pairs = make_pairs(tmp_path / "pairs", S, n_train=3, n_val=2)
    res = pil_bicubic_folder(pairs, tmp_path / "res")
    Image.new("RGB", (7, 7)).save(res / "p1.png")            # wrong size
    (res / "p2.png").unlink()                                 # missing
    data = (res / "p3.png").read_bytes()
    (res / "p3.png").write_bytes(data[: len(data) // 2])      # truncated
    ext = external_method("mine", str(res))
    ms = MethodSet(scale=S, extras={ext.key: ext})
    infos = [p for p in discover_pairs(pairs, S) if p.ok]
    result = evaluate(((p.name, *load_pair(p, S)) for p in infos), ["bicubic", ext.key], ms)
    assert set(result.problems) == {"p1", "p2", "p3"}
    assert "7x7" in result.problems["p1"]["ext:mine"] and "p1" in result.problems["p1"]["ext:mine"]
    assert "mine for p2: no result" in result.problems["p2"]["ext:mine"]
    assert "p3" in result.problems["p3"]["ext:mine"] and "corrupt" in result.problems["p3"]["ext:mine"]
    for name in ("p0", "p4"):  # the good pairs: PIL's bicubic saved as PNG scores as the built-in bicubic
        got = result.per_pair[name]
        assert abs(got["ext:mine"]["psnr"] - got["bicubic"]["psnr"]) < 0.01
    for name in ("p1", "p2", "p3"):  # the others still have their built-in numbers, unchanged
        assert "bicubic" in result.per_pair[name] and "ext:mine" not in result.per_pair[name]
    assert result.methods["bicubic"]["pairs"] == 5 and result.methods["ext:mine"]["pairs"] == 2
    mean = np.mean([result.per_pair[n]["ext:mine"]["psnr"] for n in ("p0", "p4")])
    assert result.methods["ext:mine"]["psnr"] == pytest.approx(mean)


def test_several_adknet_weights_side_by_side(tmp_path, one_thread):
    cfg = tiny_config(scale=S)
    a = save_weights(perturbed(cfg, seed=1), tmp_path / "a.safetensors")
    b = save_weights(perturbed(cfg, seed=2), tmp_path / "b.safetensors")
    extra = adknet_method("b", str(b))
    ms = MethodSet(scale=S, weights_path=a, extras={extra.key: extra})
    pairs = make_pairs(tmp_path / "pairs", S, n_train=1, n_val=1)
    hr, lr = load_pair(discover_pairs(pairs, S)[0], S)
    scores, problems = score_pair(hr, lr, ["adknet", extra.key], ms)
    assert not problems
    out_a, out_b = ms.run("adknet", hr), ms.run(extra.key, hr)
    assert not np.allclose(out_a, out_b)  # two models, two outputs
    assert scores[extra.key]["psnr"] == pytest.approx(psnr(out_b, lr), abs=1e-4)
    assert ms.loaded(extra.key).path == b and ms.loaded().path == a
    broken = adknet_method("bad", str(tmp_path / "missing.safetensors"))
    ms.extras[broken.key] = broken
    scores, problems = score_pair(hr, lr, ["adknet", broken.key], ms)
    assert "adknet" in scores and "missing.safetensors" in problems[broken.key]


def test_summarise_skips_non_finite_and_counts():
    per_pair = {"a": {"m": {"psnr": 30.0, "psnr_y": 31.0, "ssim": 0.9, "seconds": 1.0}},
                "b": {"m": {"psnr": float("inf"), "psnr_y": 33.0, "ssim": 0.8, "seconds": 1.0}},
                "c": {}}
    got = summarise(per_pair, ["m", "other"])
    assert got["m"]["psnr"] == 30.0 and got["m"]["psnr_y"] == 32.0 and got["m"]["pairs"] == 2
    assert "other" not in got
