"""`adkviewer downscale`: images (or folders of them) through one method, written as PNG."""

from __future__ import annotations

import sys
from pathlib import Path

from adkviewer.cli.args import progress_off
from adkviewer.cli.checks import check_writable


def cmd_downscale(args, argv) -> int:
    from tqdm import tqdm

    from adk_model.data import IMAGE_EXTENSIONS, images_in
    from adk_model.devices import resolve_device
    from adk_model.imageio import crop_to_multiple, distinct_inputs, load_image, output_name, save_image
    from adk_model.methods import MethodSet
    from adk_model.errors import UserError
    from adk_model.wording import count_of
    from adk_model.devices import amp_enabled

    inputs = []
    for given in map(Path, args.inputs):  # a folder stands for its images, as a pairs folder lists them
        if given.is_dir():
            found = images_in(given)
            if not found:
                raise UserError(f"{given} is a folder with no images ({', '.join(sorted(IMAGE_EXTENSIONS))}).")
            inputs += found
        else:
            inputs.append(given)
    inputs = distinct_inputs(inputs, lambda msg: print(f"adkviewer: {msg}", file=sys.stderr))
    out = Path(args.out)
    single_file = out.suffix.lower() in IMAGE_EXTENSIONS and not out.is_dir()
    if single_file and len(inputs) > 1:
        raise UserError(f"-o {out} names one file, but {len(inputs)} images were given; name a folder instead.")
    if single_file and out.suffix.lower() != ".png":
        raise UserError(f"-o {out}: only .png files can be written; name a .png file or a folder.")
    targets = [out] if single_file else [out / output_name(p, args.scale, args.method) for p in inputs]
    first_for: dict[Path, Path] = {}
    for src, dst in zip(inputs, targets):
        if first_for.setdefault(dst, src) != src:
            raise UserError(f"{first_for[dst]} and {src} would both be written to {dst}; downscale them separately.")
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise UserError(f"{existing[0]} already exists; pass --overwrite to replace it.")
    folder = out.parent if single_file else out
    if folder.exists() and not folder.is_dir():
        raise UserError(f"Output folder {folder} is a file.")
    check_writable(folder, "Output folder")  # one error now, not one per image after its work
    ms = MethodSet(scale=args.scale, device=resolve_device(args.device), weights_path=args.weights,
                   lstsq_path=args.lstsq_fit,
                   budget_bytes=args.tile_budget_mb * 2**20 if args.tile_budget_mb else None)
    # Missing or wrong-scale weights / fit: one error before any image, not one per image.
    ms.amp = amp_enabled(args.amp, ms.device)
    if args.method == "adknet":
        ms.runner()
    elif args.method == "lstsq":
        ms.fit()
    failures = 0
    quiet = progress_off(args)
    bar = tqdm(list(zip(inputs, targets)), unit="img", disable=quiet or len(inputs) < 2, file=sys.stderr)
    for src, dst in bar:
        bar.set_postfix_str(src.name)
        try:
            img = load_image(src)
            hr, note = crop_to_multiple(img.array, args.scale, name=str(src))
            for n in img.notes + ([note] if note else []):
                tqdm.write(f"{src.name}: {n}", file=sys.stderr)
            if len(inputs) == 1 and args.method == "adknet":  # one photo can take a minute: show its tiles
                with tqdm(total=ms.runner().tile_count(hr), unit="tile", desc=src.name, file=sys.stderr, leave=False,
                          disable=quiet) as tiles:
                    def progress(done: int, total: int, _tile, _y) -> None:
                        tiles.total = total
                        tiles.update(done - tiles.n)

                    lr = ms.run(args.method, hr, progress=progress)
            else:
                lr = ms.run(args.method, hr)
            folder.mkdir(parents=True, exist_ok=True)  # only once there is something to write
            save_image(dst, lr, overwrite=args.overwrite, exif=img.exif, bits=args.bits)  # sRGB, the source's EXIF
        except UserError as e:
            failures += 1
            tqdm.write(f"adkviewer: error: {e}", file=sys.stderr)
    if ms.is_adknet(args.method):
        for n in ms.runner().notes:
            print(f"adkviewer: {n}", file=sys.stderr)
    done = len(inputs) - failures
    if done:
        print(f"wrote {count_of(done, 'image')} to {out if single_file else f'{out}/'}", file=sys.stderr)
    else:
        print("nothing written", file=sys.stderr)
    return 1 if failures else 0
