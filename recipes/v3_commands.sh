#!/usr/bin/env bash
# The commands that built the builds of the default bundle v3 on 2026-12-03 (2-core CPU), run by
# hand as the stages of `recipes/default.py --preset quick` (same settings; file names under
# work/v3 differ). The shipped (fifth) build is the preset's own end-to-end run: the last lines.
# The targets are v2's MFCC k-means 50 (the bundled v2 quantizer, itself rebuilt from nothing by
# the v2 recipe), and the vocoder is v2's (trained on those units of flite rms).
set -euo pipefail
T=".venv/bin/python -m textless"
W=work/v3
encode_parallel() {  # frame units of the parallel corpora with the encoder + head of run $1, into $W/$2
  (cd recipes && ../.venv/bin/python -c "
import sys; sys.path.insert(0, '.')
from pathlib import Path
from common import encode_corpora
from textless.pipeline import Pipeline
w = Path('../$W')
pipe = Pipeline.from_files(w / '$1/quantizer.safetensors', encoder=w / '$1/encoder.safetensors', name='default')
encode_corpora(pipe, [w / c for c in ('canonical', 'canonical2', 'parallel', 'parallel2')], w / '$2')")
}
# corpora: held-out voices, parallel corpus in two batches (canonical voice + 6 of 31 voices a sentence)
$T data synth --generate 160 --seed 1000 --voices heldout --out $W/heldout
$T data synth --generate 1600 --seed 0 --voices flite:rms --out $W/canonical
$T data synth --generate 1600 --seed 0 --voices parallel --per-sentence 6 --out $W/parallel
$T data synth --generate 200 --seed 1 --voices flite:rms --out $W/canonical2 --first-index 1600
$T data synth --generate 200 --seed 1 --voices parallel --per-sentence 6 --out $W/parallel2 --first-index 1600
# target units (v2 = textless/assets/default before v3), frame level
for c in canonical canonical2 parallel parallel2; do
  $T encode --model default --no-dedup --manifest $W/$c/manifest.tsv --out $W/targets_$c.jsonl
done
cat $W/targets_{canonical,canonical2,parallel,parallel2}.jsonl > $W/targets_all.jsonl
# the speaker-invariant encoder: cross-voice targets + masked prediction + perturbation
$T train encoder --corpus $W/canonical $W/canonical2 $W/parallel $W/parallel2 --targets $W/targets_all.jsonl \
  --dim 192 --layers 3 --heads 4 --ffn-dim 768 --steps 600 --stop-at-step 300 --warmup-steps 60 \
  --batch-size 16 --crop-frames 200 --save-every 50 --valid-every 100 --workers 2 \
  --out $W/enc_D --canonical flite-rms --perturb-views 1 --eq-db 6 --mask-prob 0.2 --unmasked-weight 0.5
# (this session ran it with --steps 600 and stopped it at step 300 by hand; --stop-at-step 300 is
#  the same schedule and the same steps)
# frame units of the training corpora with the new encoder, then the unit LM (4 x 256)
encode_parallel enc_D units_train.jsonl
$T train ulm --units $W/units_train.jsonl --out $W/ulm --seed 0 --device cpu --layers 4 --dim 256 --heads 4 \
  --ffn-dim 1024 --steps 500 --max-tokens 2048 --warmup-steps 50 --save-every 50 --valid-every 100
# the comparison of training signals at the same budget (model card, "Which training signal")
C="--corpus $W/canonical $W/canonical2 $W/parallel $W/parallel2 --targets $W/targets_all.jsonl --dim 192 --layers 3 \
  --heads 4 --ffn-dim 768 --steps 600 --stop-at-step 300 --warmup-steps 60 --batch-size 16 --crop-frames 200 \
  --save-every 50 --valid-every 100 --workers 2"
$T train encoder $C --out $W/enc_B --canonical flite-rms                       # cross-voice alone
$T train encoder $C --out $W/enc_C --perturb-views 1 --eq-db 6 --mask-prob 0.2 --unmasked-weight 0.5  # no pairs
mkdir -p $W/bundle && .venv/bin/python recipes/default.py --work $W --preset quick --stages bundle --bundle $W/bundle
(cd recipes && ../.venv/bin/python compare_units.py --work ../$W --vocoder ../$W/bundle \
  --candidate v2-mfcc-k50=../textless/assets/default --candidate perturb-masked=../$W/enc_C \
  --candidate cross-voice=../$W/enc_B --candidate combined=../$W/enc_D \
  && ../.venv/bin/python evaluate.py --model ../$W/bundle --work ../$W --name combined \
  && ../.venv/bin/python model_card.py --work ../$W --bundle ../textless/assets/default --name combined \
       --compare v2-mfcc-k50 perturb-masked cross-voice combined --notes model_card_notes.md)
# (v2-mfcc-k50 is the v2 bundle as it was before v3 replaced it; the bundle stage expects
#  $W/invariant = enc_D stopped at 300, $W/ulm, $W/vocoder/generator.safetensors = v2's vocoder and
#  $W/components/selection.json naming the targets)

# ---- second build of v3 (2026-12-03, afternoon): cross-voice alignment alone, 1500 steps (the
# settings of INVARIANT_QUICK in recipes/default.py now), a unit LM on its units, v2's vocoder.
$T train encoder --corpus $W/canonical $W/canonical2 $W/parallel $W/parallel2 --targets $W/targets_all.jsonl \
  --dim 192 --layers 3 --heads 4 --ffn-dim 768 --steps 1500 --warmup-steps 60 --batch-size 16 --crop-frames 200 \
  --save-every 50 --valid-every 250 --workers 2 --out $W/enc_E --canonical flite-rms
encode_parallel enc_E units_E.jsonl
# (tried and dropped: fine-tuning the vocoder on these units of flite rms, `train vocoder --init
#  $W/vocoder/generator.safetensors --units $W/units_E.jsonl` at lr 2e-4: its mel-L1 on 4 rms
#  utterances went from 0.468 to 0.487 after 200 steps; docs/speaker_invariant.md)
$T train ulm --units $W/units_E.jsonl --out $W/ulm_E --seed 0 --device cpu --layers 4 --dim 256 --heads 4 \
  --ffn-dim 1024 --steps 500 --max-tokens 2048 --warmup-steps 50 --save-every 50 --valid-every 100
mkdir -p $W/bundle_E && cp $W/enc_E/encoder.safetensors $W/enc_E/quantizer.safetensors $W/bundle/pipeline.json $W/bundle_E/
cp $W/ulm_E/ulm_best.safetensors $W/bundle_E/ulm.safetensors && cp $W/vocoder/generator.safetensors $W/bundle_E/vocoder.safetensors
# the new units in the comparison (same vocoder as every row), then the bundle as a whole
(cd recipes && ../.venv/bin/python compare_units.py --work ../$W --vocoder ../$W/bundle \
  --candidate cross-voice-1500=../$W/enc_E \
  && ../.venv/bin/python evaluate.py --model ../$W/bundle_E --work ../$W --name cross-voice-1500-v3b)

# ---- third build (2026-12-03, evening): a second iteration. The same cross-voice targets, but the
# voices are aligned by DTW on the unit posteriors of enc_E (the second build's encoder) instead of
# on MFCCs; a larger encoder (4 x 256) for 4000 steps; a unit LM of 1500 steps on its units.
.venv/bin/python recipes/alignment_quality.py --work $W --aligner enc_E=$W/enc_E  # docs/speaker_invariant.md
$T train encoder --corpus $W/canonical $W/canonical2 $W/parallel $W/parallel2 --targets $W/targets_all.jsonl \
  --dim 256 --layers 4 --heads 4 --ffn-dim 1024 --steps 4000 --warmup-steps 150 --batch-size 16 --crop-frames 200 \
  --save-every 50 --valid-every 250 --workers 2 --out $W/enc_H --canonical flite-rms --align-with $W/enc_E
encode_parallel enc_H units_H.jsonl
$T train ulm --units $W/units_H.jsonl --out $W/ulm_H --seed 0 --device cpu --layers 4 --dim 256 --heads 4 \
  --ffn-dim 1024 --steps 1500 --max-tokens 2048 --warmup-steps 50 --save-every 50 --valid-every 100
mkdir -p $W/bundle_H && cp $W/enc_H/encoder.safetensors $W/enc_H/quantizer.safetensors $W/bundle_E/pipeline.json $W/bundle_H/
cp $W/ulm_H/ulm_best.safetensors $W/bundle_H/ulm.safetensors && cp $W/vocoder/generator.safetensors $W/bundle_H/vocoder.safetensors
(cd recipes && ../.venv/bin/python evaluate.py --model ../$W/bundle_H --work ../$W --name it2-4000)
# the ablation: the same 4 x 256 encoder and steps aligned on MFCCs (the first iteration at this
# size; it was stopped at step 2050 to give enc_H the cores and resumed 2026-12-03 evening)
$T train encoder --corpus $W/canonical $W/canonical2 $W/parallel $W/parallel2 --targets $W/targets_all.jsonl \
  --dim 256 --layers 4 --heads 4 --ffn-dim 1024 --steps 4000 --warmup-steps 150 --batch-size 16 --crop-frames 200 \
  --save-every 50 --valid-every 250 --workers 2 --out $W/enc_F --canonical flite-rms
# (enc_F2050: a copy of enc_F's encoder and head saved at step 2050, before it resumed)
(cd recipes && ../.venv/bin/python compare_units.py --work ../$W --vocoder ../$W/bundle --candidate mfcc-4000=../$W/enc_F \
  --candidate mfcc-2050=../$W/enc_F2050)

# ---- fourth build (2026-12-03, night): the third build's encoder, units from k-means 50 on its
# last layer (chosen by held-out ABX and bitrate), a UnitVocos and a unit LM trained on them.
(cd recipes && ../.venv/bin/python unit_inventory.py --work ../$W --run enc_H=../$W/enc_H --ks 50 100 200 500 \
  && ../.venv/bin/python unit_inventory.py --work ../$W --run enc_H=../$W/enc_H --ks 50 100 --layers 0 2)
mkdir -p $W/enc_H_k50 && cp $W/enc_H/encoder.safetensors $W/enc_H_k50/ \
  && cp $W/compare/inventory_enc_H/l4-k50.km.safetensors $W/enc_H_k50/quantizer.safetensors
# ($W/enc_H_k50/pipeline.json: bundle_H's with "layer": 4 and only the encoder and quantizer)
cat $W/canonical/manifest.tsv $W/canonical2/manifest.tsv | awk -F'\t' 'NF == 2 {print root "/" $1} NF == 1 {root = $1}' \
  > $W/vocoder_E_audio.txt  # flite rms, 1800 sentences
$T encode --model $W/enc_H_k50 --manifest $W/vocoder_E_audio.txt --no-dedup -o $W/units_Hk50_rms.jsonl
encode_parallel enc_H_k50 units_Hk50.jsonl
# the vocoders on either units of enc_H, one core each, side by side (stopped at 10000 for the
# comparison; the k-means one then went on to 20000)
V="--audio $W/vocoder_E_audio.txt --arch vocos --config small --batch-size 8 --segment-frames 32 --lr 2e-4 \
  --duration-predictor --steps 20000 --disc-start 20000 --save-every 500 --snapshot-every 5000 --device cpu --seed 0"
OMP_NUM_THREADS=1 $T train vocoder $V --units $W/units_H.jsonl --out $W/voc_H &
OMP_NUM_THREADS=1 $T train vocoder $V --units $W/units_Hk50_rms.jsonl --out $W/voc_Hk50 &
wait
for v in voc_H voc_Hk50; do mkdir -p $W/${v}_10k; cp $W/$v/snapshots/step_10000.safetensors $W/${v}_10k/vocoder.safetensors; done
(cd recipes && ../.venv/bin/python compare_units.py --work ../$W --vocoder ../$W/voc_H_10k --candidate it2-4000-vocos10k=../$W/enc_H \
  && ../.venv/bin/python compare_units.py --work ../$W --vocoder ../$W/voc_Hk50_10k --candidate it2-4000-k50-vocos10k=../$W/enc_H_k50)
$T train ulm --units $W/units_Hk50.jsonl --out $W/ulm_Hk50 --seed 0 --device cpu --layers 4 --dim 256 --heads 4 \
  --ffn-dim 1024 --steps 1500 --max-tokens 2048 --warmup-steps 50 --save-every 50 --valid-every 100
# the bundle, assembled by the preset's own bundle stage from links to these runs (the vocoder's
# 15000-step snapshot: lower validation mel-L1 than the 10000-step one)
OMP_NUM_THREADS=1 $T train vocoder $V --steps 15000 --units $W/units_Hk50_rms.jsonl --out $W/voc_Hk50  # resumes at 10000
B=/tmp/bundlework_K; mkdir -p $B/components $B/invariant2 $B/units $B/ulm $B/vocoder
ln -sf $PWD/$W/components/selection.json $B/components/ && ln -sf $PWD/$W/enc_H/encoder.safetensors $B/invariant2/
ln -sf $PWD/$W/enc_H_k50/quantizer.safetensors $B/units/kmeans50.safetensors
ln -sf $PWD/$W/ulm_Hk50/ulm_best.safetensors $B/ulm/
ln -sf $PWD/$W/voc_Hk50/snapshots/step_15000.safetensors $B/vocoder/generator.safetensors
.venv/bin/python recipes/default.py --work $B --preset quick --stages bundle --bundle $W/bundle_K
cp $W/bundle_K/*.safetensors $W/bundle_K/pipeline.json textless/assets/default/
(cd recipes && ../.venv/bin/python evaluate.py --model ../$W/bundle_K --work ../$W --name k50-vocos \
  && ../.venv/bin/python model_card.py --work ../$W --bundle ../textless/assets/default --name k50-vocos \
       --compare v2-mfcc-k50 perturb-masked cross-voice combined cross-voice-1500 mfcc-2050 mfcc-4000 it2-4000 \
       --compare-vocoder "v2's unit HiFi-GAN, not this bundle's UnitVocos" \
       --compare-own-vocoder it2-4000-vocos10k it2-4000-k50-vocos10k k50-vocos \
       --encoder-run ../$W/enc_H --ulm-run ../$W/ulm_Hk50 --notes model_card_notes.md)
# the fifth build (shipped): the quick preset from nothing in one run (140.5 minutes), measured on
# the same held-out files as the builds above, and the unit LM's curve on its units
.venv/bin/python recipes/default.py --preset quick --work work/q1 --bundle work/q1/bundle
(cd recipes && ../.venv/bin/python evaluate.py --model ../work/q1/bundle --work ../$W --name q1-quick \
  && ../.venv/bin/python ulm_curve.py --model ../work/q1/bundle --like ../work/q1/ulm --work ../$W --units ../work/q1/units/train.jsonl \
       --out ../work/q1/ulm_curve --steps 6000 --at 1500,3000,6000)
cp work/q1/bundle/*.safetensors work/q1/bundle/pipeline.json textless/assets/default/
(cd recipes && ../.venv/bin/python model_card.py --work ../$W --bundle ../textless/assets/default --name q1-quick \
       --compare v2-mfcc-k50 perturb-masked cross-voice combined cross-voice-1500 mfcc-2050 mfcc-4000 it2-4000 \
       --compare-vocoder "v2's unit HiFi-GAN, not this bundle's UnitVocos" \
       --compare-own-vocoder it2-4000-vocos10k it2-4000-k50-vocos10k k50-vocos q1-quick \
       --encoder-run ../work/q1/invariant2 --ulm-run ../work/q1/ulm --ulm-curve ../work/q1/ulm_curve/curve.json \
       --notes model_card_notes.md)
