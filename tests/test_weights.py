"""Weights I/O: safetensors round trip with a model card, and refusal (never execution) of anything else."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core_helpers import one_thread, perturbed, tiny_config  # noqa: F401 (fixture)
from adk_model.adknet import ARCH, ADKNet, preset
from adk_model.errors import UserError, WeightsError
from adk_model.weights import FORMAT, card_path, import_torch_weights, load_weights, save_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def _same_outputs(a: ADKNet, b: ADKNet, scale: int = 4) -> None:
    torch.manual_seed(1)
    hr = torch.rand(1, 3, 6 * scale, 5 * scale)
    with torch.no_grad():
        ya, yb = a.eval()(hr, return_terms=True), b.eval()(hr, return_terms=True)
    assert torch.equal(ya.lr, yb.lr) and torch.equal(ya.kernels, yb.kernels)


class _Payload:
    """Pickles to a call of open(marker, 'w'): unpickling it with full pickle creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_pt(path: Path, marker: Path) -> Path:
    """A genuine torch.save file (zip + data.pkl) whose pickle would run code on a plain torch.load."""
    torch.save({"head.weight": torch.zeros(1), "payload": _Payload(marker)}, path)
    return path


# ----------------------------------------------------------------------------- round trip


def test_save_load_round_trip_with_card(tmp_path):
    cfg = tiny_config(scale=2, norm="signed")
    model = perturbed(cfg)
    path = save_weights(model, tmp_path / "sub" / "mine.safetensors", {"notes": "hello"})
    assert path.is_file() and card_path(path) == tmp_path / "sub" / "mine.json"
    card = json.loads(card_path(path).read_text())
    assert card["name"] == "mine" and card["arch"] == ARCH and card["scale"] == 2 and card["notes"] == "hello"
    assert card["config"] == cfg.to_dict()
    assert not list(path.parent.glob("*.tmp"))

    loaded = load_weights(path, expect_scale=2)
    assert loaded.model.cfg == cfg and loaded.scale == 2 and loaded.name == "mine"
    assert loaded.notes == [] and loaded.card["notes"] == "hello"
    assert not loaded.model.training
    _same_outputs(model, loaded.model, scale=2)
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.model.state_dict()[k])


def test_expect_scale_mismatch_names_both_scales(tmp_path):
    path = save_weights(perturbed(tiny_config()), tmp_path / "x4.safetensors")
    with pytest.raises(WeightsError) as e:
        load_weights(path, expect_scale=2)
    assert "x4" in str(e.value) and "x2" in str(e.value) and "x4.safetensors" in str(e.value)
    assert isinstance(e.value, UserError)


# ----------------------------------------------------------------------------- refusals


def test_missing_random_and_empty_files_are_refused(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(tmp_path / "nope.safetensors")
    rnd = tmp_path / "random.safetensors"
    rnd.write_bytes(bytes(range(256)) * 7 + b"\xff" * 11)
    with pytest.raises(WeightsError, match="random.safetensors"):
        load_weights(rnd)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match="empty"):
        load_weights(empty)
    tiny = tmp_path / "short.safetensors"
    tiny.write_bytes(b"\x01\x02")
    with pytest.raises(WeightsError, match="short.safetensors"):
        load_weights(tiny)


def test_the_payload_is_live(tmp_path):
    """Sanity check of the test itself: an unrestricted torch.load of the crafted file does run its code."""
    marker = tmp_path / "ran-live"
    torch.load(_evil_pt(tmp_path / "live.pt", marker), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".safetensors", ".bin"])
def test_code_running_pickle_is_refused_by_load_weights(tmp_path, suffix):
    marker = tmp_path / "pwned"
    evil = _evil_pt(tmp_path / f"evil{suffix}", marker)
    with pytest.raises(WeightsError) as e:
        load_weights(evil)
    assert "evil" in str(e.value)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_code_running_pickle_is_refused_by_import(tmp_path):
    marker = tmp_path / "pwned"
    evil = _evil_pt(tmp_path / "evil.pt", marker)
    with pytest.raises(WeightsError, match="refused") as e:
        import_torch_weights(evil, tmp_path / "out.safetensors")
    # One clean sentence: never torch's advice to retry with weights_only=False, nor its terminal escapes.
    assert "weights_only" not in str(e.value) and "\x1b" not in str(e.value)
    assert not marker.exists() and not (tmp_path / "out.safetensors").exists()
    # A bare pickle (not a torch zip) with the same payload is refused too.
    raw = tmp_path / "raw.pth"
    raw.write_bytes(pickle.dumps({"w": _Payload(marker)}))
    with pytest.raises(WeightsError):
        import_torch_weights(raw, tmp_path / "out.safetensors")
    assert not marker.exists()


