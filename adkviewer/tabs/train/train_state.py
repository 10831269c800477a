"""Qt-free state of the Train tab: the settings a person picks, the pairs table rows, the curves and the ETA.

Everything here is plain Python (no Qt), so it is easy to test and the widgets in `train_tab.py` stay thin.
The settings turn into the engine's `adk_model.train.TrainConfig`, the same one `adkviewer train` builds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from adk_model.adknet import PRESETS as ADKNET_PRESETS
from adk_model.data import PairInfo, discover_pairs, no_usable_pairs
from adk_model.devices import CHOICES as DEVICE_CHOICES
from adk_model.errors import UserError
from adk_model.splits import SPLIT_FILENAME, Split, resolve_split
from adk_model.train import FINE_TUNE, SCRATCH, TrainConfig, default_runs_root, new_run_dir, schedule_for
from adk_model.weights import default_weights, describe_weights

from adkviewer.state.weights_registry import available_weights

INITS = ("shipped", "scratch")  # besides a weights file's path (the CLI's --init FILE)
PICK_FILE = "pick-file"         # the "Start from" entry that asks for a weights file
PRESETS = tuple(ADKNET_PRESETS)  # the model's presets and device choices: one list for the CLI and this tab
DEVICES = DEVICE_CHOICES
SPLIT_FILE, SPLIT_FRACTION = "file", "fraction"

# The engine's schedules (adk_model.train), also the CLI's defaults: fine-tuning the shipped weights, or from scratch.
FINE_TUNE_DEFAULTS = asdict(FINE_TUNE)
SCRATCH_DEFAULTS = asdict(SCRATCH)


def default_out_root() -> str:
    return str(default_runs_root())


# The Cameras choice: what Quick calibrate fits besides the one model (adk_model.cameras.CAMERA_BY)
CAMERA_CHOICES = (("all cameras as one", ""), ("one per name prefix", "prefix"), ("one per EXIF camera", "exif"))


@dataclass
class TrainSettings:
    """What the Train tab's form holds; `to_config` makes the engine's TrainConfig from it."""

    pairs: str = ""
    split_mode: str = SPLIT_FILE          # "file": split.json in the pairs folder; "fraction": seeded
    val_fraction: float = 0.2
    seed: int = 0
    scale: int = 4
    preset: str = "lite"
    k: int = 0                            # 0: the preset's kernel size
    init: str = "shipped"
    calibrate_first: bool = True          # fine-tuning: re-fit the colour head on the train pairs first (as the CLI)
    per_camera: str = ""                  # Quick calibrate also fits one model per camera: "prefix", "exif" or ""
    lr: float = FINE_TUNE.lr
    batch: int = TrainConfig.batch
    patch: int = TrainConfig.patch
    iterations: int = FINE_TUNE.iterations
    val_every: int = FINE_TUNE.val_every
    ckpt_every: int = TrainConfig.ckpt_every
    device: str = "auto"
    out_root: str = field(default_factory=default_out_root)
    model_overrides: dict[str, Any] = field(default_factory=dict)  # not in the form: tests and power users

    def split_string(self) -> str:
        """The engine's `split` field: 'val' (split.json in the folder) or 'fraction:F'."""
        return "val" if self.split_mode == SPLIT_FILE else f"fraction:{self.val_fraction:g}"

    def overrides(self) -> dict[str, Any]:
        out = dict(self.model_overrides)
        if self.k and self.init == "scratch":
            out["k"] = int(self.k)
        return out

    def run_dir(self, now: float | None = None) -> Path:
        """A fresh folder for one run under OUT_ROOT, named as the CLI names its default run folders."""
        return new_run_dir(self.pairs, self.scale, self.out_root, now)

    def to_config(self, out: str | Path) -> TrainConfig:
        """The engine config for a run written to `out` (the command line that would do the same is recorded)."""
        if not self.pairs:
            raise UserError("Choose a pairs folder first (a folder with HR/ and LR/, or RealSR-named pairs).")
        cfg = TrainConfig(
            pairs=self.pairs, split=self.split_string(), scale=int(self.scale), preset=self.preset,
            model_overrides=self.overrides(), init=self.init, iterations=int(self.iterations), batch=int(self.batch),
            patch=int(self.patch), lr=float(self.lr), val_every=int(self.val_every), ckpt_every=int(self.ckpt_every),
            patience=schedule_for(self.init).patience,  # early stopping as the CLI: fine-tuning only
            out=str(out), seed=int(self.seed), device=self.device, calibrate_first=bool(self.calibrate_first))
        cfg.command = command_line(cfg)
        return cfg

    @classmethod
    def from_config(cls, cfg: TrainConfig, out_root: str | None = None) -> "TrainSettings":
        """The form for a checkpoint's config (Resume from checkpoint… shows what it continues)."""
        mode, frac = SPLIT_FILE, 0.2
        if cfg.split.startswith("fraction:"):
            mode, frac = SPLIT_FRACTION, float(cfg.split.split(":", 1)[1])
        init = cfg.init if cfg.init in INITS or Path(cfg.init).is_file() else "shipped"
        over = dict(cfg.model_overrides)
        k = int(over.pop("k", 0) or 0)
        return cls(pairs=cfg.pairs, split_mode=mode, val_fraction=frac, seed=cfg.seed, scale=cfg.scale,
                   preset=cfg.preset, k=k, init=init, calibrate_first=cfg.calibrate_first, lr=cfg.lr,
                   batch=cfg.batch, patch=cfg.patch,
                   iterations=cfg.iterations, val_every=cfg.val_every, ckpt_every=cfg.ckpt_every, device=cfg.device,
                   out_root=out_root or str(Path(cfg.out).parent), model_overrides=over)

    # ------------------------------------------------------------------ remembered between starts

    _SAVED = ("pairs", "split_mode", "val_fraction", "seed", "scale", "preset", "k", "init", "calibrate_first", "lr",
              "batch", "patch", "iterations", "val_every", "ckpt_every", "device", "out_root", "per_camera")

    def save(self, settings, prefix: str = "train/") -> None:
        for name in self._SAVED:
            settings.set(prefix + name, str(getattr(self, name)))

    @classmethod
    def load(cls, settings, prefix: str = "train/") -> "TrainSettings":
        """Remembered values, each falling back to the default when missing or unreadable."""
        out = cls()
        types = {f.name: type(getattr(out, f.name)) for f in fields(cls) if f.name in cls._SAVED}
        for name in cls._SAVED:
            if not settings.has(prefix + name):
                continue
            raw = settings.get_str(prefix + name, "")
            try:
                val = (raw.lower() in ("true", "1", "yes")) if types[name] is bool else types[name](raw)
            except (TypeError, ValueError):
                continue
            if isinstance(val, float) and not math.isfinite(val):
                continue
            setattr(out, name, val)
        if out.init not in INITS and not Path(out.init).is_file():
            out.init = "shipped"
        if out.preset not in PRESETS:
            out.preset = "lite"
        if out.device not in DEVICES:
            out.device = "auto"
        if out.per_camera not in [by for _, by in CAMERA_CHOICES]:
            out.per_camera = ""
        if out.split_mode not in (SPLIT_FILE, SPLIT_FRACTION):
            out.split_mode = SPLIT_FILE
        return out


