"""Round-2 weights hardening: configs are bounded and checked against the file's tensors before any model is
built, and NaN/Inf or non-float tensors are refused on load, import and in outputs (issue 18, items 2-3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import adk_model.weights as weights_mod
from adkviewer.cli import main
from core_helpers import make_pairs, perturbed, tiny_config
from adk_model.adknet import ADKNet
from adk_model.errors import UserError, WeightsError
from adk_model.train import TrainConfig, build_model
from adk_model.weights import FORMAT, import_torch_weights, load_weights, save_weights


@pytest.fixture
def never_built(monkeypatch):
    """Building a real model for a refused config is the defect: any ADKNet() in adk_model.weights fails the test."""
    def refuse(*a, **kw):
        raise AssertionError("a real model was built before the config was checked")
    monkeypatch.setattr(weights_mod, "ADKNet", refuse)


def _lying_file(path: Path, **config_edits) -> Path:
    """Our metadata with a hand-edited config, and the (small) tensors of the tiny model."""
    cfg = tiny_config()
    state = {k: v.contiguous() for k, v in ADKNet(cfg).state_dict().items()}
    stored = {**cfg.to_dict(), **config_edits}
    save_file(state, str(path), metadata={"format": FORMAT, "arch": "adknet-v1", "config": json.dumps(stored)})
    return path


@pytest.mark.parametrize("edit", [{"k": 10000}, {"width": 10**6}, {"gen_width": 10**6}, {"k": 2**40},
                                  {"gen_blocks": 100000}, {"feat_blocks": 10**6}, {"width": 4096},
                                  {"branch_width": 10**7}, {"scale": 10**5}])
def test_absurd_stored_configs_are_refused_before_any_model_is_built(tmp_path, never_built, edit):
    p = _lying_file(tmp_path / "big.safetensors", **edit)
    with pytest.raises(WeightsError) as exc:
        load_weights(p)
    (field, value), = edit.items()
    msg = str(exc.value)
    assert "\n" not in msg and p.name in msg and (f"{field}={value}" in msg or "k - scale" in msg), msg


def test_a_config_within_bounds_but_not_the_files_shapes_names_the_tensor(tmp_path, never_built):
    p = _lying_file(tmp_path / "wide.safetensors", width=256)
    with pytest.raises(WeightsError, match=r"tensor '[\w.]+' has the wrong shape"):
        load_weights(p)


def test_the_arch_field_is_checked(tmp_path):
    cfg = tiny_config()
    p = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in ADKNet(cfg).state_dict().items()}, str(p),
              metadata={"format": FORMAT, "arch": "adknet-v9", "config": json.dumps(cfg.to_dict())})
    with pytest.raises(WeightsError, match="adknet-v9"):
        load_weights(p)


def test_absurd_configs_through_import_and_train_set(tmp_path, never_built, monkeypatch):
    src = tmp_path / "big.pt"
    cfg = tiny_config()
    torch.save({"model": ADKNet(cfg).state_dict(), "model_config": {**cfg.to_dict(), "k": 10000}}, src)
    with pytest.raises(WeightsError, match="k=10000"):
        import_torch_weights(src, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()
    import adk_model.train_setup as setup_mod
    monkeypatch.setattr(setup_mod, "ADKNet", weights_mod.ADKNet)  # the refusing stand-in
    for field, value in [("width", 10**6), ("gen_blocks", 100000), ("feat_blocks", 10**6)]:
        with pytest.raises(UserError, match=f"{field}={value}"):
            build_model(TrainConfig(init="scratch", model_overrides={field: value}))


def test_train_set_width_a_million_is_one_cli_line(tmp_path, capsys):
    pairs = make_pairs(tmp_path / "pairs")
    rc = main(["train", "--pairs", str(pairs), "--init", "scratch", "--set", "width=1000000", "--iterations", "1",
               "--out", str(tmp_path / "run"), "--device", "cpu", "--no-eval"])
    err = capsys.readouterr().err
    assert rc == 3 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")]
    assert len(lines) == 1 and "width=1000000" in lines[0], err


def _saved(tmp_path: Path, name: str, edit) -> Path:
    model = perturbed(tiny_config())
    p = save_weights(model, tmp_path / name)
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    edit(state)
    meta = {"format": FORMAT, "arch": model.cfg.arch, "config": json.dumps(model.cfg.to_dict())}
    save_file(state, str(p), metadata=meta)
    return p


def _nan(state):
    state["head.weight"].view(-1)[3] = float("nan")


def _inf(state):
    state["mix"][0, 0] = float("inf")


def _flipped_bits(state):  # 20 exponent bits flipped in the data: values become Inf/NaN or huge
    t = state["to_lr.weight"].view(-1).view(torch.int32)
    t[:20] |= 0x7F800000


@pytest.mark.parametrize("edit", [_nan, _inf, _flipped_bits])
def test_non_finite_weights_are_refused_on_load_naming_the_tensor(tmp_path, edit):
    p = _saved(tmp_path, "bad.safetensors", edit)
    with pytest.raises(WeightsError, match=r"tensor '[\w.]+' holds \d+ NaN or infinite value"):
        load_weights(p)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int8, torch.uint8, torch.int64, torch.float8_e4m3fn])
def test_non_float_tensors_are_refused_not_cast(tmp_path, dtype):
    p = _saved(tmp_path, "typed.safetensors", lambda s: s.__setitem__("mix", s["mix"].to(dtype)))
    with pytest.raises(WeightsError, match="tensor 'mix' holds .* values, not floating-point weights"):
        load_weights(p)


def test_import_refuses_nan_and_integer_state_dicts(tmp_path):
    for name, edit in [("nan.pt", _nan), ("int.pt", lambda s: s.__setitem__("mix", s["mix"].to(torch.int64)))]:
        state = {k: v.clone() for k, v in perturbed(tiny_config()).state_dict().items()}
        edit(state)
        torch.save({"model": state, "model_config": tiny_config().to_dict()}, tmp_path / name)
        with pytest.raises(WeightsError):
            import_torch_weights(tmp_path / name, tmp_path / "out.safetensors")
        assert not (tmp_path / "out.safetensors").exists()


def test_cli_downscale_and_eval_with_nan_weights_fail_in_one_line(tmp_path, capsys):
    p = _saved(tmp_path, "nan.safetensors", _nan)
    pairs = make_pairs(tmp_path / "pairs")
    img = next((pairs / "HR").iterdir())
    for argv in (["downscale", str(img), "-o", str(tmp_path / "o.png"), "--weights", str(p), "--device", "cpu"],
                 ["eval", "--pairs", str(pairs), "--weights", str(p), "--methods", "adknet", "--json",
                  "--device", "cpu"]):
        rc = main(argv)
        out, err = capsys.readouterr()
        assert rc != 0 and "NaN" not in out and "Traceback" not in err
        assert [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")] == [
            f"adkviewer: error: {p.name} cannot be used: tensor 'head.weight' holds 1 NaN or infinite value, "
            f"which would make every output invalid."]
    assert not (tmp_path / "o.png").exists()


def test_no_output_image_holding_nan_is_written(tmp_path):
    from adk_model.imageio import save_image
    from adk_model.methods import MethodSet

    arr = np.full((8, 8, 3), 0.5, np.float32)
    arr[2, 3, 1] = np.nan
    with pytest.raises(UserError, match="NaN"):
        save_image(tmp_path / "x.png", arr)
    assert not (tmp_path / "x.png").exists()
    # a forward pass that yields NaN (here a model handed over in memory, past the load checks): no result
    model = perturbed(tiny_config())
    with torch.no_grad():
        model.mix_bias[1] = float("nan")
    ms = MethodSet(scale=4)
    ms.set_weights(weights_mod.LoadedWeights(model=model, path=Path("huge.safetensors"), card={}))
    with pytest.raises(UserError, match="NaN or infinite"):
        ms.run("adknet", np.full((32, 32, 3), 0.5, np.float32))


def test_every_bad_weights_file_is_one_cli_line_and_writes_nothing(tmp_path, capsys):
    from hostile_files import make_bad_weights

    img = next((make_pairs(tmp_path / "pairs") / "HR").iterdir())
    for name, path in make_bad_weights(tmp_path / "w").items():
        out = tmp_path / f"{name}.png"
        rc = main(["downscale", str(img), "-o", str(out), "--weights", str(path), "--device", "cpu"])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.startswith("adkviewer: error:")]
        assert rc == 3 and "Traceback" not in err and len(lines) == 1 and path.name in lines[0], (name, err)
        assert not out.exists()
