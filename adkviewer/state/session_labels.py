"""What the session calls its methods and the ground truth, and what each method runs from: labels, short labels,
the weights or fit behind an output, why a method cannot run. Read-only, and Qt-free like the session."""

from __future__ import annotations

from pathlib import Path

from adk_model.errors import UserError
from adk_model.method_registry import method_info
from adk_model.methods import LABELS, shipped_lstsq

from adkviewer.state.session_parts import weights_name
from adkviewer.state.model_info import trained_on

GT = "gt"  # key of the ground-truth LR wherever methods and the ground truth are listed together
GT_LABEL = "Ground truth LR"


def no_weights_message(scale: int) -> str:
    return f"no ADK-Net weights for x{scale} — train some in the Train tab"


def no_lstsq_message(scale: int) -> str:
    return f"no least-squares fit for x{scale} — fit one from a pairs folder (the link under Methods)"


class MethodLabels:
    """Session's names for its methods (the fields read are the session's own: scale, extras, lstsq_paths, hr_path)."""

    def weights_of(self, method: str) -> Path | None:
        """The weights file an ADK-Net method runs (the main one, or added weights); None for other methods."""
        if method == "adknet":
            return self.adknet_weights()
        extra = self.extras.get(method)
        return Path(extra.path) if extra is not None and extra.is_adknet else None

    def trained_on_image(self, method: str) -> bool:
        """Whether the open image is a pair its model was trained on (its card lists it): then its score is not a
        test score, and the views and tables say so."""
        w = self.weights_of(method)
        return bool(w and self.hr_path and trained_on(w, self.names()[0]))

    def unavailable(self, method: str) -> str | None:
        """Why a method cannot run at the current scale (shown instead of its output), or None."""
        if method == "adknet" and self.adknet_weights() is None:
            return no_weights_message(self.scale)
        if method == "lstsq" and self.lstsq_path() is None:
            return no_lstsq_message(self.scale)
        return None

    def model_name(self, method: str) -> str:
        """The weights (ADK-Net) or the fit (least-squares) a method's output comes from; '' for the others."""
        if method == "adknet":
            w = self.adknet_weights()
            return weights_name(w) if w else ""
        if method == "lstsq":
            path = self.lstsq_path()
            return Path(path).stem if path else ""
        extra = self.extras.get(method)
        if extra is not None:
            return weights_name(extra.path) if extra.is_adknet else Path(extra.path).name
        return ""

    def lstsq_path(self) -> Path | None:
        """The least-squares fit used at the current scale: the person's own, else the shipped one, else None."""
        own = self.lstsq_paths.get(self.scale)
        return Path(own) if own else shipped_lstsq(self.scale)

    def _external(self, method: str) -> bool:
        """Results read from the person's files: their time is reading a file, not the method's, so none is shown."""
        return method in self.extras and not self.extras[method].is_adknet

    def label(self, method: str) -> str:
        if method == GT:
            return GT_LABEL
        if method == "adknet":
            w = self.adknet_weights()
            return f"ADK-Net ({weights_name(w)})" if w else "ADK-Net"
        if method == "lstsq" and self.lstsq_paths.get(self.scale):
            return f"{LABELS['lstsq']} ({self.model_name('lstsq')})"
        if method in self.extras:
            return self.extras[method].info().label
        return LABELS.get(method, method)

    def short_label(self, method: str) -> str:
        """Where space is short: view titles, readouts, combos."""
        if method == GT:
            return "GT"
        try:
            return method_info(method, self.extras).short
        except UserError:
            return method
