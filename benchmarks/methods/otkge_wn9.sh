#!/usr/bin/env bash
# OTKGE on WN9-IMG with MiniLM text features of the entity glosses (no
# images: the model fuses structure 0.2 + text 0.8), beside a structure-only
# control (OTKGE with modalities=structure is ComplEx-N3) at the same budget,
# and a text-shuffle ablation of the validation-selected checkpoint.
# Published recipe (Adagrad 0.1, batch 2000, N3 5e-3, frequency-weighted CE,
# validation every 5 epochs) except DIM and EPOCHS (CPU budget).
# Usage: bash benchmarks/methods/otkge_wn9.sh [RUNS_DIR] [RAW_DIR]
set -euo pipefail
RUNS=${1:-/tmp/mm_runs}
RAW=${2:-../shared/data/WN9-IMG}
DATA=${DATA:-$RUNS/wn9_text.pt}
DIM=${DIM:-100}
EPOCHS=${EPOCHS:-40}
SEED=${SEED:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
ROWS=${ROWS:-$HERE/otkge_wn9_rows.jsonl}
LOGS=$HERE/logs
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
mkdir -p "$RUNS" "$LOGS"
[ -f "$DATA" ] || python "$HERE/prepare_wn9.py" --raw "$RAW" \
  --root "$RUNS/WN9-IMG" --out "$DATA"
for mods in ${MODS:-structure,text structure}; do
  run=$RUNS/wn9-otkge-${mods//,/+}-d$DIM-s$SEED
  [ -f "$run/results.json" ] || python -m pyg_mmkg.cli train \
    --dataset "$DATA" --model otkge --modalities "$mods" --dim "$DIM" \
    --epochs "$EPOCHS" --seed "$SEED" --num-threads 1 --no-progress \
    --eval-batch-size 512 --run-dir "$run"
  cp "$run/metrics.jsonl" "$LOGS/wn9-otkge-${mods//,/+}-d$DIM-s$SEED.metrics.jsonl" \
    2>/dev/null || true
  python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle \
    --ablate structure:shuffle --out "$ROWS"
done
