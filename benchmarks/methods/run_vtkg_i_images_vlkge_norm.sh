#!/usr/bin/env bash
# Issue 11: VL-KGE on VTKG-I with the CLIPART images, two checks of why the
# images hurt it (settings of run_vtkg_i_images.sh otherwise):
#  * normalize=true: every part L2-normalised before the unweighted average
#    (the official code's --normalize_before_fusion, off in its configs);
#  * ComplEx at rank 384 = the MiniLM text size (official: rank = feature
#    size, no text projection) instead of the script's 192.
# Each run is evaluated by image_evidence.py, and vlkge_norms.py records the
# norms of the averaged parts. One thread per run.
# Usage: SEEDS="0" bash benchmarks/methods/run_vtkg_i_images_vlkge_norm.sh [RUNS_DIR] [DATA_ROOT]
set -euo pipefail
RUNS=${1:-/tmp/mm_runs_img}
ROOT=${2:-/tmp/mm_bench/VTKG-I}
SEEDS=${SEEDS:-0}
ROWS=$RUNS/vtkg_i_image_vlkge_check_rows.jsonl
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
HERE=$(cd "$(dirname "$0")" && pwd)
TRAIN="python -m pyg_mmkg.cli train --dataset VTKG-I --root $ROOT --no-progress --num-threads 1"
for seed in $SEEDS; do
  for spec in distmult:384:true complex:384:false; do
    IFS=: read -r scorer dim norm <<< "$spec"
    for mods in structure,text structure,text,image; do
      run=$RUNS/vlkge-$scorer-d$dim-norm$norm-${mods//,/+}-s$seed
      [ -f "$run/results.json" ] || $TRAIN --model vlkge \
        --modalities "$mods" --dim "$dim" \
        --model-kwargs "{\"scorer\": \"$scorer\", \"normalize\": $norm}" \
        --regime slcwa --num-negatives 100 --filtered-negatives \
        --optimizer adagrad --lr 0.1 --batch-size 512 --epochs 100 \
        --eval-every 5 --patience 4 --seed "$seed" --run-dir "$run"
      python "$HERE/image_evidence.py" "$run" --out "$ROWS"
      python "$HERE/vlkge_norms.py" "$run" --out "$RUNS/vlkge_norms.jsonl"
    done
  done
done
