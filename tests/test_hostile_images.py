"""Round-2 image hardening: only our decoders run, corrupt data is refused, memory stays bounded, every
orientation of every mode comes out upright."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from model import data, imageio
from model.errors import ImageLoadError
from model.imageio import load_image

EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n"
       b"newpath 0 0 moveto 32 0 lineto 32 32 lineto closepath fill showpage\n%%EOF\n")


@pytest.fixture
def no_process(monkeypatch, tmp_path):
    """A fake `gs` first on PATH and every subprocess start recorded: opening an image must start none."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "gs-ran"
    gs = bin_dir / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {marker}\n")
    gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    started: list = []
    real = subprocess.Popen.__init__

    def record(self, *a, **kw):
        started.append(a[0] if a else kw.get("args"))
        return real(self, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", record)
    yield started
    assert not marker.exists()


@pytest.mark.parametrize("name", ["x.eps", "x.png", "x.jpg", "x.tiff", "x"])
def test_postscript_with_any_name_is_refused_and_starts_no_process(tmp_path, no_process, name):
    p = tmp_path / name
    p.write_bytes(EPS)
    with pytest.raises(ImageLoadError) as exc:
        load_image(p)
    msg = str(exc.value)
    assert str(p) in msg and "PostScript" in msg and "\n" not in msg
    assert no_process == []


def test_dos_eps_binary_header_is_refused_too(tmp_path, no_process):
    import struct
    body = EPS
    p = tmp_path / "dos.png"
    p.write_bytes(b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIIIH", 30, len(body), 0, 0, 0, 0, 0xFFFF) + body)
    with pytest.raises(ImageLoadError, match="PostScript"):
        load_image(p)
    assert no_process == []


def test_pairs_scan_reads_headers_with_our_decoders_only(tmp_path, no_process):
    (tmp_path / "HR").mkdir()
    (tmp_path / "LR").mkdir()
    (tmp_path / "HR" / "a.png").write_bytes(EPS)
    Image.new("RGB", (8, 8)).save(tmp_path / "LR" / "a.png")
    (info,) = data.discover_pairs(tmp_path, 4)
    assert not info.ok and "PostScript" in info.problem
    assert no_process == []


def test_only_the_supported_formats_are_opened(tmp_path):
    p = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(p, format="PPM")  # a format Pillow reads but we do not offer
    with pytest.raises(ImageLoadError, match=r"not an image in a supported format \(PNG, JPEG, WebP, TIFF, BMP or GIF\)"):
        load_image(p)
    assert imageio.FORMATS == ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")
