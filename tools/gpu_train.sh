#!/usr/bin/env bash
# One prepared GPU session: the ablations of shared/docs/adknet.md run side by side on one GPU, each with the same
# wall-clock budget, then a CUDA-vs-CPU check and the inference benchmark. Results come back as one tarball.
# Usage (on the device machine, repo root): BUDGET=360 bash tools/gpu_train.sh DATA_DIR OUT_DIR
set -u
D=$1; O=$2; B=${BUDGET:-360}; DEV=${DEV:-cuda}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
nvidia-smi -L || true
mkdir -p "$O/runs"
run() {
  name=$1; shift
  python3 -m adkviewer train --init scratch --pairs "$D" --device "$DEV" --out "$O/runs/$name" --time-budget "$B" \
    --iterations 200000 --val-every 1000 --ckpt-every 2000 --batch 16 ${EXTRA:-} --lstsq-fit resources/lstsq_x4.safetensors "$@" \
    > "$O/runs/$name.log" 2>&1 &
}
run lite_k12
run lite_k16 --k 16
run lite_softmax_only --no-gain-bias --no-colour-mix
run lite_signed --norm signed
run lite_shared_kernel --shared-kernel
run paper --preset paper
wait
for f in "$O"/runs/*.log; do echo "== $f"; tr '\r' '\n' < "$f" | grep -E "val PSNR|budget|wrote|error|Error" | tail -4; done
W=$(ls "$O"/runs/lite_k12/*.safetensors 2>/dev/null | head -1)
if [ -n "$W" ] && [ "$DEV" = cuda ]; then
  python3 tools/gpu_check.py "$W" "$D"
  python3 bench/bench_inference.py --device cuda --weights "$W" --sizes 1 4 12 48 | tee "$O/bench_cuda.md"
  python3 bench/bench_inference.py --device cuda --amp --weights "$W" --sizes 12 48 --no-efficiency | tee "$O/bench_cuda_amp.md"
fi
(cd "$O" && tar czf results.tgz --exclude='*.pt' runs && rm -rf runs)
