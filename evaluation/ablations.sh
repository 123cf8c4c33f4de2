#!/usr/bin/env bash
# Ablations on ego_small: one training seed (0), one sampling seed (0), 1,024 samples, the
# same wall-clock training budget (3 minutes, one torch thread) for every variant; each line writes one
# result file (their numbers are summarised in docs/decisions.md). Usage, with the project's virtualenv active:
# bash evaluation/ablations.sh [NAME ...]
# (no names: all variants). Rows: python evaluation/graph_results.py --ablation evaluation/results/ablations/*.json
# The recorded rows (evaluation/results/ablations/) were run at commit 25e854c, whose defaults were 1.5 flips
# per graph, GWG 500 steps and a constant learning rate; `git checkout 25e854c` first to reproduce them.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
declare -A VARIANTS=(
  [base]='--model-options {}'
  [flips0.5]='--model-options {"flips":0.5}'
  [flips3]='--model-options {"flips":3}'
  [flips6]='--model-options {"flips":6}'
  [eps0.02]='--model-options {"flips":null,"eps":0.02}'
  [eps0.05]='--model-options {"flips":null,"eps":0.05}'
  [eps0.2]='--model-options {"flips":null,"eps":0.2}'
  [m4]='--model-options {"num_negatives":4}'
  [m16]='--model-options {"num_negatives":16}'
  [m64]='--model-options {"num_negatives":64}'
  [w0]='--model-options {"w":0}'
  [ema0]='--train-options {"ema_decay":0}'
  [ema0.999]='--train-options {"ema_decay":0.999}'
  [cycles4]='--model-options {"features":["degree","triangles","cycles4","size"]}'
  [pcd-gibbs]='--objective pcd --cd-sampler gibbs --cd-steps 10 --cd-energy-penalty 1.0'
  [pcd-gwg]='--objective pcd --cd-sampler gwg --cd-steps 10 --cd-energy-penalty 1.0'
  [pcd-dmala]='--objective pcd --cd-sampler dmala --cd-steps 10 --cd-energy-penalty 1.0'
  [pcd-gwg-penalty0.1]='--objective pcd --cd-sampler gwg --cd-steps 10 --cd-energy-penalty 0.1'
)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${!VARIANTS[@]}")
mkdir -p evaluation/results/ablations
for name in "${names[@]}"; do
  read -r -a options <<< "${VARIANTS[$name]}"
  python evaluation/graph_results.py --dataset ego_small --minutes 3 --train-seeds 0 --sample-seeds 0 \
    --run-root "runs/ablations/$name" --out "evaluation/results/ablations/ego_small_$name.json" "${options[@]}"
done
