"""Rebuild the default textless bundle from nothing: corpora -> target units -> speaker-invariant
encoder -> ULM -> vocoder.

    .venv/bin/python recipes/default.py --work work/default            # the full recipe
    .venv/bin/python recipes/default.py --work work/v0 --preset quick  # a short CPU run

Every stage writes into ``--work`` and is skipped when its output exists, so a killed run
resumes where it stopped (the ULM and vocoder trainers resume mid-training too). The last stage
copies the chosen components into ``--bundle`` (default ``textless/assets/default``) with a
``pipeline.json``. Evaluation numbers for the model card come from ``recipes/evaluate.py``.

Stages: ``corpus`` (training voices, held-out voices, the vocoder's single output voice, and the
parallel corpus: every sentence spoken by the canonical voice and by 6 of the 31
``PARALLEL_VOICES``), ``encoder`` (the target units: MFCC k-means K vs. a HuBERT pre-trained
here, chosen by held-out ABX; see ``encoder_choice.py``), ``targets`` (frame-level target units
of the parallel corpus), ``invariant`` (``textless train encoder``: a log-mel encoder whose head
predicts the canonical voice's units, DTW-aligned onto every voice; a second iteration aligns
the voices on the first one's unit posteriors instead of MFCCs; ``full`` adds masked prediction and
speaker perturbation), ``units`` (the bundle's units: k-means K = 50 on the last iteration's last
layer, which measured better held-out ABX than its head's argmax: ``unit_inventory.py``),
``encode``, ``ulm``, ``vocoder`` (trained on the bundle's units of the canonical voice: a mel-L1
UnitVocos in ``quick``, an adversarial HiFi-GAN in ``full``), ``bundle``. Presets: ``quick``
(CPU: ~10 h of parallel speech, small models, a mel-only vocoder) and ``full`` (more speech,
larger models and many more steps, meant for a GPU: ``--device cuda`` moves HuBERT pre-training
and the invariant encoder, unit LM and vocoder training there, and the k-means feature passes;
the Lloyd iterations run on the CPU with faiss). Stage times of ``quick`` on 2 CPU cores:
docs/speaker_invariant.md.

Every stage calls the library (``textless.data.synth``, ``textless.encoders.train``,
``textless.ulm.train``, ``textless.vocoders.train``, ...) with the preset's typed configs; the
``textless`` command line runs the same functions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from common import encode_corpora, log, setup_logging
from textless.encoders.logmel import LogMelEncoderConfig
from textless.encoders.train import EncoderTrainConfig
from textless.ulm.model import UnitLMConfig
from textless.ulm.train import TrainConfig as UlmTrainConfig
from textless.vocoders.train import TrainConfig as VocoderTrainConfig

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Preset:
    sentences: int            # target-unit (k-means) sentences (one voice each, 8 training voices)
    heldout_sentences: int    # held-out voices' sentences (evaluation only)
    ks: tuple                 # k-means sizes tried on MFCC
    kmeans_frames: int        # frames sampled for each k-means
    hubert_steps: int         # HuBERT iteration-1 pre-training steps (0: MFCC only)
    hubert_layers: tuple      # HuBERT layers tried (k-means ``hubert_k`` each)
    hubert_k: int             # MFCC k-means size giving HuBERT's labels, and K on HuBERT features
    vocoder_sentences: int    # sentences spoken by the vocoder's single output voice
    ulm: UlmTrainConfig       # the unit LM's training (train, out_dir, seed, device: set by the stage)
    ulm_model: UnitLMConfig   # its architecture (vocab_size: the corpus', set by the stage)
    vocoder: VocoderTrainConfig  # the vocoder's training (seed, device: set by the stage)
    parallel: tuple = ()      # parallel corpus batches: (sentences, seed offset) each
    per_sentence: int = 6     # PARALLEL_VOICES speaking each parallel sentence
    # the speaker-invariant encoder's iterations (none: v2 units); each after the first aligns
    # the voices on the previous one's unit posteriors (HuBERT's second iteration)
    invariant: tuple[EncoderTrainConfig, ...] = ()
    # the bundle's units: k-means with this K on the last iteration's last layer, fitted on
    # ``unit_kmeans_files`` training utterances (``unit_kmeans_frames`` kept); 0: the head's argmax
    unit_k: int = 0
    unit_kmeans_files: int = 600
    unit_kmeans_frames: int = 100_000
    vocoder_generator: str = "small"  # the generator preset (textless.vocoders.presets.generator_config)


# The vocoder speaks every input in one voice, as GSLM's (trained on LJSpeech): one voice is
# learned far faster than eight, and flite rms is the training voice pocketsphinx reads best.
VOCODER_VOICE = "flite:rms"
CANONICAL_SPEAKER = "flite-rms"  # the canonical voice of the parallel corpus: the vocoder's voice

# The speaker-invariant encoder's training (corpora, targets and out_dir are set by the stage)
INVARIANT_QUICK = EncoderTrainConfig(
    corpora=(), targets="", out_dir="", canonical=CANONICAL_SPEAKER,
    model=LogMelEncoderConfig(dim=192, num_layers=3, num_heads=4, ffn_dim=768),
    steps=1500, warmup_steps=60, batch_size=16, crop_frames=200, save_every=50, valid_every=250,
)  # cross-voice alignment alone: it measured best of the signals at equal budget (model card)
# the second iteration (aligned on the first one's posteriors), larger and longer: the third build
# of v3. The size alone did not help the first iteration; the alignment did (docs/speaker_invariant.md)
INVARIANT_QUICK_2 = replace(INVARIANT_QUICK, steps=4000, warmup_steps=150,
                            model=LogMelEncoderConfig(dim=256, num_layers=4, num_heads=4, ffn_dim=1024))
INVARIANT_FULL = replace(INVARIANT_QUICK, steps=40000, warmup_steps=2000, batch_size=32, valid_every=1000,
                         model=LogMelEncoderConfig(dim=384, num_layers=8, num_heads=6, ffn_dim=1536),
                         perturb_views=4, eq_db=6.0, mask_prob=0.2, unmasked_weight=0.5)

PRESETS = {
    "quick": Preset(
        sentences=1500, heldout_sentences=160, ks=(50, 100, 200), kmeans_frames=150_000,
        hubert_steps=0, hubert_layers=(), hubert_k=100, vocoder_sentences=2500,
        ulm=UlmTrainConfig(train="", out_dir="", steps=1500, max_tokens=2048, warmup_steps=50,
                           save_every=50, valid_every=100),
        ulm_model=UnitLMConfig(num_layers=4, dim=256, num_heads=4, ffn_dim=1024),
        # UnitVocos, mel-L1 only: on 2 CPU cores the adversarial phase did not pay within hours
        # (docs/vocoder.md); 10000 steps took 19 minutes on 2 cores in the run that built the default
        vocoder=VocoderTrainConfig(arch="vocos", steps=10000, disc_start=10000, batch_size=8, segment_frames=32,
                                   duration_predictor=True, save_every=500, snapshot_every=5000),
        # 1800 sentences x (canonical + 6 voices): 11.2 h of speech (voices.json), 32 speakers
        parallel=((1600, 0), (200, 1)), per_sentence=6, invariant=(INVARIANT_QUICK, INVARIANT_QUICK_2), unit_k=50,
    ),
    "full": Preset(
        sentences=6500, heldout_sentences=300, ks=(50, 100, 200, 500), kmeans_frames=300_000,
        hubert_steps=20000, hubert_layers=(4, 5, 6), hubert_k=100, vocoder_sentences=6500,
        ulm=UlmTrainConfig(train="", out_dir="", steps=6000, max_tokens=8192, warmup_steps=400),
        ulm_model=UnitLMConfig(num_layers=6, dim=384, num_heads=6, ffn_dim=1536),
        vocoder=VocoderTrainConfig(steps=100000, disc_start=20000, batch_size=16, segment_frames=32,
                                   disc_width=1.0, duration_predictor=True, save_every=1000,
                                   snapshot_every=10000),
        parallel=((6000, 0),), per_sentence=12,
        invariant=(INVARIANT_FULL, INVARIANT_FULL), unit_k=50,
    ),
}


def stage_corpus(work: Path, p: Preset, seed: int):
    """Training corpus (the 'train' voices), held-out corpus (voices never used in training), the
    vocoder's voice and the parallel corpus, each skipped once its manifest exists."""
    from textless.data.voices import HELDOUT_VOICES, PARALLEL_VOICES, TRAIN_VOICES

    first = 0  # utterance ids stay unique across the parallel corpus' batches
    corpora = [("train", p.sentences, TRAIN_VOICES, seed, 1, 0),
               ("heldout", p.heldout_sentences, HELDOUT_VOICES, seed + 1000, 1, 0),
               ("vocoder_voice", p.vocoder_sentences, [VOCODER_VOICE], seed + 2000, 1, 0)]
    for i, (n, offset) in enumerate(p.parallel):
        corpora += [(_batch("canonical", i), n, [VOCODER_VOICE], seed + offset, 1, first),
                    (_batch("parallel", i), n, PARALLEL_VOICES, seed + offset, p.per_sentence, first)]
        first += n
    for name, n, voices, corpus_seed, per, first_index in corpora:
        if not (work / name / "manifest.tsv").is_file():
            synth(work / name, n, list(voices), corpus_seed, per, first_index)


