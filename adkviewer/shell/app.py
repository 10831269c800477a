"""Starting the GUI: QApplication, command-line options, and `--screenshot` (capture when all results show)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from adk_model.methods import ALL_METHODS

SCREENSHOT_TIMEOUT_S = 300.0


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 200 or h < 150:
            raise ValueError
        return w, h
    except ValueError:
        raise SystemExit(f"adkviewer: error: --size must look like 1280x800 (at least 200x150), not {text!r}") from None


def _parse_methods(items: list[str] | None, known: tuple[str, ...] = ALL_METHODS) -> list[str] | None:
    if not items:
        return None
    names = [m.strip() for item in items for m in item.split(",") if m.strip()]
    names = [m if m in known else m.lower() for m in names]
    bad = [m for m in names if m not in known]
    if bad:
        raise SystemExit(f"adkviewer: error: unknown method {bad[0]!r}; choose from {', '.join(known)}")
    return names


def _parse_extras(args: argparse.Namespace) -> list:
    """--external and --adknet as added methods (a usage error is one sentence, exit 2)."""
    from adk_model.errors import UserError
    from adk_model.method_registry import adknet_method, parse_external, parse_named

    try:
        extras = [parse_external(t) for t in getattr(args, "external", None) or []]
        extras += [adknet_method(*parse_named(t, "--adknet")) for t in getattr(args, "adknet", None) or []]
    except UserError as e:
        raise SystemExit(f"adkviewer: error: {e}") from None
    return extras


def _parse_pixel(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        x, y = (int(v) for v in text.split(","))
        return y, x
    except ValueError:
        raise SystemExit(f"adkviewer: error: --pixel must be X,Y (LR pixel), not {text!r}") from None


def make_app(argv: list[str] | None = None):
    """The QApplication (made once), with the names QSettings uses."""
    from PySide6.QtWidgets import QApplication

    import adkviewer.gui  # noqa: F401  (applies the qt_compat workarounds before any signal is emitted)
    from adkviewer.resources import APPLICATION, ORGANISATION

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    return app


def build_window(args: argparse.Namespace, memory_settings: bool = False):
    """The main window with the command-line options applied (image, ground truth, methods, tab, swipe)."""
    from adkviewer.shell.main_window import MainWindow
    from adkviewer.resources import demo_image
    from adkviewer.gui.settings import Settings

    from adk_model.method_registry import known

    extras = _parse_extras(args)
    methods = _parse_methods(args.methods, known({e.key: e for e in extras}))
    pixel = _parse_pixel(getattr(args, "pixel", None))
    win = MainWindow(Settings(memory=memory_settings), device=args.device)
    if args.weights:
        win.session.set_weights(args.weights)
        if args.scale is None:
            w = win.session.adknet_weights
            for s in (2, 3, 4):
                if w(s) is not None and str(w(s)) == str(args.weights):
                    win.session.scale = s
    for e in extras:  # weights for another scale, or a path that is not there, say so in the banner
        if e.is_adknet:
            win.commands.add_weights(e.path, name=e.name)
        else:
            win.commands.add_external(e.name, e.path, e.pattern)
    if methods is not None:
        added = set(win.session.extras)  # what the command line added is shown, whatever --methods lists
        win.session.methods = [m for m in win.session.known_methods() if m in methods or m in added]
        win.hub.methodsChanged.emit()
    win.ctx.launch.diff = getattr(args, "diff", None) or None
    win.ctx.launch.field = getattr(args, "field", None) or None
    image = args.image or demo_image()
    if args.lr and not args.image:
        win.hub.error("--lr needs the HR image it belongs to: adkviewer IMAGE --lr GT_LR.")
    if image is None:
        win.hub.warning("The bundled demo image is missing; open an image with File → Open….")
    elif args.image and os.path.isdir(args.image) and not args.lr:
        win.open_pairs_folder(args.image, split=getattr(args, "split", None))
    else:
        win.open_image(image, gt=args.lr if args.image else None, scale=args.scale)
    if getattr(args, "split", None) and not (args.image and os.path.isdir(args.image)):
        win.hub.error("--split needs a pairs folder: adkviewer PAIRS_DIR --split val.")
    if pixel is not None:
        win.session.selected_pixel = pixel
        win.hub.pixelSelected.emit(*pixel)
    if args.tab:
        win.show_tab(args.tab)
    if args.swipe:
        parts = [p.strip().lower() for p in args.swipe.split(",")]
        if len(parts) != 2:
            win.hub.error(f"--swipe needs two names, METHOD_A,METHOD_B (not {args.swipe!r}).")
        else:
            from adk_model.errors import UserError

            try:
                win.compare.set_swipe(*parts)
            except UserError as e:
                win.hub.error(str(e))
    return win


def _install_excepthook(win) -> None:
    """An unexpected error becomes a message in the window (traceback to stderr only), not a crash."""
    def hook(etype, value, tb):
        traceback.print_exception(etype, value, tb, file=sys.stderr)
        try:
            win.hub.error(f"Unexpected error: {etype.__name__}: {value}. The window is still usable; "
                          "please report this.")
        except Exception:  # noqa: BLE001 - the window may be gone
            pass
    sys.excepthook = hook


def run_gui(args: argparse.Namespace) -> int:
    """`adkviewer [IMAGE] [options]`: open the window (and with --screenshot: capture it, then exit)."""
    if args.screenshot and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    size = parse_size(args.size) if args.screenshot else None
    from adkviewer.shell.first_start import platform_problem

    problem = platform_problem()  # before QApplication: Qt would abort the process instead
    if problem:
        print(f"adkviewer: error: {problem}", file=sys.stderr)
        return EXIT_RUNTIME
    app = make_app()
    win = build_window(args, memory_settings=bool(args.screenshot))
    _install_excepthook(win)
    if size is None:
        win.show()
        return app.exec()

    win.resize(*size)
    win.show()
    return _screenshot(app, win, args.screenshot, size)


EXIT_RUNTIME = 3  # the CLI's code for a runtime error (adkviewer/cli/args.py, 'adkviewer --help'); shell is below cli


def _screenshot(app, win, path: str, size: tuple[int, int]) -> int:
    """Wait until every result is shown (or a timeout), grab the window, save it, quit."""
    from PySide6.QtCore import QTimer

    start = time.monotonic()
    result = {"code": EXIT_RUNTIME}
    settled = {"n": 0}

    def poll() -> None:
        views = [*(win.tabs.widget(i) for i in range(win.tabs.count())), win.dataset]
        ready = all(w.all_shown() for w in views if hasattr(w, "all_shown"))  # Compare's results, a --diff map, ...
        timed_out = time.monotonic() - start > SCREENSHOT_TIMEOUT_S
        settled["n"] = settled["n"] + 1 if ready else 0
        if settled["n"] == 1 and (win.width(), win.height()) != size:
            win.resize(*size)  # the busy toolbar may have held the window wider; it is idle now
        if settled["n"] < 3 and not timed_out:  # a few idle polls so layouts and repaints settle
            return
        timer.stop()
        if timed_out:
            print(f"adkviewer: warning: results were not all ready after {SCREENSHOT_TIMEOUT_S:.0f} s; "
                  "capturing anyway", file=sys.stderr)
        pix = win.grab()
        if pix.save(path, "PNG"):
            print(f"wrote {path} ({pix.width()}x{pix.height()})", file=sys.stderr)
            result["code"] = 0
        else:
            print(f"adkviewer: error: could not write the screenshot to {path}", file=sys.stderr)
            result["code"] = EXIT_RUNTIME
        banner = win.banner.text()
        if banner:
            print(f"adkviewer: message shown in the window: {banner}", file=sys.stderr)
        if win.banner.level == "error":  # a script or CI must not take a picture of an error for a success
            result["code"] = EXIT_RUNTIME
        session = win.session
        for m in session.methods:  # nor of a view that shows why a method has no result (unreadable weights, ...)
            r = session.results.get(m)
            if r is not None and r.lr is None and r.message:
                print(f"adkviewer: {session.label(m)} shows no result: {r.message}", file=sys.stderr)
                result["code"] = EXIT_RUNTIME
        win.controller.shutdown()
        win.close()
        app.exit(result["code"])

    timer = QTimer(win)
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec()
    return result["code"]
