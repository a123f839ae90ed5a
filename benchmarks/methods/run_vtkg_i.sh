#!/usr/bin/env bash
# MoSE and VL-KGE on the bundled VTKG-I with its real MiniLM text features
# (no images), structure-only vs structure+text, 3 seeds, via the CLI; then
# post-hoc ensembles (MoSE-AI/BI/MI fit on validation) and ablations.
# Usage: bash benchmarks/methods/run_vtkg_i.sh [RUNS_DIR] [DATA_ROOT]
set -euo pipefail
RUNS=${1:-/tmp/mm_runs}
ROOT=${2:-/tmp/mm_bench/VTKG-I}
ROWS=$RUNS/vtkg_i_rows.jsonl
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
HERE=$(cd "$(dirname "$0")" && pwd)
TRAIN="python -m pyg_mmkg.cli train --dataset VTKG-I --root $ROOT --no-progress"
mkdir -p "$RUNS"

for seed in 0 1 2; do
  for mods in structure structure,text; do
    tag=${mods//,/+}
    # MoSE: 1vsAll CE + N3 per branch (model hook), reciprocal relations,
    # Adagrad 0.1 as the official code; rank 64 instead of 2000 (CPU).
    run=$RUNS/vtkg_i-mose-$tag-s$seed
    [ -f "$run/results.json" ] || $TRAIN --model mose --modalities "$mods" \
      --dim 64 --regime 1vsall --optimizer adagrad --lr 0.1 \
      --batch-size 256 --epochs 200 --eval-every 3 --patience 5 \
      --seed "$seed" --run-dir "$run"
    python "$HERE/evaluate_run.py" "$run" --ensembles \
      --ablate text:shuffle --ablate structure:shuffle --out "$ROWS"

    # VL-KGE (DistMult): logistic loss with 100 filtered negatives, Adagrad
    # 0.1, batch 512 as the official WN9 config; d = 384 = MiniLM size, so
    # the text features enter without projection (as CLIP's in the paper).
    run=$RUNS/vtkg_i-vlkge-$tag-s$seed
    [ -f "$run/results.json" ] || $TRAIN --model vlkge --modalities "$mods" \
      --dim 384 --regime slcwa --num-negatives 100 --filtered-negatives \
      --optimizer adagrad --lr 0.1 --batch-size 512 --epochs 100 \
      --eval-every 5 --patience 4 --seed "$seed" --run-dir "$run"
    python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle \
      --ablate structure:shuffle --out "$ROWS"
  done
done