def test_foreign_safetensors_are_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"conv.weight": torch.zeros(4, 3, 3, 3)}, str(plain))
    with pytest.raises(WeightsError, match="not ADK Viewer weights"):
        load_weights(plain)

    other = tmp_path / "other.safetensors"
    cfg = tiny_config()
    state = {k: v.contiguous() for k, v in ADKNet(cfg).state_dict().items()}
    save_file(state, str(other), metadata={"format": FORMAT, "arch": "esrgan", "config": json.dumps(cfg.to_dict())})
    with pytest.raises(WeightsError, match="esrgan"):
        load_weights(other)

    # Our metadata, but the tensors of another config.
    lying = tmp_path / "lying.safetensors"
    big = {k: v.contiguous() for k, v in ADKNet(tiny_config(width=16)).state_dict().items()}
    save_file(big, str(lying), metadata={"format": FORMAT, "arch": ARCH, "config": json.dumps(cfg.to_dict())})
    with pytest.raises(WeightsError, match="wrong shape"):
        load_weights(lying)
    fewer = tmp_path / "fewer.safetensors"
    save_file({k: v for k, v in state.items() if not k.startswith("branch")}, str(fewer),
              metadata={"format": FORMAT, "arch": ARCH, "config": json.dumps(cfg.to_dict())})
    with pytest.raises(WeightsError, match="does not match"):
        load_weights(fewer)


@pytest.mark.parametrize("bad", [{"width": -3}, {"k": 12.0}, {"k": 13}, {"scale": "4"}, {"gain_bias": 1},
                                 {"depth": 9}, "not json"])
def test_invalid_config_metadata_is_a_weights_error(tmp_path, bad):
    cfg = tiny_config()
    meta_cfg = "{not json" if bad == "not json" else json.dumps({**cfg.to_dict(), **bad})
    path = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in ADKNet(cfg).state_dict().items()}, str(path),
              metadata={"format": FORMAT, "arch": ARCH, "config": meta_cfg})
    with pytest.raises(WeightsError, match="invalid model config"):
        load_weights(path)


# ----------------------------------------------------------------------------- the model card


def test_missing_card_loads_with_a_note(tmp_path):
    model = perturbed(tiny_config())
    path = save_weights(model, tmp_path / "w.safetensors")
    card_path(path).unlink()
    loaded = load_weights(path)
    assert loaded.card == {"name": "w"}
    assert len(loaded.notes) == 1 and "No model card" in loaded.notes[0]
    _same_outputs(model, loaded.model)


def test_disagreeing_or_unreadable_card_gives_a_note_and_the_file_config_wins(tmp_path):
    cfg = tiny_config()
    model = perturbed(cfg)
    path = save_weights(model, tmp_path / "w.safetensors")
    card = json.loads(card_path(path).read_text())
    card["config"]["k"] = 16
    card["config"]["shared_kernel"] = True
    card_path(path).write_text(json.dumps(card))
    loaded = load_weights(path)
    assert loaded.model.cfg == cfg and loaded.card["config"] == cfg.to_dict()
    assert len(loaded.notes) == 1 and "disagrees" in loaded.notes[0]
    _same_outputs(model, loaded.model)

    card_path(path).write_text("{ broken")
    loaded = load_weights(path)
    assert loaded.model.cfg == cfg and any("unreadable" in n for n in loaded.notes)
    card_path(path).write_text("[1, 2]")
    assert any("unreadable" in n for n in load_weights(path).notes)


# ----------------------------------------------------------------------------- import of PyTorch state dicts


def test_import_of_a_plain_state_dict(tmp_path):
    cfg = preset("lite", scale=2)
    model = perturbed(cfg)
    src = tmp_path / "trained.pth"
    torch.save(model.state_dict(), src)
    out = import_torch_weights(src, tmp_path / "imported.safetensors", "lite", scale=2)
    loaded = load_weights(out, expect_scale=2)
    assert loaded.model.cfg == cfg and loaded.card["imported_from"] == "trained.pth"
    _same_outputs(model, loaded.model, scale=2)


def test_import_of_a_state_dict_with_its_config(tmp_path):
    cfg = tiny_config(norm="signed")
    model = perturbed(cfg)
    src = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "model_config": cfg.to_dict(), "iteration": 5}, src)
    loaded = load_weights(import_torch_weights(src, tmp_path / "w.safetensors"))
    assert loaded.model.cfg == cfg
    _same_outputs(model, loaded.model)


def test_import_refuses_mismatched_or_non_tensor_files(tmp_path):
    src = tmp_path / "tiny.pt"
    torch.save(perturbed(tiny_config()).state_dict(), src)
    with pytest.raises(WeightsError, match="does not match"):
        import_torch_weights(src, tmp_path / "w.safetensors", "lite", scale=4)
    lst = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], lst)
    with pytest.raises(WeightsError, match="state dict"):
        import_torch_weights(lst, tmp_path / "w.safetensors")
    with pytest.raises(WeightsError, match="does not exist"):
        import_torch_weights(tmp_path / "missing.pt", tmp_path / "w.safetensors")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match="empty.pt"):
        import_torch_weights(tmp_path / "empty.pt", tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_describe_weights_is_the_one_reader_of_name_and_scale(tmp_path):
    """Menus, labels and the shipped list read a file's name (card, else stem) and scale (metadata) here only."""
    from adk_model.adknet import ADKNet, preset
    from adk_model.weights import describe_weights, save_weights, shipped_weights

    path = save_weights(ADKNet(preset("lite", scale=2)), tmp_path / "mine_x2.safetensors", {"name": "my fine-tune"})
    info = describe_weights(path)
    assert (info.name, info.scale, info.problem) == ("my fine-tune", 2, None)
    path.with_suffix(".json").unlink()
    assert describe_weights(path).name == "mine_x2"  # no card: the file stem
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors")
    info = describe_weights(bad)
    assert info.scale is None and "bad.safetensors" in info.problem  # never raises: says why instead
    assert all(describe_weights(p).scale == 4 for p in shipped_weights(4))
