"""The difference shown: combos, map, colour levels, histogram, statistics, swipe, readout."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QTableWidgetItem

from adk_model.methods import SHORT_LABELS
from adk_model.metrics import ERROR_CHANNELS

from adkviewer.state.session import GT
from adkviewer.tabs.diff.diff_state import CHANNEL_LABELS, MODE_LABELS
from adkviewer.widgets import colormaps
from adkviewer.tabs.diff.diff_widgets import HIST_HEADROOM, fmt_value, stat_columns


class DiffView:
    """A part of DiffTab (its attributes are the tab's own)."""

    def _sync_combos(self) -> None:
        st = self.state
        for combo, choices, current in ((self.image_combo, st.image_choices(), st.image),
                                        (self.ref_combo, st.reference_choices(), st.reference)):
            combo.blockSignals(True)
            combo.clear()
            for k in choices:
                why = st.status(k)
                text = st.label(k)
                if why == f"{st.label(k)} is not ticked in Compare":
                    text += " (computed when chosen)"
                elif why == "computing…":
                    text += " (computing…)"
                elif why is not None and k != GT:
                    text += " (no output)"
                combo.addItem(text, k)
                if why is not None and k != GT:
                    combo.setItemData(combo.count() - 1, why, Qt.ToolTipRole)
            idx = combo.findData(current)
            combo.setCurrentIndex(idx)
            combo.blockSignals(False)
        for combo, value in ((self.mode_combo, st.mode), (self.channel_combo, st.channel)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(value))
            combo.blockSignals(False)
        has_image = self.session.hr_full is not None
        self.ref_note.setVisible(has_image and not self.session.has_gt)

    def refresh(self) -> None:
        """Show the current choice: map, colour bar, histogram, statistics, readout."""
        st = self.state
        st.ensure_valid()
        self._sync_combos()
        why = st.why_not()
        res = None if why else st.result()
        self.stats_title.setText(f"<b>Statistics · {MODE_LABELS[st.mode].lower()} error</b>")
        for b in (self.save_map_button, self.save_view_button, self.save_csv_button):
            b.setEnabled(res is not None)
        for w in (self.cbar_view, self.hist):  # no map: no colour bar or histogram of an earlier one
            w.setVisible(res is not None)
        if res is None:
            self.panel.set_message(why or "")
            self.panel.set_title("Difference")
            self._fill_stats({})
            self.hist_bars.setOpts(x0=[0], x1=[1], height=[0], brushes=None, brush=None)
            for line in self.hist_lines.values():
                line.hide()
            self.range_label.setText("")
            if self.grid.mode == "swipe":
                self.grid.swipe.set_pair(None, None)
            self._show_readout()
            return
        self._cmap = colormaps.for_values(st.mode == "signed")
        lut = colormaps.lookup_table(self._cmap)
        self.panel.stack.setCurrentWidget(self.panel.view)
        self.panel.image_item.setImage(res.err, autoLevels=False, levels=st.levels(res), lut=lut)
        self.panel.set_title(st.title(), tooltip=f"{st.label(st.image)} against {st.label(st.reference)}: "
                                                 f"{st.axis_label()}")
        self.cbar.setColorMap(colormaps.colormap(self._cmap))
        self.cbar_label.setLabel(st.axis_label())
        self.hist.setLabel("bottom", st.axis_label())
        for axis in (self.cbar_label, self.hist.getAxis("bottom")):
            axis.resizeEvent()  # pyqtgraph places a label only on resize: centre the new text now
        self._fill_stats(st.channel_stats())
        self._show_levels(res)
        self._show_readout()

    def _show_levels(self, res=None) -> None:
        st = self.state
        pos = self.gain_slider.value()
        self.gain_label.setText(f"×{10 ** (pos / 100):.3g}")
        res = res or st.result()
        if res is None:
            return
        lo, hi = self._levels = st.levels(res)
        self.panel.image_item.setLevels((lo, hi))
        self.cbar.setLevels((lo, hi))
        largest = max(abs(res.lo), abs(res.hi)) if st.mode == "signed" else res.hi
        span = f"±{fmt_value(hi)}" if st.mode == "signed" else f"0 – {fmt_value(hi)}"
        what = "largest |error|" if st.mode == "signed" else "largest error"  # the table's max is signed
        self.range_label.setText(f"Colours span {span} ({what} {fmt_value(largest)} / gain)")
        self._fill_hist(res)
        if self.grid.mode == "swipe":
            self._update_swipe()

    def _fill_hist(self, res) -> None:
        st = self.state
        lo, hi = self._levels
        centres = (res.edges[:-1] + res.edges[1:]) / 2
        colours = colormaps.apply(centres, (lo, hi), self._cmap)
        brushes = [pg.mkBrush(QColor(*map(int, c))) for c in colours]
        self.hist_bars.setOpts(x0=res.edges[:-1], x1=res.edges[1:], height=np.log10(1.0 + res.hist),
                               brushes=brushes)
        self.hist_range.setRegion((lo, hi))
        self.hist_lines["p1"].hide()
        shown = [("mean", res.stats.mean), ("p99", res.stats.p99)] + (
            [("p1", res.stats.p1)] if st.mode == "signed" else [])
        for name, value in shown:
            line = self.hist_lines[name]
            text = f"{name} {fmt_value(value)}"
            line.label.setFormat(text)
            line.setValue(value)
            line.label.setText(text)  # also while the tab is hidden (the label only updates when visible)
            line.show()
        self.hist.setXRange(float(res.edges[0]), float(res.edges[-1]), padding=0.02)
        self.hist.setYRange(0, HIST_HEADROOM * max(1.0, float(np.log10(1.0 + res.hist.max()))), padding=0)

    def _fill_stats(self, stats) -> None:
        bold = QFont()
        bold.setBold(True)
        columns = stat_columns(self.state.mode)
        if self.stats.columnCount() != len(columns):
            self.stats.setColumnCount(len(columns))
            self.stats.setHorizontalHeaderLabels(list(columns))
        for i, c in enumerate(ERROR_CHANNELS):
            st = stats.get(c)
            for j, key in enumerate(columns):
                v = getattr(st, key) if st is not None else None
                it = QTableWidgetItem(fmt_value(v) if v is not None else "—")
                it.setData(Qt.UserRole, v)
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if c == self.state.channel:
                    it.setFont(bold)
                self.stats.setItem(i, j, it)
        self.stats.selectRow(ERROR_CHANNELS.index(self.state.channel))

    def _update_swipe(self, reset_split: bool = False) -> None:
        st = self.state
        res = st.result()
        img = st.array(st.image)
        coloured = colormaps.apply(res.err, self._levels, self._cmap) / np.float32(255) if res is not None else None
        self.grid.swipe.set_pair(img, coloured, keep_split=not reset_split)
        self.grid.swipe.set_title(f"Swipe: {st.label(st.image)} ◀ | ▶ its difference vs "
                                  f"{SHORT_LABELS.get(st.reference or '', st.label(st.reference))} "
                                  "(drag the yellow line)")

    def _on_hover(self, row: int, col: int) -> None:
        self._hover = (row, col)
        self._show_readout()

    def _show_readout(self) -> None:
        st = self.state
        row, col = self._hover
        selected = row < 0 and self.session.selected_pixel is not None
        if selected:
            row, col = self.session.selected_pixel
        v = st.value_at(row, col) if row >= 0 else None
        if v is None:
            self._readout_plain = ""
            self.readout.setText("<span style='color:gray'>Move the mouse over the map to read the error "
                                 "there.</span>")
            return
        where = f"LR x={col}, y={row}" + (" (selected)" if selected else "")
        lines = [where, f"{CHANNEL_LABELS[st.channel]} {st.mode} error: {v:.6g}"]
        html = [where, f"<b>{CHANNEL_LABELS[st.channel]} {st.mode} error: {v:.6g}</b>",
                "<table cellspacing='0' cellpadding='1'><tr><td></td><td align='right' style='color:#c00'>R</td>"
                "<td align='right' style='color:#080'>G</td><td align='right' style='color:#00c'>B</td></tr>"]
        for name in (st.image, st.reference):
            arr = st.array(name)
            rgb = arr[row, col]
            short = SHORT_LABELS.get(name, name)
            lines.append(f"{short} " + " ".join(f"{x:.4f}" for x in rgb))
            cells = "".join(f"<td align='right' style='font-family:monospace'>&nbsp;{x:.4f}</td>" for x in rgb)
            html.append(f"<tr><td>{short}</td>{cells}</tr>")
        html.append("</table>")
        self._readout_plain = "\n".join(lines)
        self.readout.setText("<br>".join(html[:2]) + html[2] + "".join(html[3:]))

    def readout_text(self) -> str:
        """The readout as plain text (for tests and copying)."""
        return self._readout_plain
