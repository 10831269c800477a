"""The session commands are Qt-free: they run here with a recording event sink, plain settings and inline jobs."""

from __future__ import annotations

import numpy as np
from PIL import Image

from adkviewer.state.commands import SessionCommands
from adkviewer.state.session import Session


class _Signal:
    def __init__(self, name: str, log: list) -> None:
        self.name, self.log = name, log

    def emit(self, *args) -> None:
        self.log.append((self.name, *args))


class Events:
    """Records what the commands announce, in order (the GUI's SessionHub has the same names)."""

    def __init__(self) -> None:
        self.log: list[tuple] = []
        for name in ("imageOpened", "imageChanged", "groundTruthChanged", "scaleChanged", "methodsChanged",
                     "weightsChanged", "deviceChanged"):
            setattr(self, name, _Signal(name, self.log))

    def info(self, text, scope="image"):
        self.log.append(("info", text))

    def warning(self, text, scope="image"):
        self.log.append(("warning", text))

    def error(self, text, scope="image"):
        self.log.append(("error", text))

    def supersede(self, scope):
        self.log.append(("supersede", scope))

    def names(self) -> list[str]:
        return [e[0] for e in self.log]


class Jobs:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def run_blocking(self, fn):
        return fn()

    def compute(self):
        self.calls.append("compute")

    def restart(self):
        self.calls.append("restart")

    def refresh_metrics(self):
        self.calls.append("refresh_metrics")


class Settings(dict):
    def set(self, key, value):
        self[key] = value

    def has(self, key):
        return key in self

    def get_list(self, key):
        return list(self.get(key, []))

    def get_int(self, key, default=0):
        return int(self.get(key, default))

    def get_str(self, key, default=""):
        return str(self.get(key, default))

    def add_recent(self, path):
        self["recent"] = [path] + [p for p in self.get_list("recent") if p != path]


def _commands():
    ev, jobs, st = Events(), Jobs(), Settings()
    return SessionCommands(Session(), ev, jobs, st), ev, jobs, st


def _png(path, h=32, w=40, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def test_open_image_changes_the_session_then_notifies_in_order_and_remembers(tmp_path):
    cmd, ev, jobs, st = _commands()
    path = _png(tmp_path / "a.png")
    assert cmd.open_image(path)
    assert cmd.session.hr_path == str(path) and cmd.session.lr_shape == (8, 10)
    names = ev.names()
    assert names.index("imageOpened") < names.index("imageChanged") < names.index("scaleChanged")
    assert jobs.calls == ["restart"] and st["recent"] == [str(path.resolve())]
    assert ev.log[-1][0] == "info" and "Opened a.png" in ev.log[-1][1]


def test_a_bad_file_is_one_message_and_changes_nothing(tmp_path):
    cmd, ev, jobs, _st = _commands()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert not cmd.open_image(bad)
    assert cmd.session.hr_full is None and jobs.calls == []
    assert [e[0] for e in ev.log if e[0] in ("error", "imageChanged")] == ["error"]


def test_methods_scale_device_and_weights_notify_and_compute(tmp_path):
    cmd, ev, jobs, st = _commands()
    cmd.open_image(_png(tmp_path / "a.png", 48, 48))
    ev.log.clear()
    jobs.calls.clear()
    cmd.set_methods(["bicubic", "nearest", "unknown"])
    assert cmd.session.methods == ["nearest", "bicubic"] and st["compare/methods"] == ["nearest", "bicubic"]
    cmd.set_scale(2)
    assert cmd.session.scale == 2 and st["compare/scale"] == 2
    cmd.set_device("cpu", 64)
    assert (cmd.session.device, cmd.session.budget_mb) == ("cpu", 64) and st["budget_mb"] == 64
    cmd.set_weights(None)
    assert ev.names()[:1] == ["methodsChanged"] and "weightsChanged" in ev.names()
    device = [e for e in ev.log if e[0] == "deviceChanged"][0][1]
    assert "CPU" in device and "tile budget 64 MB" in device
    assert jobs.calls == ["compute", "restart", "restart", "restart"]


def test_a_wrong_size_ground_truth_says_the_previous_one_is_still_used(tmp_path):
    cmd, ev, jobs, _st = _commands()
    cmd.open_image(_png(tmp_path / "a.png", 32, 40))
    assert cmd.open_ground_truth(_png(tmp_path / "a_lr.png", 8, 10))
    jobs.calls.clear()
    assert not cmd.open_ground_truth(_png(tmp_path / "other.png", 9, 10))
    said = [e[1] for e in ev.log if e[0] == "error"][-1]
    assert "is 10x9" in said and "the previous ground truth 'a_lr.png' is still used" in said
    assert "metrics are off" not in said  # they are not: the old ground truth scores on
    assert cmd.session.gt_path == str(tmp_path / "a_lr.png") and cmd.session.gt.shape == (8, 10, 3)
    assert jobs.calls == []  # nothing recomputed, nothing changed
    cmd.forget_ground_truth()
    assert not cmd.open_ground_truth(_png(tmp_path / "other.png", 9, 10))
    assert [e[1] for e in ev.log if e[0] == "error"][-1].endswith("metrics are off.")


def test_the_chosen_weights_come_back_on_the_next_start_and_gone_ones_are_said(tmp_path):
    import shutil

    from adk_model.weights import shipped_weights

    cmd, _ev, _jobs, st = _commands()
    mine = tmp_path / "mine.safetensors"
    shutil.copy(shipped_weights(4)[0], mine)
    cmd.set_weights(mine)
    assert st["weights/current"] == str(mine.resolve())
    later = SessionCommands(Session(), Events(), Jobs(), st)  # the next start, same settings
    later.restore()
    assert later.session.weights_path == str(mine.resolve()) and later.session.adknet_weights() == mine.resolve()
    later.set_weights(None)  # File → ADK-Net weights → the shipped ones
    again = SessionCommands(Session(), Events(), Jobs(), st)
    again.restore()
    assert again.session.weights_path is None
    cmd.set_weights(mine)
    mine.unlink()
    ev = Events()
    gone = SessionCommands(Session(), ev, Jobs(), st)
    gone.restore()
    assert gone.session.weights_path is None and ev.log == []  # said once the window listens
    gone.say_restore_notes()
    assert ev.log[0][0] == "warning" and f"{mine.resolve()}, are gone; using the shipped ones" in ev.log[0][1]
    assert st["weights/current"] == ""


def test_a_least_squares_fit_made_in_the_gui_is_used_at_its_scale_and_restored(tmp_path):
    from adk_model.baselines import fit_lstsq, save_lstsq

    cmd, ev, jobs, st = _commands()
    hr = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    path = tmp_path / "lstsq_x2_cam.safetensors"
    save_lstsq(fit_lstsq([(hr, hr.reshape(8, 2, 8, 2, 3).mean(axis=(1, 3)))], 2, taps=4), path)
    cmd.session.scale = 2
    assert cmd.session.unavailable("lstsq").startswith("no least-squares fit for x2")
    cmd.set_lstsq(2, path)
    assert cmd.session.unavailable("lstsq") is None and cmd.session.method_set().lstsq_path == str(path)
    assert "methodsChanged" in ev.names() and jobs.calls[-1] == "compute"
    later = SessionCommands(Session(), Events(), Jobs(), st)
    later.restore()
    assert later.session.lstsq_paths == {2: str(path.resolve())}
    path.unlink()  # gone by the next start: not offered
    again = SessionCommands(Session(), Events(), Jobs(), st)
    again.restore()
    assert again.session.lstsq_paths == {}
