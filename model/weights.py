"""Weights I/O: safetensors (never pickle) plus a JSON model card beside them."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from . import json_input
from .atomic import atomic_write_bytes

from .adknet import ADKNet, ADKNetConfig
from .config_bounds import ARCHES, bounded_config, file_tensors, nonfinite_problem, shape_problem, tensor_info
from .errors import WeightsError

FORMAT = "adkviewer-weights-1"
# The repository's resources/ folder, installed as the package adk_model.resources (pyproject.toml's package-dir),
# so the wheel, the sdist and an editable install all find it the same way.
RESOURCES = Path(str(files("adk_model.resources")))
SHIPPED_DIR = RESOURCES / "weights"


@dataclass
class LoadedWeights:
    model: ADKNet
    path: Path
    card: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.card.get("name") or self.path.stem

    @property
    def scale(self) -> int:
        return self.model.cfg.scale


def card_path(weights_path: str | os.PathLike) -> Path:
    return Path(weights_path).with_suffix(".json")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def save_weights(model: ADKNet, path: str | os.PathLike, card: dict[str, Any] | None = None,
                 overwrite: bool = True) -> Path:
    """Save model weights as safetensors (config in its metadata) and the model card beside it; without
    `overwrite` an existing weights file is a UserError and stays as it was."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "arch": model.cfg.arch, "config": json.dumps(model.cfg.to_dict())}
    atomic_write_bytes(path, save(state, metadata=meta), overwrite)
    full_card = {"name": path.stem, "arch": model.cfg.arch, "scale": model.cfg.scale, "config": model.cfg.to_dict()}
    full_card.update(card or {})
    atomic_write_json(card_path(path), full_card)
    return path


def read_metadata(path: Path) -> dict[str, str]:
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path.name} is not a readable safetensors weights file ({_short(e)}).") from None


def _looks_pickled(path: Path) -> bool:
    """torch.save writes a zip (PK) or, in its legacy format, a pickle (protocol byte 0x80)."""
    with open(path, "rb") as f:
        head = f.read(2)
    return head == b"PK" or head[:1] == b"\x80"


def load_weights(
    path: str | os.PathLike, expect_scale: int | None = None, device: str | torch.device = "cpu"
) -> LoadedWeights:
    """Load ADK-Net weights; refuses anything that is not safetensors for this architecture, explaining why."""
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file.")
    if not path.is_file():
        raise WeightsError(f"Weights file {path} does not exist.")
    if path.suffix.lower() in (".pt", ".pth", ".ckpt", ".pkl", ".bin") and _looks_pickled(path):
        raise WeightsError(
            f"{path.name} is a PyTorch pickle file; ADK Viewer loads only .safetensors weights "
            f"(use 'adkviewer import-weights' to convert it safely)."
        )
    if path.stat().st_size == 0:
        raise WeightsError(f"{path.name} is empty.")
    meta = read_metadata(path)
    notes: list[str] = []
    if meta.get("format") != FORMAT or "config" not in meta:
        raise WeightsError(f"{path.name} is a safetensors file but not ADK Viewer weights (no ADK-Net config in it).")
    if meta.get("arch") not in ARCHES:
        raise WeightsError(f"{path.name} is for architecture {meta.get('arch')!r}; this program runs "
                           f"{' or '.join(map(repr, ARCHES))}.")
    try:
        cfg = bounded_config(json_input.loads(meta["config"]))
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{path.name} has an invalid model config ({_short(e)}).") from None
    if expect_scale is not None and cfg.scale != expect_scale:
        raise WeightsError(f"{path.name} is for scale x{cfg.scale}, but x{expect_scale} was asked for.")
    try:  # names, dtypes and shapes from the header, before a byte of tensor data is read
        problem = shape_problem(cfg, file_tensors(path))
        if problem is None:
            state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path.name} could not be read ({_short(e)}).") from None
    if problem is not None:
        raise WeightsError(f"{path.name} does not match its declared config: {problem}.")
    model = _checked_model(cfg, state, path.name)
    model.to(device).eval()
    card = read_card(path, cfg, notes)
    return LoadedWeights(model=model, path=path, card=card, notes=notes)


