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
predicts the canonical voice's units, DTW-aligned onto every voice; ``full`` adds masked
prediction and speaker perturbation; its argmax is the bundle's unit), ``encode``, ``ulm``,
``vocoder`` (trained on the target units of the canonical voice; mel-L1 only in ``quick``,
adversarial in ``full``), ``bundle``. Presets: ``quick`` (CPU: ~10 h of parallel speech, small
models, a mel-only vocoder) and ``full`` (more speech, larger models and many more steps, meant for a GPU: ``--device cuda`` moves the encoder, unit LM and vocoder
training there; k-means runs on the CPU with faiss).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from textless.encoders.logmel import LogMelEncoderConfig
from textless.encoders.train import EncoderTrainConfig

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("recipe")


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
    ulm_args: tuple           # extra `textless train ulm` flags
    vocoder_args: tuple       # extra `textless train vocoder` flags
    parallel: tuple = ()      # parallel corpus batches: (sentences, seed offset) each
    per_sentence: int = 6     # PARALLEL_VOICES speaking each parallel sentence
    invariant: EncoderTrainConfig | None = None  # the speaker-invariant encoder (None: v2 units)


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

PRESETS = {
    "quick": Preset(
        sentences=1500, heldout_sentences=160, ks=(50, 100, 200), kmeans_frames=150_000,
        hubert_steps=0, hubert_layers=(), hubert_k=100, vocoder_sentences=2500,
        ulm_args=("--layers", "4", "--dim", "256", "--heads", "4", "--ffn-dim", "1024",
                  "--steps", "500", "--max-tokens", "2048", "--warmup-steps", "50",
                  "--save-every", "50", "--valid-every", "100"),
        # mel-L1 only: an adversarial step costs ~5x a mel-only one on 2 CPU cores (measured
        # 0.37 s vs > 1.5 s), more than a session allows after 6000 warm-up steps
        vocoder_args=("--config", "small", "--steps", "6000", "--disc-start", "6000",
                      "--batch-size", "8", "--segment-frames", "32", "--disc-width", "0.25",
                      "--duration-predictor", "--save-every", "200", "--snapshot-every", "2000"),
        # 1800 sentences x (canonical + 6 voices): 9.9 h of speech, 32 speakers
        parallel=((1600, 0), (200, 1)), per_sentence=6, invariant=INVARIANT_QUICK,
    ),
    "full": Preset(
        sentences=6500, heldout_sentences=300, ks=(50, 100, 200, 500), kmeans_frames=300_000,
        hubert_steps=20000, hubert_layers=(4, 5, 6), hubert_k=100, vocoder_sentences=6500,
        ulm_args=("--layers", "6", "--dim", "384", "--heads", "6", "--ffn-dim", "1536",
                  "--steps", "6000", "--max-tokens", "8192", "--warmup-steps", "400"),
        vocoder_args=("--config", "small", "--steps", "100000", "--disc-start", "20000",
                      "--batch-size", "16", "--segment-frames", "32", "--disc-width", "1.0",
                      "--duration-predictor", "--save-every", "1000", "--snapshot-every", "10000"),
        parallel=((6000, 0),), per_sentence=12,
        invariant=replace(INVARIANT_QUICK, model=LogMelEncoderConfig(dim=384, num_layers=8, num_heads=6,
                                                                     ffn_dim=1536),
                          perturb_views=4, eq_db=6.0, mask_prob=0.2, unmasked_weight=0.5, steps=40000,
                          warmup_steps=2000, batch_size=32, valid_every=1000),
    ),
}


def textless(*args: str):
    """Run a textless CLI command with this interpreter; raise if it fails."""
    cmd = [sys.executable, "-m", "textless", *map(str, args)]
    log.info("$ %s", " ".join(cmd[2:]))
    subprocess.run(cmd, check=True)


