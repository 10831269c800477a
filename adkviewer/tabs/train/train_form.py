"""The form <-> TrainSettings, and the pairs folder: browsing, scanning, the pairs table."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem

from adk_model.weights import shipped_weights

from adkviewer.state.messages import PAIRS
from adkviewer.tabs.train.train_state import (FINE_TUNE_DEFAULTS, SCRATCH_DEFAULTS, SPLIT_FILE, SPLIT_FRACTION,
                                              PairScan, TrainSettings, scan_pairs)
from adkviewer.gui.workers import run_off_gui_thread


class TrainForm:
    """A part of TrainTab (its attributes are the tab's own)."""

    def _connect_form(self) -> None:
        self.pairs_edit.editingFinished.connect(self._schedule_scan)
        self.scale_combo.currentIndexChanged.connect(lambda _i: (self._sync_init_choices(), self._schedule_scan()))
        self.split_file_radio.toggled.connect(lambda _on: (self._sync_form_enabled(), self._schedule_scan()))
        self.fraction_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.seed_spin.valueChanged.connect(lambda _v: self._schedule_scan())
        self.init_combo.activated.connect(lambda _i: self._on_init_picked())

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
            out_root=self.out_edit.text().strip() or TrainSettings().out_root)
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
        self._sync_init_choices()
        self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(s.init)))
        if not self.init_combo.model().item(self.init_combo.currentIndex()).isEnabled():
            self.init_combo.setCurrentIndex(self.init_combo.findData("scratch"))
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
        self._model_overrides = dict(s.model_overrides)
        for w in widgets:
            w.blockSignals(False)
        self._sync_form_enabled()
        self._schedule_scan()

    def _sync_init_choices(self) -> None:
        scale = int(self.scale_combo.currentData())
        have = bool(shipped_weights(scale))
        item = self.init_combo.model().item(self.init_combo.findData("shipped"))
        item.setEnabled(have)
        item.setText("Shipped weights (fine-tune)" if have else f"Shipped weights (none for ×{scale})")
        if not have and self.init_combo.currentData() == "shipped":
            self.init_combo.setCurrentIndex(self.init_combo.findData("scratch"))
            self._on_init_picked()
        self._sync_form_enabled()

    def _on_init_picked(self) -> None:
        d = FINE_TUNE_DEFAULTS if self.init_combo.currentData() == "shipped" else SCRATCH_DEFAULTS
        self.lr_spin.setValue(d["lr"])
        self.iter_spin.setValue(d["iterations"])
        self._sync_form_enabled()

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
        if not s.pairs:
            self.scan = None
            self.pairs_table.setRowCount(0)
            self.pairs_summary.setText("<span style='color:gray'>Choose a folder with HR/ and LR/ subfolders "
                                       "(matched by file name), or RealSR-named pairs (NAME_HR.png beside "
                                       "NAME_LR4.png).</span>")
            return None
        scan = run_off_gui_thread(lambda: scan_pairs(s.pairs, s.scale, s.split_mode, s.val_fraction, s.seed))
        if scan.error and s.split_mode == SPLIT_FILE and "split.json" in scan.error and "does not exist" in scan.error:
            # no split file: fall back to a seeded fraction, and say so
            self.split_fraction_radio.blockSignals(True)
            self.split_fraction_radio.setChecked(True)
            self.split_fraction_radio.blockSignals(False)
            self._sync_form_enabled()
            s = self.form()
            scan = run_off_gui_thread(lambda: scan_pairs(s.pairs, s.scale, s.split_mode, s.val_fraction, s.seed))
            scan.split_note = "No split.json in the folder: " + scan.split_note[0].lower() + scan.split_note[1:]
        self.scan = scan
        self._fill_table(scan)
        return scan

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
        bad = [r for r in scan.rows if not r.ok]
        if bad:
            more = f"<br>… and {len(bad) - 3} more (see the table)" if len(bad) > 3 else ""
            text += "<br><span style='color:#b00020'>" + "<br>".join(
                f"<b>{html.escape(r.name)}</b>: {html.escape(r.status)}" for r in bad[:3]) + more + "</span>"
        self.pairs_summary.setText(text)
