#!/usr/bin/env bash
# The GPU check, in one go, on a machine with CUDA and a Python that has torch, lightning,
# torch-geometric, networkx and scipy (wheels of anything else can sit in .whl/):
#   1. install edgraph (no downloads) and run the GPU-marked tests;
#   2. train on planar for MINUTES minutes, sample 40 graphs and evaluate them (V.U.N., MMD,
#      and PGD when polygraph-benchmark is installed), with the wall time of each step;
#   3. with two or more GPUs, a 2-process DDP smoke test.
# Usage: bash scripts/gpu_check.sh [RESULTS_DIR]   (default runs/gpu_check; MINUTES, STEPS override;
# DEVICE=cpu rehearses the same steps on a machine without a GPU, skipping the GPU tests)
set -euo pipefail
cd "$(dirname "$0")/.."
results="${1:-${OUT:-runs/gpu_check}}"
minutes="${MINUTES:-4}"
steps="${STEPS:-4000}"
python="${PYTHON:-python3}"
device="${DEVICE:-cuda}"
mkdir -p "$results"
log="$results/gpu_check.log"
exec > >(tee "$log") 2>&1

clock() { date +%s.%N; }
took() { "$python" -c 'import sys, time; print(f"{sys.argv[1]}: {time.time() - float(sys.argv[2]):.1f} s")' "$1" "$2"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
if compgen -G ".whl/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
"$python" -m pip install -q --no-deps --no-build-isolation -e .
gpus=$("$python" -c "import torch; print(torch.cuda.device_count())")
if [ "$device" = cuda ]; then
    "$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name())"
    start=$(clock)
    "$python" -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider
    took "GPU tests" "$start"
fi

run="$results/planar"
rm -rf "$run" "$results/ddp"
start=$(clock)
"$python" -m edgraph.cli train --dataset planar --out "$run" --device "$device" --max-minutes "$minutes" --no-progress
took "train planar ($minutes min budget)" "$start"

start=$(clock)
"$python" -m edgraph.cli sample --checkpoint "$run" --num 40 --steps "$steps" --seed 0 --device "$device" \
    --out "$run/samples.json" --overwrite --no-progress
took "sample 40 planar graphs ($steps steps)" "$start"

pgd=(--no-pgd)
if "$python" -c "import polygraph" 2>/dev/null; then pgd=(); fi
start=$(clock)
"$python" -m edgraph.cli evaluate --samples "$run/samples.json" --dataset planar --protocol gran "${pgd[@]}" \
    --out "$run/samples.metrics.json" --overwrite
took "evaluate" "$start"

if [ "$device" = cuda ] && [ "$gpus" -ge 2 ]; then
    start=$(clock)
    "$python" -m edgraph.cli train --dataset ego_small --out "$results/ddp" --device cuda --devices 2 --strategy ddp \
        --max-steps 20 --no-progress
    took "DDP smoke test (2 GPUs, 20 steps)" "$start"
else
    echo "DDP smoke test skipped: $gpus GPU(s)"
fi
