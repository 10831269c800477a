"""Beside the ADK-Net weights the GUI says what the model reproduces, and File → ADK-Net weights shows its card."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMenu, QWidget  # noqa: E402

from adk_model.weights import shipped_weights  # noqa: E402

from adkviewer.shell import help_dialogs, weights_menu  # noqa: E402
from adkviewer.state import weights_registry  # noqa: E402
from adkviewer.tabs.compare.compare_tab import CompareTab  # noqa: E402
from tests.tab_helpers import show_tab, tab_context, textured_image  # noqa: E402

WAIT_MS = 60_000


def test_compare_says_what_the_model_reproduces_and_opens_its_card(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path, methods=["bicubic"])
    tab = show_tab(qtbot, CompareTab(ctx))
    assert ctx.commands.open_image(textured_image(tmp_path))
    qtbot.waitUntil(tab.all_shown, timeout=WAIT_MS)
    text = tab.model_label.text()
    assert tab.model_label.isVisible()
    assert "adknet_x4_lite" in text and "RealSR's Canon and Nikon" in text and "blur and colour" in text
    assert "Quick calibrate or fine-tune" in text
    adk = next(tab.method_list.item(i) for i in range(tab.method_list.count())
               if tab.method_list.item(i).data(Qt.UserRole) == "adknet")
    assert "reproduces the short-focal-length" in adk.toolTip()
    tab.model_label.linkActivated.emit("card")
    dlg = tab.model_label._model_card_dialog  # the note holds its card window
    qtbot.waitExposed(dlg)
    assert "32.76" in dlg.text.toPlainText() and "Validation (20 pairs" in dlg.text.toPlainText()
    dlg.close()
    tab.model_label.linkActivated.emit("train")
    assert ctx.shell.shown == ["train"]
    # no weights at x3: nothing is claimed about a model that is not there
    ctx.commands.set_scale(3)
    assert not tab.model_label.isVisible()


def test_the_weights_menu_offers_the_model_card_and_names_each_exports_run(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path)
    run = tmp_path / "mypairs-x4-20260101-120000"
    run.mkdir()
    best = run / "best_x4.safetensors"
    shutil.copy(shipped_weights(4)[0], best)
    weights_registry.remember(ctx.settings, best)
    parent = QWidget()
    qtbot.addWidget(parent)
    menu = QMenu(parent)
    entries = weights_menu.fill(parent, ctx, menu)
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "Model card of adknet_x4_lite…"
    assert "best_x4 — mypairs-x4-20260101-120000" in [a.text() for a in entries]  # an old run's best_x4: its run
    assert all("reproduces" in a.toolTip() for a in entries)
    menu.actions()[0].trigger()
    assert parent._model_card_dialog.windowTitle() == "Model card: adknet_x4_lite"
    parent._model_card_dialog.close()


def test_about_names_the_version_and_the_model_in_use(qtbot, tmp_path):
    ctx = tab_context(qtbot, tmp_path)
    text = help_dialogs.about_html(ctx.session)
    assert f"ADK Viewer {help_dialogs.version()}" in text and help_dialogs.version()[0].isdigit()
    assert "adknet_x4_lite" in text and "short-focal-length" in text and "Model card" in text
    ctx.session.scale = 3
    assert "No ADK-Net weights for ×3" in help_dialogs.about_html(ctx.session)
