#!/usr/bin/env bash
# VISTA and MoMoK on WN9-IMG or FB15k-237: structure only vs structure + real
# MiniLM text (no images), then the text-shuffle ablation of the text model.
# CPU-sized configurations (see benchmarks/results/methods.md, "VISTA and
# MoMoK on WN9-IMG and FB15k-237"); one thread per run.
# Usage: bash vista_momok_text.sh wn9|fb MODEL SETTING RUNS_DIR
#   MODEL in {vista, vista-lowdrop, momok}; SETTING in {structure,
#   structure+text}. "vista" uses the official dropouts of the preset;
#   "vista-lowdrop" sets the transformer and structural-token dropouts to 0
#   (the official ones keep VISTA at the popularity level for the few
#   hundred steps a CPU budget allows).
# Data files: wn9 -> $WN9_DATA, fb -> $FB_DATA (default: in RUNS_DIR); made
# here by prepare_wn9.py / fb15k237_prepare.py from the raw files in
# $SHARED_DATA (default: ../shared/data beside the repository) when absent.
set -euo pipefail
DS=$1; MODEL=$2; SETTING=$3; RUNS=$4
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_DATA=${SHARED_DATA:-$HERE/../../../shared/data}
WN9_DATA=${WN9_DATA:-$RUNS/wn9_text.pt}
FB_DATA=${FB_DATA:-$RUNS/fb15k237_text.pt}
export PYTHONWARNINGS=ignore
mkdir -p "$RUNS"
if [ "$DS" = wn9 ]; then
  [ -f "$WN9_DATA" ] || python "$HERE/prepare_wn9.py" \
    --raw "$SHARED_DATA/WN9-IMG" --root "$RUNS/WN9-IMG" --out "$WN9_DATA"
else
  [ -f "$FB_DATA" ] || python "$HERE/fb15k237_prepare.py" \
    --raw "$SHARED_DATA/FB15k-237" --root "$RUNS/FB15k-237" --out "$FB_DATA"
fi
run=$RUNS/$DS-$MODEL-$SETTING-s0
common="--no-progress --num-threads 1 --seed 0 --eval-batch-size 512 \
  --modalities ${SETTING//+/,} --run-dir $run"
if [ "$DS" = wn9 ]; then
  # 15 minutes of training per run (vista-lowdrop: 15 epochs), validation
  # every 2 epochs (vista-lowdrop: every epoch).
  budget="--dataset $WN9_DATA --epochs 500 --eval-every 2 --patience 5 \
    --max-time-s ${WN9_BUDGET:-900}"
  [ "$MODEL" = vista-lowdrop ] && budget="--dataset $WN9_DATA --epochs 15 \
    --eval-every 1 --patience 5"
  vista_kw='{"preset": "WN18RR++", "heads": 8, "ffn_channels": 256}'
  vista_opts="--dim 64 --batch-size 1024"
  [ "$MODEL" = vista-lowdrop ] && vista_opts="--dim 64 --batch-size 256"
  momok_opts="--dim 128 --batch-size 256"
else
  # Two epochs per MoMoK run, one per VISTA run (an epoch takes 5-20
  # minutes on one core; on WN9 VISTA stays at the popularity level for
  # hundreds of steps, so FB15k-237 VISTA runs measure the cost per epoch).
  epochs=${FB_EPOCHS:-2}
  [ "$MODEL" = vista ] && epochs=${FB_VISTA_EPOCHS:-1}
  budget="--dataset $FB_DATA --epochs $epochs --eval-every 1"
  vista_kw='{"preset": "FB15K237", "heads": 8, "ffn_channels": 256}'
  vista_opts="--dim 64 --batch-size 2048"
  momok_opts="--dim 64 --batch-size 1024"
fi
if [ "$MODEL" = vista-lowdrop ]; then
  vista_kw="${vista_kw%\}}, \"dropout\": 0.0, \"emb_dropout\": 0.0}"
fi
if [ ! -f "$run/results.json" ]; then
  if [ "$MODEL" != momok ]; then
    python -m pyg_mmkg.cli train $budget $common --model vista $vista_opts \
      --model-kwargs "$vista_kw" --regime 1vsall --loss ce --optimizer adam \
      --lr 1e-3 --scheduler cosine --scheduler-kwargs '{"T_0": 50, "T_mult": 2}' \
      --grad-clip 0.1
  else
    python -m pyg_mmkg.cli train $budget $common --model momok $momok_opts \
      --model-kwargs '{"decision_loss": "ce"}' --regime kvsall \
      --label-smoothing 0.1 --optimizer adam --lr 3e-3
  fi
fi
ablate=()
[ "$SETTING" = structure+text ] && ablate=(--ablate text:shuffle)
python "$HERE/evaluate_run.py" "$run" "${ablate[@]}" \
  --label "$DS $MODEL $SETTING" --out "$RUNS/rows.jsonl"
