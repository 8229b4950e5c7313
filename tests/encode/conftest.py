"""Fixtures for the encode runner: a tiny random HuBERT in fairseq layout and a k-means on it."""

from __future__ import annotations

import shutil

import pytest
import torch

TINY_CONV = ((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, speech_dir):
    """``(checkpoint.pt, kmeans.safetensors, layer)``: random tiny HuBERT + k-means 12 on layer 2."""
    from textless.encoders.fairseq_export import save_fairseq_checkpoint
    from textless.encoders.hubert import HubertConfig, HubertEncoder
    from textless.quantizers.kmeans import train_kmeans_on_corpus

    d = tmp_path_factory.mktemp("tiny_model")
    torch.manual_seed(0)
    model = HubertEncoder(HubertConfig(conv_layers=TINY_CONV, embed_dim=48, ffn_dim=64, num_layers=3,
                                       num_heads=4, conv_pos=16, conv_pos_groups=4))
    save_fairseq_checkpoint(model, d / "tiny.pt", num_units=20)
    km = train_kmeans_on_corpus(model.fold_weight_norm().eval(), sorted(speech_dir.glob("*.wav")), 12,
                                layer=2, max_frames=5000, niter=10, show_progress=False)
    km.save(d / "km.safetensors")
    return d / "tiny.pt", d / "km.safetensors", 2


@pytest.fixture
def corpus(tmp_path, speech_dir):
    """A folder with the 6 flite utterances and one corrupt file (``broken.wav``)."""
    d = tmp_path / "corpus"
    d.mkdir()
    for f in sorted(speech_dir.glob("*.wav")):
        shutil.copy(f, d / f.name)
    (d / "broken.wav").write_bytes(b"RIFF not really a wav file")
    return d
