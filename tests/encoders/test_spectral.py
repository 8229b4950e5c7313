"""Spectral features against librosa/scipy, frame formula, padded batches, native files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textless.encoders.spectral import SpectralEncoder, logmel_config, mfcc_config


@pytest.fixture
def noise():
    return np.random.RandomState(0).randn(12345).astype(np.float32) * 0.1


def _librosa_logmel(y, n_mels):
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160, center=False,
                                         n_mels=n_mels, power=2.0)
    return np.log(np.maximum(mel, 1e-10)).T


def test_logmel_equals_librosa(noise):
    enc = SpectralEncoder(logmel_config())
    feats, frames = enc.features(torch.from_numpy(noise)[None])
    assert int(frames) == (12345 - 400) // 160 + 1 == feats.shape[1] and feats.shape[2] == 80
    np.testing.assert_allclose(feats[0].numpy(), _librosa_logmel(noise, 80), atol=1e-4)
    assert enc.frame_rate == 100.0 and enc.receptive_field == 400


def test_mfcc_is_dct_of_logmel_with_regression_deltas(noise):
    import librosa
    import scipy.fft

    enc = SpectralEncoder(mfcc_config())
    feats, _ = enc.features(torch.from_numpy(noise)[None])
    assert feats.shape[2] == enc.dim == 39
    c = scipy.fft.dct(_librosa_logmel(noise, 40), type=2, norm="ortho", axis=1)[:, :13]
    np.testing.assert_allclose(feats[0, :, :13].numpy(), c, atol=1e-4)
    d1 = librosa.feature.delta(c.T, width=5, order=1).T  # same regression away from the edges
    np.testing.assert_allclose(feats[0, 2:-2, 13:26].numpy(), d1[2:-2], atol=1e-4)
    # edges repeat the first/last frame: delta of frame 0 = (2*(c2-c0) + (c1-c0)) / 10
    np.testing.assert_allclose(feats[0, 0, 13:26].numpy(), (2 * (c[2] - c[0]) + (c[1] - c[0])) / 10, atol=1e-4)


@pytest.mark.parametrize("config", [mfcc_config(cmvn=True), logmel_config()], ids=["mfcc-cmvn", "logmel"])
def test_padded_batch_equals_per_item_and_native_round_trip(config, tmp_path):
    from textless.components import load_component

    enc = SpectralEncoder(config)
    g = torch.Generator().manual_seed(0)
    wavs = [torch.randn(n, generator=g) for n in (9000, 4321, 400)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, frames = enc.features(batch, torch.tensor([w.numel() for w in wavs]))
    for i, w in enumerate(wavs):
        one, n = enc.features(w[None])
        assert int(n) == int(frames[i])
        torch.testing.assert_close(feats[i, : int(n)], one[0], atol=1e-4, rtol=1e-5)
    enc.save(tmp_path / "spec.safetensors")
    again = load_component(tmp_path / "spec.safetensors")
    assert again.cfg == config
    torch.testing.assert_close(again.features(batch)[0], enc.features(batch)[0])
