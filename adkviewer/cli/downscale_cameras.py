"""`downscale --per-camera`: each photo goes through the model of its own camera (the per-camera models that
`train --per-camera` wrote beside --weights), known as those models' pairs were (name prefix or EXIF)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable


class CameraPicker:
    """The MethodSet for one photo: its camera's model where there is one, else the --weights model (said once)."""

    def __init__(self, main, weights: str | None, note: Callable[[str], None]) -> None:
        from adk_model.camera_models import camera_models_beside
        from adk_model.errors import UserError
        from adk_model.methods import MethodSet
        from adk_model.weights import default_weights

        self.main, self.note = main, note
        self.weights = Path(weights) if weights else default_weights(main.scale)
        self.models = camera_models_beside(self.weights) if self.weights else {}
        if not self.models:
            raise UserError(f"--per-camera: there are no per-camera models beside {self.weights}; write them with "
                            f"'adkviewer train --pairs DIR --per-camera prefix' (or exif) and pass that run's "
                            f"adknet_x4_lite.safetensors as --weights.")
        self.sets = {cam: MethodSet(scale=main.scale, device=main.device, weights_path=path,
                                    budget_bytes=main.budget_bytes, amp=main.amp)
                     for cam, (_, path) in self.models.items()}
        for s in self.sets.values():
            s.runner()  # a damaged or wrong-scale camera model: one error before any photo
        self.used: Counter[str] = Counter()
        self._told: set[str] = set()

    def __call__(self, src: Path):
        from adk_model.cameras import camera_of_file

        for by in sorted({by for by, _ in self.models.values()}):
            cam = camera_of_file(src, by)
            if cam in self.models and self.models[cam][0] == by:
                self.used[cam] += 1
                return self.sets[cam]
        if cam not in self._told:
            self._told.add(cam)
            self.note(f"{src.name}: its camera ({cam}) has no model of its own beside {self.weights.name}, so its "
                      f"photos use {self.weights.name}")
        self.used[self.weights.name] += 1
        return self.main

    def summary(self) -> str:
        """Which model downscaled how many photos."""
        return "models used: " + ", ".join(f"{name} {n}" for name, n in self.used.most_common())
