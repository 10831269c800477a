"""The message banner: a few current messages, no repeats, one close button each, and nothing stale left
from a previous image, computation or training run."""

from __future__ import annotations

from pathlib import Path

import pytest

from adkviewer.state.messages import IMAGE, TRAIN, Message, MessageList

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QToolButton  # noqa: E402

from gui_helpers import open_window  # noqa: E402


def test_message_list_keeps_a_few_current_messages_without_repeats():
    ms = MessageList(limit=3)
    for i in range(5):
        ms.add(Message("error", f"e{i}"))
    assert [m.text for m in ms.items] == ["e2", "e3", "e4"]
    ms.add(Message("warning", "e3"))
    assert [m.text for m in ms.items] == ["e2", "e4", "e3"] and ms.level == "error"
    ms.add(Message("error", "t", TRAIN))
    ms.supersede(IMAGE)
    assert [m.text for m in ms.items] == ["t"]
    ms.dismiss(0)
    assert ms.items == [] and ms.level == "" and ms.text() == ""


def _close_buttons(win) -> list[QToolButton]:
    return [row.findChild(QToolButton) for row in win.banner.rows]


def test_banner_rows_are_dismissible_and_cleared_by_a_new_image(qtbot, tmp_path):
    win = open_window(qtbot, ["--methods", "bicubic"])
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    for name in ("a.png", "b.png", "c.png", "d.png"):
        win.hub.error(f"ADK-Net failed on '{name}'.")
    win.hub.error("ADK-Net failed on 'd.png'.")  # the same message again is not listed twice
    assert win.banner.isVisible() and len(win.banner.rows) == 3
    assert [Path(line.split("'")[1]).name for line in win.banner.text().splitlines()] == ["b.png", "c.png", "d.png"]
    buttons = _close_buttons(win)
    qtbot.waitUntil(lambda: all(b.isVisible() and b.width() >= 16 and b.toolTip() for b in buttons))
    qtbot.mouseClick(buttons[1], Qt.LeftButton)
    assert "c.png" not in win.banner.text() and len(win.banner.rows) == 2
    win.hub.error("Training crashed.", TRAIN)
    assert win.open_image(win.session.hr_path)  # a new image: what was said about loading others is stale
    qtbot.waitUntil(win.compare.all_shown, timeout=20_000)
    assert win.banner.text() == "✖ Training crashed." and win.banner.level == "error"
    win.tab("train").start()  # a new run (here refused: no pairs folder) replaces the old run's message
    assert win.banner.text().count("✖") == 1 and "Choose a pairs folder first" in win.banner.text()
    qtbot.mouseClick(_close_buttons(win)[0], Qt.LeftButton)
    assert not win.banner.isVisible() and win.banner.text() == ""


def test_a_failed_open_replaces_the_previous_failed_open(qtbot, tmp_path):
    """Trying three files that would not open left three red rows, two about files no longer being opened."""
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.hub.warning("ADK-Net: retrying with smaller tiles.")  # about the open image: stays
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for bad in (text, tmp_path / "missing.png"):
        assert not win.open_image(bad)
    assert len(win.banner.rows) == 2 and "missing.png" in win.banner.text() and "notes.png" not in win.banner.text()
    assert "smaller tiles" in win.banner.text()
    assert not win.commands.open_ground_truth(text)
    assert "missing.png" not in win.banner.text() and "notes.png" in win.banner.text()


def test_information_leaves_the_status_bar_after_a_while_errors_stay(qtbot, monkeypatch):
    """'Only 7 methods are shown (keys 1-7)…' stayed in the status bar through everything done afterwards."""
    import adkviewer.shell.main_window as mw

    monkeypatch.setattr(mw, "INFO_STATUS_MS", 200)
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.hub.info("Only 7 methods are shown.")
    assert win.statusBar().currentMessage() == "Only 7 methods are shown."
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == "", timeout=5_000)
    win.hub.error("ADK-Net failed.")
    qtbot.wait(400)
    assert win.statusBar().currentMessage() == "ADK-Net failed."


def test_a_restarted_computation_drops_the_previous_jobs_errors(qtbot):
    win = open_window(qtbot, ["--methods", "bicubic"])
    win.hub.error("ADK-Net: out of memory on the previous device.")
    win.hub.warning("ADK-Net: retrying with smaller tiles.")
    assert len(win.banner.rows) == 2
    win.commands.set_device("cpu", 0, remember=False)  # a new job for the same image
    qtbot.waitUntil(win.compare.all_shown, timeout=20_000)
    assert not win.banner.isVisible()


def test_a_ground_truth_warning_survives_the_open_that_raised_it(qtbot, tmp_path):
    from PIL import Image

    (tmp_path / "HR").mkdir()
    (tmp_path / "LR").mkdir()
    Image.new("RGB", (64, 64), (90, 120, 200)).save(tmp_path / "HR" / "p.png")
    (tmp_path / "LR" / "p.png").write_text("not an image")
    win = open_window(qtbot, [str(tmp_path / "HR" / "p.png"), "--methods", "bicubic"])
    assert win.banner.level == "warning" and "Ground truth not used" in win.banner.text()
