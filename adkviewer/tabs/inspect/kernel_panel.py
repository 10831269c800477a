"""The kernel panel: what produced one ADK-Net LR pixel, shown so that it can be checked by eye and by number.

Heat maps of the R, G, B kernels and PIL's bicubic (one diverging colour map centred at 0, symmetric levels,
one colour bar in weight units), the HR patch the taps read, the footprint on the HR image, per-channel
statistics, the colour-response terms and the reconstruction check. A thin view over a `PixelReport`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QFrame, QGraphicsRectItem, QGridLayout, QLabel, QScrollArea, QSizePolicy,
                               QStackedWidget, QTableWidget, QVBoxLayout, QWidget)

from adk_model.kernel_stats import STATS

from adkviewer.tabs.inspect.inspect_state import RECON_TOLERANCE, PixelReport
from adkviewer.tabs.inspect.panel_parts import (ImageBox, batch, bold_label, esc, fit_height, make_pen, min_width,
                                                read_only_table, recon_table, set_cell)
from adkviewer.state.session import display_uint8
from adkviewer.widgets.wrap_bar import WrapBar

MIN_VISIBLE_WIDTH = 360  # px of the panel always in sight; the rest scrolls
DIVERGING = "CET-D1A"   # blue - white - red, white at 0
CHANNEL_COLOURS = ("#c00000", "#008000", "#0000c0")
STAT_TIPS = {
    "sum": "Σ w over the k×k taps (softmax kernels sum to 1)",
    "dx": "Centroid Σ w·x / Σ w, x = tap offset from the HR cell centre (HR pixels, + = right)",
    "dy": "Centroid Σ w·y / Σ w, y = tap offset from the HR cell centre (HR pixels, + = down)",
    "spread": "√(Σ p·|offset − centroid|²) with p = |w| / Σ|w| (radial standard deviation, HR pixels)",
    "neg_mass": "Σ min(w, 0): the weight of negative taps (0 for softmax kernels)",
    "entropy": "−Σ p·log₂ p with p = |w| / Σ|w| (bits; log₂(k²) for a flat kernel, 0 for one tap)",
}
STAT_FORMATS = {"sum": "{:.4f}", "dx": "{:+.3f}", "dy": "{:+.3f}", "spread": "{:.3f}", "neg_mass": "{:.4f}",
                "entropy": "{:.3f}"}


class KernelPanel(QWidget):
    """Heat maps, patch, footprint, statistics, colour response and the reconstruction check for one pixel."""

    hrClicked = Signal(int, int)   # HR (row, col) clicked in the footprint view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: PixelReport | None = None
        self._hr: np.ndarray | None = None
        self._hover_text = ""
        self.setAutoFillBackground(True)

        self.header = QLabel(self)
        self.header.setTextFormat(Qt.RichText)
        self.header.setWordWrap(True)

        # ---- kernel heat maps: R, G, B, bicubic, one colour bar
        self.heat = pg.GraphicsLayoutWidget(self)
        self.heat.setBackground("w")
        self.heat.setFocusPolicy(Qt.NoFocus)
        self.heat.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.heat.ci.layout.setSpacing(4)
        self.heat.setMinimumHeight(130)
        self.kernel_titles = []
        self.kernel_boxes: list[pg.ViewBox] = []
        self.kernel_images: list[pg.ImageItem] = []
        self.centroids: list[pg.ScatterPlotItem] = []
        self.cell_rects: list[QGraphicsRectItem] = []
        names = ("R kernel<br> ", "G kernel<br> ", "B kernel<br> ", "Bicubic<br>(reference)")  # two lines: narrow
        colours = CHANNEL_COLOURS + ("#404040",)
        for i, (name, col) in enumerate(zip(names, colours)):
            self.kernel_titles.append(self.heat.addLabel(name, row=0, col=i, color=col, size="9pt", bold=True))
            vb = self.heat.addViewBox(row=1, col=i, lockAspect=True, invertY=True, enableMenu=False)
            vb.setMouseEnabled(False, False)
            vb.setDefaultPadding(0.02)
            img = pg.ImageItem(axisOrder="row-major")
            vb.addItem(img)
            frame = QGraphicsRectItem(0, 0, 1, 1)
            frame.setPen(make_pen("#808080", 1))
            vb.addItem(frame)
            cell = QGraphicsRectItem(0, 0, 1, 1)
            cell.setPen(make_pen("#000000", 1.5, dash=True))
            cell.setZValue(5)
            vb.addItem(cell)
            cen = pg.ScatterPlotItem(symbol="+", size=13, pen=pg.mkPen("#000000", width=2), brush=None)
            cen.setZValue(6)
            vb.addItem(cen)
            self.kernel_boxes.append(vb)
            self.kernel_images.append(img)
            self.cell_rects.append(cell)
            self.centroids.append(cen)
            setattr(self, f"_frame{i}", frame)
        self.cmap = pg.colormap.get(DIVERGING)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=self.cmap, label="tap weight", interactive=False,
                                        width=12, colorMapMenu=False)
        for ax in ("left", "right"):
            a = self.colorbar.getAxis(ax)
            a.setPen(pg.mkPen("#404040"))
            a.enableAutoSIPrefix(False)  # weights and offsets read as plain decimals
            a.setTextPen(pg.mkPen("#202020"))
        self.colorbar.setImageItem(self.kernel_images)
        self.heat.addItem(self.colorbar, row=1, col=4)
        for i in range(4):
            self.heat.ci.layout.setColumnStretchFactor(i, 1)
            self.heat.ci.layout.setColumnPreferredWidth(i, 150)
        self.heat.ci.layout.setColumnStretchFactor(4, 0)
        self.heat.scene().sigMouseMoved.connect(self._on_heat_hover)
        self._keep_heat_whole()

        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color:#505050;")
        self.hover = QLabel(self)
        self.hover.setTextFormat(Qt.PlainText)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.Monospace)
        self.hover.setFont(mono)
        self.hover.setMinimumHeight(self.hover.fontMetrics().height() + 2)

        # ---- HR patch and footprint
        self.patch_box = ImageBox("HR patch", self)
        self.patch_box.setToolTip("The HR pixels the k×k taps read (reflect-padded at the borders), enlarged; "
                                  "dashed: the LR pixel's s×s cell")
        self.patch_box.vb.setMouseEnabled(False, False)
        self.patch_cell = QGraphicsRectItem(0, 0, 1, 1)
        self.patch_cell.setPen(make_pen("#00e5ff", 1.5, dash=True))
        self.patch_box.vb.addItem(self.patch_cell)
        self.patch_box.scene().sigMouseMoved.connect(self._on_patch_hover)
        self.foot_box = ImageBox("Footprint in HR", self)
        self.foot_box.setToolTip("Where the taps lie on the HR image; click to select the LR pixel there")
        self.foot_rect = QGraphicsRectItem(0, 0, 1, 1)
        self.foot_rect.setPen(make_pen("#ffd700", 2))
        self.foot_rect.setZValue(5)
        self.foot_cell = QGraphicsRectItem(0, 0, 1, 1)
        self.foot_cell.setPen(make_pen("#00e5ff", 2))
        self.foot_cell.setZValue(6)
        self.foot_box.vb.addItem(self.foot_rect, ignoreBounds=True)
        self.foot_box.vb.addItem(self.foot_cell, ignoreBounds=True)
        self.foot_box.scene().sigMouseClicked.connect(self._on_foot_click)
        for box in (self.patch_box, self.foot_box):
            box.setMinimumHeight(110)
            box.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.foot_legend = QLabel("<span style='color:#b89b00'>■</span> k×k footprint &nbsp; "
                                  "<span style='color:#00b5cc'>■</span> s×s cell", self)
        self.foot_legend.setToolTip("Yellow: the k×k HR pixels the taps read (HR x and y ranges); cyan: the LR "
                                    "pixel's s×s HR cell. Click the HR image to select the LR pixel there.")
        self.foot_legend.setStyleSheet("color:#505050;")
        self.foot_legend.setWordWrap(True)  # else its one long line sets the Inspect tab's minimum width

        # ---- statistics table
        self.stats_table = read_only_table(len(STATS), 4, self)
        self.stats_table.setHorizontalHeaderLabels(["R", "G", "B", "Bicubic"])
        for i, col in enumerate(CHANNEL_COLOURS):
            self.stats_table.horizontalHeaderItem(i).setForeground(QColor(col))
        self.stats_table.horizontalHeaderItem(3).setToolTip("PIL's antialiased bicubic at the same scale, on the "
                                                             "same k×k grid (for reference)")
        self.stats_table.setVerticalHeaderLabels(["sum", "centroid dx", "centroid dy", "spread", "negative mass",
                                                  "entropy (bits)"])
        for r, s in enumerate(STATS):
            self.stats_table.verticalHeaderItem(r).setToolTip(STAT_TIPS[s])
        fit_height(self.stats_table)
        min_width(self.stats_table, "-0.1251")

        # ---- colour response and reconstruction
        self.recon_table = recon_table(self, CHANNEL_COLOURS)
        self.check = QLabel(self)
        self.check.setTextFormat(Qt.RichText)
        self.check.setWordWrap(True)

        # ---- layout
        content = QWidget(self)
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addWidget(self.header)
        lay.addWidget(self.heat, 5)
        lay.addWidget(self.caption)
        lay.addWidget(self.hover)
        boxes = QWidget(content)
        bl = QGridLayout(boxes)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setHorizontalSpacing(6)
        bl.setVerticalSpacing(1)
        bl.addWidget(self.patch_box, 0, 0)
        bl.addWidget(self.foot_box, 0, 1)
        bl.addWidget(self.foot_legend, 1, 0, 1, 2)
        stats = QWidget(content)
        st = QVBoxLayout(stats)
        st.setContentsMargins(0, 0, 0, 0)
        st.setSpacing(1)
        st.addWidget(bold_label("Kernel statistics (HR pixels from the cell centre)"))
        st.addWidget(self.stats_table)
        st.addStretch(1)
        # the statistics go under the patch and footprint where beside them the panel would scroll sideways
        self.mid = WrapBar([[boxes], [stats]], content, margins=(0, 0, 0, 0), spacing=6, columns=(4, 3),
                           wrapped_right=False, vertical=QSizePolicy.Preferred)
        lay.addWidget(self.mid, 4)
        lay.addWidget(bold_label("Colour response and reconstruction: out = mix · ((1+g)·Σ K·HR + b) + mix bias + linear"))
        lay.addWidget(self.recon_table)
        lay.addWidget(self.check)

        self.message = QLabel(self)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: gray; font-size: 13pt;")
        # a window narrower than the kernels, tables and footprint need (a 1024-px screen with the dataset dock
        # open) scrolls them sideways rather than pushing the window past the screen
        scroll = QScrollArea(self)
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setMinimumWidth(MIN_VISIBLE_WIDTH)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 2, 4, 2)
        outer.addWidget(self.stack)
        self.busy_note = ""
        self.show_message("No pixel selected. Click a pixel in a Compare view or in the field map.")

    # ------------------------------------------------------------------ content

    def _keep_heat_whole(self) -> None:
        """A graphics view does not tell the layout how wide its items must be: without this a narrow panel squeezes
        the colour bar's labels to "0" and cuts the titles (the panel scrolls sideways instead)."""
        self.heat.ci.layout.invalidate()
        need = self.heat.ci.layout.effectiveSizeHint(Qt.MinimumSize).width()
        self.heat.setMinimumWidth(math.ceil(need) + 2 * self.heat.frameWidth() + 4)

    def show_message(self, text: str) -> None:
        self.report = None
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def showing_report(self) -> bool:
        return self.stack.currentIndex() == 0 and self.report is not None

    def show_report(self, rep: PixelReport, hr: np.ndarray | None, title: str = "",
                    shown: np.ndarray | None = None, note: str = "") -> None:
        """Show one pixel's report; `hr` is the HR image (for the footprint), `shown` the value Compare shows."""
        self.report = rep
        self._hr = hr
        k, s, p = rep.k, rep.scale, rep.pad
        hy, hx = rep.row * s, rep.col * s
        self.header.setText(
            f"<b>LR pixel x={rep.col}, y={rep.row}</b> &nbsp;·&nbsp; HR cell x {hx}–{hx + s - 1}, "
            f"y {hy}–{hy + s - 1} &nbsp;·&nbsp; ×{s}, k = {k} taps per side"
            + (f" &nbsp;·&nbsp; {esc(title)}" if title else "") + (f"<br><span style='color:gray'>{esc(note)}</span>"
                                                                     if note else ""))
        m = float(max(np.abs(rep.kernels).max(), np.abs(rep.bicubic).max(), 1e-12))
        arrays = list(rep.kernels) + [rep.bicubic]
        for i, (img, arr) in enumerate(zip(self.kernel_images, arrays)):
            img.setImage(np.ascontiguousarray(arr, dtype=np.float32), autoLevels=False, levels=(-m, m))
            getattr(self, f"_frame{i}").setRect(QRectF(0, 0, k, k))
            self.cell_rects[i].setRect(QRectF(p, p, s, s))
            if i < 3:
                dx, dy = rep.stats["dx"][i], rep.stats["dy"][i]
            else:
                dx, dy = rep.bicubic_stats["dx"], rep.bicubic_stats["dy"]
            if math.isfinite(dx) and math.isfinite(dy):
                self.centroids[i].setData([k / 2 + dx], [k / 2 + dy])
            else:
                self.centroids[i].setData([], [])
            self.kernel_boxes[i].setRange(QRectF(0, 0, k, k), padding=0.02)
        self.colorbar.setLevels((-m, m))
        for i, name in enumerate(("R", "G", "B")):
            self.kernel_titles[i].setText(f"{name} kernel<br>Σ = {rep.stats['sum'][i]:.4f}",
                                          color=CHANNEL_COLOURS[i], size="9pt", bold=True)
        self.kernel_titles[3].setText(f"Bicubic ×{s}<br>(reference)", color="#404040", size="9pt", bold=True)
        self._keep_heat_whole()
        trunc = (f", cut to {k}×{k} from PIL's {4 * s}×{4 * s} support and renormalised" if rep.bicubic_truncated
                 else "")
        self.caption.setText(
            f"{k}×{k} taps over HR pixels around the LR pixel's {s}×{s} HR cell (dashed); + = centroid. "
            f"Colour: tap weight (white = 0, red > 0, blue < 0), one scale ±{m:.4g} = max |w| for all four. "
            f"Bicubic: PIL's antialiased bicubic at ×{s} on the same grid{trunc}.")
        self._hover_text = "Hover a tap to read its weight."
        self.hover.setText(self._hover_text)

        # HR patch (exactly what the taps read, reflect-padded at borders)
        patch = np.transpose(rep.patch, (1, 2, 0))
        self.patch_box.image.setImage(display_uint8(np.clip(patch, 0, 1)), autoLevels=False, levels=(0, 255))
        self.patch_box.image.setRect(QRectF(0, 0, k, k))
        self.patch_cell.setRect(QRectF(p, p, s, s))
        self.patch_box.vb.setRange(QRectF(0, 0, k, k), padding=0.02)
        self.patch_box.set_title(f"HR patch ({k}×{k})")
        self._show_footprint(rep, hr)
        self._fill_stats(rep)
        self._fill_recon(rep, shown)
        self.stack.setCurrentIndex(0)

    def _show_footprint(self, rep: PixelReport, hr: np.ndarray | None) -> None:
        k, s = rep.k, rep.scale
        oy, ox = rep.hr_origin
        if hr is None:
            self.foot_box.image.clear()
            return
        H, W = hr.shape[:2]
        margin = max(k, 4 * s)
        y0, y1 = max(0, oy - margin), min(H, oy + k + margin)
        x0, x1 = max(0, ox - margin), min(W, ox + k + margin)
        crop = hr[y0:y1, x0:x1, :3]
        if crop.dtype != np.uint8:
            crop = display_uint8(np.clip(crop, 0, 1))
        self.foot_box.image.setImage(np.ascontiguousarray(crop), autoLevels=False, levels=(0, 255))
        self.foot_box.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.foot_rect.setRect(QRectF(ox, oy, k, k))
        self.foot_cell.setRect(QRectF(rep.col * s, rep.row * s, s, s))
        self.foot_box.vb.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.0)
        self.foot_box.set_title("Footprint in HR")
        # each swatch stays on the line of its words where the legend wraps
        self.foot_legend.setText(f"<span style='color:#b89b00'>■</span>&nbsp;{k}×{k}&nbsp;footprint: x {ox}–{ox + k - 1}, "
                                 f"y {oy}–{oy + k - 1} &nbsp; <span style='white-space:nowrap'><span "
                                 f"style='color:#00b5cc'>■</span>&nbsp;{s}×{s}&nbsp;cell</span>")

    def _fill_stats(self, rep: PixelReport) -> None:
        with batch(self.stats_table) as t:
            for r, s in enumerate(STATS):
                vals = [float(v) for v in rep.stats[s]] + [rep.bicubic_stats[s]]
                for c, v in enumerate(vals):
                    set_cell(t, r, c, STAT_FORMATS[s].format(v) if math.isfinite(v) else "—", STAT_TIPS[s])

    def _fill_recon(self, rep: PixelReport, shown: np.ndarray | None) -> None:
        with batch(self.recon_table) as t:
            self._fill_recon_cells(t, rep)
        self._fill_check(rep, shown)

    def _fill_recon_cells(self, t: QTableWidget, rep: PixelReport) -> None:
        for c in range(3):
            vals: list[str] = [f"{rep.weighted_sums[c]:.5f}"]
            vals.append(f"{1 + rep.gain[c]:.5f}" if rep.gain is not None else "—")
            vals.append(f"{rep.bias[c]:+.5f}" if rep.bias is not None else "—")
            vals.append(f"{rep.premix[c]:.5f}")
            if rep.mix is not None:
                vals += [f"{v:+.4f}" for v in rep.mix[c]] + [f"{rep.mix_bias[c]:+.5f}"]
            else:
                vals += ["—"] * 4
            vals.append(f"{rep.linear[c]:+.5f}" if rep.linear is not None else "—")
            vals += [f"{rep.reconstructed[c]:.6f}", f"{rep.output[c]:.6f}"]
            for j, v in enumerate(vals):
                set_cell(t, c, j, v, bold=j >= len(vals) - 2)

    def _fill_check(self, rep: PixelReport, shown: np.ndarray | None) -> None:
        d = rep.max_abs_diff
        ok = rep.reconstruction_ok
        mark = ("<span style='color:#087f23'><b>✓ matches</b></span>" if ok else
                "<span style='color:#b00020'><b>✗ does not match</b></span>")
        extra = ""
        if shown is not None:
            clamped = np.clip(rep.reconstructed, 0, 1)
            d2 = float(np.max(np.abs(clamped - shown)))
            extra = (f" &nbsp;·&nbsp; Compare shows {' '.join(f'{v:.4f}' for v in shown)} (clamped to [0, 1]); "
                     f"|reconstructed − shown| ≤ {d2:.1e}")
        self.check.setText(f"Reconstruction check: max |reconstructed − ADK-Net output| = <b>{d:.2e}</b> "
                           f"(tolerance {RECON_TOLERANCE:.0e}) {mark}{extra}")

    # ------------------------------------------------------------------ hover and clicks

    def hover_text(self) -> str:
        return self.hover.text()

    def describe_tap(self, which: int, r: int, c: int) -> str:
        """The hover line for tap (r, c) of kernel `which` (0-2: R, G, B; 3: bicubic)."""
        rep = self.report
        if rep is None:
            return ""
        dx, dy = rep.tap_offset(r, c)
        hy, hx = rep.tap_hr(r, c)
        name = ("R", "G", "B", "bicubic")[which]
        w = rep.kernels[which, r, c] if which < 3 else rep.bicubic[r, c]
        hr_val = f", HR value {rep.patch[which, r, c]:.4f}" if which < 3 else ""
        return (f"{name} tap (row {r}, col {c}) · dx {dx:+g}, dy {dy:+g} HR px · HR x={hx}, y={hy}: "
                f"weight {w:+.6f}{hr_val}")

    def _on_heat_hover(self, pos) -> None:
        rep = self.report
        if rep is None:
            return
        for i, vb in enumerate(self.kernel_boxes):
            if vb.sceneBoundingRect().contains(pos):
                v = vb.mapSceneToView(pos)
                r, c = int(math.floor(v.y())), int(math.floor(v.x()))
                if 0 <= r < rep.k and 0 <= c < rep.k:
                    self.hover.setText(self.describe_tap(i, r, c))
                    return
        self.hover.setText(self._hover_text)

    def _on_patch_hover(self, pos) -> None:
        rep = self.report
        if rep is None:
            return
        vb = self.patch_box.vb
        v = vb.mapSceneToView(pos)
        r, c = int(math.floor(v.y())), int(math.floor(v.x()))
        if vb.sceneBoundingRect().contains(pos) and 0 <= r < rep.k and 0 <= c < rep.k:
            hy, hx = rep.tap_hr(r, c)
            vals = " ".join(f"{ch} {rep.patch[i, r, c]:.4f} (w {rep.kernels[i, r, c]:+.5f})"
                            for i, ch in enumerate("RGB"))
            self.hover.setText(f"HR x={hx}, y={hy}: {vals}")
        else:
            self.hover.setText(self._hover_text)

    def _on_foot_click(self, ev) -> None:
        if ev.button() != Qt.LeftButton or self.report is None:
            return
        v = self.foot_box.vb.mapSceneToView(ev.scenePos())
        self.hrClicked.emit(int(math.floor(v.y())), int(math.floor(v.x())))


__all__ = ["KernelPanel", "DIVERGING"]