def synth(out: Path, sentences: int, voices: list[str], seed: int, per_sentence: int = 1,
          first_index: int = 0):
    """``textless data synth --generate SENTENCES --seed SEED``: grammar sentences spoken by ``voices``."""
    from textless.data.synth import synthesize_corpus
    from textless.data.text import generate_sentences

    log.info("synthesize %s: %d sentences x %d of %d voices", out.name, sentences, per_sentence, len(voices))
    synthesize_corpus(generate_sentences(sentences, seed), voices, out, seed=seed,
                      utterances_per_sentence=per_sentence, first_index=first_index)


def _batch(kind: str, i: int) -> str:
    return kind if i == 0 else f"{kind}{i + 1}"  # canonical, canonical2, ...


def parallel_corpora(work: Path, p: Preset) -> list[Path]:
    return [work / _batch(kind, i) for kind in ("canonical", "parallel") for i in range(len(p.parallel))]


def stage_encoder(work: Path, p: Preset, seed: int, device: str):
    """MFCC k-means K vs. a HuBERT pre-trained here, chosen by held-out ABX (encoder_choice.py)."""
    from encoder_choice import choose_encoder

    choose_encoder(work, ks=p.ks, kmeans_frames=p.kmeans_frames, hubert_steps=p.hubert_steps,
                   hubert_layers=p.hubert_layers, hubert_k=p.hubert_k, seed=seed, device=device)


