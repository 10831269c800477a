"""What a tab is built from: a narrow context (session, signals, commands, jobs, camera, settings), never the window.

A tab factory is `(TabContext) -> QWidget`. The few things a tab asks of the window around it (show another tab,
a save dialog, the status line) go through `Shell`, a protocol the main window implements and a test fakes, so
a tab can be built and tested against a session alone (tests/tab_helpers.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from PySide6.QtCore import QObject

from adkviewer.gui.hub import SessionHub
from adkviewer.gui.settings import Settings
from adkviewer.gui.workers import ComputeController
from adkviewer.state.camera import Camera
from adkviewer.state.commands import SessionCommands
from adkviewer.state.launch import LaunchRequests
from adkviewer.state.session import Session


class Shell(Protocol):
    """What a tab may ask of the window it sits in."""

    def show_tab(self, key: str) -> None: ...
    def current_tab(self) -> str | None: ...
    def save_dialog(self, title: str, name: str, filt: str, save: Callable[[str], None]) -> None: ...
    def open_ground_truth_dialog(self) -> None: ...
    def save_output_dialog(self, key: str | None = None) -> None: ...
    def save_view_dialog(self) -> None: ...
    def export_metrics_dialog(self) -> None: ...
    def add_method_dialog(self) -> None: ...
    def add_weights_dialog(self) -> None: ...
    def show_status(self, text: str) -> None: ...


@dataclass
class TabContext:
    session: Session
    hub: SessionHub            # notifications: every tab connects to those it shows
    commands: SessionCommands  # the only way a tab changes the session
    jobs: ComputeController    # the session's background work (methods, metrics)
    settings: Settings
    shell: Shell
    camera: Camera = field(default_factory=Camera)  # shared by Compare, Differences (linked) and the field map
    launch: LaunchRequests = field(default_factory=LaunchRequests)


def build_context(parent: QObject, settings: Settings, shell: Shell, device: str | None = None) -> TabContext:
    """A fresh session with its hub, jobs and commands, restored from the settings (`device` overrides)."""
    session = Session()
    hub = SessionHub(parent)
    jobs = ComputeController(session, hub, parent)
    commands = SessionCommands(session, hub, jobs, settings)
    commands.restore(device)
    return TabContext(session, hub, commands, jobs, settings, shell)
