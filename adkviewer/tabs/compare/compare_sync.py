"""The session shown: image and ground-truth labels, scale choices, views, titles, progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from adk_model.weights import shipped_weights

from adk_model.methods import TITLES

from adkviewer.state.metrics_export import best_values
from adkviewer.state.session import GT, SCALES, NO_GT_MESSAGE, weights_name
from adkviewer.gui.workers import CANCELLED
from adkviewer.state.model_info import card_summary, model_blurb
from adkviewer.tabs.compare.compare_widgets import _esc
from adkviewer.widgets.model_card_dialog import show_model_card


class CompareSync:
    """A part of CompareTab (its attributes are the tab's own)."""

    def view_keys(self) -> list[str]:
        if self.session.hr_full is None:
            return []
        return ([GT] if self.session.has_gt else []) + list(self.session.methods)

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
        self._sync_model_label()
        self.lstsq_fitter.sync()
        self.method_list.blockSignals(True)
        for i in range(self.method_list.count()):
            it = self.method_list.item(i)
            it.setText(s.label(it.data(Qt.UserRole)))
            w = s.adknet_weights() if it.data(Qt.UserRole) == "adknet" else None
            it.setToolTip(f"{it.text()}: {model_blurb(w)}" if w else it.text())
        self.method_list.blockSignals(False)

    def _sync_model_label(self) -> None:
        """Beside the weights: what the model reproduces, and that another camera needs calibrating."""
        w = self.session.adknet_weights()
        self.model_label.setVisible(w is not None)
        if w is None:
            return
        c = card_summary(w)
        self.model_label.setText(
            f"<b>ADK-Net model</b> {_esc(c.name)} reproduces {_esc(c.reproduces)}. "
            "<span style='color:#555'>Photos from another camera: <a href='train'>Quick calibrate or fine-tune"
            "</a> on pairs of your own.</span> <a href='card'>Model card…</a>")
        self.model_label.setToolTip(f"{w}\n{model_blurb(w)}")

    def _on_model_link(self, link: str) -> None:
        if link == "card" and self.session.adknet_weights() is not None:
            show_model_card(self.session.adknet_weights(), self)
        else:
            self.ctx.shell.show_tab("train")

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
        self._refresh_titles()
        self._refresh_swipe_choices()
        self.metrics.refresh()
        self._show_readout()

    def _refresh_panel(self, key: str) -> None:
        p = self.grid.panel(key)
        if p is None:
            return
        s = self.session
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
            key = str(i + 1) if i < 9 else ""
            tip = s.label(m) + (f" — press {key} to show it alone" if key else "")
            title = s.label(m) if m == "adknet" else TITLES.get(m) or s.label(m)  # the weights that made it
            p.set_title(title, key, score, tip)
        gp = self.grid.panel(GT)
        if gp is not None:
            gp.set_title("Ground truth LR", "Space", "", f"{s.gt_path} — hold Space to show it alone")
        self._update_solo_hint()

    def _update_solo_hint(self) -> None:
        s = self.session
        solo = self.grid.solo
        if solo is not None and self.grid.mode == "grid":
            name = "the ground truth" if solo == GT else s.label(solo)
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
