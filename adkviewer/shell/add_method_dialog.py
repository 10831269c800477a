"""File → Add method results…: a person's own downscaler output as a method beside the built-in ones.

The dialog only collects a name, a file or folder and a file-name pattern; `SessionCommands.add_external`
checks them and adds the method, so the command line's --external takes the same path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

from adk_model.errors import UserError
from adk_model.method_registry import STEM, external_method, unique_name

from adkviewer.gui.context import TabContext

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


class AddMethodDialog(QDialog):
    """Name, an LR image (for the open image) or a folder of LR images (matched to pairs by name), a pattern."""

    def __init__(self, ctx: TabContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Add method results")
        form = QFormLayout(self)
        intro = QLabel("LR images made by another downscaler (your own method), shown, scored and compared like a "
                       "built-in method. One image is the open image's result; in a folder, each pair's result is "
                       f"found by name: {STEM} stands for the pair's name (or its HR file's name).")
        intro.setWordWrap(True)
        form.addRow(intro)
        taken = {e.name for e in ctx.session.extras.values()}
        self.name_edit = QLineEdit(unique_name("mine", taken), self)
        form.addRow("Name", self.name_edit)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("an LR image, or a folder of them")
        row.addWidget(self.path_edit, 1)
        for text, pick in (("Image…", self._pick_file), ("Folder…", self._pick_folder)):
            b = QPushButton(text, self)
            b.clicked.connect(pick)
            row.addWidget(b)
        form.addRow("Results", row)
        self.pattern_edit = QLineEdit(STEM, self)
        self.pattern_edit.setToolTip(f"The file name in the folder, e.g. {STEM}_x4_mine.png; without an extension "
                                     "any image type is found")
        form.addRow("File names", self.pattern_edit)
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color:#b00020;")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, self.sizeHint().height())

    def _start(self) -> str:
        return self.ctx.settings.get_str("folders/results", str(Path(self.ctx.session.hr_path or Path.home()).parent))

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "An LR image of your method", self._start(), IMAGE_FILTER)
        if path:
            self.path_edit.setText(path)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A folder of your method's LR images", self._start())
        if path:
            self.path_edit.setText(path)

    def _accept(self) -> None:
        name, path = self.name_edit.text().strip(), self.path_edit.text().strip()
        pattern = self.pattern_edit.text().strip() or STEM
        try:
            external_method(name, path, pattern)  # the name and pattern checks of --external
            if not path or not Path(path).exists():
                raise UserError("Choose an LR image or a folder of them." if not path else f"'{path}' does not exist.")
            if name in {e.name for e in self.ctx.session.extras.values()}:
                raise UserError(f"A method named {name!r} is already there; choose another name.")
        except UserError as e:
            self.problem.setText(str(e))
            return
        self.ctx.settings.set("folders/results", str(Path(path).parent))
        self.ctx.commands.add_external(name, path, pattern)
        self.accept()
