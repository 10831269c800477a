"""Figures for papers (adk_model.figure): the crops on the page are the methods' outputs enlarged by nearest
neighbour, pixel for pixel, with nothing drawn on them; the SVG holds the labels as text; the CLI writes them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from adk_model import colormaps
from adk_model.error_display import display_levels
from adk_model.errors import UserError
from adk_model.figure import FigureOptions, Source, build_figure, run_sources
from adk_model.figure_layout import Region
from adk_model.figure_write import write_figure
from adk_model.imageio import save_image, to_uint8
from adk_model.methods import MethodSet
from adk_model.metrics import compute_metrics, error_map

from adkviewer.cli.entry import main

SCALE = 4
METHODS = ["nearest", "bicubic", "box"]


@pytest.fixture(scope="module")
def images():
    """A generated HR (smooth plus noise, so every method differs), its ground truth, and the methods' outputs."""
    rng = np.random.default_rng(15)
    yy, xx = np.mgrid[0:96, 0:128] / 40.0
    hr = np.stack([np.sin(xx * 3 + c) * np.cos(yy * 2 - c) for c in range(3)], -1) * 0.35 + 0.5
    hr = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1).astype(np.float32)
    ms = MethodSet(scale=SCALE)
    gt = np.clip(ms.run("bilinear", hr) + 0.01, 0, 1).astype(np.float32)
    return hr, gt, ms, {m: ms.run(m, hr) for m in METHODS}


def _enlarged(img: np.ndarray, k: int) -> np.ndarray:
    """Nearest-neighbour enlargement written out pixel by pixel (not the renderer's np.repeat)."""
    h, w = img.shape[:2]
    out = np.zeros((h * k, w * k, 3), np.uint8)
    for y in range(h * k):
        for x in range(w * k):
            out[y, x] = img[y // k, x // k]
    return out


def test_each_crop_in_the_png_is_the_output_enlarged_by_nearest_neighbour(images, tmp_path):
    hr, gt, ms, outs = images
    region = Region(5, 3, 12, 11)
    fig = build_figure(run_sources(ms, hr, METHODS, gt), gt, SCALE, FigureOptions(region, zoom=4), title="gen")
    path = write_figure(fig, tmp_path / "fig.png")
    page = Image.open(path)
    assert page.mode == "RGB" and page.size == (fig.width, fig.height)
    px = np.asarray(page)
    for m in METHODS:
        x, y, w, h = fig.crops[m]
        assert (w, h) == (12 * 4, 11 * 4)
        want = _enlarged(to_uint8(outs[m][3:14, 5:17]), 4)
        assert np.array_equal(px[y:y + h, x:x + w], want), m
        # no frame, marker or button drawn around a crop: the page is white right outside it
        assert (px[y - 1, x:x + w] == 255).all() and (px[y:y + h, x - 1] == 255).all()
        assert (px[y:y + h, x + w] == 255).all()
    xs = [fig.crops[m][0] for m in METHODS]
    assert xs == sorted(xs)  # in the order asked for, one row


def test_labels_carry_the_scores_of_the_one_metric_path(images):
    hr, gt, ms, outs = images
    region = Region(0, 0, 16, 12)
    for scores, of in (("crop", lambda a: a[0:12, 0:16]), ("image", lambda a: a)):
        fig = build_figure(run_sources(ms, hr, ["gt", *METHODS], gt), gt, SCALE,
                           FigureOptions(region, zoom=2, scores=scores))
        texts = [t.text for t in fig.texts]
        for m in METHODS:
            met = compute_metrics(of(outs[m]), of(gt))
            assert f"{met['psnr']:.2f} dB / {met['ssim']:.4f}" in texts
        assert ("of the crop" if scores == "crop" else "of the whole image") in " ".join(texts)
        assert "Ground truth LR" in texts


def test_svg_opens_and_holds_the_labels_as_text(images, tmp_path):
    hr, gt, ms, _ = images
    fig = build_figure(run_sources(ms, hr, METHODS, gt), gt, SCALE,
                       FigureOptions(Region(2, 2, 12, 12), zoom=3, overview=True, diff=("signed", "luma")))
    path = write_figure(fig, tmp_path / "fig.svg")
    root = ET.parse(path).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    texts = [t.text for t in root.iterfind(".//s:text", ns)]
    for label in ("Nearest", "Bicubic", "Box (area)", "whole image", "error vs GT"):
        assert label in texts
    assert any("dB /" in t for t in texts) and texts.count("error vs GT") == 3  # one map per method
    assert len(root.findall(".//s:image", ns)) == len(fig.blocks)  # crops, maps, overview, colour bar
    assert (int(root.get("width")), int(root.get("height"))) == (fig.width, fig.height)
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(path))
    assert renderer.isValid() and renderer.defaultSize().width() == fig.width


