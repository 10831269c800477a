#!/usr/bin/env bash
# Seed study for the per-channel vs shared-kernel question (shared/docs/adknet.md): the shipped recipe (scratch,
# 1000 iterations, batch 16, 64-px LR patches) at more seeds, all runs side by side on one GPU.
# Usage (device machine, repo root): SEEDS="2 3 4" bash tools/gpu_seeds.sh PAIRS_DIR OUT_DIR
set -u
D=$1; O=$2; SEEDS=${SEEDS:-2 3 4}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
mkdir -p "$O/runs"
for seed in $SEEDS; do
  for variant in per_channel shared; do
    flag=""; [ "$variant" = shared ] && flag="--shared-kernel"
    python3 -m adkviewer train --init scratch --pairs "$D" --device cuda --out "$O/runs/${variant}_s$seed" \
      --time-budget 150 --iterations 1000 --val-every 250 --ckpt-every 1000 --batch 16 --patch 64 \
      --lstsq-fit resources/lstsq_x4.safetensors --seed "$seed" $flag > "$O/runs/${variant}_s$seed.log" 2>&1 &
  done
done
wait
for f in "$O"/runs/*.log; do echo "== $(basename "$f")"; tr '\r' '\n' < "$f" | grep -E "val PSNR|budget|rror" | tail -2; done
(cd "$O" && tar czf seeds.tgz --exclude='*.pt' --exclude='*.safetensors' runs && rm -rf runs)
