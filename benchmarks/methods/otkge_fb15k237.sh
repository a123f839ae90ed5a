#!/usr/bin/env bash
# OTKGE on FB15k-237 with MiniLM features of the entity texts ("name:
# description", no images: the model fuses structure 0.3 + text 0.7), beside
# a structure-only control (OTKGE with modalities=structure is ComplEx-N3)
# under the same wall-clock budget, and a text-shuffle ablation of the
# validation-selected checkpoint. Published FB-IMG recipe of OTKGE (Adagrad
# 0.1, batch 5000, N3 1e-3, gamma 0.7, OT scale 300, frequency-weighted CE)
# except DIM, the budget (MAX_TIME_S, checked after each epoch) and
# validation after every epoch.
# Usage: bash benchmarks/methods/otkge_fb15k237.sh [RUNS_DIR] [RAW_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${1:-/tmp/mm_runs}
RAW=${2:-$HERE/../../../shared/data/FB15k-237}
DATA=${DATA:-$RUNS/fb15k237_text.pt}
DIM=${DIM:-100}
EPOCHS=${EPOCHS:-150}
MAX_TIME_S=${MAX_TIME_S:-900}
SEED=${SEED:-0}
ROWS=${ROWS:-$HERE/logs/otkge_fb15k237_rows.jsonl}
LOGS=$HERE/logs
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
mkdir -p "$RUNS" "$LOGS"
if [ ! -f "$DATA" ]; then
  FEATS=$RUNS/cache/FB15k-237.hf-mean_all-MiniLM-L6-v2_last.pt
  [ -f "$FEATS" ] || python "$HERE/../features/text_features.py" \
    --datasets FB15k-237 --data-dir "$(dirname "$RAW")" \
    --cache-dir "$RUNS/cache" --threads 1 --results "$RUNS/features.md"
  python "$HERE/fb15k237_prepare.py" --raw "$RAW" --root "$RUNS/FB15k-237" \
    --out "$DATA" --features "$FEATS"
fi
for mods in ${MODS:-structure structure,text}; do
  name=fb15k237-otkge-${mods//,/+}-d$DIM-s$SEED
  run=$RUNS/$name
  [ -f "$run/results.json" ] || python -m pyg_mmkg.cli train \
    --dataset "$DATA" --model otkge --modalities "$mods" --dim "$DIM" \
    --batch-size 5000 \
    --model-kwargs '{"gamma": 0.7, "ot_scale": 300.0, "n3_weight": 0.001}' \
    --epochs "$EPOCHS" --eval-every 1 --max-time-s "$MAX_TIME_S" \
    --seed "$SEED" --num-threads 1 --no-progress --eval-batch-size 512 \
    --run-dir "$run"
  cp "$run/metrics.jsonl" "$LOGS/$name.metrics.jsonl" 2>/dev/null || true
  python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle --out "$ROWS"
done