def read_card(path: Path, cfg: ADKNetConfig, notes: list[str]) -> dict[str, Any]:
    """The model card is informative only: the config inside the safetensors file is what is run."""
    cp = card_path(path)
    if not cp.is_file():
        notes.append(f"No model card {cp.name} beside the weights; using the config stored in the weights file.")
        return {"name": path.stem}
    try:
        card = json_input.loads(cp.read_text())
        if not isinstance(card, dict):
            raise ValueError("not a JSON object")
    except (ValueError, OSError) as e:
        notes.append(f"Model card {cp.name} is unreadable ({_short(e)}); ignored.")
        return {"name": path.stem}
    if card.get("config") not in (None, cfg.to_dict()):
        notes.append(f"Model card {cp.name} disagrees with the weights file's config; the weights file's config is used.")
        card["config"] = cfg.to_dict()
    return card


def _checked_model(cfg: ADKNetConfig, state: dict[str, torch.Tensor], name: str) -> ADKNet:
    """The model for tensors whose names, dtypes and shapes already fit `cfg`, refusing NaN or infinite values
    (they would give black images with a zero exit status)."""
    problem = nonfinite_problem(state)
    if problem is not None:
        raise WeightsError(f"{name} cannot be used: {problem}, which would make every output invalid.")
    model = ADKNet(cfg)
    model.load_state_dict(state)
    return model


def _short(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return msg[:160]


@dataclass(frozen=True)
class WeightsInfo:
    """What a weights file says about itself without loading its tensors."""

    path: Path
    name: str                # the model card's name, else the file stem
    scale: int | None        # from the safetensors metadata; None when unreadable
    problem: str | None = None  # why the metadata cannot be read (the file is then not offered)


def describe_weights(path: str | os.PathLike) -> WeightsInfo:
    """The one reader of a weights file's name and scale (menus, labels, shipped weights); never raises."""
    path = Path(path)
    name = path.stem
    try:
        card = json_input.loads(card_path(path).read_text())
        if isinstance(card, dict) and card.get("name"):
            name = str(card["name"])
    except (OSError, ValueError):
        pass
    try:
        cfg = json_input.loads(read_metadata(path).get("config", "{}"))
    except (WeightsError, ValueError) as e:
        return WeightsInfo(path, name, None, str(e))
    scale = cfg.get("scale") if isinstance(cfg, dict) else None
    return WeightsInfo(path, name, scale if isinstance(scale, int) and not isinstance(scale, bool) else None)


def shipped_weights(scale: int | None = None) -> list[Path]:
    """Weights shipped in resources/weights, optionally only those for one scale (read from the metadata)."""
    found = sorted(SHIPPED_DIR.glob("*.safetensors"))
    return found if scale is None else [p for p in found if describe_weights(p).scale == scale]


def default_weights(scale: int = 4) -> Path | None:
    found = shipped_weights(scale)
    return found[0] if found else None


def safe_torch_load(path: Path, error: type[Exception], what: str) -> Any:
    """torch.load with weights_only=True: tensors and plain containers only, so no pickled code can ever run."""
    if not path.is_file():
        raise error(f"{path} does not exist.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's own text advises weights_only=False: never show that
        raise error(f"{path.name} was refused: it is not a plain tensor file that loads safely "
                    f"(nothing in it was run).") from None
    except Exception as e:  # noqa: BLE001 - every refusal is one message
        raise error(f"{path.name} is not a readable {what} ({_short(e)}).") from None


def import_torch_weights(src: str | os.PathLike, dst: str | os.PathLike, preset_name: str = "lite",
                         scale: int = 4, overwrite: bool = True) -> Path:
    """Convert a PyTorch state dict to safetensors; torch.load(weights_only=True) refuses any pickled code."""
    from .adknet import preset

    src = Path(src)
    obj = safe_torch_load(src, WeightsError, "PyTorch weights file")
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        cfg_dict = obj.get("model_config")
        obj = obj["model"]
    else:
        cfg_dict = None
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{src.name} does not hold a state dict of tensors.")
    try:
        # a state dict without the linear part is the old architecture (adknet-v1) of that preset
        v1 = {} if "linear.weight" in obj else {"linear_taps": 0}
        cfg = bounded_config(cfg_dict if cfg_dict else preset(preset_name, scale=scale, **v1).to_dict())
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{src.name} has an invalid model config ({_short(e)}).") from None
    problem = shape_problem(cfg, tensor_info(obj))
    if problem is not None:
        what = "its own stored config" if cfg_dict else f"ADK-Net {preset_name} x{scale} (check --preset and --scale)"
        raise WeightsError(f"{src.name} does not match {what}: {problem}.")
    model = _checked_model(cfg, obj, src.name)
    return save_weights(model, dst, {"imported_from": src.name}, overwrite)
