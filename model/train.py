"""One training engine for the CLI, the GUI's Train tab and torchrun (DDP). Qt-free: it reports through callbacks."""

from __future__ import annotations

import functools
import io
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import ddp
from .adknet import ADKNet, ADKNetConfig
from .calibrate import calibrate  # noqa: F401 (the engine's public name)
from .calibration_check import calibrate_start, few_pairs_note
from .data import PairCropDataset
from .devices import amp_enabled, autocast, ddp_plan, describe_device, resolve_device
from .checkpoint_check import read_checkpoint  # noqa: F401 (the engine's public name)
from .errors import UserError, out_of_memory
from .export_choice import ExportChoice, choose_export
from .atomic import atomic_write_bytes
from .weights import save_weights
from .wording import count_of
from .splits import held_out_split
from .run_card import best_card, export_card, hardware_string  # noqa: F401 (hardware_string: public name)

from .train_config import (CKPT_FORMAT, FINE_TUNE, RUNS_FOLDER, SCRATCH, Callbacks, DistInfo, Schedule,  # noqa: F401
                           TrainConfig, default_init, default_runs_root, dist_from_env, lr_at, new_run_dir,
                           schedule_for)
from .validation import predict, to_image, to_tensor, validate  # noqa: F401 (the engine's public names)
from .train_setup import build_model, load_split_pairs, resumed_config, setup_lines  # noqa: F401 (public names)