def test_hr_crop_is_the_regions_hr_cells_at_the_same_page_size(images):
    hr, gt, ms, _ = images
    region = Region(4, 2, 8, 6)
    fig = build_figure(run_sources(ms, hr, ["bicubic", "hr"], gt), gt, SCALE, FigureOptions(region, zoom=8))
    px = np_page(fig)
    x, y, w, h = fig.crops["hr"]
    assert (w, h) == fig.crops["bicubic"][2:]
    want = _enlarged(to_uint8(hr[2 * SCALE:8 * SCALE, 4 * SCALE:12 * SCALE]), 2)
    assert np.array_equal(px[y:y + h, x:x + w], want)
    with pytest.raises(UserError, match="multiple of the scale"):
        build_figure(run_sources(ms, hr, ["hr"], gt), gt, SCALE, FigureOptions(region, zoom=6))


def np_page(fig) -> np.ndarray:
    from adk_model.figure_write import to_pixels

    return to_pixels(fig)


def test_error_maps_use_the_differences_tabs_colours_and_range(images):
    hr, gt, ms, outs = images
    region = Region(1, 1, 10, 8)
    fig = build_figure(run_sources(ms, hr, ["bicubic", "box"], gt), gt, SCALE,
                       FigureOptions(region, zoom=2, diff=("absolute", "luma")))
    errs = {m: error_map(outs[m][1:9, 1:11], gt[1:9, 1:11], "absolute", "luma") for m in ("bicubic", "box")}
    levels = display_levels(min(e.min() for e in errs.values()), max(e.max() for e in errs.values()), "absolute")
    px = np_page(fig)
    for m, e in errs.items():
        x, y, w, h = fig.crops[f"diff:{m}"]
        assert np.array_equal(px[y:y + h, x:x + w], _enlarged(colormaps.apply(e, levels, colormaps.SEQUENTIAL), 2))
    assert f"{levels[1]:.4g}" in [t.text for t in fig.texts]  # the colour bar's end, in data units


def test_colour_tables_are_pyqtgraphs():
    import pyqtgraph as pg

    for name in (colormaps.DIVERGING, colormaps.SEQUENTIAL):
        want = pg.colormap.get(name).getLookupTable(nPts=256, mode="byte", alpha=False)
        assert np.array_equal(colormaps.lookup_table(name), want)


def test_bad_figures_are_one_sentence(images):
    hr, gt, ms, _ = images
    src = run_sources(ms, hr, ["box"], gt)
    with pytest.raises(UserError, match="not inside the 32×24 LR image"):
        build_figure(src, gt, SCALE, FigureOptions(Region(30, 0, 5, 5)))
    with pytest.raises(UserError, match="need a ground-truth"):
        build_figure(src, None, SCALE, FigureOptions(Region(0, 0, 5, 5), diff=("signed", "luma")))
    with pytest.raises(UserError, match="at least one"):
        build_figure([], gt, SCALE, FigureOptions(Region(0, 0, 5, 5)))
    wrong = [Source("x", "Mine", gt[:10])]
    with pytest.raises(UserError, match="same region"):
        build_figure(wrong, gt, SCALE, FigureOptions(Region(0, 0, 5, 5)))


