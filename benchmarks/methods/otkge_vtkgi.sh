#!/usr/bin/env bash
# OTKGE on the bundled tri-modal VTKG-I (MiniLM texts, EfficientNet-Lite0
# features of the bundled clipart images for 108/181 entities): structure
# only (ComplEx-N3), + text, + text + images, with the published recipe
# (WN9-IMG command: Adagrad 0.1, batch 2000, 200 epochs, N3 5e-3,
# frequency-weighted CE, alpha 0.1, gamma 0.8, scale 100) except the rank
# (DIM); each run evaluated by image_evidence.py (image/text shuffles).
# Usage: SEEDS="0 1 2" bash benchmarks/methods/otkge_vtkgi.sh [RUNS] [ROOT]
set -euo pipefail
RUNS=${1:-/tmp/mm_runs_img}
ROOT=${2:-/tmp/mm_bench/VTKG-I}
SEEDS=${SEEDS:-0 1 2}
DIM=${DIM:-64}
EPOCHS=${EPOCHS:-200}
MODS=${MODS:-structure structure,text structure,text,image}
HERE=$(cd "$(dirname "$0")" && pwd)
ROWS=${ROWS:-$HERE/otkge_vtkgi_rows.jsonl}
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
mkdir -p "$RUNS"
for seed in $SEEDS; do
  for mods in $MODS; do
    run=$RUNS/otkge-${mods//,/+}-d$DIM-s$seed
    [ -f "$run/results.json" ] || python -m pyg_mmkg.cli train \
      --dataset VTKG-I --root "$ROOT" --model otkge --modalities "$mods" \
      --dim "$DIM" --epochs "$EPOCHS" --seed "$seed" --num-threads 1 \
      --no-progress --run-dir "$run"
    python "$HERE/image_evidence.py" "$run" --out "$ROWS"
  done
done