def stage_corpus(work: Path, p: Preset, seed: int):
    """Training corpus (the 'train' voices) and held-out corpus (voices never used in training)."""
    if not (work / "train" / "manifest.tsv").is_file():
        textless("data", "synth", "--generate", p.sentences, "--voices", "train",
                 "--out", work / "train", "--seed", seed)
    if not (work / "heldout" / "manifest.tsv").is_file():
        textless("data", "synth", "--generate", p.heldout_sentences, "--voices", "heldout",
                 "--out", work / "heldout", "--seed", seed + 1000)
    if not (work / "vocoder_voice" / "manifest.tsv").is_file():
        textless("data", "synth", "--generate", p.vocoder_sentences, "--voices", VOCODER_VOICE,
                 "--out", work / "vocoder_voice", "--seed", seed + 2000)
    first = 0  # utterance ids stay unique across batches
    for i, (n, offset) in enumerate(p.parallel):
        for name, voices, per in ((_batch("canonical", i), [VOCODER_VOICE], 1),
                                  (_batch("parallel", i), ["parallel"], p.per_sentence)):
            if not (work / name / "manifest.tsv").is_file():
                textless("data", "synth", "--generate", n, "--seed", seed + offset, "--voices", *voices,
                         "--per-sentence", per, "--out", work / name, "--first-index", first)
        first += n


def _batch(kind: str, i: int) -> str:
    return kind if i == 0 else f"{kind}{i + 1}"  # canonical, canonical2, ...


def parallel_corpora(work: Path, p: Preset) -> list[Path]:
    return [work / _batch(kind, i) for kind in ("canonical", "parallel") for i in range(len(p.parallel))]


def encode_corpora(pipe, corpora: list[Path], target: Path):
    """Frame-level units (no dedup) of every file of ``corpora`` into ``target`` (.jsonl), once."""
    from textless.progress import progress
    from textless.units import write_units

    if target.is_file():
        return
    utts = []
    for corpus in corpora:
        for path in progress(corpus_paths(corpus), desc=f"encode {corpus.name}", unit="file"):
            utts.append(pipe.encode(pipe.load(path), deduplicate=False, id=path.stem))
    write_units(target, utts)


def corpus_paths(corpus: Path) -> list[Path]:
    from textless.data.manifest import read_manifest

    root, entries = read_manifest(corpus / "manifest.tsv")
    return [root / rel for rel, _ in entries]


def stage_encoder(work: Path, p: Preset, seed: int):
    """MFCC k-means K vs. a HuBERT pre-trained here, chosen by held-out ABX (encoder_choice.py)."""
    from encoder_choice import choose_encoder

    choose_encoder(work, ks=p.ks, kmeans_frames=p.kmeans_frames, hubert_steps=p.hubert_steps,
                   hubert_layers=p.hubert_layers, hubert_k=p.hubert_k, seed=seed,
                   run_textless=textless)


def target_pipeline(work: Path):
    """The target units' encoder + k-means chosen by the ``encoder`` stage."""
    from textless.components import load_component
    from textless.pipeline import Pipeline

    comp = work / "components"
    layer = json.loads((comp / "selection.json").read_text())["layer"]
    return Pipeline(load_component(comp / "encoder.safetensors"),
                    load_component(comp / "quantizer.safetensors"), name="targets", layer=layer)


def unit_pipeline(work: Path, p: Preset):
    """The bundle's units: the speaker-invariant encoder + head, or (no ``invariant``) the targets'."""
    from textless.components import load_component
    from textless.pipeline import Pipeline

    if p.invariant is None:
        return target_pipeline(work)
    run = work / "invariant"
    return Pipeline(load_component(run / "encoder.safetensors"),
                    load_component(run / "quantizer.safetensors"), name="default")


def stage_targets(work: Path, p: Preset):
    """Frame-level target units of the parallel corpora (what the invariant encoder learns)."""
    if p.invariant is not None:
        encode_corpora(target_pipeline(work), parallel_corpora(work, p), work / "units" / "targets.jsonl")


def stage_invariant(work: Path, p: Preset, seed: int, device: str):
    """``textless train encoder`` on the parallel corpora (resumes after a kill)."""
    from textless.encoders.train import train_encoder

    if p.invariant is None:
        return
    train_encoder(replace(p.invariant, corpora=tuple(map(str, parallel_corpora(work, p))),
                          targets=str(work / "units" / "targets.jsonl"), out_dir=str(work / "invariant"),
                          seed=seed, device=device))