def _oom_as_user_error(method: Callable) -> Callable:
    """Out of memory in setup or the loop (torch's allocator raises RuntimeError, not MemoryError) is one sentence."""
    @functools.wraps(method)
    def guarded(self: "Trainer", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (MemoryError, RuntimeError) as e:
            if not out_of_memory(e):
                raise
            raise UserError(f"Training ran out of memory at iteration {self.iteration} ({str(e).splitlines()[0][:120]}); "
                            f"use a smaller batch or patch, or fewer or smaller pairs.") from None
    return guarded


class Trainer:
    """Runs (or resumes) one training run; pause/stop are thread-safe requests, checked every iteration."""

    def __init__(self, cfg: TrainConfig, callbacks: Callbacks | None = None, dist_info: DistInfo | None = None) -> None:
        self.cfg = cfg
        self.cb = callbacks or Callbacks()
        self.dist = dist_info or dist_from_env()
        self.iteration = 0
        self.elapsed = 0.0
        self.started = time.strftime("%Y-%m-%d %H:%M")  # the runs list's date: a copy keeps it, not its file times
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, float] = {}
        self.best_state: dict[str, torch.Tensor] | None = None  # the best validated model's tensors (on the CPU)
        self.start_state: dict[str, torch.Tensor] | None = None  # a fine-tune's starting tensors (after calibration)
        self._export_choices: dict[tuple, ExportChoice] = {}
        self._checks_since_best = 0
        self._pause = threading.Event()
        self._held = threading.Event()  # the loop holds (a step in flight when pause was asked has finished)
        self._stop = threading.Event()
        self.model: ADKNet | None = None
        self.device: torch.device | None = None
        self.amp = False  # bf16 autocast of the training forward (CUDA only)
        self.finished = False
        self.calibration: dict[str, Any] | None = None  # the card's record of the last quick calibrate
        self._start_scores: tuple[dict[str, float], Any] | None = None  # the start's validation, if just scored
        self.unreadable: dict[str, str] = {}  # pairs left out at setup: their images would not decode (why)

    # ------------------------------------------------------------------ control
    def request_pause(self) -> None:
        self._pause.set()

    def request_resume(self) -> None:
        self._pause.clear()

    def request_stop(self) -> None:
        self._stop.set()
        self._pause.clear()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    @property
    def holding(self) -> bool:
        """Paused and holding between steps: the model can be read (exported) while it holds."""
        return self._held.is_set()

    def log(self, msg: str) -> None:
        if self.dist.is_main and self.cb.on_log:
            self.cb.on_log(msg)

    # ------------------------------------------------------------------ setup
    @_oom_as_user_error
    def setup(self, resume: str | None = None, iterations: int | None = None, command: str = "",
              calibrating: bool = False, calibrate_next: bool = False) -> None:
        """Prepare a fresh run, or continue a checkpoint (optionally with a new iteration budget); `command`, the
        command line that resumes it, joins the run's record; `calibrating`: for Quick calibrate alone (its words);
        `calibrate_next`: Quick calibrate follows, and the run may go on to fine-tune (the Train tab's button)."""
        cfg = self.cfg
        ckpt = None
        if resume:
            ckpt = read_checkpoint(resume)
            cfg = self.cfg = resumed_config(ckpt, resume, iterations, command, self.log)
        if not cfg.out:
            cfg.out = str(new_run_dir(cfg.pairs, cfg.scale))
        ddp.check_devices(self.dist.world, cfg.device)  # before any rank waits for the others
        if self.dist.world > 1:
            plan = ddp_plan(cfg.device, self.dist.world, self.dist.local_rank)
            if not dist.is_initialized():
                dist.init_process_group(plan.backend)
            dev = plan.device
            if dev.type == "cuda":
                torch.cuda.set_device(dev)
        else:
            dev = resolve_device(cfg.device)
        self.device = dev
        self.amp = amp_enabled(cfg.amp, dev)
        torch.manual_seed(cfg.seed + self.dist.rank)
        self.val_held_out = held_out_split(cfg.pairs, cfg.split)  # val is a seeded part: calibration fits on all
        alone = "Quick calibrate fits every pair, cross-validated over them" if calibrating else ""
        self.train_infos, train, self.val_infos, self.val = load_split_pairs(cfg, self.log, alone, self.unreadable)
        self.train_pairs = train
        if calibrating and self.val_held_out:  # nothing validates: every pair is a pair of the fit (and the card)
            # in the order the Train tab's Quick calibrate and a fine-tune's start fit them (train, then the seeded
            # val part): the same folds, so the same model from the same pairs
            self.train_infos, self.train_pairs = self.train_infos + self.val_infos, train + self.val
            self.val_infos, self.val = [], []
            train = self.train_pairs
        shard = train[self.dist.rank :: self.dist.world] or train
        names = [p.name for p in self.train_infos]
        shard_names = names[self.dist.rank :: self.dist.world] or names
        smallest = min(min(lr.shape[:2]) for _, lr in shard)
        if smallest < cfg.patch:
            self.log(f"the smallest train LR is {smallest} px: training patches shrink from {cfg.patch} to {smallest}")
            cfg.patch = smallest
        self.dataset = PairCropDataset(shard, cfg.scale, cfg.patch, augment=cfg.augment, names=shard_names,
                                       target_blur=cfg.target_blur)
        self.gen = torch.Generator().manual_seed(cfg.seed * 1000 + self.dist.rank)
        if ckpt is not None:
            self.model = ADKNet(ADKNetConfig.from_dict(ckpt["model_config"]))
            self.model.load_state_dict(ckpt["model"])
        else:
            self.model = build_model(cfg, self.log)
            if cfg.calibrate_first:  # trained weights: kept calibrated only if validation says it helps
                check = calibrate_start(self.model, cfg.init, train, self.val, dev, self.log, self.val_held_out)
                if check is not None:
                    self.calibration = check.record()
                    self._start_scores = (check.kept_scores, check.preview) if check.by_val else None
        self.model.to(dev).train()
        if self.model.linear is not None:  # fitted in closed form, not by gradient steps (gradient_parameters)
            self.model.linear.weight.requires_grad_(False)
        self.net = self.model
        if self.dist.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[dev.index] if dev.type == "cuda" else None)
        self.opt = torch.optim.AdamW(self.model.gradient_parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        if ckpt is not None:
            self.opt.load_state_dict(ckpt["optimizer"])
            self.iteration = int(ckpt["iteration"])
            self.elapsed = float(ckpt.get("elapsed", 0.0))
            if isinstance(ckpt.get("started"), str):  # checkpoints from before 2026-12-02 lack it
                self.started = ckpt["started"]
            self.history = list(ckpt.get("history", []))
            self.best = dict(ckpt.get("best", {}))
            self.best_state = ckpt.get("best_model")
            self.start_state = ckpt.get("start_model")  # checkpoints from before 2026-12-03 lack it
            self.calibration = ckpt.get("calibration")  # the verdict of the calibration this run started with
            torch.set_rng_state(ckpt["rng_torch"])
            self.gen.set_state(ckpt["rng_gen"])
            if dev.type == "cuda" and "rng_cuda" in ckpt:
                torch.cuda.set_rng_state(ckpt["rng_cuda"], dev)
            self.log(f"resumed {resume} at iteration {self.iteration}")
        calibrates_all = (not calibrating and self.val_held_out and bool(self.val) and ckpt is None and
                          (calibrate_next or (cfg.calibrate_first and cfg.init != "scratch")))
        for line in setup_lines(cfg, describe_device(dev), len(train), len(self.val),
                                len(shard) if self.dist.world > 1 else None, calibrating, calibrate_next,
                                calibrates_all):
            self.log(line)

    # ------------------------------------------------------------------ loop
    def step(self) -> float:
        cfg = self.cfg
        hr, lr = self.dataset.batch(self.gen, cfg.batch)
        hr, lr = hr.to(self.device, non_blocking=True), lr.to(self.device, non_blocking=True)
        for g in self.opt.param_groups:
            g["lr"] = lr_at(cfg, self.iteration)
        with autocast(self.amp, self.device):
            out = self.net(hr).lr
        loss = (F.mse_loss if cfg.loss == "mse" else F.l1_loss)(out.float(), lr)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} at iteration {self.iteration}")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.gradient_parameters(), 1.0)
        self.opt.step()
        self.iteration += 1
        return float(loss.item())

    @_oom_as_user_error
    def run(self) -> str | None:
        """Train until the iteration budget or a stop request; returns the last checkpoint written (rank 0). Under
        torchrun every rank stops at the same iteration: a stop or an early stop seen by one is agreed by all."""
        cfg = self.cfg
        last_ckpt, saved_at = None, -1
        t0 = time.perf_counter()
        base_elapsed = self.elapsed
        held = False  # paused, and said so (a step in flight when pause was asked finishes first)
        alone = self.dist.world == 1
        if self.iteration == 0 and (note := few_pairs_note(len(self.train_infos) + len(self.val_infos), cfg.init)):
            self.log(note)
        if self.iteration == 0 and cfg.val_every and not self.best and self.val and not self._stop.is_set():
            self.log("validating the starting model…")
            if cfg.init != "scratch":  # the start is one end of the halfway export (adk_model.export_choice)
                self.start_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self.run_validation(self._start_scores)  # the start is a candidate: a run never hands back a worse one
        stopping = ddp.agree([self._stop.is_set()], self.device)[0]
        try:
            # Alone, a stop is seen at once; several ranks act only on the stop they agreed on (one collective
            # per iteration), never on a signal that reached one of them in between.
            while self.iteration < cfg.iterations and not (stopping or (alone and self._stop.is_set())):
                if self._pause.is_set() and alone:
                    if not held:
                        held = True
                        self.log(f"paused at iteration {self.iteration}")
                        self._held.set()
                    time.sleep(0.05)
                    t0 = time.perf_counter() - (self.elapsed - base_elapsed)
                    continue
                if held:
                    held = False
                    self._held.clear()
                    self.log(f"resumed at iteration {self.iteration}")
                loss = self.step()
                self.elapsed = base_elapsed + time.perf_counter() - t0
                if cfg.time_budget_s and self.iteration == 50:
                    self.fit_time_budget()
                if self.dist.is_main:
                    if self.cb.on_iter:
                        self.cb.on_iter(self.iteration, loss, lr_at(cfg, self.iteration - 1))
                    # every iteration: a resumed run's loss curve is then the same as the live one (~40 bytes each)
                    self.history.append({"it": self.iteration, "loss": loss})
                at_end = self.iteration >= cfg.iterations
                early = False
                if cfg.val_every and (self.iteration % cfg.val_every == 0 or at_end):
                    self.run_validation()
                    early = bool(cfg.patience and self._checks_since_best >= cfg.patience and not at_end)
                stopping, early = ddp.agree([self._stop.is_set(), early], self.device)
                if early:
                    self.log(f"early stop at iteration {self.iteration}: no better validation in "
                             f"{count_of(cfg.patience, 'check')} since iteration {self.best.get('it')}")
                    cfg.iterations = self.iteration
                    at_end = True
                if at_end or (cfg.ckpt_every and self.iteration % cfg.ckpt_every == 0):  # ckpt_every 0: the end only
                    last_ckpt, saved_at = self.save_checkpoint() or last_ckpt, self.iteration
        except BaseException:
            # A crash (NaN, out of memory, a vanished folder) still leaves a resumable checkpoint behind.
            if self.iteration > 0 and alone:
                try:
                    self.save_checkpoint(suffix="crash")
                except Exception:
                    pass
            raise
        finally:
            self._held.clear()
        if self.iteration < cfg.iterations:  # stopped (agreed by every rank): one checkpoint of this iteration
            self._stop.set()
            if saved_at != self.iteration:
                last_ckpt = self.save_checkpoint() or last_ckpt
            self._said_stop(str(last_ckpt))
        self.finished = self.iteration >= cfg.iterations
        self.barrier()  # the other ranks end once rank 0's checkpoint is written
        return last_ckpt

    def _said_stop(self, ckpt: str) -> None:
        if self.cb.on_stop is not None:  # the GUI says it in its own words ("Resume from checkpoint…")
            self.cb.on_stop(self.iteration, ckpt)
        elif self.dist.world == 1:
            self.log(f"stopped at iteration {self.iteration}; resume with --resume {ckpt}")
        else:
            self.log(f"stopped at iteration {self.iteration} on all {self.dist.world} ranks; resume with: "
                     f"{ddp.resume_command(self.cfg.pairs, ckpt, self.dist.world)}")

    def fit_time_budget(self) -> None:
        """Set the iteration count from the measured speed, so the schedule ends within the time budget. Under
        torchrun rank 0's count is every rank's (each measuring its own could differ by one: a deadlock)."""
        cfg = self.cfg
        rate = self.elapsed / self.iteration
        fits = ddp.broadcast_int(int(self.iteration + max(0.0, cfg.time_budget_s * 0.9 - self.elapsed) / rate),
                                 self.device)
        if fits < cfg.iterations:
            cfg.iterations = fits
            self.log(f"{rate * 1000:.0f} ms/iteration: {fits} iterations fit the {cfg.time_budget_s:.0f} s budget")

    def barrier(self) -> None:
        if self.dist.world > 1 and dist.is_initialized():
            dist.barrier()

    def run_validation(self, known: tuple[dict[str, float], Any] | None = None) -> None:
        """Score the model on the validation pairs (`known`: its scores and preview, just measured)."""
        if self.dist.is_main and self.val:
            metrics, preview = (dict(known[0]), known[1]) if known and known[1] is not None else validate(
                self.model, self.val, self.device)
            metrics["it"] = self.iteration
            self.history.append({"it": self.iteration, **{f"val_{k}": v for k, v in metrics.items() if k != "it"}})
            if metrics["psnr"] > self.best.get("psnr", -1.0):
                self.best = dict(metrics)
                self._checks_since_best = 0
                self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
                save_weights(self.model, self.best_weights_path(), best_card(self))
            else:
                self._checks_since_best += 1
            self.log(f"it {self.iteration}: val PSNR {metrics['psnr']:.3f} dB, SSIM {metrics['ssim']:.4f}")
            if self.cb.on_val:
                self.cb.on_val(self.iteration, metrics, preview, self.val[0][1])
        self.barrier()

    # ------------------------------------------------------------------ checkpoints
    def best_weights_path(self) -> Path:
        return Path(self.cfg.out) / f"best_x{self.cfg.scale}.safetensors"

    def checkpoint_path(self, suffix: str = "last") -> Path:
        return Path(self.cfg.out) / f"checkpoint_{suffix}.pt"

    def save_checkpoint(self, suffix: str = "last") -> str | None:
        """Atomic: a temporary file then a rename, so a kill at any moment leaves the previous one intact."""
        if not self.dist.is_main:
            return None
        state = {
            "format": CKPT_FORMAT,
            "iteration": self.iteration,
            "elapsed": self.elapsed,
            "started": self.started,
            "train_config": self.cfg.to_dict(),
            "model_config": self.model.cfg.to_dict(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_gen": self.gen.get_state(),
            "history": self.history,
            "best": self.best,
            "best_model": self.best_state,
            "start_model": self.start_state,
            # the runs list counts them (model/runs.py); checkpoints written before it lack this entry
            "pairs": {"train": [p.name for p in self.train_infos], "val": [p.name for p in self.val_infos]},
            "calibration": self.calibration,
        }
        if self.device is not None and self.device.type == "cuda":
            state["rng_cuda"] = torch.cuda.get_rng_state(self.device)
        buf = io.BytesIO()
        torch.save(state, buf)
        path = self.checkpoint_path(suffix)
        atomic_write_bytes(path, buf.getvalue())
        if self.cb.on_checkpoint:
            self.cb.on_checkpoint(str(path))
        return str(path)

    def export_choice(self, which: str | None = None) -> ExportChoice:
        """What an export holds: the config's (or `which`'s) choice of train_config.EXPORTS, decided
        once per state of the run (the halfway point costs one validation)."""
        asked = which or self.cfg.export
        key = (asked, self.iteration, self.best.get("it"))
        if key not in self._export_choices:
            start_psnr = next((h["val_psnr"] for h in self.history if h.get("it") == 0 and "val_psnr" in h), None)
            start = (self.start_state, start_psnr) if self.start_state and start_psnr is not None else None
            self._export_choices[key] = choose_export(asked, self.iteration, self.best, self.best_state, start,
                                                      self._val_psnr_of)
        return self._export_choices[key]

    def _model_of(self, state: dict[str, torch.Tensor]) -> ADKNet:
        model = ADKNet(self.model.cfg)
        model.load_state_dict(state)
        return model.to(self.device or "cpu").eval()

    def _val_psnr_of(self, state: dict[str, torch.Tensor]) -> float:
        return validate(self._model_of(state), self.val, self.device)[0]["psnr"]

    def export_model(self, which: str | None = None) -> ADKNet:
        """The model an export writes: by default halfway between a fine-tune's start and its best validated
        iteration (or that iteration, the start included); "best" and "last" as they say."""
        choice = self.export_choice(which)
        return self.model if choice.state is None else self._model_of(choice.state)

    def exported_which(self, which: str | None = None) -> dict[str, Any]:
        """For the card: which model the export holds."""
        return self.export_choice(which).record()

    def export(self, path: str | Path | None = None, extra_card: dict[str, Any] | None = None,
               which: str | None = None) -> Path:
        """Write safetensors weights plus a model card describing data, split, settings, time and hardware."""
        default = Path(self.cfg.out) / f"adknet_x{self.model.cfg.scale}_{self.cfg.preset}.safetensors"
        path = Path(path) if path else default
        card = export_card(self, path, which)
        if extra_card:
            card.update(extra_card)
        return save_weights(self.export_model(which), path, card)

    def close(self) -> None:
        if self.dist.world > 1 and dist.is_initialized():
            dist.barrier()  # see shared/docs/adknet.md: without it a rank may abort at exit
            dist.destroy_process_group()
