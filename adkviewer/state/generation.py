"""The one staleness key: which image, scale, device, weights and ground truth something was made from.

`Session.generation` is a `Generation`; every change of the session makes a new one, once per change (a
ground truth that also sets the scale is one change touching two parts). Workers tag what they compute
with the generation they started from and every cache keys on it, so "is this still current?" is one
comparison everywhere: method results and the Differences maps, the Inspect kernels and field maps, the
weights the session found, the `MethodSet` it built.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

PARTS = ("image", "scale", "device", "weights", "lstsq", "ground_truth", "extras")


@dataclass(frozen=True)
class Generation:
    """How often each part of the session has changed; equal generations mean nothing has."""

    image: int = 0          # another HR opened
    scale: int = 0
    device: int = 0         # device or tile budget
    weights: int = 0        # other ADK-Net weights (or the same file rewritten)
    lstsq: int = 0          # another least-squares fit at this scale (only that method's output changes)
    ground_truth: int = 0   # a ground truth opened, dropped, set aside or back
    extras: int = 0         # a method added or removed (more weights, one's own results): only its output changes

    def bumped(self, *parts: str) -> Generation:
        """The generation after a change of these parts (each one higher)."""
        unknown = [p for p in parts if p not in PARTS]
        if unknown or not parts:
            raise ValueError(f"unknown generation part(s) {unknown}; choose from {', '.join(PARTS)}")
        return replace(self, **{p: getattr(self, p) + 1 for p in parts})

    @property
    def results(self) -> Generation:
        """The part every method's output depends on: not the ground truth (it only scores them), nor the
        least-squares fit or the added methods (only their own output; see `output_of`)."""
        return replace(self, ground_truth=0, lstsq=0, extras=0)

    def output_of(self, method: str) -> Generation:
        """The part one method's output depends on (an added method's key holds a ':')."""
        if method == "lstsq":
            return replace(self, ground_truth=0, extras=0)
        return replace(self, ground_truth=0, lstsq=0) if ":" in method else self.results

    @property
    def methods(self) -> Generation:
        """The part the methods themselves depend on (scale, device, weights, fit), whatever the image."""
        return replace(self, image=0, ground_truth=0)
