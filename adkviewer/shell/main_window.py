"""The main window: tabs over one shared context, menus, drag and drop, recent files, status bar, settings.

Tabs are made by small factories `(TabContext) -> QWidget` (see `gui.context`), so they plug in with
`DEFAULT_TABS` or `MainWindow.add_tab` / `replace_tab`; they change the session only through
`ctx.commands` and ask the window for nothing but the `Shell` methods below and in `WindowDialogs`
(`window_dialogs`, the window's dialogs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from adkviewer.gui.context import TabContext, build_context
from adkviewer.gui.settings import Settings
from adkviewer.resources import demo_image
from adkviewer.shell import dataset_dock, weights_menu
from adkviewer.shell.message_banner import MessageBanner
from adkviewer.shell.window_dialogs import IMAGE_FILTER, WindowDialogs, with_filter_suffix  # noqa: F401 (re-exported)
from adkviewer.state.session import GT
from adkviewer.tabs.compare.compare_tab import CompareTab
from adkviewer.tabs.diff.diff_tab import DiffTab
from adkviewer.tabs.inspect.inspect_tab import InspectTab
from adkviewer.tabs.train.train_tab import TrainTab

TabFactory = Callable[[TabContext], QWidget]

INFO_STATUS_MS = 15_000  # how long an information line stays in the status bar


DEFAULT_TABS: list[tuple[str, str, TabFactory]] = [
    ("compare", "Compare", CompareTab),
    ("inspect", "Inspect", InspectTab),
    ("diff", "Differences", DiffTab),
    ("train", "Train", TrainTab),
]


class MainWindow(WindowDialogs, QMainWindow):
    """Compare / Inspect / Train over one session."""

    def __init__(self, settings: Settings | None = None, device: str | None = None,
                 tabs: list[tuple[str, str, TabFactory]] | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("ADK Viewer")
        self.setAcceptDrops(True)
        self.ctx = build_context(self, self.settings, self, device)
        self.session, self.hub, self.commands, self.controller = (self.ctx.session, self.ctx.hub, self.ctx.commands,
                                                                  self.ctx.jobs)
        self.hub.imageOpened.connect(self._on_image_opened)  # first: the shell leaves the Train tab before views update

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
        self.commands.say_restore_notes()
        self.hub.messagesStale.connect(self._on_messages_stale)
        self.hub.deviceChanged.connect(lambda d: self.device_label.setText(f"Device: {d}"))
        self.device_label.setText(f"Device: {self.commands.device_text()}")

        for key, title, factory in (tabs if tabs is not None else DEFAULT_TABS):
            self.add_tab(key, title, factory(self.ctx))
        self._build_menus()
        self.resize(1280, 800)
        geo = self.settings.get_bytes("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.get_bytes("window/state")
        if state is not None:
            self.restoreState(state)
            if self.dataset.controller.state.folder is None:  # a dock left open last time comes back empty
                self.dataset.hide()
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

    def current_tab(self) -> str | None:
        return next((k for k, w in self._tabs.items() if w is self.tabs.currentWidget()), None)

    def show_status(self, text: str) -> None:
        """A line in the status bar until the next one (e.g. while closing waits for training to stop)."""
        self.statusBar().showMessage(text)

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
        self.drop_gt_action = self._action(f, "&Forget ground truth", self.commands.forget_ground_truth)
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(f, "Open the &demo image", lambda: self.open_image(demo_image()) if demo_image() else None)
        self.weights_menu = weights_menu.install(self, self.ctx, f)  # shipped + fine-tuned (the Train tab's)
        self._action(f, "Add method &results…", self.add_method_dialog,
                     tip="Your own downscaler's LR images as a method beside the others")
        self._action(f, "Add ADK-Net weights &beside…", self.add_weights_dialog,
                     tip="Another ADK-Net model (a fine-tune) as a method beside the main one")
        self._action(f, "Fit a &least-squares kernel from a pairs folder…",
                     lambda: self.compare.lstsq_fitter.ask_folder(),
                     tip="The least-squares baseline at the current scale, fitted on HR/LR pairs of yours")
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
        self.dataset = dataset_dock.install(self, self.ctx, f, v, opened=self._offer_pairs_to_train)  # File → Open pairs folder…, View, Page Down

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

    # ------------------------------------------------------------------ opening files

    def open_image(self, path: str | Path | None, gt: str | Path | None = None, scale: int | None = None) -> bool:
        """Open an HR (and optionally its ground truth) with `commands.open_image`, saying so in the status bar;
        a folder (dropped, or on the command line) is a pairs folder and opens in the Train tab and the dataset view."""
        if path is not None and gt is None and Path(path).is_dir():
            return self.open_pairs_folder(path)
        if path is not None and not self.commands.busy_opening:
            self.statusBar().showMessage(f"Opening {Path(path).name}…")
        return self.commands.open_image(path, gt, scale)

    def open_pairs_folder(self, path: str | Path, split: str | None = None) -> bool:
        """A pairs folder: the Train tab's pairs and the dataset view's (scored there pair by pair)."""
        ok = self.dataset.open_folder(path, split)
        if hasattr(self.tab("train"), "open_pairs"):
            self.show_tab("train")
            ok = self.tab("train").open_pairs(path) and ok
        return ok

    def _offer_pairs_to_train(self, folder: str) -> None:
        """A folder opened in the dataset view also becomes the Train tab's pairs, unless that tab has its own."""
        train = self.tab("train")
        if hasattr(train, "offer_pairs"):
            train.offer_pairs(folder)

    def _on_image_opened(self, path: str) -> None:
        self.setWindowTitle(f"{Path(path).name} — ADK Viewer")
        if self.tabs.currentWidget() is self._tabs.get("train"):  # the Train tab does not show the image
            self.show_tab("compare")

    # ------------------------------------------------------------------ messages

    def _on_message(self, level: str, text: str, scope: str) -> None:
        if level in ("error", "warning"):
            self.banner.show_message(level, text, scope)
        self._status_message = (scope, text) if level in ("error", "warning") else None
        # information fades like a terminal's last line; warnings and errors stay (they are in the banner too)
        self.statusBar().showMessage(text, INFO_STATUS_MS if level == "info" else 0)
        self.statusBar().setToolTip(text)  # a line longer than the window is cut: the tooltip holds all of it

    def _on_messages_stale(self, scope: str) -> None:
        """The banner drops the scope's messages; the status bar stops repeating one of them too."""
        self.banner.supersede(scope)
        if self._status_message is not None and self._status_message[0] == scope:
            if self.statusBar().currentMessage() == self._status_message[1]:
                self.statusBar().clearMessage()
            self._status_message = None

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
        self.dataset.shutdown()
        self.controller.shutdown()
        super().closeEvent(ev)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(1280, 800)