def command_line(cfg: TrainConfig) -> str:
    """The `adkviewer train` command that runs the same configuration (recorded in checkpoints and model cards).

    Spelled in the CLI's flags: tests/test_cli_train.py reads it back with the CLI's own parser and checks that it
    gives this very config. Architecture flags only go with --init scratch (fine-tuning keeps the weights').
    """
    import shlex

    parts = ["adkviewer", "train", "--pairs", cfg.pairs, "--split", cfg.split, "--scale", str(cfg.scale),
             "--init", cfg.init, "--iterations", str(cfg.iterations), "--batch", str(cfg.batch),
             "--patch", str(cfg.patch), "--lr", repr(float(cfg.lr)), "--val-every", str(cfg.val_every),
             "--patience", str(cfg.patience), "--ckpt-every", str(cfg.ckpt_every), "--seed", str(cfg.seed),
             "--device", cfg.device, "--out", cfg.out]
    if cfg.init == "scratch":
        parts += ["--preset", cfg.preset]
        for key, val in cfg.model_overrides.items():
            parts += ["--k", str(val)] if key == "k" else ["--set", f"{key}={val}"]
    if not cfg.calibrate_first:
        parts.append("--no-calibrate")
    return " ".join(shlex.quote(p) for p in parts) + "  # (from the Train tab)"


