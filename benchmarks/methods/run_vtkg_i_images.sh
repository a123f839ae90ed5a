#!/usr/bin/env bash
# The four multimodal methods on the bundled VTKG-I with its CLIPART images
# (datasets/VTKG-I/images: openclipart-png / tuxpaint-stamps-default drawings,
# 108/181 entities and 12/217 relations covered, EfficientNet-Lite0 features)
# and real MiniLM texts; every run is then evaluated by image_evidence.py
# (test metrics, image- and text-shuffle ablations, queries whose answer has
# an image vs not). One thread per run.
# Usage: SEEDS="0 1 2" ONLY="mose vlkge vista momok" \
#        bash benchmarks/methods/run_vtkg_i_images.sh [RUNS_DIR] [DATA_ROOT]
set -euo pipefail
RUNS=${1:-/tmp/mm_runs_img}
ROOT=${2:-/tmp/mm_bench/VTKG-I}
SEEDS=${SEEDS:-0 1 2}
ONLY=${ONLY:-mose vlkge vista momok}
ROWS=$RUNS/vtkg_i_image_rows.jsonl
ENS=$RUNS/vtkg_i_image_mose_ensembles.jsonl
export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore
HERE=$(cd "$(dirname "$0")" && pwd)
TRAIN="python -m pyg_mmkg.cli train --dataset VTKG-I --root $ROOT --no-progress --num-threads 1"
EVAL="python $HERE/image_evidence.py"
ENSEVAL="python $HERE/evaluate_run.py"
mkdir -p "$RUNS"
has() { [[ " $ONLY " == *" $1 "* ]]; }

for seed in $SEEDS; do
  if has mose; then
    # Same settings as run_vtkg_i.sh (rank 64, 1vsAll CE + N3, Adagrad 0.1),
    # ensemble chosen on held-out validation triples ('auto'). Options not
    # given come from the published recipe (selection on val H@10, plateau
    # scheduler), as when the first rows were made; then the branches and
    # AI/BI/MI fitted on validation (evaluate_run.py --ensembles).
    for mods in structure structure,text structure,image structure,text,image; do
      run=$RUNS/mose-${mods//,/+}-s$seed
      [ -f "$run/results.json" ] || $TRAIN --model mose --modalities "$mods" \
        --dim 64 --regime 1vsall --optimizer adagrad --lr 0.1 \
        --batch-size 256 --epochs 200 --eval-every 3 --patience 5 \
        --model-kwargs '{"ensemble": "auto"}' --seed "$seed" --run-dir "$run"
      $EVAL "$run" --out "$ROWS"
      $ENSEVAL "$run" --ensembles --ablate image:shuffle --ablate text:shuffle \
        --out "$ENS"
    done
  fi
  if has vlkge; then
    # As run_vtkg_i.sh: logistic loss, 100 filtered negatives, Adagrad 0.1.
    for spec in distmult:384 complex:192; do
      scorer=${spec%%:*}; dim=${spec##*:}
      for mods in structure,text structure,text,image; do
        run=$RUNS/vlkge-$scorer-${mods//,/+}-s$seed
        [ -f "$run/results.json" ] || $TRAIN --model vlkge \
          --modalities "$mods" --dim "$dim" \
          --model-kwargs "{\"scorer\": \"$scorer\"}" --regime slcwa \
          --num-negatives 100 --filtered-negatives --optimizer adagrad \
          --lr 0.1 --batch-size 512 --epochs 100 --eval-every 5 \
          --patience 4 --seed "$seed" --run-dir "$run"
        $EVAL "$run" --out "$ROWS"
      done
    done
  fi
  if has vista; then
    # The official VTKG-I settings (see methods.md), 75 epochs.
    run=$RUNS/vista-structure+text+image-s$seed
    [ -f "$run/results.json" ] || $TRAIN --model vista \
      --modalities structure,text,image --dim 256 \
      --model-kwargs '{"preset": "VTKG-I"}' --regime 1vsall --loss ce \
      --lr 1e-4 --batch-size 128 --scheduler cosine \
      --scheduler-kwargs '{"T_0": 25, "T_mult": 2}' --grad-clip 0.1 \
      --epochs 75 --eval-every 5 --seed "$seed" --run-dir "$run"
    $EVAL "$run" --out "$ROWS"
  fi
  if has momok; then
    # The settings of the momok_bench.py VTKG-I rows (BCE, d = 128).
    run=$RUNS/momok-structure+text+image-s$seed
    [ -f "$run/results.json" ] || $TRAIN --model momok \
      --modalities structure,text,image --dim 128 --regime kvsall \
      --label-smoothing 0.1 --lr 1e-3 --batch-size 128 --epochs 100 \
      --eval-every 5 --optimizer adam --recipe none --eval-batch-size 512 \
      --model-kwargs '{"mu": 1e-4, "estimator_lr": 1e-3}' --seed "$seed" \
      --run-dir "$run"
    $EVAL "$run" --out "$ROWS"
  fi
done