def target_pipeline(work: Path):
    """The target units' encoder + k-means chosen by the ``encoder`` stage."""
    from textless.components import load_component
    from textless.pipeline import Pipeline

    comp = work / "components"
    layer = json.loads((comp / "selection.json").read_text())["layer"]
    return Pipeline(load_component(comp / "encoder.safetensors"),
                    load_component(comp / "quantizer.safetensors"), name="targets", layer=layer)


def unit_files(work: Path, p: Preset) -> tuple[Path, Path]:
    """The bundle units' encoder and quantizer files: the last invariant iteration's encoder with
    the ``units`` stage's k-means (``unit_k``) or its own head, or (no ``invariant``) the targets'."""
    if not p.invariant:
        return work / "components" / "encoder.safetensors", work / "components" / "quantizer.safetensors"
    run = invariant_runs(work, p)[-1]
    quantizer = work / "units" / f"kmeans{p.unit_k}.safetensors" if p.unit_k else run / "quantizer.safetensors"
    return run / "encoder.safetensors", quantizer


def unit_pipeline(work: Path, p: Preset):
    """The bundle's units (:func:`unit_files`) as a pipeline."""
    from textless.components import load_component
    from textless.pipeline import Pipeline

    if not p.invariant:
        return target_pipeline(work)
    encoder, quantizer = (load_component(f) for f in unit_files(work, p))
    return Pipeline.from_parts(encoder, quantizer, name="default")


