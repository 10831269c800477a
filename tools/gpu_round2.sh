#!/usr/bin/env bash
# Second GPU round: capacity, batch and seed-noise checks after the first ablation round.
set -u
D=$1; O=$2; B=${BUDGET:-240}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
mkdir -p "$O/runs"
run() {
  name=$1; shift
  python3 -m adkviewer train --init scratch --pairs "$D" --device cuda --out "$O/runs/$name" --time-budget "$B" \
    --iterations 200000 --val-every 1000 --ckpt-every 2000 --lstsq-fit resources/lstsq_x4.safetensors "$@" \
    > "$O/runs/$name.log" 2>&1 &
}
W48="--set width=48 --set gen_width=48 --set gen_blocks=3 --set branch_width=64"
run w48_k12 --batch 16 $W48
run w48_k16 --batch 16 --k 16 $W48
run lite_b32 --batch 32 --lr 2e-3
run lite_p64 --batch 16 --patch 64
run lite_seed1 --batch 16 --seed 1
run shared_seed1 --batch 16 --seed 1 --shared-kernel
wait
for f in "$O"/runs/*.log; do echo "== $f"; tr '\r' '\n' < "$f" | grep -E "val PSNR|budget|wrote|rror" | tail -4; done
(cd "$O" && tar czf results2.tgz --exclude='*.pt' runs && rm -rf runs)
