"""Rebuild the default textless bundle from nothing: corpus -> encoder -> k-means -> ULM -> vocoder.

    .venv/bin/python recipes/default.py --work work/default            # the full recipe
    .venv/bin/python recipes/default.py --work work/v0 --preset quick  # a short CPU run

Every stage writes into ``--work`` and is skipped when its output exists, so a killed run
resumes where it stopped (the ULM and vocoder trainers resume mid-training too). The last stage
copies the chosen components into ``--bundle`` (default ``textless/assets/default``) with a
``pipeline.json``. Evaluation numbers for the model card come from ``recipes/evaluate.py``.

Presets (all stages run on the CPU; a GPU trains the same recipe with ``--device cuda``):
``quick`` (~1 h of speech, small models, about an hour of training on 2 cores) and ``full``
(>= 5 h of speech, 8 training speakers, larger models and more steps).
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
    k: int                    # k-means clusters (units)
    kmeans_frames: int        # frames sampled for k-means
    ulm_args: tuple           # extra `textless train ulm` flags
    vocoder_args: tuple       # extra `textless train vocoder` flags


PRESETS = {
    "quick": Preset(
        sentences=1500, heldout_sentences=120, k=100, kmeans_frames=150_000,
        ulm_args=("--layers", "2", "--dim", "128", "--heads", "2", "--ffn-dim", "512",
                  "--max-steps", "800", "--max-tokens", "2048", "--warmup-steps", "80",
                  "--save-every", "50", "--valid-every", "100"),
        vocoder_args=("--config", "small", "--steps", "3000", "--batch-size", "4",
                      "--segment-frames", "24", "--disc-width", "0.25", "--duration-predictor",
                      "--checkpoint-every", "100"),
    ),
    "full": Preset(
        sentences=6500, heldout_sentences=300, k=100, kmeans_frames=300_000,
        ulm_args=("--layers", "6", "--dim", "384", "--heads", "6", "--ffn-dim", "1536",
                  "--max-steps", "6000", "--max-tokens", "8192", "--warmup-steps", "400"),
        vocoder_args=("--config", "small", "--steps", "20000", "--batch-size", "16",
                      "--segment-frames", "32", "--duration-predictor", "--checkpoint-every", "500"),
    ),
}

# MFCC at 50 Hz (hop 320 = HuBERT's frame rate), per-utterance mean/variance normalisation.
MFCC = dict(kind="mfcc", hop_length=320, n_fft=400, cmvn=True)


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


def corpus_paths(corpus: Path) -> list[Path]:
    from textless.data.manifest import read_manifest

    root, entries = read_manifest(corpus / "manifest.tsv")
    return [root / rel for rel, _ in entries]


def stage_encoder_and_kmeans(work: Path, p: Preset, seed: int):
    """MFCC encoder + k-means K on a reservoir sample of training frames."""
    import torch

    from textless.encoders.spectral import SpectralConfig, SpectralEncoder
    from textless.quantizers.kmeans import train_kmeans_on_corpus

    out = work / "components"
    if (out / "quantizer.safetensors").is_file():
        return
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    encoder = SpectralEncoder(SpectralConfig(**MFCC)).eval()
    encoder.save(out / "encoder.safetensors")
    km = train_kmeans_on_corpus(
        encoder, corpus_paths(work / "train"), p.k, layer=None, max_frames=p.kmeans_frames,
        seed=seed, encoder_name="mfcc-50hz-cmvn",
    )
    km.save(out / "quantizer.safetensors")


def stage_encode(work: Path):
    """Frame-level units of the training corpus (the vocoder's targets; the ULM dedups them)."""
    import torch

    from textless.audio import load_audio
    from textless.checkpoint import load_component
    from textless.pipeline import Pipeline
    from textless.progress import progress
    from textless.units import write_units

    target = work / "units" / "train.jsonl"
    if target.is_file():
        return
    comp = work / "components"
    pipe = Pipeline(load_component(comp / "encoder.safetensors"),
                    load_component(comp / "quantizer.safetensors"), name="default")
    utts = []
    for path in progress(corpus_paths(work / "train"), desc="encode", unit="file"):
        wav, _ = load_audio(path, pipe.sample_rate, min_samples=pipe.encoder.receptive_field)
        utts.append(pipe.encode(torch.from_numpy(wav), deduplicate=False, id=path.stem))
    write_units(target, utts)


def stage_ulm(work: Path, p: Preset, seed: int, device: str):
    textless("train", "ulm", "--units", work / "units" / "train.jsonl", "--out", work / "ulm",
             "--seed", seed, "--device", device, *p.ulm_args)


def stage_vocoder(work: Path, p: Preset, seed: int):
    from textless.data.manifest import read_table

    speakers = read_table(work / "train" / "speakers.tsv")
    audio_list = work / "units" / "train_audio.tsv"
    audio_list.write_text("".join(
        f"{path}\t{speakers.get(path.stem, '')}\n" for path in corpus_paths(work / "train")
    ))
    textless("train", "vocoder", "--audio", audio_list,
             "--units", work / "units" / "train.jsonl", "--out", work / "vocoder",
             "--seed", seed, *p.vocoder_args)


def stage_bundle(work: Path, bundle: Path, preset: str):
    """Copy the final components into the bundle folder and describe them in pipeline.json."""
    from textless.checkpoint import load_component
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
    save_pipeline_dir(bundle, name="default", layer=None,
                      files={role: f"{role}.safetensors" for role in files})
    spec = json.loads((bundle / "pipeline.json").read_text())
    spec.update(
        description=f"default textless bundle (recipes/default.py --preset {preset}): MFCC 50 Hz "
                    f"+ k-means {quantizer.vocab_size} + unit LM + unit HiFi-GAN",
        sample_rate=encoder.sample_rate, frame_rate=encoder.frame_rate,
        vocab_size=quantizer.vocab_size, license="MIT",
    )
    (bundle / "pipeline.json").write_text(json.dumps(spec, indent=2) + "\n")
    size = sum(f.stat().st_size for f in bundle.iterdir())
    log.info("bundle written to %s (%.1f MB)", bundle, size / 1e6)


STAGES = ("corpus", "kmeans", "encode", "ulm", "vocoder", "bundle")


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
        "kmeans": lambda: stage_encoder_and_kmeans(work, p, args.seed),
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
