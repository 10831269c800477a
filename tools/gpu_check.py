"""CUDA output vs CPU output of the same weights, and the PSNR cost of bf16 autocast, on real validation pairs.

    python tools/gpu_check.py WEIGHTS PAIRS_DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from adk_model.data import discover_pairs, load_pair, select  # noqa: E402
from adk_model.splits import read_split  # noqa: E402
from adk_model.inference import AdkRunner  # noqa: E402
from adk_model.metrics import psnr  # noqa: E402
from adk_model.weights import load_weights  # noqa: E402


def main() -> None:
    weights, pairs_dir = sys.argv[1], sys.argv[2]
    split = read_split(pairs_dir)
    pairs = [load_pair(p, 4) for p in select(discover_pairs(pairs_dir, 4), split.val)]
    cpu = AdkRunner(load_weights(weights).model, "cpu")
    gpu = AdkRunner(load_weights(weights).model, "cuda")
    amp = AdkRunner(load_weights(weights).model, "cuda", amp=True)
    diffs, p_cpu, p_gpu, p_amp = [], [], [], []
    for hr, lr in pairs:
        a, b, c = cpu.downscale(hr), gpu.downscale(hr), amp.downscale(hr)
        diffs.append(float(np.abs(a - b).max()))
        p_cpu.append(psnr(a, lr)); p_gpu.append(psnr(b, lr)); p_amp.append(psnr(c, lr))
    print(f"{torch.cuda.get_device_name()}: max |CUDA fp32 - CPU| over {len(pairs)} val images = {max(diffs):.2e}")
    print(f"val PSNR: CPU {np.mean(p_cpu):.4f} dB, CUDA fp32 {np.mean(p_gpu):.4f} dB, "
          f"CUDA bf16 autocast {np.mean(p_amp):.4f} dB (change {np.mean(p_amp) - np.mean(p_gpu):+.4f} dB)")


if __name__ == "__main__":
    main()