def stage_targets(work: Path, p: Preset):
    """Frame-level target units of the parallel corpora (what the invariant encoder learns)."""
    if p.invariant:
        encode_corpora(target_pipeline(work), parallel_corpora(work, p), work / "units" / "targets.jsonl")


def invariant_runs(work: Path, p: Preset) -> list[Path]:
    """The run folders of the invariant encoder's iterations: ``invariant``, ``invariant2``, ..."""
    return [work / ("invariant" if i == 0 else f"invariant{i + 1}") for i in range(len(p.invariant))]


def stage_invariant(work: Path, p: Preset, seed: int, device: str):
    """``textless train encoder`` on the parallel corpora (resumes after a kill); each iteration
    after the first aligns the voices on the previous one's unit posteriors (``--align-with``)."""
    from textless.encoders.train import train_encoder

    runs = invariant_runs(work, p)
    for i, (run, cfg) in enumerate(zip(runs, p.invariant)):
        train_encoder(replace(cfg, corpora=tuple(map(str, parallel_corpora(work, p))),
                              targets=str(work / "units" / "targets.jsonl"), out_dir=str(run),
                              align_with=str(runs[i - 1]) if i else None, seed=seed, device=device))


def stage_units(work: Path, p: Preset, seed: int, device: str):
    """k-means with ``unit_k`` centroids on the last invariant iteration's last layer, fitted on a
    seeded sample of the parallel corpora (K = 50 measured best by held-out ABX and bitrate,
    ``recipes/unit_inventory.py``); nothing to do when the bundle uses the head."""
    from common import training_sample
    from textless.components import load_component
    from textless.quantizers.kmeans import train_kmeans_on_corpus

    if not (p.invariant and p.unit_k):
        return
    encoder_file, out = unit_files(work, p)
    if out.is_file():
        return
    encoder = load_component(encoder_file).eval()
    train_kmeans_on_corpus(encoder.to(device), training_sample(parallel_corpora(work, p), p.unit_kmeans_files, seed),
                           p.unit_k, layer=encoder.num_layers, max_frames=p.unit_kmeans_frames, seed=seed,
                           encoder_name="invariant", device=device).save(out)


def stage_encode(work: Path, p: Preset):
    """Frame-level units, in the bundle's units, of the training corpora (the ULM dedups them)
    and of the vocoder's voice (what the vocoder learns to speak)."""
    corpora = parallel_corpora(work, p) if p.invariant else [work / "train"]
    pipe = unit_pipeline(work, p)
    encode_corpora(pipe, corpora, work / "units" / "train.jsonl")
    encode_corpora(pipe, [work / "vocoder_voice"], work / "units" / "vocoder_voice.jsonl")


def stage_ulm(work: Path, p: Preset, seed: int, device: str):
    """``textless train ulm`` on the training units (resumes after a kill; on resume the stored
    architecture is used)."""
    from textless.ulm.data import load_sequences
    from textless.ulm.train import train_ulm

    units = work / "units" / "train.jsonl"
    _, vocab, _ = load_sequences(units)
    if vocab is None:
        raise SystemExit(f"recipe: {units} does not say its vocab_size; run the encode stage again")
    train_ulm(replace(p.ulm, train=str(units), out_dir=str(work / "ulm"), seed=seed, device=device),
              replace(p.ulm_model, vocab_size=vocab))


