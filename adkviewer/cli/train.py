"""`adkviewer train`: fine-tune or train ADK-Net with the engine of adk_model.train (also under torchrun)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from adkviewer.cli.args import EXIT_USAGE, _fail, progress_off
from adkviewer.cli.checks import check_run_folder

if TYPE_CHECKING:
    from adk_model.train import TrainConfig


ARCH_FLAGS = {"preset": "--preset", "k": "--k", "norm": "--norm", "no_gain_bias": "--no-gain-bias",
              "no_colour_mix": "--no-colour-mix", "shared_kernel": "--shared-kernel", "set": "--set"}


def resolve_init(args) -> str:
    """--init, defaulting as the Train tab does; architecture flags and --calibrate-only must make sense with it."""
    from adk_model.errors import UserError
    from adk_model.train import default_init

    init = args.init or default_init(args.scale)
    if args.resume:
        return init  # the checkpoint's own settings continue
    if init not in ("scratch", "shipped") and not Path(init).is_file():
        raise UserError(f"--init {init}: no such weights file (use shipped, scratch or a .safetensors file).")
    given = [flag for name, flag in ARCH_FLAGS.items() if getattr(args, name)]
    if init != "scratch" and given:
        raise UserError(f"{given[0]} sets the architecture, which fine-tuning keeps from the weights; "
                        f"add --init scratch to train a new model.")
    if init == "scratch" and args.calibrate_only:
        raise UserError("--calibrate-only re-fits the colour head of trained weights; "
                        "use --init shipped or --init FILE, not scratch.")
    return init


def train_config(args, argv: list[str]) -> TrainConfig:
    """The engine config for `adkviewer train` arguments (defaults shared with the Train tab via adk_model.train)."""
    from adk_model.ddp import launch_prefix
    from adk_model.errors import UserError
    from adk_model.train import TrainConfig, dist_from_env, schedule_for

    init = resolve_init(args)
    overrides = {}
    if args.k:
        overrides["k"] = args.k
    if args.norm:
        overrides["norm"] = args.norm
    if args.no_gain_bias:
        overrides["gain_bias"] = False
    if args.no_colour_mix:  # the mix weighs the adaptive part against the linear one: neither without it
        overrides["colour_mix"] = False
        overrides["linear_taps"] = 0
    if args.shared_kernel:
        overrides["shared_kernel"] = True
    for item in args.set:
        key, _, value = item.partition("=")
        if not value.lstrip("-").isdigit():
            raise UserError(f"--set expects FIELD=INTEGER, got {item!r}")
        overrides[key.strip()] = int(value)
    schedule = schedule_for(init)
    recorded = list(argv) if args.init or args.resume else [*argv, "--init", init]  # the card's command reproduces
    return TrainConfig(
        pairs=args.pairs, split=args.split, scale=args.scale, preset=args.preset or "lite", model_overrides=overrides,
        init=init, iterations=args.iterations or schedule.iterations, batch=args.batch,
        patch=args.patch, lr=args.lr or schedule.lr,
        val_every=schedule.val_every if args.val_every is None else args.val_every,
        patience=schedule.patience if args.patience is None else args.patience, export="last" if args.last else args.export,
        ckpt_every=args.ckpt_every, out=args.out, seed=args.seed, device=args.device, amp=args.amp, loss=args.loss,
        target_blur=args.target_blur,
        time_budget_s=args.time_budget, calibrate_first=not (args.calibrate_only or args.no_calibrate),
        command=f"{launch_prefix(dist_from_env().world)} " + " ".join(shlex.quote(a) for a in recorded),
    )


def cmd_train(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.baselines import load_lstsq
    from adk_model.ddp import SameOnEveryRank, StopOnSignal
    from adk_model.evaluate import card_metrics
    from adk_model.calibration_check import calibrate_checked
    from adk_model.train import Callbacks, Trainer, dist_from_env
    from adk_model.wording import count_of

    if not args.pairs and not args.resume:
        return _fail("train needs --pairs PAIRS_DIR (or --resume CHECKPOINT to continue a run).", EXIT_USAGE)
    cfg = train_config(args, argv)
    if args.out and not args.resume:
        check_run_folder(args.out)
    dinfo = dist_from_env()
    main_rank = dinfo.is_main
    bar = None
    last: dict[str, float] = {}

    def show() -> None:  # "val" appears once there is a validation, and always shows the latest one
        if bar is not None and "loss" in last:
            val = f"{last['val']:.2f}dB" if "val" in last else "-"
            bar.set_postfix(loss=f"{last['loss']:.4f}", val=val, refresh=False)
            bar.refresh()

    def on_iter(it, loss, lr):
        if bar is not None:
            bar.n, bar.total = it, trainer.cfg.iterations
            last["loss"] = loss
            show()

    def on_val(it, metrics, preview, gt):
        last["val"] = metrics["psnr"]
        show()

    def on_log(msg):
        (tqdm.write if bar is not None else print)(msg, file=sys.stderr)

    trainer = Trainer(cfg, Callbacks(on_iter=on_iter, on_val=on_val, on_log=on_log), dinfo)
    try:
        trainer.setup(resume=args.resume, iterations=args.iterations, command=cfg.command,
                      calibrating=args.calibrate_only)
    except SameOnEveryRank:
        if main_rank:
            raise
        return 3  # rank 0 says it once
    if args.calibrate_only:
        if main_rank:  # kept only if validation says it helps (adk_model.calibration_check), said in one sentence
            t0 = time.perf_counter()
            check = calibrate_checked(trainer.model, trainer.train_pairs, trainer.val, trainer.device, log=on_log,
                                      held_out=trainer.val_held_out)
            trainer.elapsed = time.perf_counter() - t0  # the card's "seconds": what the calibration took
            trainer.calibration = check.record()
            path = trainer.export()
            kept = "the calibrated model" if check.adopted else "it, unchanged,"
            print(f"{check.sentence()} Wrote {kept} to {path}", file=sys.stderr)
            per_camera(trainer, args.per_camera, on_log)
        trainer.close()
        return 0
    if main_rank and not progress_off(args):  # without a bar, the log lines are printed as they come
        bar = tqdm(total=trainer.cfg.iterations, initial=trainer.iteration, unit="it", file=sys.stderr,
                   dynamic_ncols=True)
    stopping = StopOnSignal(trainer.request_stop, trainer.log, dinfo.world)  # said by rank 0 only
    try:
        try:
            trainer.run()
        finally:  # any error ends the bar's line first, so its message is a line of its own
            if dinfo.world == 1:
                stopping.restore()
            else:  # torchrun's SIGTERM to the ranks still running once one has ended: ignored, they are ending
                stopping.requested = True
            if bar:
                bar.close()
        if not trainer.finished:  # stopped: every rank at the same iteration; rank 0 saved and said how to resume
            trainer.close()
            return 130
    except KeyboardInterrupt:  # a second Ctrl-C (alone): the loop may be mid-step, so the last checkpoint stays
        last = trainer.checkpoint_path("last")
        trainer.close()
        resume = f"resume with --resume {last}" if last.is_file() else "no checkpoint was written yet"
        return _fail(f"aborted at iteration {trainer.iteration}; {resume}", 130)
    except FloatingPointError as e:
        trainer.close()
        return _fail(f"training diverged ({e}); the last good checkpoint is in {trainer.cfg.out}")
    # The ranks end here: rank 0's evaluation for the card then holds no collective that could time out.
    trainer.close()
    stopping.restore()
    if main_rank and trainer.finished:
        extra = {}
        if not args.no_eval and trainer.val_infos:
            print(f"evaluating the trained model and the baselines on {count_of(len(trainer.val), 'val pair')} "
                  f"for the model card…", file=sys.stderr)
            with tqdm(total=len(trainer.val), unit="pair", file=sys.stderr, disable=progress_off(args)) as pairs:
                extra["validation"] = card_metrics(trainer, load_lstsq(args.lstsq_fit) if args.lstsq_fit else None,
                                                   progress=lambda: pairs.update())
        path = trainer.export(extra_card=extra)
        print(f"wrote {path} and {path.with_suffix('.json').name}: {trainer.export_choice().sentence()}",
              file=sys.stderr)
        if trainer.best and trainer.best_weights_path().is_file():  # a resumed copy may lack it
            print(f"best validation PSNR {trainer.best['psnr']:.3f} dB at iteration {trainer.best['it']}: "
                  f"{trainer.best_weights_path()}", file=sys.stderr)
        per_camera(trainer, args.per_camera, on_log)
    return 0


def per_camera(trainer, by: str | None, log) -> None:
    """--per-camera: one model per camera beside the run's export, each named with its verdict."""
    if not by:
        return
    from adk_model.camera_models import export_per_camera

    for done in export_per_camera(trainer, by, log):
        print(f"wrote {done.path} ({done.camera})", file=sys.stderr)

