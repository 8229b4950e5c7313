"""HuBERT first-iteration pre-training: masking, exact resume, a toy task it must learn."""

import dataclasses

import numpy as np
import pytest
import torch

from textless.encoders.pretrain import (
    PretrainConfig, PretrainData, Pretrainer, small_hubert_config, span_mask,
)
from textless.components import load_component

TINY = small_hubert_config(
    embed_dim=32, ffn_dim=64, num_layers=2, num_heads=2, conv_pos=16, conv_pos_groups=4,
    conv_layers=((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2, dropout=0.0,
)


def toy_data(n_utts=6, seconds=2, run=25, seed=0):
    """Tones whose pitch class (the label) changes every ``run`` frames: context predicts it."""
    g = torch.Generator().manual_seed(seed)
    wavs, labels = [], []
    for _ in range(n_utts):
        n = 16000 * seconds
        lab = torch.randint(0, 4, ((n // 320) // run + 1,), generator=g).repeat_interleave(run)[: n // 320]
        freq = (200 + 150 * lab.float()).repeat_interleave(320)
        t = torch.arange(freq.numel()) / 16000
        wavs.append((0.5 * torch.sin(2 * np.pi * freq * t)).numpy().astype(np.float32))
        labels.append(lab)
    return PretrainData(wavs, labels, 320)


def config(**kw):
    base = dict(model=dataclasses.asdict(TINY), num_classes=4, crop_s=1.0, batch_size=4,
                warmup_steps=5, steps=1000, lr=2e-3, save_every=10, mask_length=5)
    return PretrainConfig(**{**base, **kw})


def test_span_mask_counts():
    g = torch.Generator().manual_seed(0)
    m = span_mask(100, 0.8, 10, g)
    assert m.shape == (100,) and 10 <= int(m.sum()) <= 80
    assert int(span_mask(3, 0.01, 10, g).sum()) >= 1


def test_resume_continues_the_same_run(tmp_path):
    torch.set_num_threads(1)
    data = toy_data()
    straight = Pretrainer(config(), data, tmp_path / "a")
    losses = [straight.train_step()["loss"] for _ in range(11)]
    first = Pretrainer(config(), data, tmp_path / "b")
    for _ in range(10):
        first.train_step()
    first.save_state()
    resumed = Pretrainer(config(), data, tmp_path / "b")
    assert resumed.step == 10
    assert resumed.train_step()["loss"] == pytest.approx(losses[-1], abs=1e-6)


def test_learns_a_toy_task_and_exports_an_encoder(tmp_path):
    torch.set_num_threads(2)
    trainer = Pretrainer(config(steps=40, crop_s=0.6, lr=3e-3), toy_data(n_utts=4), tmp_path)
    history = trainer.train()
    early = np.mean([h["loss"] for h in history[:10]])
    late = np.mean([h["loss"] for h in history[-10:]])
    assert late < 0.8 * early, (early, late)
    enc = load_component(tmp_path / "encoder.safetensors")
    feats, frames = enc.features(torch.randn(1, 16000))
    assert feats.shape == (1, 49, 32) and frames.tolist() == [49]