def stage_encode(work: Path, p: Preset):
    """Frame-level units of the training corpora in the bundle's units (the ULM dedups them),
    and of the vocoder's voice in the target units (what the invariant encoder learns to output
    for it)."""
    corpora = parallel_corpora(work, p) if p.invariant is not None else [work / "train"]
    encode_corpora(unit_pipeline(work, p), corpora, work / "units" / "train.jsonl")
    encode_corpora(target_pipeline(work), [work / "vocoder_voice"], work / "units" / "vocoder_voice.jsonl")


def stage_ulm(work: Path, p: Preset, seed: int, device: str):
    textless("train", "ulm", "--units", work / "units" / "train.jsonl", "--out", work / "ulm",
             "--seed", seed, "--device", device, *p.ulm_args)


def stage_vocoder(work: Path, p: Preset, seed: int, device: str):
    """The vocoder on the target units of its voice. (Fine-tuning it on the invariant encoder's
    units of the same audio, ``train vocoder --init``, measured worse: docs/speaker_invariant.md.)"""
    voice = work / "vocoder_voice"
    textless("train", "vocoder", "--audio", voice / "wav", "--units", work / "units" / "vocoder_voice.jsonl",
             "--out", work / "vocoder", "--seed", seed, "--device", device, *p.vocoder_args)


def stage_bundle(work: Path, p: Preset, bundle: Path, preset: str):
    """Copy the final components into the bundle folder and describe them in pipeline.json."""
    from textless.components import load_component
    from textless.pipeline import save_pipeline_dir

    comp = work / "invariant" if p.invariant is not None else work / "components"
    files = {
        "encoder": comp / "encoder.safetensors",
        "quantizer": comp / "quantizer.safetensors",
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
    units = (f"speaker-invariant log-mel encoder units (head over {selection['chosen']} targets of "
             f"{VOCODER_VOICE}, cross-voice aligned)" if p.invariant is not None else f"{selection['chosen']} units")
    save_pipeline_dir(
        bundle, name="default", layer=None if p.invariant is not None else selection["layer"],
        files={role: f"{role}.safetensors" for role in files},
        description=f"default textless bundle (recipes/default.py --preset {preset}): "
                    f"{units} + unit LM + unit HiFi-GAN ({VOCODER_VOICE} voice)",
        sample_rate=encoder.sample_rate, frame_rate=encoder.frame_rate,
        vocab_size=quantizer.vocab_size, license="MIT",
    )
    size = sum(f.stat().st_size for f in bundle.iterdir())
    log.info("bundle written to %s (%.1f MB)", bundle, size / 1e6)


STAGES = ("corpus", "encoder", "targets", "invariant", "encode", "ulm", "vocoder", "bundle")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "work" / "default", help="working folder")
    ap.add_argument("--preset", choices=PRESETS, default="full")
    ap.add_argument("--bundle", type=Path, default=REPO / "textless" / "assets" / "default")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {STAGES}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    p, work = PRESETS[args.preset], args.work
    work.mkdir(parents=True, exist_ok=True)
    stages = args.stages.split(",")
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stages {sorted(unknown)}")
    run = {
        "corpus": lambda: stage_corpus(work, p, args.seed),
        "encoder": lambda: stage_encoder(work, p, args.seed),
        "targets": lambda: stage_targets(work, p),
        "invariant": lambda: stage_invariant(work, p, args.seed, args.device),
        "encode": lambda: stage_encode(work, p),
        "ulm": lambda: stage_ulm(work, p, args.seed, args.device),
        "vocoder": lambda: stage_vocoder(work, p, args.seed, args.device),
        "bundle": lambda: stage_bundle(work, p, args.bundle, args.preset),
    }
    for name in STAGES:
        if name in stages:
            log.info("stage %s", name)
            run[name]()


if __name__ == "__main__":
    main()
