"""A window showing a weights file's model card (what it reproduces, training data, validation table)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from adkviewer.state.model_info import card_html, card_summary


class ModelCardDialog(QDialog):
    """Non-modal: a person can keep it open beside the views."""

    def __init__(self, path: str | os.PathLike, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        summary = card_summary(path)
        self.setWindowTitle(f"Model card: {summary.name}")
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(card_html(summary))
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(620, 560)


def show_model_card(path: str | os.PathLike, parent: QWidget | None = None) -> ModelCardDialog:
    """Open the card window (kept alive by its parent) and return it."""
    old = getattr(parent, "_model_card_dialog", None)
    if old is not None:
        old.close()  # one card window at a time
    dlg = ModelCardDialog(path, parent)
    dlg.show()
    if parent is not None:
        parent._model_card_dialog = dlg
    return dlg