def test_cli_figure_writes_png_and_svg_and_refuses_a_region_outside(images, tmp_path, capsys):
    hr, gt, _, _ = images
    save_image(tmp_path / "hr.png", hr)
    save_image(tmp_path / "gt.png", gt)
    png, svg = tmp_path / "out" / "f.png", tmp_path / "out" / "f.svg"
    args = ["figure", str(tmp_path / "hr.png"), "--lr", str(tmp_path / "gt.png"), "--region", "2,2,12,10",
            "--methods", "gt", "bicubic", "box", "--hr", "--overview", "--diff", "absolute", "--zoom", "4"]
    assert main(args + ["-o", str(png), "-o", str(svg)]) == 0
    assert Image.open(png).mode == "RGB"
    assert "Bicubic" in [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert main(args + ["-o", str(png)]) == 3  # never replaced without --overwrite
    capsys.readouterr()
    bad = args.copy()
    bad[bad.index("2,2,12,10")] = "30,2,12,10"
    assert main(bad + ["-o", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not inside the 32×24 LR image" in err[0] and not (tmp_path / "g.png").exists()
    assert main(args[:4] + ["--region", "1,2", "-o", str(tmp_path / "g.png")]) == 2
    assert main(args + ["-o", str(tmp_path / "g.pdf")]) == 3
    assert "convert the SVG" in capsys.readouterr().err
    assert main(args[:4] + ["--region", "1,1,4,4", "--methods", "ext:nope", "-o", str(tmp_path / "g.png")]) == 2
    assert "Unknown method 'ext:nope'" in capsys.readouterr().err
    assert main(args + ["--zoom", "6", "-o", str(tmp_path / "g.png")]) == 2  # the HR crop cannot take zoom 6
    assert "multiple of the scale" in capsys.readouterr().err
    no_gt = ["figure", str(tmp_path / "hr.png"), "--region", "2,2,12,10", "--methods", "box", "--diff", "signed"]
    assert main(no_gt + ["-o", str(tmp_path / "g.png")]) == 2
    assert "needs a ground-truth" in capsys.readouterr().err and not (tmp_path / "g.png").exists()


def test_cli_figure_one_per_pair(images, tmp_path):
    hr, gt, _, _ = images
    for name in ("a", "b"):
        save_image(tmp_path / "pairs" / "HR" / f"{name}.png", hr)
        save_image(tmp_path / "pairs" / "LR" / f"{name}.png", gt)
    out = tmp_path / "figs"
    assert main(["figure", "--pairs", str(tmp_path / "pairs"), "--split", "all", "--region", "0,0,8,8",
                 "--methods", "box", "nearest", "-o", str(out / "{stem}.png")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    assert main(["figure", "--pairs", str(tmp_path / "pairs"), "--split", "all", "--region", "0,0,8,8",
                 "-o", str(out / "one.png")]) == 3


def test_cli_figure_skips_a_pair_whose_external_result_is_missing_or_the_wrong_size(images, tmp_path, capsys):
    hr, gt, ms, _ = images
    for name in ("a", "b", "c"):
        save_image(tmp_path / "pairs" / "HR" / f"{name}.png", hr)
        save_image(tmp_path / "pairs" / "LR" / f"{name}.png", gt)
    save_image(tmp_path / "mine" / "a.png", ms.run("box", hr))       # right
    save_image(tmp_path / "mine" / "b.png", ms.run("box", hr)[:-2])  # two rows short; c.png is missing
    out = tmp_path / "figs"
    code = main(["figure", "--pairs", str(tmp_path / "pairs"), "--split", "all", "--region", "0,0,8,8",
                 "--methods", "box", "ext:mine", "--external", f"mine={tmp_path / 'mine'}",
                 "-o", str(out / "{stem}.png")])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and sorted(p.name for p in out.iterdir()) == ["a.png"]
    skipped = [line for line in err if line.startswith("adkviewer: skipping ")]
    assert [line.split(":")[1] for line in skipped] == [" skipping mine for b", " skipping mine for c"]  # said once
    assert all(line.count(":") >= 2 and "Traceback" not in line for line in skipped)
    (tmp_path / "mine" / "a.png").unlink()
    assert main(["figure", "--pairs", str(tmp_path / "pairs"), "--split", "all", "--region", "0,0,8,8",
                 "--methods", "ext:mine", "--external", f"mine={tmp_path / 'mine'}",
                 "-o", str(tmp_path / "none" / "{stem}.png")]) == 3  # nothing written at all
    assert "every pair was skipped" in capsys.readouterr().err


def test_cli_figure_says_how_to_add_an_unknown_added_method_and_puts_the_hr_first(images, tmp_path, capsys):
    hr, gt, _, _ = images
    save_image(tmp_path / "hr.png", hr)
    save_image(tmp_path / "gt.png", gt)
    base = ["figure", str(tmp_path / "hr.png"), "--lr", str(tmp_path / "gt.png"), "--region", "2,2,12,10"]
    for key, hint in (("ext:mine", "add it with --external mine=PATH"), ("adknet:big", "--adknet big=WEIGHTS")):
        assert main(base + ["--methods", key, "-o", str(tmp_path / "g.png")]) == 2
        err = capsys.readouterr().err
        assert f"Unknown method '{key}'" in err and hint in err and err.count("\n") == 1
    svg = tmp_path / "f.svg"
    assert main(base + ["--methods", "gt", "box", "--hr", "-o", str(svg)]) == 0
    labels = [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")]
    at = [next(i for i, t in enumerate(labels) if t and t.startswith(w)) for w in ("HR", "Ground truth", "Box")]
    assert at == sorted(at)  # the HR first, as Compare's Figure… puts it (adk_model.figure.figure_keys)
