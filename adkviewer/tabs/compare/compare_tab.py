"""The Compare tab: ticked methods side by side on one camera, flicker and swipe, hover readout, metrics table.

A thin view built from a `TabContext`: it reads the shared `Session`, listens to the `SessionHub`, changes the
session through `ctx.commands` and asks `ctx.jobs` for work. Nothing here computes an image or a metric. The tab
holds its helpers: the swipe's A/B picker, the keys (an event filter), the exporter and the metrics table;
`CompareLayout` builds the widgets and `CompareReadout` answers the pointer (readout, selection, panel menu).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem, QMenu, QWidget

from adk_model.methods import TITLES
from adk_model.method_registry import ADKNET_PREFIX
from adk_model.weights import shipped_weights

from adkviewer.gui.context import TabContext
from adkviewer.gui.workers import CANCELLED
from adkviewer.state.metrics_export import best_values
from adkviewer.state.model_info import model_blurb
from adkviewer.state.session import GT, NO_GT_MESSAGE, SCALES, weights_name

TRAIN_PAIR_TIP = ("This image is one of the pairs this model was trained on (its model card lists it): its "
                  "score is a training score, not a test score.")
from adkviewer.tabs.compare.compare_export import CompareExporter
from adkviewer.tabs.compare.compare_hr import HR
from adkviewer.tabs.compare.compare_keys import CompareKeys
from adkviewer.tabs.compare.compare_layout import CompareLayout
from adkviewer.tabs.compare.compare_readout import CompareReadout
from adkviewer.tabs.compare.compare_widgets import _esc
from adkviewer.widgets.model_card_dialog import show_model_card


class CompareTab(CompareLayout, CompareReadout, QWidget):
    """Methods, scale, view grid and metrics for the session's image."""

    def __init__(self, ctx: TabContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.session, self.hub, self.controller = ctx.session, ctx.hub, ctx.jobs
        self._hover = (-1, -1)
        self._readout_plain = ""
        self._build()
        self.export = CompareExporter(self.session, self.grid, self.swipe)
        self.keys = CompareKeys(self)
        h = self.hub
        h.imageChanged.connect(self._on_image_changed)
        h.groundTruthChanged.connect(self._on_gt_changed)
        h.resultsCleared.connect(self._on_results_cleared)
        h.resultChanged.connect(self._on_result)
        h.resultPartial.connect(self._on_partial)
        h.methodsChanged.connect(self._on_methods_changed)
        h.scaleChanged.connect(lambda _s: self._sync_scale_widgets())
        h.weightsChanged.connect(self._sync_scale_widgets)
        h.busyChanged.connect(self._on_busy)
        h.progressChanged.connect(self._on_progress)
        h.pixelSelected.connect(self._on_pixel_selected)
        self._on_image_changed()

    def confirm_close(self) -> bool:
        """Window closing: a least-squares fit in progress is cancelled (nothing is saved) and waited for."""
        self.lstsq_fitter.shutdown()
        if getattr(self, "figure_dialog", None) is not None:
            self.figure_dialog.shutdown()
        return True

    def all_shown(self) -> bool:
        """Every ticked method shows its final output or message (for --screenshot)."""
        s = self.session
        if s.hr_full is None:  # nothing to compute (no image, or it could not be opened)
            return not self.controller.busy
        if not s.complete() or self.controller.busy:
            return False
        return all(self.grid.panel(k) is not None for k in self.view_keys())

    # ------------------------------------------------------------------ the session shown

    def view_keys(self) -> list[str]:
        if self.session.hr_full is None:
            return []
        return self.hr_ref.keys() + ([GT] if self.session.has_gt else []) + list(self.session.methods)

    def _on_image_changed(self) -> None:
        s = self.session
        if s.hr_full is None:
            self.hr_label.setText("No image. File → Open… or drop one here.")
        else:
            h, w = s.hr_full.shape[:2]
            notes = "".join(f"<br><span style='color:#6c5200'>• {_esc(n)}</span>" for n in s.image_notes())
            self.hr_label.setText(f"<b>{_esc(Path(s.hr_path).name)}</b><br>{w}×{h} HR → "
                                  f"{w // s.scale}×{h // s.scale} LR{notes}")
            self.hr_label.setToolTip(s.hr_path or "")
        self._sync_scale_widgets()
        self._sync_gt_widgets()
        self.grid.set_image_size(s.lr_shape)
        self.grid.set_selection(*(s.selected_pixel or (-1, -1)))
        self._rebuild_views()

    def _on_gt_changed(self) -> None:
        self._sync_gt_widgets()
        self._rebuild_views()

    def _sync_gt_widgets(self) -> None:
        s = self.session
        self.gt_label.setVisible(s.hr_full is not None)
        if s.has_gt:
            how = "found beside the HR" if s.gt_auto else "chosen"
            doubt = s.gt_doubt()
            self.gt_label.setText(f"Ground truth: <b>{_esc(Path(s.gt_path).name)}</b> ({how})" + (
                f"<br><span style='color:#b05000'>⚠ {_esc(doubt)}</span>" if doubt else ""))
            self.gt_label.setToolTip(s.gt_path or "")
        elif (aside := s.gt_for_another_scale()) is not None:
            name, sc = aside
            self.gt_label.setText(f"<span style='color:#b05000'>Ground truth <b>{_esc(name)}</b> is for ×{sc}: "
                                  f"metrics off at ×{s.scale}.</span>")
            self.gt_label.setToolTip("It comes back when the scale is set to fit it")
            self.no_gt_banner.setText(f"⚠ ground truth {name} is for ×{sc}, not ×{s.scale}: metrics off "
                                      f"(set the scale to ×{sc} for them)")
        else:
            self.gt_label.setText("<span style='color:#b05000'>No ground-truth LR: metrics off.</span> "
                                  "<a href='gt'>Open ground truth…</a>")
            self.gt_label.setToolTip("")
            self.no_gt_banner.setText(f"⚠ {NO_GT_MESSAGE}")
        self.no_gt_banner.setVisible(s.hr_full is not None and not s.has_gt)

    def _sync_scale_widgets(self) -> None:
        s = self.session
        self.scale_combo.blockSignals(True)
        for i in range(self.scale_combo.count()):
            sc = self.scale_combo.itemData(i)
            w = s.adknet_weights(sc)
            self.scale_combo.setItemText(i, f"×{sc}" + (f" · {weights_name(w)}" if w else " · no ADK-Net weights"))
            self.scale_combo.setItemData(i, f"ADK-Net weights: {w}" if w else "no ADK-Net weights for this scale",
                                         Qt.ToolTipRole)
        self.scale_combo.setCurrentIndex(self.scale_combo.findData(s.scale))
        self.scale_combo.blockSignals(False)
        if s.adknet_weights() is None:
            have = sorted({sc for sc in SCALES if shipped_weights(sc)})
            others = f" Weights exist for {', '.join(f'×{x}' for x in have)}." if have else ""
            self.weights_note.setText(f"<span style='color:#b05000'>No ADK-Net weights for ×{s.scale}.</span>"
                                      f"{others} <a href='train'>Train some in the Train tab</a>.")
            self.weights_note.show()
        else:
            self.weights_note.hide()
        self.model_label.sync()
        self.lstsq_fitter.sync()
        self.method_list.blockSignals(True)
        for i in range(self.method_list.count()):
            it = self.method_list.item(i)
            it.setText(s.label(it.data(Qt.UserRole)))
            it.setToolTip(self._method_tip(it.data(Qt.UserRole), it.text()))
        self.method_list.blockSignals(False)

    def _method_tip(self, key: str, label: str) -> str:
        """What made a method's output: the weights' card for ADK-Net models, the files for one's own results."""
        w = self.session.weights_of(key)
        if w:
            return f"{label}: {model_blurb(w)} (right-click for its model card)"
        s = self.session
        extra = s.extras.get(key)
        if extra is not None:
            where = extra.path if extra.pattern == "{stem}" else f"{extra.path}/{extra.pattern}"
            return f"{label}: results read from {where} (right-click to remove)"
        return label

    def method_actions(self, key: str | None) -> list[tuple[str, Callable[[], object]]]:
        """The method list's right-click menu for `key` (None: the list's empty part), as (text, action)."""
        actions: list[tuple[str, Callable[[], object]]] = []
        weights = self.session.weights_of(key)
        if weights:  # each ADK-Net model's own card, not only the main weights' (the note above the views)
            actions.append((f"Model card of {self.session.label(key)}…", lambda: show_model_card(weights, self)))
        if key in self.session.extras:
            actions.append((f"Remove {self.session.label(key)}", lambda: self.ctx.commands.remove_method(key)))
        return actions + [("Add method results…", lambda: self.ctx.shell.add_method_dialog()),
                          ("Add ADK-Net weights…", lambda: self.ctx.shell.add_weights_dialog())]

    def _method_menu(self, pos) -> None:
        it = self.method_list.itemAt(pos)
        menu = QMenu(self)
        for text, action in self.method_actions(it.data(Qt.UserRole) if it is not None else None):
            menu.addAction(text, action)
        menu.popup(self.method_list.viewport().mapToGlobal(pos))

    def _rebuild_views(self) -> None:
        keys = self.view_keys()
        self.grid.set_keys(keys)
        if self.session.hr_full is None:
            self.grid.set_empty_message("No image open. File → Open… (Ctrl+O), drop an image here, "
                                        "or File → Open the demo image.")
        else:
            self.grid.set_empty_message(None)
        for k in keys:
            self._refresh_panel(k)
        self.region.refresh()
        self._refresh_titles()
        self._refresh_swipe_choices()
        self.metrics.refresh()
        self._show_readout()

    def _refresh_panel(self, key: str) -> None:
        p = self.grid.panel(key)
        if p is None:
            return
        s = self.session
        if key == HR:
            return self.hr_ref.show(p)
        if key == GT:
            p.set_image(s.gt)
            return
        r = s.results.get(key)
        if r is None:
            p.set_message("computing…" if self.controller.busy or s.hr_full is not None else "")
        elif r.message:
            p.set_message(r.message)
        elif r.partial:
            p.start_partial(r.lr.shape[:2])
            p.update_tile((0, r.lr.shape[0], 0, r.lr.shape[1]), r.lr)
        else:
            p.set_image(r.lr)

    def _refresh_titles(self) -> None:
        s = self.session
        best = best_values(s.metrics_rows())
        for i, m in enumerate(s.methods):
            p = self.grid.panel(m)
            if p is None:
                continue
            r = s.results.get(m)
            score = ""
            if r is not None and r.metrics:
                v = r.metrics["psnr"]
                score = f"<b>{v:.2f} dB</b>" + (" ★" if best.get("psnr") == v else "")
            elif r is not None and r.partial:
                score = f"tile {r.tiles_done}/{r.tiles_total}"
            if s.trained_on_image(m):
                score += " · <span style='color:#b05000'>train pair</span>"
            key = str(i + 1) if i < 9 else ""
            tip = s.label(m) + (f" — press {key} to show it alone" if key else "")
            if s.trained_on_image(m):
                tip += f"\n{TRAIN_PAIR_TIP}"

            # ADK-Net's title names the weights that made it; an added method's title says what it is
            title = s.label(m) if m == "adknet" or m.startswith(ADKNET_PREFIX) else TITLES.get(m) or s.label(m)
            p.set_title(title, key, score, tip)
        gp = self.grid.panel(GT)
        if gp is not None:
            gp.set_title("Ground truth LR", "Space", "", f"{s.gt_path} — hold Space to show it alone")
        self._update_solo_hint()

    def _update_solo_hint(self) -> None:
        s = self.session
        solo = self.grid.solo
        if solo is not None and self.grid.mode == "grid":
            name = {GT: "the ground truth", HR: "the HR"}.get(solo) or s.label(solo)
            self.solo_hint.setText(f"Showing {_esc(name)} alone — 0 or Esc: all views")
            self.solo_hint.show()
        else:
            self.solo_hint.hide()

    def _on_results_cleared(self) -> None:
        self.grid.set_image_size(self.session.lr_shape)
        self._rebuild_views()

    def _on_result(self, m: str) -> None:
        self._sync_gt_widgets()  # the last score may say the ground truth looks wrong
        self._refresh_panel(m)
        self._refresh_titles()
        self.metrics.refresh()
        self._refresh_swipe_choices()
        self._show_readout()

    def _on_partial(self, m: str, box) -> None:
        p = self.grid.panel(m)
        r = self.session.results.get(m)
        if p is None or r is None:
            return
        if not p.showing_image or r.tiles_done <= 1:
            p.start_partial(r.lr.shape[:2])
        y0, y1, x0, x1 = box
        p.update_tile(box, r.lr[y0:y1, x0:x1])
        self._refresh_titles()
        self.metrics.refresh()

    def _on_methods_changed(self) -> None:
        listed = [self.method_list.item(i).data(Qt.UserRole) for i in range(self.method_list.count())]
        if tuple(listed) != self.session.known_methods():
            self.fill_method_list()  # a method was added or removed
        self.method_list.blockSignals(True)
        for i in range(self.method_list.count()):
            it = self.method_list.item(i)
            it.setCheckState(Qt.Checked if it.data(Qt.UserRole) in self.session.methods else Qt.Unchecked)
        self.method_list.blockSignals(False)
        self._sync_scale_widgets()  # labels (a new fit's name) and the fit link follow the ticks
        self._rebuild_views()
        if self.isVisible():
            self.fit_metrics()

    def _on_busy(self, busy: bool) -> None:
        self.tool_row.invalidate()  # shown or hidden: the row's minimum (so the window's) follows at once
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.compute_button.setVisible(not busy and any(
            r.message == CANCELLED for r in self.session.results.values()))
        if not busy:
            self.progress.setValue(0)

    def _on_progress(self, text: str, frac: float) -> None:
        self.progress.setValue(int(frac * 1000))
        self.progress.setFormat(text or "%p%")

    # ------------------------------------------------------------------ what a person does

    def _on_ticks_changed(self, _item: QListWidgetItem) -> None:
        ticked = [self.method_list.item(i).data(Qt.UserRole) for i in range(self.method_list.count())
                  if self.method_list.item(i).checkState() == Qt.Checked]
        self.ctx.commands.set_methods(ticked)

    def _on_scale_picked(self, idx: int) -> None:
        self.ctx.commands.set_scale(int(self.scale_combo.itemData(idx)))

    def compute_missing(self) -> None:
        """Compute: run again the ticked methods a Cancel left without a result."""
        s = self.session
        for m, r in list(s.results.items()):
            if r.message == CANCELLED:
                del s.results[m]
        self.controller.compute()
        self._on_busy(self.controller.busy)

    def set_mode(self, mode: str) -> None:
        """'grid' (one view per method) or 'swipe' (two images, one split view)."""
        self.grid_button.setChecked(mode == "grid")
        self.swipe_button.setChecked(mode == "swipe")
        self.swipe.setVisible(mode == "swipe")
        self.tool_row.invalidate()
        if mode == "swipe":
            self._update_swipe(reset_split=self.grid.mode != "swipe")
        self.grid.set_mode(mode)

    def flicker(self, n: int) -> None:
        """Key N: method N alone at the same camera; 0 goes back to the grid."""
        if n == 0:
            self.grid.show_solo(None)
        elif 1 <= n <= len(self.session.methods):
            if self.grid.mode == "swipe":
                self.set_mode("grid")
            self.grid.show_solo(self.session.methods[n - 1])
        else:  # a key beyond the shown methods says why nothing happened
            k = len(self.session.methods)
            shown = "Only 1 method is shown (key 1)" if k == 1 else f"Only {k} methods are shown (keys 1–{k})"
            self.hub.info(f"{shown}; 0 goes back to the grid." if k else
                          "No methods are shown: tick some under Methods.")

    def set_swipe(self, a: str, b: str) -> None:
        """Swipe between two methods (or 'gt'); unknown names raise UserError."""
        self.swipe.choose(a, b)
        self.set_mode("swipe")

    def _refresh_swipe_choices(self) -> None:
        """Fill the A/B lists; unless a person chose, A is the first method with an output (ADK-Net when it has
        one) and B the ground truth, else the next method with an output."""
        s = self.session
        keys = self.view_keys()
        methods = [k for k in keys if k not in (GT, HR)]
        shown = [k for k in methods if s.image_of(k) is not None] or methods
        want_a = shown[0] if shown else None
        rest = [k for k in shown if k != want_a]
        want_b = GT if GT in keys else (rest[0] if rest else want_a)
        changed = self.swipe.refill(keys, want_a, want_b, self.session.short_label)
        if self.grid.mode == "swipe":
            self._update_swipe()
            if changed:
                self.grid.swipe.split.setValue((s.lr_shape or (0, 0))[1] / 2)

    def _update_swipe(self, reset_split: bool = False) -> None:
        s = self.session
        a, b = self.swipe.pair()
        (img_a, scale_a), (img_b, scale_b) = self.hr_ref.image_of(a), self.hr_ref.image_of(b)
        self.grid.swipe.set_pair(img_a, img_b, keep_split=not reset_split, scale_a=scale_a, scale_b=scale_b)
        self.grid.swipe.set_title(f"Swipe: {s.label(a) if a else '—'} ◀ | ▶ {s.label(b) if b else '—'} "
                                  "(drag the yellow line)")
