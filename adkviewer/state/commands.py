"""The commands that change the session (open an image, scale, methods, device, weights), Qt-free.

Each command changes the `Session`, remembers the choice in the settings, notifies the views through
`events` (the Qt signal hub in the app; any object with the same signal names in a test) and asks `jobs`
to (re)compute. Menus, tabs and the command line all call these, so none of them needs the main window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol

from adk_model.devices import describe_device, resolve_device
from adk_model.errors import UserError
from adk_model.imageio import DEFAULT_MAX_PIXELS, load_image, set_max_megapixels
from adk_model.method_registry import ADKNET_PREFIX, STEM, ExtraMethod, adknet_method, external_method, unique_name
from adk_model.methods import ALL_METHODS
from adk_model.weights import describe_weights, shipped_weights

from adkviewer.resources import demo_image
from adkviewer.state.model_info import card_summary
from adkviewer.state.messages import IMAGE, OPEN, SETTINGS
from adkviewer.state.session import SCALES, Session, read_files


WEIGHTS_KEY = "weights/current"  # the ADK-Net weights in use ("" or absent: the shipped ones)
LSTSQ_KEY = "lstsq/x"            # + scale: a least-squares fit made in the GUI ("" or absent: the shipped one)


class Jobs(Protocol):
    """The background work the commands start (the GUI's ComputeController)."""

    def run_blocking(self, fn: Callable[[], Any]) -> Any: ...
    def compute(self) -> None: ...
    def restart(self) -> None: ...
    def refresh_metrics(self) -> None: ...


class SessionCommands:
    """Change the session, remember the choice, notify, compute: the one place each of these happens."""

    def __init__(self, session: Session, events: Any, jobs: Jobs, settings: Any) -> None:
        self.session, self.events, self.jobs, self.settings = session, events, jobs, settings
        self._loading = False
        self._restore_notes: list[str] = []  # said once the window listens (say_restore_notes)

    # ------------------------------------------------------------------ start-up

    def restore(self, device: str | None = None) -> None:
        """Ticked methods, tile budget, device (`device` wins) and scale as remembered."""
        s, st = self.session, self.settings
        if st.has("compare/methods"):
            s.methods = [m for m in ALL_METHODS if m in st.get_list("compare/methods")]
        s.budget_mb = st.get_int("budget_mb", 0)
        set_max_megapixels(self.max_megapixels())
        s.device = device or st.get_str("device", "auto") or "auto"
        if st.has("compare/scale") and st.get_int("compare/scale", 4) in SCALES:
            s.scale = st.get_int("compare/scale", 4)
        else:
            have = [sc for sc in (4, 2, 3) if shipped_weights(sc)]
            s.scale = have[0] if have else 4
        self._restore_weights()
        for sc in SCALES:  # least-squares fits made in the GUI, while their files are there
            path = self.settings.get_str(f"{LSTSQ_KEY}{sc}", "")
            if path and Path(path).is_file():
                s.lstsq_paths[sc] = path

    def _restore_weights(self) -> None:
        """The ADK-Net weights chosen last time, if they are still there and readable (else the shipped ones)."""
        path = self.settings.get_str(WEIGHTS_KEY, "")
        if not path:
            return
        info = describe_weights(path) if Path(path).is_file() else None
        if info is None or info.problem:
            why = "are gone" if info is None else f"cannot be read ({info.problem})"
            self._restore_notes.append(f"The ADK-Net weights chosen last time, {path}, {why}; using the shipped "
                                       "ones (File → ADK-Net weights chooses others).")
            self.settings.set(WEIGHTS_KEY, "")
            return
        self.session.set_weights(path)

    def say_restore_notes(self) -> None:
        """What `restore` could not bring back, said once the window's banner listens."""
        for text in self._restore_notes:
            self.events.warning(text, SETTINGS)
        self._restore_notes = []

    def max_megapixels(self) -> int:
        """The largest image opened, in megapixels, as remembered (Settings), else the loader's default."""
        default = DEFAULT_MAX_PIXELS // 10**6
        return self.settings.get_int("max_megapixels", default) or default

    def set_max_megapixels(self, megapixels: int) -> None:
        self.settings.set("max_megapixels", int(megapixels))
        set_max_megapixels(megapixels)

    def device_text(self) -> str:
        """The device in words (with the tile budget); a device that cannot be used falls back to auto, said once."""
        try:
            dev = describe_device(resolve_device(self.session.device))
        except UserError as e:
            self.events.warning(f"{e} Using the automatic choice instead.", SETTINGS)
            self.session.device = "auto"
            dev = describe_device(resolve_device("auto"))
        budget = f", tile budget {self.session.budget_mb} MB" if self.session.budget_mb else ""
        return f"{dev}{budget}"

    # ------------------------------------------------------------------ image and ground truth

    @property
    def busy_opening(self) -> bool:
        return self._loading

    def open_image(self, path: str | Path | None, gt: str | Path | None = None, scale: int | None = None,
                   pair_name: str | None = None) -> bool:
        """Open an HR (and optionally its ground truth; `pair_name` when it is a pair of a pairs folder); a problem
        is a message, never raised.

        Files are read through `jobs.run_blocking` (off the GUI thread); this returns when they are open.
        """
        if path is None:
            return False
        ev, s = self.events, self.session
        if self._loading:
            ev.info("Still opening the previous file; try again in a moment.")
            return False
        old_scale = s.scale
        ev.supersede(OPEN)  # a failure to open another file no longer applies
        self._loading = True
        try:
            if scale is not None and scale not in SCALES:
                raise UserError(f"Scale x{scale} is not supported; choose x2, x3 or x4.")
            files = self.jobs.run_blocking(lambda: read_files(path, gt))
            if scale is not None:
                s.scale = scale
            notes = s.open_image(path, fixed_scale=scale is not None, files=files, pair_name=pair_name)
        except UserError as e:
            s.scale = old_scale
            ev.error(str(e), OPEN)
            return False
        finally:
            self._loading = False
        self.settings.set("folders/open", str(Path(path).resolve().parent))
        if Path(path).resolve() != (demo_image() or Path()).resolve():
            self.settings.add_recent(str(Path(path).resolve()))
        ev.imageOpened.emit(str(path))
        ev.imageChanged.emit()
        ev.scaleChanged.emit(s.scale)
        self.jobs.restart()  # supersedes the previous image's messages, so this one's come after
        if s.gt_problem:
            ev.warning(s.gt_problem)
        name = Path(path).name
        ev.info(f"Opened {name}" + (f": {'; '.join(notes)}" if notes else "") +
                ("" if s.has_gt else " — no ground-truth LR, metrics off"))
        return True

    def open_ground_truth(self, path: str | Path) -> bool:
        ev, s = self.events, self.session
        old = s.scale
        ev.supersede(OPEN)
        try:
            img = self.jobs.run_blocking(lambda: load_image(path))
            notes = s.open_ground_truth(path, image=img)
        except UserError as e:
            ev.error(str(e), OPEN)
            return False
        ev.supersede(IMAGE)
        ev.info(f"Ground truth {Path(path).name}" + (f": {'; '.join(notes)}" if notes else ""))
        ev.groundTruthChanged.emit()
        if s.scale != old:
            ev.scaleChanged.emit(s.scale)
            ev.imageChanged.emit()
            self.jobs.restart()
        else:
            self.jobs.refresh_metrics()
        return True

    def forget_ground_truth(self) -> None:
        self.session.clear_ground_truth()
        self.events.groundTruthChanged.emit()

    # ------------------------------------------------------------------ methods, scale, device, weights

    def set_methods(self, methods: list[str]) -> None:
        """Tick exactly these methods; missing results are computed, and the choice is remembered."""
        s = self.session
        s.methods = [m for m in s.known_methods() if m in methods]
        self.settings.set("compare/methods", [m for m in s.methods if m in ALL_METHODS])
        self.events.methodsChanged.emit()
        self.jobs.compute()

    def add_method(self, extra: ExtraMethod) -> None:
        """Add a method beside the others (more ADK-Net weights, one's own results), ticked and computed."""
        self.session.add_method(extra)
        self.events.methodsChanged.emit()
        self.jobs.compute()
        self.events.info(f"Added {self.session.label(extra.key)} ({extra.path})")

    def add_weights(self, path: str | Path, name: str | None = None) -> str | None:
        """More ADK-Net weights as a method beside the main model, labelled from its card (named `name`, else
        after the card); the key, or None."""
        s = self.session
        info = describe_weights(path)
        problem = info.problem or (None if info.scale == s.scale else
                                   f"{Path(path).name} is for x{info.scale}, not the current x{s.scale}.")
        if problem:
            self.events.error(problem)
            return None
        same = [e for e in s.extras.values() if e.is_adknet and Path(e.path).resolve() == Path(path).resolve()]
        # the same file again (a run's model exported anew) replaces its method, so its output is recomputed
        name = name or (same[0].name if same else unique_name(info.name, {e.name for e in s.extras.values()}))
        label = card_summary(path).method_label(None if name == unique_name(info.name, set()) else name)
        self.add_method(adknet_method(name, str(path), label=label))
        return ADKNET_PREFIX + name

    def add_external(self, name: str, path: str | Path, pattern: str = STEM) -> str | None:
        """One's own results (an LR file, or a folder matched by `pattern`) as a method; the key, or None."""
        try:
            if not Path(path).exists():
                raise UserError(f"'{path}' does not exist.")
            extra = external_method(name, str(path), pattern)
        except UserError as e:
            self.events.error(str(e))
            return None
        self.add_method(extra)
        return extra.key

    def remove_method(self, key: str) -> None:
        self.session.remove_method(key)
        self.events.methodsChanged.emit()

    def set_scale(self, scale: int) -> None:
        s, ev = self.session, self.events
        if scale == s.scale:
            return
        try:
            notes = s.set_scale(scale)
        except UserError as e:
            ev.error(str(e))
            return
        self.settings.set("compare/scale", scale)
        ev.scaleChanged.emit(scale)
        ev.imageChanged.emit()
        self.jobs.restart()
        for n in notes:
            (ev.warning if n.startswith("Ground truth") else ev.info)(n)

    def set_device(self, device: str, budget_mb: int = 0, remember: bool = True) -> None:
        self.events.supersede(SETTINGS)
        self.session.set_device(device, budget_mb)
        if remember:
            self.settings.set("device", device)
            self.settings.set("budget_mb", int(budget_mb))
        self.events.deviceChanged.emit(self.device_text())
        self.jobs.restart()

    def set_lstsq(self, scale: int, path: str | Path | None) -> None:
        """Use this least-squares fit at `scale` from now on and on the next start (None: the shipped one)."""
        self.session.set_lstsq(scale, path)
        self.settings.set(f"{LSTSQ_KEY}{int(scale)}", str(Path(path).resolve()) if path else "")
        self.events.methodsChanged.emit()  # its label names the fit
        self.jobs.compute()

    def set_weights(self, path: str | Path | None, remember: bool = True) -> None:
        """Use these ADK-Net weights (e.g. a fine-tuned model; None: the shipped ones) from now on, and on the next
        start unless `remember` is False (a --weights given on the command line)."""
        self.session.set_weights(path)
        if remember:
            self.settings.set(WEIGHTS_KEY, str(Path(path).resolve()) if path else "")
        self.events.weightsChanged.emit()
        self.jobs.restart()
