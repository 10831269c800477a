"""Time the dataset view against `adkviewer eval` on the same folder and split, in one run, and step through it.

    OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen python tools/dataset_view_timing.py PAIRS_DIR --split val \
        [--screenshot docs/screenshots/dataset_view.png]

Prints (a) the dataset summary beside eval's means, (b) the seconds from opening the folder to the full table
(cold cache, then re-opened), beside the seconds `adkviewer eval --pairs PAIRS_DIR --split SPLIT` takes,
and (c) Page Down through every pair: the delay from the key to the new pair on screen, and the longest stall
of the GUI thread (a 10 ms QTimer heartbeat).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time


def _wait(app, until, poll_ms: int = 5, timeout_s: float = 900.0) -> float:
    """Seconds until `until()` holds, the event loop idle meanwhile (a poll every `poll_ms`, no busy loop
    competing with the workers for the interpreter)."""
    from PySide6.QtCore import QEventLoop, QTimer

    start = time.perf_counter()
    if until():
        return 0.0
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if until() or time.perf_counter() - start > timeout_s else None)
    timer.start(poll_ms)
    loop.exec()
    timer.stop()
    if not until():
        raise SystemExit("timed out")
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs")
    ap.add_argument("--split", default="val")
    ap.add_argument("--screenshot", help="PNG of the window after the walk (Compare + the dataset view)")
    ap.add_argument("--size", default="1600x1000")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["ADKVIEWER_CACHE_DIR"] = tempfile.mkdtemp(prefix="adkviewer-timing-cache-")  # a cold cache

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    from adkviewer.cli.entry import main as cli_main
    from adkviewer.gui.settings import Settings
    from adkviewer.shell.app import make_app
    from adkviewer.shell.main_window import MainWindow

    app = make_app()
    win = MainWindow(Settings(memory=True), device="cpu")
    w, h = (int(v) for v in args.size.split("x"))
    win.resize(w, h)
    win.show()
    app.processEvents()
    c = win.dataset.controller

    # (b) the dataset view, cold cache: open -> every (pair, method) in the table
    t0 = time.perf_counter()
    win.dataset.open_folder(args.pairs, args.split)
    opened = time.perf_counter() - t0
    full = opened + _wait(app, c.complete, poll_ms=50)  # a coarse poll: the window as a person leaves it
    rows_at_open = len(c.state.rows)

    # eval, in-process, the same work (its own least-squares fit on the train split, every method)
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = cli_main(["eval", "--pairs", args.pairs, "--split", args.split, "--json", "--device", "cpu", "-q"])
    eval_s = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"eval failed ({code})")
    expected = json.loads(out.getvalue())["methods"]

    win.dataset.open_folder(args.pairs, "all" if args.split != "all" else "val")
    _wait(app, c.complete)
    t0 = time.perf_counter()
    win.dataset.open_folder(args.pairs, args.split)
    reopened = time.perf_counter() - t0 + _wait(app, c.complete)

    # (a) the summary beside eval's
    win.dataset.panel.update_summary()
    got = c.state.summary(c.methods())
    print(f"dataset view on {args.pairs}, split {args.split}: {len(c.state.usable)} pairs, "
          f"{len(c.methods())} methods; {c.state.convention()}")
    print(f"{'method':<34}{'view PSNR':>10}{'eval PSNR':>10}{'view Y':>8}{'view SSIM':>10}{'eval SSIM':>10}"
          f"{'beaten':>10}")
    beaten = c.state.beaten(c.methods())
    for m in c.methods():
        g, e = got.get(m), expected.get(m)
        if g is None or e is None:
            print(f"{win.session.label(m):<34} missing (view {g is not None}, eval {e is not None})")
            continue
        k, n = beaten.get(m, ("", ""))
        print(f"{win.session.label(m):<34}{g['psnr']:>10.2f}{e['psnr']:>10.2f}{g['psnr_y']:>8.2f}{g['ssim']:>10.4f}"
              f"{e['ssim']:>10.4f}{(f'{k} of {n}' if n != '' else '—'):>10}")
    same = all(f"{got[m]['psnr']:.2f}" == f"{expected[m]['psnr']:.2f}" and
               f"{got[m]['ssim']:.4f}" == f"{expected[m]['ssim']:.4f}" for m in expected)
    print(f"summary equals eval to the printed precision: {same}")
    print(f"\nopen -> table listed ({rows_at_open} rows): {opened:.2f} s; open -> full table (cold cache): "
          f"{full:.2f} s; adkviewer eval, same work: {eval_s:.2f} s; re-opened (cache): {reopened:.2f} s")

    # (c) Page Down through every pair, a heartbeat on the GUI thread
    win.show_tab("compare")
    gaps = {"last": time.perf_counter(), "max": 0.0}

    def beat() -> None:
        now = time.perf_counter()
        gaps["max"] = max(gaps["max"], now - gaps["last"])
        gaps["last"] = now

    heart = QTimer()
    heart.timeout.connect(beat)
    heart.start(10)
    order = [c.state.rows[i].name for i in win.dataset.panel.order() if c.state.rows[i].ok]
    shown, complete = [], []
    _wait(app, lambda: True)
    gaps["last"], gaps["max"] = time.perf_counter(), 0.0
    for name in order:
        t0 = time.perf_counter()
        QTest.keyClick(win.compare, Qt.Key_PageDown)
        _wait(app, lambda: win.session.pair_name == name)
        app.processEvents()  # painted
        shown.append(time.perf_counter() - t0)
        _wait(app, win.compare.all_shown)
        complete.append(time.perf_counter() - t0)
    heart.stop()
    print(f"\nPage Down through {len(order)} pairs: key -> new pair shown: worst {max(shown) * 1000:.0f} ms, "
          f"median {sorted(shown)[len(shown) // 2] * 1000:.0f} ms; key -> every method's result shown: worst "
          f"{max(complete):.2f} s; longest GUI-thread stall (10 ms heartbeat): {gaps['max'] * 1000:.0f} ms")
    if args.screenshot:
        _wait(app, lambda: True)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        pix = win.grab()
        print(f"wrote {args.screenshot}" if pix.save(args.screenshot, "PNG") else "could not write the screenshot",
              file=sys.stderr)
    win.dataset.shutdown()
    win.controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
