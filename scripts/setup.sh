#!/usr/bin/env bash
# Create .venv with textless and everything its tests and demo need. Idempotent.
# System packages (Debian/Ubuntu): speech synthesizers for corpora and tests, sox, chromium
# for the demo's browser test. Python: torch from the local CPU wheel when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts espeak-ng sox libsndfile1 chromium chromium-driver"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing system packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip "setuptools<81" wheel
# The CPU build of torch: 2.13.0 is on local disk here; plain 'torch' would pull a CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -e ".[demo,eval,dev]"
# ABX parity reference for tests/eval and bench/abx.py; --no-deps: it requires torchaudio, which
# has no build for this torch (a torchaudio that fails to load breaks transformers' audio_utils).
.venv/bin/pip install -q --no-deps "zerospeech-libriabx2>=0.9.8"
touch .venv/.installed
echo "setup: ready (.venv)"
