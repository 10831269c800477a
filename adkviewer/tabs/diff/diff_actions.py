"""Session changes and what a person picks: image, reference, mode, channel, gain, swipe."""

from __future__ import annotations

import math

from adk_model.errors import UserError

from adkviewer.state.session import GT
from adkviewer.tabs.diff.diff_state import GAIN_MAX, GAIN_MIN, DiffSpec, parse_diff_spec
from adkviewer.tabs.diff.diff_widgets import KEY


class DiffActions:
    """A part of DiffTab (its attributes are the tab's own)."""

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
            spec = parse_diff_spec(str(text))
            self.show_diff(spec)
        except UserError as e:
            self.hub.error(str(e))
            return
        self._requested = True
        self.ctx.shell.show_tab(KEY)

    def show_diff(self, spec: DiffSpec | str) -> None:
        """Choose image, reference, mode and channel (methods not ticked in Compare are ticked and computed)."""
        if isinstance(spec, str):
            spec = parse_diff_spec(spec)
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
