"""Rebuild the default textless bundle from nothing: corpus -> encoder + K -> ULM -> vocoder.

    .venv/bin/python recipes/default.py --work work/default            # the full recipe
    .venv/bin/python recipes/default.py --work work/v0 --preset quick  # a short CPU run

Every stage writes into ``--work`` and is skipped when its output exists, so a killed run
resumes where it stopped (the ULM and vocoder trainers resume mid-training too). The last stage
copies the chosen components into ``--bundle`` (default ``textless/assets/default``) with a
``pipeline.json``. Evaluation numbers for the model card come from ``recipes/evaluate.py``.

Stages: ``corpus`` (training voices, held-out voices, and the vocoder's single output voice),
``encoder`` (MFCC k-means K vs. a HuBERT pre-trained here, chosen by held-out ABX; see
``encoder_choice.py``), ``encode``, ``ulm``, ``vocoder`` (mel-L1 warm-up, then adversarial in
``full``), ``bundle``. Presets: ``quick`` (~1.3 h of speech, small models, a mel-only vocoder:
70 min of stages on a 2-core AVX-512 VM on 2026-12-02, 45 of them the vocoder) and ``full``
(>= 5 h of speech, larger models and many more steps, meant for a GPU; ``--device cuda`` moves
the unit LM's training there, the other trainers still run on the CPU).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("recipe")


@dataclass(frozen=True)
class Preset:
    sentences: int            # training sentences (one voice each, 8 training voices)
    heldout_sentences: int    # held-out voices' sentences (evaluation only)
    ks: tuple                 # k-means sizes tried on MFCC
    kmeans_frames: int        # frames sampled for each k-means
    hubert_steps: int         # HuBERT iteration-1 pre-training steps (0: MFCC only)
    hubert_layers: tuple      # HuBERT layers tried (k-means ``hubert_k`` each)
    hubert_k: int             # MFCC k-means size giving HuBERT's labels, and K on HuBERT features
    vocoder_sentences: int    # sentences spoken by the vocoder's single output voice
    ulm_args: tuple           # extra `textless train ulm` flags
    vocoder_args: tuple       # extra `textless train vocoder` flags


# The vocoder speaks every input in one voice, as GSLM's (trained on LJSpeech): one voice is
# learned far faster than eight, and flite rms is the training voice pocketsphinx reads best.
VOCODER_VOICE = "flite:rms"

PRESETS = {
    "quick": Preset(
        sentences=1500, heldout_sentences=120, ks=(50, 100, 200), kmeans_frames=150_000,
        hubert_steps=400, hubert_layers=(4, 6), hubert_k=100, vocoder_sentences=2500,
        ulm_args=("--layers", "2", "--dim", "128", "--heads", "2", "--ffn-dim", "512",
                  "--max-steps", "800", "--max-tokens", "2048", "--warmup-steps", "80",
                  "--save-every", "50", "--valid-every", "100"),
        # mel-L1 only: an adversarial step costs ~5x a mel-only one on 2 CPU cores (measured
        # 0.37 s vs > 1.5 s), more than a session allows after 6000 warm-up steps
        vocoder_args=("--config", "small", "--steps", "6000", "--disc-start", "6000",
                      "--batch-size", "8", "--segment-frames", "32", "--disc-width", "0.25",
                      "--duration-predictor", "--checkpoint-every", "200", "--snapshot-every", "2000"),
    ),
    "full": Preset(
        sentences=6500, heldout_sentences=300, ks=(50, 100, 200, 500), kmeans_frames=300_000,
        hubert_steps=20000, hubert_layers=(4, 5, 6), hubert_k=100, vocoder_sentences=6500,
        ulm_args=("--layers", "6", "--dim", "384", "--heads", "6", "--ffn-dim", "1536",
                  "--max-steps", "6000", "--max-tokens", "8192", "--warmup-steps", "400"),
        vocoder_args=("--config", "small", "--steps", "100000", "--disc-start", "20000",
                      "--batch-size", "16", "--segment-frames", "32", "--disc-width", "1.0",
                      "--duration-predictor", "--checkpoint-every", "1000", "--snapshot-every", "10000"),
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


def stage_encode(work: Path):
    """Frame-level units of the training corpus (the ULM dedups them) and of the vocoder's voice."""
    import torch

    from textless.audio import load_audio
    from textless.components import load_component
    from textless.pipeline import Pipeline
    from textless.progress import progress
    from textless.units import write_units

    comp = work / "components"
    layer = json.loads((comp / "selection.json").read_text())["layer"]
    pipe = Pipeline(load_component(comp / "encoder.safetensors"),
                    load_component(comp / "quantizer.safetensors"), name="default", layer=layer)
    for corpus in ("train", "vocoder_voice"):
        target = work / "units" / f"{corpus}.jsonl"
        if target.is_file():
            continue
        utts = []
        for path in progress(corpus_paths(work / corpus), desc=f"encode {corpus}", unit="file"):
            wav, _ = load_audio(path, pipe.sample_rate, min_samples=pipe.encoder.receptive_field)
            utts.append(pipe.encode(torch.from_numpy(wav), deduplicate=False, id=path.stem))
        write_units(target, utts)


def stage_ulm(work: Path, p: Preset, seed: int, device: str):
    textless("train", "ulm", "--units", work / "units" / "train.jsonl", "--out", work / "ulm",
             "--seed", seed, "--device", device, *p.ulm_args)


def stage_vocoder(work: Path, p: Preset, seed: int):
    voice = work / "vocoder_voice"
    textless("train", "vocoder", "--audio", voice / "wav", "--units", work / "units" / "vocoder_voice.jsonl",
             "--out", work / "vocoder", "--seed", seed, *p.vocoder_args)


def stage_bundle(work: Path, bundle: Path, preset: str):
    """Copy the final components into the bundle folder and describe them in pipeline.json."""
    from textless.components import load_component
    from textless.pipeline import save_pipeline_dir

    comp = work / "components"
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
    selection = json.loads((comp / "selection.json").read_text())
    save_pipeline_dir(bundle, name="default", layer=selection["layer"],
                      files={role: f"{role}.safetensors" for role in files})
    spec = json.loads((bundle / "pipeline.json").read_text())
    spec.update(
        description=f"default textless bundle (recipes/default.py --preset {preset}): "
                    f"{selection['chosen']} units + unit LM + unit HiFi-GAN ({VOCODER_VOICE} voice)",
        sample_rate=encoder.sample_rate, frame_rate=encoder.frame_rate,
        vocab_size=quantizer.vocab_size, license="MIT",
    )
    (bundle / "pipeline.json").write_text(json.dumps(spec, indent=2) + "\n")
    size = sum(f.stat().st_size for f in bundle.iterdir())
    log.info("bundle written to %s (%.1f MB)", bundle, size / 1e6)


STAGES = ("corpus", "encoder", "encode", "ulm", "vocoder", "bundle")


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
        "encode": lambda: stage_encode(work),
        "ulm": lambda: stage_ulm(work, p, args.seed, args.device),
        "vocoder": lambda: stage_vocoder(work, p, args.seed),
        "bundle": lambda: stage_bundle(work, args.bundle, args.preset),
    }
    for name in STAGES:
        if name in stages:
            log.info("stage %s", name)
            run[name]()


if __name__ == "__main__":
    main()
