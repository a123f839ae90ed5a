#!/usr/bin/env bash
# VL-ComplEx in the official layout (fused features = real part, rank = the
# feature size 384, identity projection; separate unfused imaginary table),
# with the settings of the VL-DistMult rows of benchmarks/results/methods.md.
# Usage: bash benchmarks/methods/run_vlcomplex.sh [RUNS_DIR] [VTKG_ROOT]
# Env: SEEDS (VTKG-I, default "0 1 2"); WN9_EPOCHS (default 0 = skip WN9),
# WN9_MODS, WN9_DATA (default RUNS_DIR/wn9_text.pt, made here by
# prepare_wn9.py from $SHARED_DATA/WN9-IMG when absent; SHARED_DATA defaults
# to ../shared/data beside the repository).
set -euo pipefail
RUNS=${1:-/tmp/mm_runs}
ROOT=${2:-/tmp/mm_bench/VTKG-I}
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$RUNS"
VL="--model vlkge --model-kwargs {\"scorer\":\"complex\"} --dim 384 \
  --regime slcwa --num-negatives 100 --filtered-negatives --optimizer adagrad \
  --lr 0.1 --batch-size 512 --device cpu --no-progress"

for seed in ${SEEDS:-0 1 2}; do
  for mods in structure structure,text; do
    run=$RUNS/vtkg_i-vlcomplex-${mods//,/+}-s$seed
    [ -f "$run/results.json" ] || python -m pyg_mmkg.cli train \
      --dataset VTKG-I --root "$ROOT" --modalities "$mods" $VL \
      --epochs 100 --eval-every 5 --patience 4 --seed "$seed" --run-dir "$run"
    python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle \
      --ablate structure:shuffle --out "$RUNS/vtkg_i_vlcomplex_rows.jsonl"
  done
done

# WN9-IMG, reduced budget (the recorded GPU rows ran up to 100 epochs).
if [ "${WN9_EPOCHS:-0}" -gt 0 ]; then
  SHARED_DATA=${SHARED_DATA:-$HERE/../../../shared/data}
  WN9_DATA=${WN9_DATA:-$RUNS/wn9_text.pt}
  [ -f "$WN9_DATA" ] || python "$HERE/prepare_wn9.py" \
    --raw "$SHARED_DATA/WN9-IMG" --root "$RUNS/WN9-IMG" --out "$WN9_DATA"
  for mods in ${WN9_MODS:-structure,text}; do
    run=$RUNS/wn9-vlcomplex-${mods//,/+}-e$WN9_EPOCHS-s0
    [ -f "$run/results.json" ] || python -m pyg_mmkg.cli train \
      --dataset "$WN9_DATA" --modalities "$mods" $VL --epochs $WN9_EPOCHS \
      --eval-every 1 --patience 5 --eval-batch-size 512 --seed 0 \
      --run-dir "$run"
    python "$HERE/evaluate_run.py" "$run" --ablate text:shuffle \
      --merged-filter --out "$RUNS/wn9_vlcomplex_rows.jsonl"
  done
fi
