"""Shared pieces of the ADK-Net core tests (test_adknet_*.py): the scale they run at, and a forward pass on an
(H, W, 3) NumPy image."""

from __future__ import annotations

import numpy as np
import torch

from adk_model.adknet import ADKNet

S = 4


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0).float()


def _forward(model: ADKNet, hr: np.ndarray, terms: bool = True):
    with torch.no_grad():
        return model(_t(hr), return_terms=terms)
