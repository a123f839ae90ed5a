#!/usr/bin/env bash
# MoSE and VL-KGE on WN9-IMG with MiniLM text features of the entity glosses
# (no images), one seed, short CPU budget. MoSE's branches train
# independently, so its structure branch is the structure-only model.
# Usage: bash benchmarks/methods/run_wn9.sh [RUNS_DIR] [RAW_DIR]
# Budget knobs (defaults: 2-core CPU; the recorded run used a GPU with
# MOSE_DIM=256 MOSE_EPOCHS=100 VL_EPOCHS=100 PATIENCE=5).
set -euo pipefail
RUNS=${1:-/tmp/mm_runs}
RAW=${2:-$(cd "$(dirname "$0")" && pwd)/../../../shared/data/WN9-IMG}
DATA=${DATA:-$RUNS/wn9_text.pt}
MOSE_DIM=${MOSE_DIM:-64}
MOSE_EPOCHS=${MOSE_EPOCHS:-30}
VL_EPOCHS=${VL_EPOCHS:-20}
PATIENCE=${PATIENCE:-3}
ROWS=$RUNS/wn9_rows.jsonl
export OMP_NUM_THREADS=2 PYTHONWARNINGS=ignore
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$RUNS"
[ -f "$DATA" ] || python "$HERE/prepare_wn9.py" --raw "$RAW" \
  --root "$RUNS/WN9-IMG" --out "$DATA"
TRAIN="python -m pyg_mmkg.cli train --dataset $DATA --no-progress"

if [ "${ONLY:-}" != vlkge ]; then
run=$RUNS/wn9-mose-structure+text-s0
[ -f "$run/results.json" ] || $TRAIN --model mose \
  --modalities structure,text --dim $MOSE_DIM --regime 1vsall \
  --optimizer adagrad --lr 0.1 --batch-size 1000 --epochs $MOSE_EPOCHS \
  --eval-every 3 --patience $PATIENCE \
  --eval-batch-size 512 --seed 0 --run-dir "$run"
python "$HERE/evaluate_run.py" "$run" --ensembles --ablate text:shuffle \
  --ablate structure:shuffle --out "$ROWS"
fi

# VL-KGE scorers as name:dim (dim = feature size / (2 for complex) means
# no projection): "distmult:384 complex:192".
for spec in ${VL_SCORERS:-distmult:384}; do
for mods in structure structure,text; do
  scorer=${spec%%:*}; dim=${spec##*:}
  run=$RUNS/wn9-vlkge-$scorer-${mods//,/+}-s0
  [ -f "$run/results.json" ] || $TRAIN --model vlkge --modalities "$mods" \
    --model-kwargs "{\"scorer\": \"$scorer\"}" --dim $dim --regime slcwa --num-negatives 100 --filtered-negatives \
    --optimizer adagrad --lr 0.1 --batch-size 512 --epochs $VL_EPOCHS \
    --eval-every 3 --patience $PATIENCE --eval-batch-size 512 --seed 0 \
    --run-dir "$run"
  python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle \
    --merged-filter --out "$ROWS"
done
done