@dataclass(frozen=True)
class InitChoice:
    """One entry of "Start from": its label, the TrainConfig.init it stands for, and whether it can be chosen."""

    label: str
    init: str
    enabled: bool = True
    tip: str = ""


def init_choices(scale: int, calibrated: str | None, settings: Any = None,
                 files: tuple[str, ...] = ()) -> list[InitChoice]:
    """What a run can start from at this scale: the shipped weights, the last model Quick calibrate fitted (saved
    in its run folder), the models exported (File → ADK-Net weights), weights files chosen here, or scratch."""
    have = bool(default_weights(scale))
    out = [InitChoice("Shipped weights (fine-tune)" if have else f"Shipped weights (none for ×{scale})", "shipped",
                      have, "Fine-tune the shipped model of this scale")]
    seen = set()

    def add(path: str, label: str, tip: str) -> None:
        key = str(Path(path).resolve())
        if key not in seen and Path(path).is_file() and describe_weights(path).scale == scale:
            seen.add(key)
            out.append(InitChoice(label, path, True, tip))

    if calibrated:
        add(calibrated, f"Calibrated: {describe_weights(calibrated).name}",
            f"Fine-tune the model Quick calibrate fitted, saved as {calibrated}")
    for c in available_weights(settings, scale):
        if not c.shipped:
            add(str(c.path), f"Exported: {c.label}", f"Fine-tune {c.path} (listed under File → ADK-Net weights)")
    for f in files:
        add(f, f"File: {Path(f).name}", f"Fine-tune {f}")
    out.append(InitChoice("Weights file…", PICK_FILE, True, "Fine-tune another .safetensors file (the CLI's "
                                                           "--init FILE)"))
    out.append(InitChoice("Scratch", "scratch", True, "Train a new model (preset and k below)"))
    return out


# ---------------------------------------------------------------------------------------------- pairs


@dataclass
class PairRow:
    """One row of the pairs table."""

    name: str
    role: str          # "train", "val" or "—" (not used)
    hr: str            # "W×H" or ""
    lr: str
    status: str        # "ok" or the problem, in words
    ok: bool


@dataclass
class PairScan:
    """A scanned pairs folder: a row per pair, the split used, and a one-line summary (or why it is unusable)."""

    folder: str
    rows: list[PairRow]
    n_train: int = 0
    n_val: int = 0
    n_bad: int = 0
    split_note: str = ""
    error: str | None = None
    no_val: str = ""   # why no pair validates (the run then cannot keep its best model): said before Start

    @property
    def summary(self) -> str:
        if self.error:
            return self.error
        bad = f", {self.n_bad} unusable (skipped)" if self.n_bad else ""
        return f"{self.n_train} train + {self.n_val} val pairs{bad}. {self.split_note}".strip()


def no_val_reason(split_mode: str, val_fraction: float, usable: int) -> str:
    """Why a split leaves no validation pair, in words a person can act on."""
    if split_mode == SPLIT_FILE:
        return "split.json in the folder names no usable validation pair"
    if val_fraction <= 0:
        return "the validation fraction is 0"
    pairs = f"{usable} usable pair" + ("" if usable == 1 else "s")
    return f"a seeded {val_fraction:.0%} of {pairs} is none (every pair trains)"


def _size(s: tuple[int, int] | None) -> str:
    return f"{s[0]}×{s[1]}" if s else ""


