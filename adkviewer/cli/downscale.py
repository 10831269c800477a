"""`adkviewer downscale`: images (or folders of them) through one method, written as PNG; a batch can be split
between torchrun ranks or --shard processes, and finished with --skip-existing after an interruption."""

from __future__ import annotations

import sys
from pathlib import Path

from adkviewer.cli.args import progress_off
from adkviewer.cli.checks import check_writable
from adkviewer.cli.downscale_cameras import CameraPicker
from adkviewer.cli.downscale_inputs import gather_inputs
from adkviewer.cli.shard import rank_device, resolve_shard


def cmd_downscale(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.data import IMAGE_EXTENSIONS
    from adk_model.devices import resolve_device
    from adk_model.imageio import crop_to_multiple, load_image, output_name, save_image
    from adk_model.methods import MethodSet
    from adk_model.errors import UserError
    from adk_model.wording import count_of
    from adk_model.devices import amp_enabled

    shard = resolve_shard(args.shard)
    say = shard.prefix()

    def note(msg: str) -> None:  # what every rank would say alike is said once
        if shard.talks:
            print(f"adkviewer: {msg}", file=sys.stderr)

    inputs = gather_inputs(args.inputs, args.recursive, note)
    out = Path(args.out)
    single_file = out.suffix.lower() in IMAGE_EXTENSIONS and not out.is_dir()
    if single_file and len(inputs) > 1:
        raise UserError(f"-o {out} names one file, but {len(inputs)} images were given; name a folder instead.")
    if single_file and out.suffix.lower() != ".png":
        raise UserError(f"-o {out}: only .png files can be written; name a .png file or a folder.")
    targets = [out] if single_file else [out / i.subfolder / output_name(i.src, args.scale, args.method)
                                         for i in inputs]
    first_for: dict[Path, Path] = {}
    for src, dst in zip((i.src for i in inputs), targets):
        if first_for.setdefault(dst, src) != src:
            raise UserError(f"{first_for[dst]} and {src} would both be written to {dst}; downscale them separately"
                            + ("." if args.recursive else ", or pass --recursive to keep their folders apart."))
    work = shard.take([(i.src, dst) for i, dst in zip(inputs, targets)])
    existing = [dst for _, dst in work if dst.exists()]
    skipped = len(existing) if args.skip_existing else 0
    if args.skip_existing:
        work = [(src, dst) for src, dst in work if not dst.exists()]
    elif existing and not args.overwrite:
        more = f" (and {count_of(len(existing) - 1, 'other output')})" if len(existing) > 1 else ""
        raise UserError(f"{existing[0]} already exists{more}; pass --overwrite to replace it, or --skip-existing "
                        f"to keep what is there and do the rest.")
    folder = out.parent if single_file else out
    if folder.exists() and not folder.is_dir():
        raise UserError(f"Output folder {folder} is a file.")
    check_writable(folder, "Output folder")  # one error now, not one per image after its work
    ms = MethodSet(scale=args.scale, device=resolve_device(rank_device(args.device, shard)), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit,
                   budget_bytes=args.tile_budget_mb * 2**20 if args.tile_budget_mb else None)
    # Missing or wrong-scale weights / fit: one error before any image, not one per image.
    ms.amp = amp_enabled(args.amp, ms.device)
    if args.method == "adknet":
        ms.runner()
    elif args.method == "lstsq":
        ms.fit()
    if args.per_camera and args.method != "adknet":
        raise UserError("--per-camera picks an ADK-Net model for each photo's camera; it needs --method adknet.")
    picker = CameraPicker(ms, args.weights, note) if args.per_camera else None
    failures = 0
    quiet = progress_off(args) or not shard.talks  # several ranks' bars would overwrite each other
    bar = tqdm(work, unit="img", disable=quiet or len(work) < 2, file=sys.stderr, desc=shard.label or None)
    for src, dst in bar:
        bar.set_postfix_str(src.name)
        try:
            img = load_image(src)
            hr, note_ = crop_to_multiple(img.array, args.scale, name=str(src))
            for n in img.notes + ([note_] if note_ else []):
                tqdm.write(f"{say}{src.name}: {n}", file=sys.stderr)
            m = ms if picker is None else picker(src)
            if len(work) == 1 and args.method == "adknet":  # one photo can take a minute: show its tiles
                with tqdm(total=m.runner().tile_count(hr), unit="tile", desc=src.name, file=sys.stderr, leave=False,
                          disable=quiet) as tiles:
                    def progress(done: int, total: int, _tile, _y) -> None:
                        tiles.total = total
                        tiles.update(done - tiles.n)

                    lr = m.run(args.method, hr, progress=progress)
            else:
                lr = m.run(args.method, hr)
            dst.parent.mkdir(parents=True, exist_ok=True)  # only once there is something to write
            save_image(dst, lr, overwrite=args.overwrite, exif=img.exif, bits=args.bits)  # atomic, sRGB, the source's EXIF
        except UserError as e:
            failures += 1
            tqdm.write(f"adkviewer: error: {say}{e}", file=sys.stderr)
    if ms.is_adknet(args.method) and work:
        for n in ms.runner().notes:
            note(n)
    if picker is not None and picker.used:
        note(picker.summary())
    done = len(work) - failures
    where = out if single_file else f"{out}/"
    said = f"wrote {count_of(done, 'image')} to {where}" if done else "nothing written"
    if skipped or shard.label or len(inputs) > 1:
        said += f" ({done} written, {skipped} skipped, {failures} failed)"
    print(f"{say}{said}", file=sys.stderr)
    return 1 if failures else 0
