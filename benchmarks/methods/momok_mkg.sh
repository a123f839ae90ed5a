#!/bin/bash
# MoMoK, structure only, on MKG-W / MKG-Y / DB15K with a small CPU budget
# (d=64, 3 experts, batch 1024, lr 3e-3 instead of the published 1e-3/5e-4
# to converge faster within the budget, mu=1e-4, label smoothing 0.1,
# selection on validation MRR every 5 epochs). Roots get the files of
# /work/shared/data linked into raw/ (--stage).
# In the reported session MKG-W and MKG-Y ran (30 epochs each, in parallel);
# DB15K did not fit into the time left (about 100 s per epoch expected).
set -e
cd "$(dirname "$0")/../.."
ROOT=${ROOT:-/tmp/momok_data}
RUNS=${RUNS:-runs/momok}
EPOCHS_W=${EPOCHS_W:-30}
EPOCHS_Y=${EPOCHS_Y:-30}
EPOCHS_DB=${EPOCHS_DB:-20}
common="--settings structure --dim 64 --batch-size 1024 --lr 3e-3 --eval-every 5 --threads 1"
python benchmarks/methods/momok_bench.py --dataset MKG-W --root $ROOT/mkgw --stage \
    --epochs $EPOCHS_W $common --run-dir $RUNS/mkgw \
    --out benchmarks/methods/momok_mkgw_results.json
python benchmarks/methods/momok_bench.py --dataset MKG-Y --root $ROOT/mkgy --stage \
    --epochs $EPOCHS_Y $common --run-dir $RUNS/mkgy \
    --out benchmarks/methods/momok_mkgy_results.json
python benchmarks/methods/momok_bench.py --dataset DB15K --root $ROOT/db15k --stage \
    --epochs $EPOCHS_DB $common --run-dir $RUNS/db15k \
    --out benchmarks/methods/momok_db15k_results.json