def scan_pairs(folder: str, scale: int, split_mode: str, val_fraction: float, seed: int) -> PairScan:
    """Discover and check the pairs (file headers only) and assign each its role under the chosen split.

    Never raises for user problems: an unusable folder or split file comes back as `error`.
    """
    try:
        infos: list[PairInfo] = discover_pairs(folder, scale)
    except UserError as e:
        return PairScan(folder, [], error=str(e))
    except OSError as e:
        return PairScan(folder, [], error=f"Pairs folder '{folder}' cannot be read ({e.strerror or e}).")
    ok_names = [p.name for p in infos if p.ok]
    note = ""
    try:
        if split_mode == SPLIT_FILE:
            split: Split = resolve_split(folder, str(Path(folder) / SPLIT_FILENAME), ok_names)
            note = f"Validation: split.json in the folder (x{split.scale})."
            if split.scale is not None and split.scale != scale:
                note += f" Note: split.json says x{split.scale}, training is at x{scale}."
        else:
            split = resolve_split(folder, f"fraction:{val_fraction!r}", ok_names, seed)
            note = f"Validation: seeded {val_fraction:.0%} (seed {seed})."
    except UserError as e:
        rows = [PairRow(p.name, "—", _size(p.hr_size), _size(p.lr_size), "ok" if p.ok else (p.problem or "?"), p.ok)
                for p in infos]
        return PairScan(folder, rows, n_bad=sum(not p.ok for p in infos), error=str(e))
    train, val = set(split.train), set(split.val)
    rows = []
    for p in infos:
        role = "train" if p.name in train else "val" if p.name in val else "—"
        status = "ok" if p.ok else (p.problem or "unusable")
        if p.ok and role == "—":
            status = "ok, not in the split (not used)"
        rows.append(PairRow(p.name, role, _size(p.hr_size), _size(p.lr_size), status, p.ok))
    rows.sort(key=lambda r: r.ok)  # unusable pairs first, where they are seen (the sort keeps names in order)
    known = {p.name for p in infos}
    missing = [n for n in split.train + split.val if n not in known]
    scan = PairScan(folder, rows, n_train=sum(r.ok and r.role == "train" for r in rows),
                    n_val=sum(r.ok and r.role == "val" for r in rows), n_bad=sum(not r.ok for r in rows),
                    split_note=note)
    if missing:
        scan.error = (f"split.json names {len(missing)} pair(s) that are not in the folder "
                      f"({', '.join(missing[:3])}{'…' if len(missing) > 3 else ''}).")
    elif scan.n_train == 0:
        scan.error = no_usable_pairs(folder, infos, scale, "training pairs")
    elif scan.n_val == 0:
        scan.no_val = no_val_reason(split_mode, val_fraction, len(ok_names))
    return scan


# ---------------------------------------------------------------------------------------------- curves


@dataclass
class Curves:
    """Training loss and validation PSNR as they arrive, plus the reference PSNRs of the baselines."""

    loss_it: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_it: list[int] = field(default_factory=list)
    val_psnr: list[float] = field(default_factory=list)
    refs: dict[str, float] = field(default_factory=dict)   # "bicubic" / "lstsq" -> mean val PSNR

    def clear(self) -> None:
        self.loss_it.clear(); self.loss.clear(); self.val_it.clear(); self.val_psnr.clear()  # noqa: E702
        self.refs.clear()

    def add_losses(self, points: list[tuple[int, float]]) -> None:
        for it, loss in points:
            if self.loss_it and it <= self.loss_it[-1]:
                continue  # a resumed run repeats nothing
            self.loss_it.append(int(it))
            self.loss.append(float(loss))

    def add_val(self, it: int, psnr: float) -> None:
        if self.val_it and it == self.val_it[-1]:
            self.val_psnr[-1] = float(psnr)
            return
        self.val_it.append(int(it))
        self.val_psnr.append(float(psnr))

    def from_history(self, history: list[dict[str, Any]]) -> None:
        """A resumed run's curves, from the history kept in its checkpoint (the loss of every iteration)."""
        self.loss_it.clear(); self.loss.clear(); self.val_it.clear(); self.val_psnr.clear()  # noqa: E702
        for h in history:
            if "loss" in h:
                self.add_losses([(h["it"], h["loss"])])
            if "val_psnr" in h:
                self.add_val(h["it"], h["val_psnr"])

    def smoothed_loss(self, window: int = 0) -> list[float]:
        """An exponential moving average of the loss, so the trend reads through the batch-to-batch noise."""
        if not self.loss:
            return []
        alpha = 2.0 / ((window or max(5, min(100, len(self.loss) // 20))) + 1)
        out, m = [], self.loss[0]
        for v in self.loss:
            m = alpha * v + (1 - alpha) * m
            out.append(m)
        return out


@dataclass
class Eta:
    """Time left from the speed of the current segment (a resumed or un-paused run measures afresh)."""

    start_it: int | None = None
    start_elapsed: float = 0.0

    def reset(self) -> None:
        self.start_it = None

    def update(self, it: int, total: int, elapsed: float) -> float | None:
        if self.start_it is None or it < self.start_it:
            self.start_it, self.start_elapsed = it, elapsed
            return None
        done = it - self.start_it
        if done < 2:
            return None
        rate = (elapsed - self.start_elapsed) / done
        return max(0.0, (total - it) * rate)


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "…"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"
