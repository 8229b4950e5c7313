#!/usr/bin/env bash
# Build the default speech data (nothing of it is committed; this script regenerates it):
#   OUT/train      >= 5 h, 8 speakers (textless.data.voices.TRAIN_VOICES), grammar seed 0
#   OUT/heldout    ~0.5 h, 6 speakers never used in training (HELDOUT_VOICES), grammar seed 1,
#                  force-aligned: OUT/heldout/align/heldout.item (ABX), words.ctm, phones.ctm
#   OUT/eval       lexical/dev (sWUGGY-like) and syntactic/dev (sBLIMP-like), gold.csv + wav
# Usage: recipes/data.sh [OUT=data] ; env: WORKERS (default: all cores), PYTHON, ALIGN_TRAIN=1
# Every step is resumable: run it again after an interruption.
set -euo pipefail
OUT=${1:-data}
PYTHON=${PYTHON:-.venv/bin/python}
W=()
if [ -n "${WORKERS:-}" ]; then W=(--workers "$WORKERS"); fi
textless() { "$PYTHON" -m textless "$@"; }

SECONDS=0
textless data synth --generate 6500 --seed 0 --voices train --out "$OUT/train" "${W[@]}"
echo "train corpus: ${SECONDS} s"
textless data synth --generate 600 --seed 1 --voices heldout --out "$OUT/heldout" "${W[@]}"
textless data align --manifest "$OUT/heldout/manifest.tsv" --workers "${WORKERS:-2}"
if [ "${ALIGN_TRAIN:-0}" = 1 ]; then
  textless data align --manifest "$OUT/train/manifest.tsv" --workers "${WORKERS:-2}"
fi
textless data lexical --out "$OUT/eval" "${W[@]}"
textless data syntactic --out "$OUT/eval" "${W[@]}"
echo "all data: ${SECONDS} s"
