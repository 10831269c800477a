#!/usr/bin/env bash
# One prepared device session for large photos and speed (issue 7): the CUDA benchmark (fp32 and bf16), the
# CUDA-vs-CPU check and bf16 PSNR cost on real validation pairs, and optionally a same-machine CPU A/B of the
# current forward against an older checkout OLD (2 pinned cores, like the dev machine).
# Usage (device machine, repo root): bash tools/gpu_bench.sh PAIRS_DIR OUT_DIR [OLD_CHECKOUT]
set -u
D=$1; O=$2; OLD=${3:-}
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 bench/bench_inference.py --device cuda --sizes 1 4 12 48 | tee "$O/bench_cuda.md"
python3 bench/bench_inference.py --device cuda --amp --sizes 12 48 --no-efficiency | tee "$O/bench_cuda_amp.md"
python3 tools/gpu_check.py resources/weights/adknet_x4_lite.safetensors "$D" | tee "$O/gpu_check.txt"
python3 bench/bench_train.py --device cuda --batch 16 32 --patch 64 --steps 10 | tee "$O/bench_train_cuda.md"
if [ -n "$OLD" ]; then
  { echo "## old forward, CUDA"; python3 "$OLD/bench/bench_inference.py" --device cuda --sizes 12 | tail -5
    for i in 1 2; do for tree in "$OLD" .; do
      echo "## $tree, CPU, cores 2-3, 2 threads"
      OMP_NUM_THREADS=2 taskset -c 2,3 python3 "$tree/bench/bench_inference.py" --sizes 1 | tail -4
    done; done; } | tee "$O/cpu_ab.md"
fi
