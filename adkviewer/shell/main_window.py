"""The main window: tabs over one shared Session, menus, drag and drop, recent files, status bar, settings.

Tabs are made by small factories `(window) -> QWidget`, so later tabs (Inspect, Train) plug in with
`DEFAULT_TABS` or `MainWindow.add_tab` / `replace_tab`, and reach the shared state through
`window.session` (Qt-free), `window.hub` (signals) and `window.controller` (background work).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget, QVBoxLayout,
                               QWidget)

from model.data import IMAGE_EXTENSIONS
from model.devices import describe_device, resolve_device
from model.errors import UserError
from model.imageio import load_image
from model.methods import ALL_METHODS
from model.weights import shipped_weights

from adkviewer.tabs.compare.compare_tab import CompareTab
from adkviewer.tabs.diff.diff_tab import DiffTab
from adkviewer.gui.hub import SessionHub
from adkviewer.tabs.inspect.inspect_tab import InspectTab
from adkviewer.shell.message_banner import MessageBanner
from adkviewer.state.messages import IMAGE, OPEN, SAVE, SETTINGS
from adkviewer.resources import demo_image
from adkviewer.state.session import GT, SCALES, Session, read_files
from adkviewer.gui.settings import Settings
from adkviewer.shell.settings_dialog import SettingsDialog
from adkviewer.shell import weights_menu
from adkviewer.tabs.train.train_tab import TrainTab
from adkviewer.gui.workers import ComputeController, run_off_gui_thread

TabFactory = Callable[["MainWindow"], QWidget]

INFO_STATUS_MS = 15_000  # how long an information line stays in the status bar

# (keys, what they do): the F1 help lists these; later tabs append theirs.
SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+O", "Open an HR image (or drop one on the window)"),
    ("Ctrl+L", "Open the ground-truth LR for it"),
    ("1 – 9", "Show method N alone, at the same zoom (flicker)"),
    ("0, Esc, G", "Back to the grid (Esc also cancels running work)"),
    ("Space (hold)", "Show the ground truth while held"),
    ("W", "Swipe between two methods (drag the yellow split)"),
    ("Mouse wheel / drag", "Zoom / pan all views together"),
    ("F", "Fit the image in the views"),
    ("Ctrl+0", "Zoom 1:1 (one screen pixel per LR pixel)"),
    ("Ctrl++ / Ctrl+−", "Zoom in / out"),
    ("Ctrl+S", "Save a method's output as PNG"),
    ("Ctrl+Shift+S", "Save the views as PNG"),
    ("Ctrl+E", "Export the metrics as CSV"),
    ("Ctrl+Shift+C", "Copy the metrics table"),
    ("Ctrl+,", "Settings (device, tile memory budget)"),
    ("F1", "This list"),
]

IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in sorted(IMAGE_EXTENSIONS)) + ");;All files (*)"


DEFAULT_TABS: list[tuple[str, str, TabFactory]] = [
    ("compare", "Compare", CompareTab),
    ("inspect", "Inspect", InspectTab),
    ("diff", "Differences", DiffTab),
    ("train", "Train", TrainTab),
]


def with_filter_suffix(path: str, name_filter: str) -> str:
    """`path` plus the filter's first extension ('PNG images (*.png)' → '.png') when the name typed has none
    (Qt's own save dialog returns it as typed)."""
    m = re.search(r"\*(\.\w+)", name_filter)
    if m is None or Path(path).suffix:
        return path
    return path + m.group(1)


class MainWindow(QMainWindow):
    """Compare / Inspect / Train over one session."""

    def __init__(self, settings: Settings | None = None, device: str | None = None,
                 tabs: list[tuple[str, str, TabFactory]] | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("ADK Viewer")
        self.setAcceptDrops(True)
        self.session = Session()
        self._restore_session_settings(device)
        self.hub = SessionHub(self.session, self)
        self.controller = ComputeController(self.session, self.hub, self)
        self._loading = False
        self.pending_options: dict[str, object] = {}  # CLI options read by the tabs (--pixel, --diff, --field)

        self.banner = MessageBanner(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self._tabs: dict[str, QWidget] = {}
        central = QWidget(self)
        cl = QVBoxLayout(central)
        cl.setContentsMargins(4, 2, 4, 0)
        cl.setSpacing(2)
        cl.addWidget(self.banner)
        cl.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.device_label = QLabel(self)
        self.device_label.setToolTip("Compute device for ADK-Net (change it in Edit → Settings…)")
        self.statusBar().addPermanentWidget(self.device_label)
        self.hub.message.connect(self._on_message)
        self._status_message: tuple[str, str] | None = None  # (scope, text) of a warning/error in the status bar
        self.hub.messagesStale.connect(self._on_messages_stale)
        self.hub.deviceChanged.connect(lambda d: self.device_label.setText(f"Device: {d}"))
        self._update_device_label()

        for key, title, factory in (tabs if tabs is not None else DEFAULT_TABS):
            self.add_tab(key, title, factory(self))
        self._build_menus()
        self.resize(1280, 800)
        geo = self.settings.get_bytes("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.get_bytes("window/state")
        if state is not None:
            self.restoreState(state)
        for key, w in self._tabs.items():
            if hasattr(w, "restore_state"):
                w.restore_state(self.settings, f"{key}/")
        tab = self.settings.get_str("window/tab", "compare")
        if tab in self._tabs:
            self.show_tab(tab)

    # ------------------------------------------------------------------ tabs

    def add_tab(self, key: str, title: str, widget: QWidget, index: int | None = None) -> QWidget:
        """Add a tab; `window.tab(key)` finds it again."""
        if key in self._tabs:
            raise ValueError(f"tab {key!r} exists; use replace_tab")
        self._tabs[key] = widget
        if index is None:
            self.tabs.addTab(widget, title)
        else:
            self.tabs.insertTab(index, widget, title)
        return widget

    def replace_tab(self, key: str, widget: QWidget) -> QWidget:
        """Swap a tab's widget (e.g. a test double), keeping its place and title."""
        old = self._tabs[key]
        i = self.tabs.indexOf(old)
        title = self.tabs.tabText(i)
        self.tabs.removeTab(i)
        old.deleteLater()
        self._tabs[key] = widget
        self.tabs.insertTab(i, widget, title)
        return widget

    def tab(self, key: str) -> QWidget | None:
        return self._tabs.get(key)

    def show_tab(self, key: str) -> None:
        if key in self._tabs:
            self.tabs.setCurrentWidget(self._tabs[key])

    @property
    def compare(self) -> CompareTab:
        return self._tabs["compare"]  # type: ignore[return-value]

    # ------------------------------------------------------------------ menus

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(lambda *_: slot())
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open…", self.open_dialog, QKeySequence.Open, "Open an HR image")
        self._action(f, "Open &ground truth…", self.open_ground_truth_dialog, "Ctrl+L",
                     "Open the real low-resolution photo of the same scene, to switch metrics on")
        self.drop_gt_action = self._action(f, "&Forget ground truth", self.forget_ground_truth)
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(f, "Open the &demo image", lambda: self.open_image(demo_image()) if demo_image() else None)
        weights_menu.install(self, f)  # shipped + fine-tuned weights (remembered by the Train tab)
        f.addSeparator()
        self.save_menu = f.addMenu("&Save output as PNG")
        self.save_menu.aboutToShow.connect(self._fill_save_menu)
        self._action(f, "Save a method's output…", self.save_output_dialog, QKeySequence.Save)
        self._action(f, "Save the &views as PNG…", self.save_view_dialog, "Ctrl+Shift+S")
        self._action(f, "&Export metrics as CSV…", self.export_metrics_dialog, "Ctrl+E")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.Quit)

        e = mb.addMenu("&Edit")
        self._action(e, "&Copy metrics", lambda: self.compare.metrics.copy(), "Ctrl+Shift+C")
        self._action(e, "&Settings…", self.settings_dialog, "Ctrl+,")

        v = mb.addMenu("&View")
        self._action(v, "&Fit", lambda: self.compare.grid.fit())
        self._action(v, "Zoom &1:1", lambda: self.compare.grid.set_zoom(1.0), "Ctrl+0")
        self._action(v, "Zoom &in", lambda: self.compare.grid.set_zoom(self.compare.grid.zoom() * 1.25),
                     QKeySequence.ZoomIn)
        self._action(v, "Zoom &out", lambda: self.compare.grid.set_zoom(self.compare.grid.zoom() / 1.25),
                     QKeySequence.ZoomOut)
        v.addSeparator()
        self._action(v, "&Grid", lambda: (self.compare.set_mode("grid"), self.compare.grid.show_solo(None)))
        self._action(v, "&Swipe", lambda: self.compare.set_mode("swipe"))

        h = mb.addMenu("&Help")
        self._action(h, "&Shortcuts", self.show_shortcuts, "F1")
        self._action(h, "&About", self.show_about)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.settings.get_list("recent") if Path(p).exists()]
        if not recent:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        for p in recent:
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda *_, p=p: self.open_image(p))

    def _fill_save_menu(self) -> None:
        self.save_menu.clear()
        s = self.session
        for key in ([GT] if s.has_gt else []) + s.methods:
            a = self.save_menu.addAction(s.label(key) + "…")
            r = s.results.get(key)
            a.setEnabled(s.image_of(key) is not None and not (r is not None and r.partial))
            a.triggered.connect(lambda *_, k=key: self.save_output_dialog(k))

    # ------------------------------------------------------------------ session changes

    def _restore_session_settings(self, device: str | None) -> None:
        s, st = self.session, self.settings
        if st.has("compare/methods"):
            s.methods = [m for m in ALL_METHODS if m in st.get_list("compare/methods")]
        s.budget_mb = st.get_int("budget_mb", 0)
        s.device = device or st.get_str("device", "auto") or "auto"
        if st.has("compare/scale") and st.get_int("compare/scale", 4) in SCALES:
            s.scale = st.get_int("compare/scale", 4)
        else:
            have = [sc for sc in (4, 2, 3) if shipped_weights(sc)]
            s.scale = have[0] if have else 4

    def _update_device_label(self) -> None:
        try:
            dev = describe_device(resolve_device(self.session.device))
        except UserError as e:
            self.hub.warning(f"{e} Using the automatic choice instead.", SETTINGS)
            self.session.device = "auto"
            dev = describe_device(resolve_device("auto"))
        budget = f", tile budget {self.session.budget_mb} MB" if self.session.budget_mb else ""
        self.device_label.setText(f"Device: {dev}{budget}")

    def open_image(self, path: str | Path | None, gt: str | Path | None = None, scale: int | None = None) -> bool:
        """Open an HR (and optionally its ground truth); a problem is shown as a message, never raised.

        Files are read off the GUI thread (the window keeps painting); this returns when they are open.
        """
        if path is None:
            return False
        if self._loading:
            self.hub.info("Still opening the previous file; try again in a moment.")
            return False
        s = self.session
        old_scale = s.scale
        self.hub.supersede(OPEN)  # a failure to open another file no longer applies
        self._loading = True
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        try:
            if scale is not None and scale not in SCALES:
                raise UserError(f"Scale x{scale} is not supported; choose x2, x3 or x4.")
            files = run_off_gui_thread(lambda: read_files(path, gt))
            if scale is not None:
                s.scale = scale
            notes = s.open_image(path, fixed_scale=scale is not None, files=files)
        except UserError as e:
            s.scale = old_scale
            self.hub.error(str(e), OPEN)
            return False
        finally:
            self._loading = False
        self.settings.set("folders/open", str(Path(path).resolve().parent))
        if Path(path).resolve() != (demo_image() or Path()).resolve():
            self.settings.add_recent(str(Path(path).resolve()))
        self.setWindowTitle(f"{Path(path).name} — ADK Viewer")
        if self.tabs.currentWidget() is self._tabs.get("train"):  # the Train tab does not show the image
            self.show_tab("compare")
        self.hub.imageChanged.emit()
        self.hub.scaleChanged.emit(s.scale)
        self.controller.restart()  # supersedes the previous image's messages, so this one's come after
        if s.gt_problem:
            self.hub.warning(s.gt_problem)
        name = Path(path).name
        self.hub.info(f"Opened {name}" + (f": {'; '.join(notes)}" if notes else "") +
                      ("" if s.has_gt else " — no ground-truth LR, metrics off"))
        return True

    def open_ground_truth(self, path: str | Path) -> bool:
        s = self.session
        old = s.scale
        self.hub.supersede(OPEN)
        try:
            img = run_off_gui_thread(lambda: load_image(path))
            notes = s.open_ground_truth(path, image=img)
        except UserError as e:
            self.hub.error(str(e), OPEN)
            return False
        self.hub.supersede(IMAGE)
        self.hub.info(f"Ground truth {Path(path).name}" + (f": {'; '.join(notes)}" if notes else ""))
        self.hub.groundTruthChanged.emit()
        if s.scale != old:
            self.hub.scaleChanged.emit(s.scale)
            self.hub.imageChanged.emit()
            self.controller.restart()
        else:
            self.controller.refresh_metrics()
        return True

    def forget_ground_truth(self) -> None:
        self.session.clear_ground_truth()
        self.hub.groundTruthChanged.emit()

    def set_methods(self, methods: list[str]) -> None:
        """Tick exactly these methods; missing results are computed, and the choice is remembered."""
        s = self.session
        s.methods = [m for m in ALL_METHODS if m in methods]
        self.settings.set("compare/methods", list(s.methods))
        self.hub.methodsChanged.emit()
        self.controller.compute()

    def set_scale(self, scale: int) -> None:
        s = self.session
        if scale == s.scale:
            return
        try:
            notes = s.set_scale(scale)
        except UserError as e:
            self.hub.error(str(e))
            return
        self.settings.set("compare/scale", scale)
        self.hub.scaleChanged.emit(scale)
        self.hub.imageChanged.emit()
        self.controller.restart()
        for n in notes:
            (self.hub.warning if n.startswith("Ground truth") else self.hub.info)(n)

    def set_device(self, device: str, budget_mb: int = 0, remember: bool = True) -> None:
        self.hub.supersede(SETTINGS)
        self.session.set_device(device, budget_mb)
        if remember:
            self.settings.set("device", device)
            self.settings.set("budget_mb", int(budget_mb))
        self._update_device_label()
        self.hub.deviceChanged.emit(self.device_label.text().removeprefix("Device: "))
        self.controller.restart()

    def set_weights(self, path: str | Path | None) -> None:
        """Use these ADK-Net weights (e.g. a fine-tuned model) from now on."""
        self.session.set_weights(path)
        self.compare._sync_scale_widgets()
        self.controller.restart()

    # ------------------------------------------------------------------ messages

    def _on_message(self, level: str, text: str, scope: str) -> None:
        if level in ("error", "warning"):
            self.banner.show_message(level, text, scope)
        self._status_message = (scope, text) if level in ("error", "warning") else None
        # information fades like a terminal's last line; warnings and errors stay (they are in the banner too)
        self.statusBar().showMessage(text, INFO_STATUS_MS if level == "info" else 0)

    def _on_messages_stale(self, scope: str) -> None:
        """The banner drops the scope's messages; the status bar stops repeating one of them too."""
        self.banner.supersede(scope)
        if self._status_message is not None and self._status_message[0] == scope:
            if self.statusBar().currentMessage() == self._status_message[1]:
                self.statusBar().clearMessage()
            self._status_message = None

    # ------------------------------------------------------------------ dialogs

    def _folder(self, key: str) -> str:
        return self.settings.get_str(f"folders/{key}", str(Path.home()))

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an HR image", self._folder("open"), IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_ground_truth_dialog(self) -> None:
        if self.session.hr_full is None:
            self.hub.error("Open an HR image before its ground-truth LR.")
            return
        start = self._folder("open")
        if self.session.hr_path:
            hr_dir = Path(self.session.hr_path).parent
            lr_dir = hr_dir.parent / "LR"
            start = str(lr_dir if lr_dir.is_dir() else hr_dir)
        path, _ = QFileDialog.getOpenFileName(self, "Open the ground-truth LR", start, IMAGE_FILTER)
        if path:
            self.open_ground_truth(path)

    def save_dialog(self, title: str, name: str, filt: str, save: Callable[[str], None]) -> None:
        """Ask where (in the last save folder), add the filter's extension if none was typed, save, and say so."""
        start = str(Path(self._folder("save")) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filt)
        if not path:
            return
        path = with_filter_suffix(path, filt)
        self.settings.set("folders/save", str(Path(path).parent))
        self._guard(lambda: save(path), f"Saved {Path(path).name}")

    def _stem(self) -> str:
        return Path(self.session.hr_path).stem if self.session.hr_path else "image"

    def save_output_dialog(self, key: str | None = None) -> None:
        s = self.session
        if key is None:
            done = [k for k in ([GT] if s.has_gt else []) + s.methods if s.image_of(k) is not None]
            if not done:
                self.hub.error("There is no output to save yet.")
                return
            from PySide6.QtWidgets import QInputDialog

            labels = [s.label(k) for k in done]
            choice, ok = QInputDialog.getItem(self, "Save output", "Method:", labels, 0, False)
            if not ok:
                return
            key = done[labels.index(choice)]
        self.save_dialog(f"Save {s.label(key)} as PNG", f"{self._stem()}_x{s.scale}_{key}.png",
                         "PNG images (*.png)", lambda path: self.compare.save_output(key, path))

    def save_view_dialog(self) -> None:
        """Save the views of the tab shown (Differences has its own), else Compare's, shown first: a hidden
        tab's views have no current size, so their grab would be a blank strip."""
        tab = self.tabs.currentWidget()
        if tab is not self.compare and hasattr(tab, "save_view_dialog"):
            tab.save_view_dialog()
            return
        self.show_tab("compare")
        self.save_dialog("Save the views as PNG", f"{self._stem()}_x{self.session.scale}_views.png",
                         "PNG images (*.png)", self.compare.save_view)

    def export_metrics_dialog(self) -> None:
        self.save_dialog("Export metrics as CSV", f"{self._stem()}_x{self.session.scale}_metrics.csv",
                         "CSV files (*.csv)", self.compare.export_csv)

    def _guard(self, fn: Callable[[], None], ok: str) -> None:
        """Run a save; its error replaces the previous save's, and a success clears that."""
        self.hub.supersede(SAVE)
        try:
            fn()
        except UserError as e:
            self.hub.error(str(e), SAVE)
        else:
            self.hub.info(ok, SAVE)

    def settings_dialog(self) -> None:
        dlg = SettingsDialog(self.session.device, self.session.budget_mb, self)
        if dlg.exec() == QDialog.Accepted:
            device, budget = dlg.values()
            if (device, budget) != (self.session.device, self.session.budget_mb):
                self.set_device(device, budget)

    def shortcuts_html(self) -> str:
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(t)}</td></tr>"
                       for k, t in SHORTCUTS)
        return f"<table cellspacing='4'>{rows}</table>"

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Shortcuts")
        box.setTextFormat(Qt.RichText)
        box.setText(self.shortcuts_html())
        box.setStyleSheet("QLabel { min-width: 46em; }")  # one line per shortcut, not a narrow wrapped column
        box.setModal(False)
        box.show()
        self._shortcuts_box = box

    def show_about(self) -> None:
        QMessageBox.about(self, "About ADK Viewer",
                          "ADK Viewer: explore, compare and fine-tune ADK-Net, a learned per-pixel RGB-kernel "
                          "image downscaler.<br>Demo photo: NASA, public domain (see resources/demo/LICENSE.md).")

    # ------------------------------------------------------------------ drag and drop, closing

    def dragEnterEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802 - Qt API
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        ev.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.open_dropped(paths))

    def open_dropped(self, paths: list[str]) -> None:
        """One file: the HR. Two files: the larger is the HR, the other its ground truth."""
        if not paths:
            return
        if len(paths) >= 2:
            a, b = sorted(paths[:2], key=lambda p: Path(p).stat().st_size if Path(p).exists() else 0, reverse=True)
            self.open_image(a, gt=b)
            if len(paths) > 2:
                self.hub.info(f"Opened two of the {len(paths)} dropped files.")
        else:
            self.open_image(paths[0])

    def save_layout(self) -> None:
        """Window geometry and state, the current tab, and each tab's own layout (tabs with save_state)."""
        st = self.settings
        st.set("window/geometry", self.saveGeometry())
        st.set("window/state", self.saveState())
        for key, w in self._tabs.items():
            if hasattr(w, "save_state"):
                w.save_state(st, f"{key}/")
        for key, w in self._tabs.items():
            if w is self.tabs.currentWidget():
                st.set("window/tab", key)
        st.sync()

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        for w in self._tabs.values():  # e.g. Train: asks first, then stops and saves a checkpoint
            if hasattr(w, "confirm_close") and not w.confirm_close():
                ev.ignore()
                return
        self.save_layout()
        self.controller.shutdown()
        super().closeEvent(ev)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(1280, 800)