def stage_vocoder(work: Path, p: Preset, seed: int, device: str):
    """The vocoder on the bundle's units of its voice (resumes after a kill)."""
    from textless.vocoders.train import train_vocoder

    train_vocoder(work / "vocoder_voice" / "wav", work / "vocoder", replace(p.vocoder, seed=seed, device=device),
                  units=work / "units" / "vocoder_voice.jsonl", generator=p.vocoder_generator)


def stage_bundle(work: Path, p: Preset, bundle: Path, preset: str):
    """Copy the final components into the bundle folder and describe them in pipeline.json."""
    from textless.components import load_component
    from textless.pipeline import save_pipeline_dir

    encoder_file, quantizer_file = unit_files(work, p)
    files = {
        "encoder": encoder_file,
        "quantizer": quantizer_file,
        "ulm": work / "ulm" / "ulm_best.safetensors",
        "vocoder": work / "vocoder" / "generator.safetensors",
    }
    for role, src in files.items():
        if not src.is_file():
            raise SystemExit(f"recipe: {role} file {src} is missing; run the earlier stages")
    bundle.mkdir(parents=True, exist_ok=True)
    for role, src in files.items():
        shutil.copyfile(src, bundle / f"{role}.safetensors")
    quantizer = load_component(bundle / "quantizer.safetensors")
    encoder = load_component(bundle / "encoder.safetensors")
    selection = json.loads((work / "components" / "selection.json").read_text())
    if not p.invariant:
        units, layer = f"{selection['chosen']} units", selection["layer"]
    elif p.unit_k:
        units = (f"k-means {p.unit_k} on the last layer of a speaker-invariant log-mel encoder (trained to give "
                 f"every voice the {selection['chosen']} units of {VOCODER_VOICE}, cross-voice aligned)")
        layer = encoder.num_layers
    else:
        units = (f"speaker-invariant log-mel encoder units (head over {selection['chosen']} targets of "
                 f"{VOCODER_VOICE}, cross-voice aligned)")
        layer = None
    vocoder = {"vocos": "UnitVocos", "hifigan": "unit HiFi-GAN"}[p.vocoder.arch]
    save_pipeline_dir(
        bundle, name="default", layer=layer, files={role: f"{role}.safetensors" for role in files},
        description=f"default textless bundle (recipes/default.py --preset {preset}): "
                    f"{units} + unit LM + {vocoder} ({VOCODER_VOICE} voice)",
        sample_rate=encoder.sample_rate, frame_rate=encoder.frame_rate,
        vocab_size=quantizer.vocab_size, license="MIT",
    )
    size = sum(f.stat().st_size for f in bundle.iterdir())
    log.info("bundle written to %s (%.1f MB)", bundle, size / 1e6)


STAGES = ("corpus", "encoder", "targets", "invariant", "units", "encode", "ulm", "vocoder", "bundle")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "work" / "default", help="working folder")
    ap.add_argument("--preset", choices=PRESETS, default="full")
    ap.add_argument("--bundle", type=Path, default=REPO / "textless" / "assets" / "default")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {STAGES}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    setup_logging()
    p, work = PRESETS[args.preset], args.work
    work.mkdir(parents=True, exist_ok=True)
    stages = args.stages.split(",")
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stages {sorted(unknown)}")
    run = {
        "corpus": lambda: stage_corpus(work, p, args.seed),
        "encoder": lambda: stage_encoder(work, p, args.seed, args.device),
        "targets": lambda: stage_targets(work, p),
        "invariant": lambda: stage_invariant(work, p, args.seed, args.device),
        "units": lambda: stage_units(work, p, args.seed, args.device),
        "encode": lambda: stage_encode(work, p),
        "ulm": lambda: stage_ulm(work, p, args.seed, args.device),
        "vocoder": lambda: stage_vocoder(work, p, args.seed, args.device),
        "bundle": lambda: stage_bundle(work, p, args.bundle, args.preset),
    }
    for name in STAGES:
        if name in stages:
            log.info("stage %s", name)
            start = time.monotonic()
            run[name]()
            log.info("stage %s done in %.1f min", name, (time.monotonic() - start) / 60)


if __name__ == "__main__":
    main()
