"""Seeded mutation fuzzing of the image and weights loaders, run in a child process under an address-space
limit by tests/test_fuzz.py: every outcome must be a result or a UserError, never another exception."""

from __future__ import annotations

import io
import json
import random
import struct
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
from PIL import Image

from adk_model import data, imageio
from adk_model.errors import UserError
from adk_model.weights import default_weights, load_weights


def image_seeds() -> list[tuple[str, bytes]]:
    """Small images in every format and the modes each one stores."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8))
    grey = rgb.convert("L")
    variants = {
        "PNG": [rgb, grey, rgb.convert("RGBA"), rgb.convert("P"), grey.convert("1"), rgb.convert("LA"),
                Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)],
        "JPEG": [rgb, grey, rgb.convert("CMYK")],
        "WEBP": [rgb, rgb.convert("RGBA")],
        "TIFF": [rgb, grey, rgb.convert("CMYK"), rgb.convert("RGBA"), grey.convert("1")],
        "BMP": [rgb, grey.convert("P")],
        "GIF": [rgb.convert("P")],
    }
    seeds = []
    for fmt, imgs in variants.items():
        for img in imgs:
            for kw in ({}, {"compression": "tiff_deflate"}) if fmt == "TIFF" else ({},):
                buf = io.BytesIO()
                exif = Image.Exif()
                exif[0x0112] = 6
                extra = {"exif": exif.tobytes()} if fmt in ("JPEG", "PNG", "WEBP") else {}
                img.save(buf, fmt, **kw, **extra)
                seeds.append((f"{fmt}-{img.mode}{'-' + kw['compression'] if kw else ''}", buf.getvalue()))
    return seeds


def mutate(blob: bytes, rnd: random.Random) -> tuple[bytes, str]:
    b = bytearray(blob)
    kind = rnd.choice(["flip", "flip", "truncate", "insert", "int", "int", "repeat"])
    if kind == "flip":
        n = rnd.randint(1, 8)
        for _ in range(n):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        return bytes(b), f"flip {n} bits"
    if kind == "truncate":
        cut = rnd.randrange(1, len(b))
        return bytes(b[:cut]), f"truncate at {cut}"
    if kind == "insert":
        i = rnd.randrange(len(b))
        return bytes(b[:i] + bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64))) + b[i:]), f"insert at {i}"
    if kind == "int":  # header fields: a size, an offset or a count overwritten with an odd value
        i = rnd.randrange(min(len(b) - 4, 96))
        v = rnd.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rnd.randrange(1 << 16), rnd.randrange(1 << 32)])
        b[i:i + 4] = struct.pack(rnd.choice(["<I", ">I"]), v)
        return bytes(b), f"int {v} at {i}"
    i, j = sorted(rnd.sample(range(len(b)), 2))
    return bytes(b[:j] + b[i:j] + b[j:]), f"repeat {i}:{j}"


def mutate_weights_header(blob: bytes, rnd: random.Random) -> tuple[bytes, str]:
    """Edit the safetensors JSON header (tensor dtypes, shapes, offsets; the stored config) or its bytes."""
    (n,) = struct.unpack("<Q", blob[:8])
    header, body = json.loads(blob[8:8 + n]), blob[8 + n:]
    kind = rnd.choice(["dtype", "shape", "offsets", "config", "config", "bytes", "length"])
    names = [k for k in header if k != "__metadata__"]
    name = rnd.choice(names)
    if kind == "dtype":
        header[name]["dtype"] = rnd.choice(["BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F64",
                                            "F8_E4M3", "F8_E5M2", "U64", "X"])
    elif kind == "shape":
        shape = header[name]["shape"]
        if shape:
            shape[rnd.randrange(len(shape))] = rnd.choice([0, 1, 2, 10**6, 2**31, -1])
        else:
            header[name]["shape"] = [rnd.randint(0, 9)]
    elif kind == "offsets":
        off = header[name]["data_offsets"]
        off[rnd.randrange(2)] = rnd.choice([0, 1, len(body), len(body) + 4, 2**40])
    elif kind == "config":
        cfg = json.loads(header["__metadata__"]["config"])
        field = rnd.choice(list(cfg))
        cfg[field] = rnd.choice([0, -1, 3, 10**4, 10**6, 2**40, 2.5, "x", None, True, [1], {"a": 1}])
        header["__metadata__"]["config"] = json.dumps(cfg)
        kind = f"config {field}={cfg[field]!r}"
    text = json.dumps(header).encode()
    if kind == "bytes":
        t = bytearray(text)
        for _ in range(rnd.randint(1, 4)):
            t[rnd.randrange(len(t))] = rnd.randrange(32, 127)
        text = bytes(t)
    length = len(text)
    if kind == "length":
        length = rnd.choice([0, 1, length - 1, length + 1, 2**40])
    return struct.pack("<Q", length) + text + body, f"{kind} {name}"


def _check_image(path: Path) -> str:
    im = imageio.load_image(path)
    a = im.array
    assert a.dtype == np.float32 and a.ndim == 3 and a.shape[2] == 3 and a.size, a.shape
    assert np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1
    size, problem = data._header_size(path)  # the pairs scan never raises either
    assert problem is not None or size == (a.shape[1], a.shape[0]), (size, a.shape)
    return "result"


def _check_weights(path: Path) -> str:
    w = load_weights(path)
    assert all(bool(np.isfinite(t.numpy()).all()) for t in w.model.state_dict().values())
    return "result"


def run(seed: int, n_images: int, n_weights: int, folder: Path) -> dict:
    rnd = random.Random(seed)
    seeds = image_seeds()
    shipped = default_weights(4).read_bytes()
    outcomes = {"result": 0, "refused": 0}
    failures = []
    t0 = time.perf_counter()
    jobs = [("image", i) for i in range(n_images)] + [("weights", i) for i in range(n_weights)]
    for what, i in jobs:
        if what == "image":
            seed_name, blob = seeds[i % len(seeds)]
            mutant, how = mutate(blob, rnd)
            path = folder / f"m{i}.{rnd.choice(['png', 'jpg', 'tif', 'webp', 'bmp', 'gif'])}"
            check = _check_image
        else:
            seed_name = "shipped weights"
            mutant, how = mutate_weights_header(shipped, rnd)
            path = folder / f"w{i}.safetensors"
            check = _check_weights
        path.write_bytes(mutant)
        try:
            outcomes[check(path)] += 1
        except UserError as e:
            outcomes["refused"] += 1
            if "\n" in str(e):
                failures.append({"seed": seed_name, "mutation": how, "error": f"two-line message: {e!r}"})
        except BaseException as e:  # noqa: BLE001 - anything else is what the fuzz test is for
            failures.append({"seed": seed_name, "mutation": how, "error": f"{type(e).__name__}: {e}"[:300],
                             "where": traceback.format_exc().splitlines()[-3:]})
        path.unlink()
    return {**outcomes, "failures": failures, "seconds": time.perf_counter() - t0, "seeds": len(seeds)}


if __name__ == "__main__":
    import sys

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(d))))
