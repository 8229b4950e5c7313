"""Choose the default's encoder and K by ABX on held-out voices (a stage of ``recipes/default.py``).

Candidates, all quantized with k-means trained on the training corpus:

* MFCC (50 Hz, per-utterance CMVN) + k-means K, for each K of the preset;
* a small HuBERT pre-trained here on the training corpus by masked prediction of MFCC k-means
  labels (HuBERT's first iteration), features of a few layers + k-means K.

Each candidate's one-hot units are scored with triphone ABX (within and across speaker) on a
pocketsphinx alignment of the held-out corpus; the bitrate of its deduplicated held-out units is
reported beside it. The winner has the lowest mean of within and across error; among candidates
within ``tolerance`` (absolute) of it, the lowest bitrate wins. The table goes to
``WORK/components/selection.json`` and the winner's encoder and quantizer to
``WORK/components/{encoder,quantizer}.safetensors``.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from common import corpus_paths, heldout_item, log, score_candidate

# MFCC at 50 Hz (hop 320 = HuBERT's frame rate), per-utterance mean/variance normalisation.
MFCC = dict(kind="mfcc", hop_length=320, n_fft=400, cmvn=True)


def pretrain_hubert(work: Path, train_paths: list[Path], labels_quantizer, mfcc, steps: int,
                    seed: int, device: str = "cpu") -> Path:
    """HuBERT iteration 1 on the training corpus; returns the exported encoder (resumable)."""
    from textless.audio import load_audio
    from textless.encoders.pretrain import PretrainConfig, PretrainData, Pretrainer
    from textless.pipeline import Pipeline
    from textless.progress import progress

    out = work / "hubert"
    if (out / "encoder.safetensors").is_file():
        return out / "encoder.safetensors"
    labeller = Pipeline.from_parts(mfcc, labels_quantizer, name="hubert-labels")
    wavs, labels = [], []
    for path in progress(train_paths, desc="HuBERT labels", unit="file"):
        wav, _ = load_audio(path, 16000)
        wavs.append(wav)
        labels.append(labeller.encode(wav, deduplicate=False).units)
    cfg = PretrainConfig(num_classes=labels_quantizer.vocab_size, steps=steps,
                         warmup_steps=max(1, steps // 10), seed=seed, device=device)
    Pretrainer(cfg, PretrainData(wavs, labels, mfcc.hop_length), out).train()
    return out / "encoder.safetensors"


def choose_encoder(work: Path, *, ks, kmeans_frames: int, hubert_steps: int, hubert_layers,
                   hubert_k: int, seed: int, device: str = "cpu", tolerance: float = 0.005) -> dict:
    import torch

    from textless.components import load_component
    from textless.encoders.spectral import SpectralConfig, SpectralEncoder
    from textless.quantizers.kmeans import train_kmeans_on_corpus

    comp = work / "components"
    if (comp / "selection.json").is_file():
        return json.loads((comp / "selection.json").read_text())
    cand_dir = comp / "candidates"
    cand_dir.mkdir(parents=True, exist_ok=True)
    train_paths = corpus_paths(work / "train")
    item = heldout_item(work)
    heldout_wavs = work / "heldout" / "wav"
    torch.manual_seed(seed)
    mfcc = SpectralEncoder(SpectralConfig(**MFCC)).eval()
    mfcc.save(cand_dir / "mfcc.safetensors")

    def kmeans(name, encoder, layer, k, encoder_name):
        path = cand_dir / f"{name}.km.safetensors"
        if not path.is_file():
            on_device = copy.deepcopy(encoder).to(device)  # the candidates are scored on the CPU
            train_kmeans_on_corpus(on_device, train_paths, k, layer=layer, max_frames=kmeans_frames,
                                   seed=seed, encoder_name=encoder_name, device=device).save(path)
        return load_component(path)

    rows = []
    for k in ks:
        q = kmeans(f"mfcc-k{k}", mfcc, None, k, "mfcc-50hz-cmvn")
        rows.append({"name": f"mfcc-k{k}", "encoder": "mfcc.safetensors", "layer": None, "k": k,
                     **score_candidate(mfcc, q, None, heldout_wavs, item)})
        log.info("candidate %s", rows[-1])
    if hubert_steps > 0:
        labels_q = load_component(cand_dir / f"mfcc-k{hubert_k}.km.safetensors") \
            if hubert_k in ks else kmeans(f"mfcc-k{hubert_k}", mfcc, None, hubert_k, "mfcc-50hz-cmvn")
        hubert_path = pretrain_hubert(work, train_paths, labels_q, mfcc, hubert_steps, seed, device)
        shutil.copyfile(hubert_path, cand_dir / "hubert.safetensors")
        hubert = load_component(cand_dir / "hubert.safetensors").eval()
        for layer in hubert_layers:
            name = f"hubert-l{layer}-k{hubert_k}"
            q = kmeans(name, hubert, layer, hubert_k, f"hubert-small-it1-l{layer}")
            rows.append({"name": name, "encoder": "hubert.safetensors", "layer": layer, "k": hubert_k,
                         **score_candidate(hubert, q, layer, heldout_wavs, item)})
            log.info("candidate %s", rows[-1])

    def error(r):
        return (r["abx_within"] + r["abx_across"]) / 2

    best = min(error(r) for r in rows)
    chosen = min((r for r in rows if error(r) <= best + tolerance), key=lambda r: r["bitrate_vocab"])
    shutil.copyfile(cand_dir / chosen["encoder"], comp / "encoder.safetensors")
    shutil.copyfile(cand_dir / f"{chosen['name']}.km.safetensors", comp / "quantizer.safetensors")
    selection = {"chosen": chosen["name"], "layer": chosen["layer"], "rule":
                 f"lowest mean ABX error (within, across); bitrate breaks ties within {tolerance}",
                 "hubert_steps": hubert_steps, "candidates": rows}
    (comp / "selection.json").write_text(json.dumps(selection, indent=2) + "\n")
    log.info("chose %s", chosen["name"])
    return selection
