"""The form <-> TrainSettings, and the pairs folder: browsing, scanning, the pairs table."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem

from adk_model.calibration_check import few_pairs_note
from adk_model.weights import describe_weights, shipped_weights

from adk_model.splits import SPLIT_FILENAME

from adkviewer.state.messages import PAIRS, TRAIN
from adkviewer.state.session import SCALES
from adkviewer.tabs.train.train_state import (FINE_TUNE_DEFAULTS, INITS, PICK_FILE, SCRATCH_DEFAULTS, SPLIT_FILE,
                                              SPLIT_FRACTION, PairScan, TrainSettings, init_choices, scan_pairs)
from adkviewer.tabs.train.train_widgets import no_val_text
from adkviewer.gui.jobs import run_off_gui_thread


class TrainForm:
    """A part of TrainTab (its attributes are the tab's own)."""

    def _connect_form(self) -> None:
        self.pairs_edit.editingFinished.connect(self._schedule_scan)
        self.scale_combo.currentIndexChanged.connect(lambda _i: (self._sync_init_choices(), self._schedule_scan()))
        self.split_file_radio.toggled.connect(lambda _on: (self._split_choice_made(), self._sync_form_enabled(),
                                                           self._schedule_scan()))
        self.fraction_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.seed_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.init_combo.activated.connect(lambda _i: self._on_init_picked())

    def _split_choice_made(self) -> None:
        self._split_file_wanted = False  # a person chose: a folder without split.json no longer overrides it

    def remembered_form(self) -> TrainSettings:
        """The form as it is remembered: with 'split.json in the folder' where only a folder without one set the
        fraction (the next folder, or the next start, has split.json again)."""
        s = self.form()
        if getattr(self, "_split_file_wanted", False):
            s.split_mode = SPLIT_FILE
        return s

    def form(self) -> TrainSettings:
        """The settings as the form shows them."""
        s = TrainSettings(
            pairs=self.pairs_edit.text().strip(),
            split_mode=SPLIT_FILE if self.split_file_radio.isChecked() else SPLIT_FRACTION,
            val_fraction=round(self.fraction_spin.value(), 4), seed=self.seed_spin.value(),
            scale=int(self.scale_combo.currentData()), preset=self.preset_combo.currentData(), k=self.k_spin.value(),
            init=self.init_combo.currentData(), calibrate_first=self.calfirst_check.isChecked(),
            lr=self.lr_spin.value(), batch=self.batch_spin.value(),
            patch=self.patch_spin.value(), iterations=self.iter_spin.value(), val_every=self.val_spin.value(),
            ckpt_every=self.ckpt_spin.value(), device=self.device_combo.currentData(),
            out_root=self.out_edit.text().strip() or TrainSettings().out_root,
            per_camera=self.cameras_combo.currentData())
        s.model_overrides = dict(getattr(self, "_model_overrides", {}))
        return s

    def set_form(self, s: TrainSettings) -> None:
        """Show these settings (remembered ones, a checkpoint's, or the defaults); the pairs are scanned again."""
        widgets = [self.split_file_radio, self.fraction_spin, self.seed_spin, self.scale_combo, self.init_combo]
        for w in widgets:
            w.blockSignals(True)
        self.pairs_edit.setText(s.pairs)
        (self.split_file_radio if s.split_mode == SPLIT_FILE else self.split_fraction_radio).setChecked(True)
        self.fraction_spin.setValue(s.val_fraction)
        self.seed_spin.setValue(s.seed)
        self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(s.scale)))
        if s.init not in INITS and s.init not in self._init_files:
            self._init_files = (*self._init_files, s.init)  # a remembered or resumed run's weights file
        self._sync_init_choices(select=s.init)
        self.calfirst_check.setChecked(s.calibrate_first)
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(s.preset)))
        self.k_spin.setValue(s.k)
        self.lr_spin.setValue(s.lr)
        self.batch_spin.setValue(s.batch)
        self.patch_spin.setValue(s.patch)
        self.iter_spin.setValue(s.iterations)
        self.val_spin.setValue(s.val_every)
        self.ckpt_spin.setValue(s.ckpt_every)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(s.device)))
        self.out_edit.setText(s.out_root)
        self.cameras_combo.setCurrentIndex(max(0, self.cameras_combo.findData(s.per_camera)))
        self._model_overrides = dict(s.model_overrides)
        for w in widgets:
            w.blockSignals(False)
        self._sync_form_enabled()
        self._schedule_scan()

    def _sync_init_choices(self, select: str | None = None) -> None:
        """Fill "Start from" for the form's scale (shipped, calibrated, exported, files, scratch), keeping the
        choice (or taking `select`) where it is still offered."""
        scale = int(self.scale_combo.currentData())
        choices = init_choices(scale, self._calibrated, self.settings, self._init_files)
        want = select or self.init_combo.currentData()
        combo = self.init_combo
        combo.blockSignals(True)
        combo.clear()
        for c in choices:
            combo.addItem(c.label, c.init)
            combo.setItemData(combo.count() - 1, c.tip, Qt.ToolTipRole)
            combo.model().item(combo.count() - 1).setEnabled(c.enabled)
        usable = [c.init for c in choices if c.enabled and c.init != PICK_FILE]
        fallback = want not in usable
        combo.setCurrentIndex(combo.findData(want if not fallback else "shipped" if "shipped" in usable else "scratch"))
        combo.blockSignals(False)
        self._init_prev = combo.currentData()
        if fallback and want is not None and want != self._init_prev:
            self._on_init_picked()  # the defaults of the start it fell back to
        self._sync_form_enabled()

    def _on_init_picked(self) -> None:
        init = self.init_combo.currentData()
        if init == PICK_FILE:
            self.init_combo.setCurrentIndex(self.init_combo.findData(self._init_prev))
            start = self.settings.get_str("folders/weights", str(Path.home()))
            path, _ = QFileDialog.getOpenFileName(self, "Start from these ADK-Net weights", start,
                                                  "ADK-Net weights (*.safetensors)")
            if path:
                self.set_init_file(path)
            return
        d = SCRATCH_DEFAULTS if init == "scratch" else FINE_TUNE_DEFAULTS
        self.lr_spin.setValue(d["lr"])
        self.iter_spin.setValue(d["iterations"])
        self.calfirst_check.setChecked(init != self._calibrated)  # that model is calibrated on these pairs already
        self._init_prev = init
        self._sync_form_enabled()

    def set_init_file(self, path: str | Path) -> bool:
        """Start from a weights file (as `adkviewer train --init FILE`); the form's scale follows the file's."""
        info = run_off_gui_thread(lambda: describe_weights(path))
        if info.problem or info.scale not in SCALES:
            self.hub.error(info.problem or f"{Path(path).name} holds weights for no supported scale.", TRAIN)
            return False
        path = str(Path(path).resolve())
        self.settings.set("folders/weights", str(Path(path).parent))
        self._init_files = (*[f for f in self._init_files if f != path], path)
        if info.scale != self.scale_combo.currentData():
            self.scale_combo.setCurrentIndex(self.scale_combo.findData(info.scale))  # fills the choices anew
        self._sync_init_choices(select=path)
        self._on_init_picked()
        return True

    def reset_defaults(self) -> None:
        cur = self.form()
        d = TrainSettings(pairs=cur.pairs, split_mode=cur.split_mode, val_fraction=cur.val_fraction, seed=cur.seed,
                          scale=cur.scale, out_root=cur.out_root, device=cur.device)
        if not shipped_weights(cur.scale) or cur.init == "scratch":
            d.init, d.lr, d.iterations = "scratch", SCRATCH_DEFAULTS["lr"], SCRATCH_DEFAULTS["iterations"]
        self.set_form(d)

    def _sync_form_enabled(self) -> None:
        idle = not self.runner.busy
        for w in self._form_widgets:
            w.setEnabled(idle)
        if idle:
            scratch = self.init_combo.currentData() == "scratch"
            self.preset_combo.setEnabled(scratch)
            self.k_spin.setEnabled(scratch)
            self.calfirst_check.setEnabled(not scratch)
            tip = "" if scratch else " — fine-tuning keeps the shipped model's architecture"
            self.preset_combo.setToolTip("lite: sized for 2 CPU cores; paper: larger, for a GPU" + tip)
            frac = self.split_fraction_radio.isChecked()
            self.fraction_spin.setEnabled(frac)
            self.split_file_radio.setEnabled(not getattr(self, "_no_split_file", False))
        self._sync_few_pairs_note()

    def _sync_few_pairs_note(self) -> None:
        """Under Quick calibrate, while fine-tuning would run on a small folder (the engine's words)."""
        scan = getattr(self, "scan", None)
        usable = scan is not None and not scan.error and scan.n_train > 0
        note = few_pairs_note(scan.n_train + scan.n_val, self.init_combo.currentData() or "") if usable else None
        self.few_pairs_note.setText(f"⚠ {note}" if note else "")
        self.few_pairs_note.setVisible(bool(note))

    def browse_pairs(self) -> None:
        start = self.pairs_edit.text() or self.settings.get_str("folders/train_pairs", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, "Choose a pairs folder (HR/ and LR/, or RealSR names)", start)
        if path:
            self.pairs_edit.setText(path)
            self.settings.set("folders/train_pairs", str(Path(path).parent))
            self.rescan()

    def browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for training runs", self.out_edit.text())
        if path:
            self.out_edit.setText(path)

    def _schedule_scan(self) -> None:
        self._scan_timer.start()

    def rescan(self) -> PairScan | None:
        """Check the pairs (headers only, off the GUI thread) and fill the table; every problem is named per pair."""
        self._scan_timer.stop()
        self.hub.supersede(PAIRS)  # 'choose a pairs folder first' and the last scan's problem are now stale
        s = self.form()
        before = getattr(self, "_scanned_pairs", None)  # None: the first scan
        if before is not None and s.pairs != before and not self.runner.busy:
            self.hub.supersede(TRAIN)  # another folder: what was said of the last one's run or calibration goes
        self._scanned_pairs = s.pairs
        if not s.pairs:
            self._sync_split_choice("", None)
            self.scan = None
            self._sync_few_pairs_note()
            self.plots.sync_notes()
            self.pairs_table.setRowCount(0)
            self.pairs_summary.setText("<span style='color:gray'>Choose a folder with HR/ and LR/ subfolders "
                                       "(matched by file name), or RealSR-named pairs (NAME_HR.png beside "
                                       "NAME_LR4.png).</span>")
            return None
        has_file = run_off_gui_thread(  # None: no such folder (the scan says so)
            lambda: (Path(s.pairs) / SPLIT_FILENAME).is_file() if Path(s.pairs).is_dir() else None)
        self._sync_split_choice(s.pairs, has_file)
        wanted = getattr(self, "_split_file_wanted", False)
        if has_file is False and s.split_mode == SPLIT_FILE:  # no split file: a seeded fraction, said under the choice
            self._set_split_radio(self.split_fraction_radio)
            self._split_file_wanted = True
            s = self.form()
        elif has_file and wanted and s.split_mode != SPLIT_FILE:  # split.json again: the person's choice is back
            self._set_split_radio(self.split_file_radio)
            self._split_file_wanted = False
            s = self.form()
        scan = run_off_gui_thread(lambda: scan_pairs(s.pairs, s.scale, s.split_mode, s.val_fraction, s.seed))
        if has_file is False and scan.split_note:
            scan.split_note = "No split.json in the folder: " + scan.split_note[0].lower() + scan.split_note[1:]
        self.scan = scan
        self._fill_table(scan)
        self._sync_few_pairs_note()
        self.plots.sync_notes()  # "choose a pairs folder" goes once one is usable
        return scan

    def _set_split_radio(self, radio) -> None:
        for r in (self.split_file_radio, self.split_fraction_radio):
            r.blockSignals(True)
        radio.setChecked(True)
        for r in (self.split_file_radio, self.split_fraction_radio):
            r.blockSignals(False)
        self._sync_form_enabled()

    def _sync_split_choice(self, folder: str, has_file: bool | None) -> None:
        """'split.json in the folder' is off, with the reason under it, while the folder has none."""
        self._no_split_file = has_file is False
        radio, note = self.split_file_radio, self.split_file_note
        if self._no_split_file:
            tip = (f"No {SPLIT_FILENAME} in {folder}. Write one, {{\"scale\": 4, \"train\": [names], \"val\": "
                   "[names]}, to choose the validation pairs by name; until then a seeded fraction validates.")
            note.setText(f"no {SPLIT_FILENAME} in this folder: a seeded fraction validates (below)")
        else:
            tip = f"Validate on the \"val\" list of {SPLIT_FILENAME} in the pairs folder"
        radio.setToolTip(tip)
        note.setToolTip(tip)
        note.setVisible(self._no_split_file)
        self._sync_form_enabled()

    def mark_unreadable(self, unreadable: dict[str, str]) -> None:
        """Rows whose images would not decode when a run loaded them (the scan reads only headers): red, as the
        scan's own unusable rows, and left out of the run."""
        t = self.pairs_table
        for i in range(t.rowCount()):
            why = unreadable.get(t.item(i, 0).text()) if t.item(i, 0) else None
            if why is None:
                continue
            for c in range(t.columnCount()):
                t.item(i, c).setForeground(QBrush(QColor("#b00020")))
            t.item(i, 1).setText("—")
            t.item(i, 4).setText(f"unreadable: {why}")
            t.item(i, 4).setToolTip(f"unreadable: {why}")

    def _fill_table(self, scan: PairScan) -> None:
        t = self.pairs_table
        t.setRowCount(len(scan.rows))
        bad_brush = QBrush(QColor("#b00020"))
        grey = QBrush(QColor("#808080"))
        for i, r in enumerate(scan.rows):
            for c, text in enumerate((r.name, r.role, r.hr, r.lr, r.status)):
                it = QTableWidgetItem(text)
                if not r.ok:
                    it.setForeground(bad_brush)
                elif r.role == "—":
                    it.setForeground(grey)
                if c == 4:
                    it.setToolTip(text)
                t.setItem(i, c, it)
        colour = "#b00020" if scan.error else "#333333"
        text = f"<span style='color:{colour}'>{html.escape(scan.summary)}</span>"
        if scan.no_val:
            text += f"<br><span style='color:#b05000'>⚠ {html.escape(no_val_text(scan.no_val))}</span>"
        bad = [r for r in scan.rows if not r.ok]
        if bad:  # one line: the table lists each (red, first), so the form below stays in view without scrolling
            first = f"{bad[0].name}: {bad[0].status}"
            first = first if len(first) <= 60 else first[:57] + "…"
            text += (f"<br><span style='color:#b00020'>Red rows cannot be used ({html.escape(first)}"
                     f"{f'; {len(bad) - 1} more' if len(bad) > 1 else ''}); hover a status for all of it.</span>")
        self.pairs_summary.setText(text)
        self.pairs_summary.setToolTip("\n".join(f"{r.name}: {r.status}" for r in bad))
