"""The Differences tab: one method's error against the ground truth or another method, as a colour map with
a colour bar in data units, a gain, a histogram, per-channel statistics, a hover readout and a swipe.

A thin view over `DiffState` (Qt-free): every map comes from `adk_model.metrics.error_map` through its
`MetricCache`, computed off the GUI thread by `DiffMapJobs`. The view is a one-panel `ViewGrid` whose camera
can be the shared one of the context (the Compare tab's: same centre and zoom), so switching tabs keeps the
place being looked at. The tab holds its helpers: the histogram and statistics widgets, the map jobs and the
exporter; `DiffLayout` builds the widgets.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from adk_model.errors import UserError

from adkviewer.gui.context import TabContext
from adkviewer.state.session import GT
from adkviewer.tabs.diff.diff_export import DiffExporter
from adkviewer.tabs.diff.diff_layout import DiffLayout
from adkviewer.tabs.diff.diff_maps import DiffMapJobs
from adkviewer.tabs.diff.diff_state import (CHANNEL_LABELS, GAIN_MAX, GAIN_MIN, MODE_LABELS, DiffSpec, DiffState,
                                            parse_diff_spec)
from adkviewer.tabs.diff.diff_widgets import KEY, fmt_value
from adkviewer.widgets import colormaps

COMPUTING = "Computing the difference…"


class DiffTab(DiffLayout, QWidget):
    """Image vs reference error maps for the session's image."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub, self.controller = ctx.session, ctx.hub, ctx.jobs
        self.state = DiffState(self.session)
        self.maps = DiffMapJobs(self.state, self, on_ready=self.refresh, on_error=self._on_maps_failed)
        self.export = DiffExporter(self.state, ctx.shell, self._grab_view)
        self._hover = (-1, -1)
        self._readout_plain = ""
        self._requested = False       # a --diff asked for a map: --screenshot waits for it
        self._levels = (0.0, 1.0)
        self._cmap = colormaps.SEQUENTIAL
        self._shown_mode: str | None = None  # the mode of the map on screen (the next one may be computing)
        self._build()
        h = self.hub
        h.imageChanged.connect(self._on_image_changed)
        h.resultsCleared.connect(self._on_image_changed)
        h.groundTruthChanged.connect(self._on_gt_changed)
        h.resultChanged.connect(self._on_result)
        h.methodsChanged.connect(self.refresh)
        h.pixelSelected.connect(self._on_pixel_selected)
        self._on_image_changed()

    @property
    def computing(self) -> bool:
        """The maps of the current choice are being computed off the GUI thread."""
        return self.maps.busy or self.state.waiting()

    def all_shown(self) -> bool:
        """The difference asked for on the command line shows (or says why not); True when none was asked."""
        if not self._requested:
            return True
        st = self.state
        if self.controller.busy or self.computing:
            return False
        return not any(st.status(n) == "computing…" for n in (st.image, st.reference) if n)

    # ------------------------------------------------------------------ the session and the choices

    def _on_image_changed(self) -> None:
        self.state.image_changed()
        self._hover = (-1, -1)
        self.grid.set_image_size(self.session.lr_shape)
        self.apply_pending()
        self.refresh()

    def _on_gt_changed(self) -> None:
        self.state.source_changed(GT)
        self.refresh()

    def _on_result(self, method: str) -> None:
        self.state.source_changed(method)
        if method in (self.state.image, self.state.reference) or self.state.image is None:
            self.refresh()
        else:
            self._sync_combos()

    def apply_pending(self) -> None:
        """Show the difference asked for with `--diff` (ctx.launch), once the image is open."""
        if not self.ctx.launch.diff or self.session.hr_full is None:
            return
        text = self.ctx.launch.take("diff")
        try:
            self.show_diff(parse_diff_spec(str(text), self.session.known_methods()))
        except UserError as e:
            self.hub.error(str(e))
            return
        self._requested = True
        self.ctx.shell.show_tab(KEY)

    def show_diff(self, spec: DiffSpec | str) -> None:
        """Choose image, reference, mode and channel (methods not ticked in Compare are ticked and computed)."""
        if isinstance(spec, str):
            spec = parse_diff_spec(spec, self.session.known_methods())
        ref = spec.reference
        if ref is None:
            ref = GT if self.session.has_gt else self.state.default_reference(spec.image)
        if ref == GT and not self.session.has_gt:
            raise UserError(f"This image has no ground-truth LR, so {self.state.label(spec.image)} cannot be "
                            f"compared with it; compare two methods instead, e.g. --diff {spec.image}-bicubic.")
        self._ensure_ticked([spec.image] + ([ref] if ref and ref != GT else []))
        self.state.choose(image=spec.image, reference=ref, mode=spec.mode, channel=spec.channel)
        self.refresh()

    def _ensure_ticked(self, methods: list[str]) -> None:
        missing = [m for m in methods if m not in self.session.methods]
        if missing:
            self.ctx.commands.set_methods(list(self.session.methods) + missing)

    def _pick(self, image: str | None = None, reference: str | None = None, mode: str | None = None) -> None:
        try:
            self._ensure_ticked([m for m in (image, reference) if m and m != GT])
            self.state.choose(image=image, reference=reference, mode=mode)
        except UserError as e:
            self.hub.error(str(e))
        self.refresh()

    def _pick_channel(self, channel: str) -> None:
        self.state.choose(channel=channel)
        self.refresh()

    def set_gain(self, gain: float) -> None:
        """Display range = largest error / gain (clamped to 1 … 1000), through the slider."""
        self.gain_slider.setValue(int(round(100 * math.log10(min(max(gain, GAIN_MIN), GAIN_MAX)))))

    def _on_gain_slider(self, pos: int) -> None:
        self.state.set_gain(10 ** (pos / 100))
        self._show_levels()

    def _on_swipe_toggled(self, on: bool) -> None:
        self.grid.set_mode("swipe" if on else "grid")
        if on:
            self._update_swipe(reset_split=True)

    def _on_pixel_selected(self, row: int, col: int) -> None:
        """A pixel selected here, in Compare or in Inspect: marked (where the grid can) and read out."""
        mark = getattr(self.grid, "set_selection", None)
        if mark is not None:
            mark(row, col)
        if self._hover[0] < 0:
            self._show_readout()

    def _on_click(self, row: int, col: int) -> None:
        shape = self.session.lr_shape
        if shape and 0 <= row < shape[0] and 0 <= col < shape[1]:
            self.session.selected_pixel = (row, col)
            self.hub.pixelSelected.emit(row, col)

    # ------------------------------------------------------------------ what is shown

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
            combo.setCurrentIndex(combo.findData(current))
            combo.blockSignals(False)
        for combo, value in ((self.mode_combo, st.mode), (self.channel_combo, st.channel)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(value))
            combo.blockSignals(False)
        self.ref_note.setVisible(self.session.hr_full is not None and not self.session.has_gt)

    def refresh(self) -> None:
        """Show the current choice (map, colour bar, histogram, statistics, readout), or start computing it."""
        st = self.state
        st.ensure_valid()
        self._sync_combos()
        self.maps.ensure()
        why = st.why_not()
        res = None if why else st.result()
        title = f"<b>Statistics · {MODE_LABELS[st.mode].lower()} error</b>"
        if res is None and why is None:  # the job computes it: what is on screen stays until it is there
            if self.panel.stack.currentWidget() is not self.panel.view:  # no map yet: say so
                self.panel.set_message(COMPUTING)
                self._shown_mode = None
            shown = f"<b>Statistics · {MODE_LABELS[self._shown_mode].lower()} error</b>" if self._shown_mode else title
            coming = f" {MODE_LABELS[st.mode].lower()}" if self._shown_mode not in (None, st.mode) else ""
            self.stats_title.setText(f"{shown} <span style='color:gray'>· computing{coming}…</span>")
            return
        self.stats_title.setText(title)
        self._shown_mode = st.mode if res is not None else None
        for b in (self.save_map_button, self.save_bar_button, self.save_view_button, self.save_csv_button):
            b.setEnabled(res is not None)
        for w in (self.cbar_view, self.hist):  # no map: no colour bar or histogram of an earlier one
            w.setVisible(res is not None)
        if res is None:
            self.panel.set_message(why or "")
            self.panel.set_title("Difference")
            self.stats.fill({}, st.channel, st.mode)
            self.hist.clear_bars()
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
        self.cbar_label.resizeEvent()  # pyqtgraph places a label only on resize: centre the new text now
        self.hist.set_axis_label(st.axis_label())
        self.stats.fill(st.channel_stats(), st.channel, st.mode)
        self._show_levels(res)
        self._show_readout()

    def _on_maps_failed(self, message: str) -> None:
        self.panel.set_message(f"Could not compute the difference: {message}")
        self.stats_title.setText(f"<b>Statistics · {MODE_LABELS[self.state.mode].lower()} error</b>")
        self.hub.error(f"Differences: {message}")

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
        self.hist.show_result(res, self._levels, self._cmap, st.mode == "signed")
        if self.grid.mode == "swipe":
            self._update_swipe()

    def _update_swipe(self, reset_split: bool = False) -> None:
        st = self.state
        res = st.result()
        img = st.array(st.image)
        coloured = colormaps.apply(res.err, self._levels, self._cmap) / np.float32(255) if res is not None else None
        self.grid.swipe.set_pair(img, coloured, keep_split=not reset_split)
        self.grid.swipe.set_title(f"Swipe: {st.label(st.image)} ◀ | ▶ its difference vs "
                                  f"{st.short(st.reference)} "
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
        lines = [where, f"{CHANNEL_LABELS[st.channel]} {st.mode} error: {fmt_value(v)}"]  # as the table shows it
        html = [where, f"<b>{CHANNEL_LABELS[st.channel]} {st.mode} error: {fmt_value(v)}</b>",
                "<table cellspacing='0' cellpadding='1'><tr><td></td><td align='right' style='color:#c00'>R</td>"
                "<td align='right' style='color:#080'>G</td><td align='right' style='color:#00c'>B</td></tr>"]
        for name in (st.image, st.reference):
            rgb = st.array(name)[row, col]
            short = st.short(name)
            lines.append(f"{short} " + " ".join(f"{x:.4f}" for x in rgb))
            cells = "".join(f"<td align='right' style='font-family:monospace'>&nbsp;{x:.4f}</td>" for x in rgb)
            html.append(f"<tr><td>{short}</td>{cells}</tr>")
        html.append("</table>")
        self._readout_plain = "\n".join(lines)
        self.readout.setText("<br>".join(html[:2]) + html[2] + "".join(html[3:]))

    def readout_text(self) -> str:
        """The readout as plain text (for tests and copying)."""
        return self._readout_plain

    # ------------------------------------------------------------------ saving (the exporter's)

    def _grab_view(self):
        return self.grid.parentWidget().grab(self.grid.geometry().united(self.cbar_view.geometry()))

    def save_view_dialog(self) -> None:
        """File → Save the views on this tab: its own view with the colour bar (the shell asks the tab)."""
        self.export.save_view_dialog()
