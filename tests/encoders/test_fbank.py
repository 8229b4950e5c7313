"""GSLM's log-mel features (torchaudio ``kaldi.fbank`` semantics, docs/zoo_gslm.md) against an
independent float64 numpy transcription of those semantics, and hand-computed small cases.

Tolerances. The mel weights: torchaudio computes them in float32 (mel positions near 2840 carry
~2e-4 of rounding), measured 1.4e-5 from the float64 formula: 3e-5. The other steps, run in
float64 with those weights given to the reference, differ by rounding only: 1e-9 on log energies.
In float32, what GSLM runs, FFT rounding relative to a frame's peak and the float32 weights on
the tails of strong tones show in low bins (measured 1.5e-3 against the all-float64 reference): 5e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from textless.encoders.fbank import (EPSILON, FbankConfig, FbankEncoder, mel_banks, mel_scale, next_power_of_two,
                                     num_frames, window_sizes)
from textless.errors import AudioTooShortError

ATOL_BANK, ATOL_F64, ATOL_F32 = 3e-5, 1e-9, 5e-3


def numpy_mel_bank(n_fft, sample_rate=16000, bins=80, low=20.0):
    """Kaldi's triangles in float64: edges equally spaced on 1127 ln(1 + f / 700), Nyquist bin 0."""
    mel = lambda f: 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)  # noqa: E731
    lo, hi = mel(low), mel(sample_rate / 2)
    delta = (hi - lo) / (bins + 1)
    fft_mel = mel(np.arange(n_fft // 2) * sample_rate / n_fft)
    bank = np.zeros((bins, n_fft // 2 + 1))
    for k in range(bins):
        left, center, right = lo + k * delta, lo + (k + 1) * delta, lo + (k + 2) * delta
        bank[k, : n_fft // 2] = np.maximum(0.0, np.minimum((fft_mel - left) / (center - left),
                                                           (right - fft_mel) / (right - center)))
    return bank


def numpy_fbank(wav, sample_rate=16000, bins=80, low=20.0, frame_ms=25.0, shift_ms=10.0, coef=0.97, bank=None):
    """Kaldi fbank, float64, written from the semantics: frames, DC removal, pre-emphasis, Povey
    window, zero padding to a power of two, power spectrum, mel triangles (``bank``, default
    :func:`numpy_mel_bank`), log with an eps floor."""
    x = np.asarray(wav, np.float64)
    size, shift = int(sample_rate * frame_ms * 0.001), int(sample_rate * shift_ms * 0.001)
    n_fft = 1 << (size - 1).bit_length()
    count = 1 + (len(x) - size) // shift
    frames = np.stack([x[i * shift: i * shift + size] for i in range(count)])
    frames = frames - frames.mean(axis=1, keepdims=True)
    prev = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - coef * prev
    n = np.arange(size)
    frames = frames * (0.5 - 0.5 * np.cos(2 * np.pi * n / (size - 1))) ** 0.85
    power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
    bank = numpy_mel_bank(n_fft, sample_rate, bins, low) if bank is None else bank
    return np.log(np.maximum(power @ bank.T, np.finfo(np.float32).eps))


def signals():
    g = np.random.default_rng(0)
    t = np.arange(16000 + 123) / 16000
    chirp = 0.3 * np.sin(2 * np.pi * (200 * t + 3000 * t**2))
    yield "noise+tone", (0.05 * g.standard_normal(t.size) + 0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    yield "chirp+noise", (chirp + 0.01 * g.standard_normal(t.size)).astype(np.float32)
    yield "int16 scale", (np.round(g.standard_normal(9000) * 3000) / 32768).astype(np.float32)


@pytest.mark.parametrize("name,wav", list(signals()), ids=[n for n, _ in signals()])
def test_equals_the_float64_numpy_reference(name, wav):
    enc = FbankEncoder()
    feats, frames = enc.features(torch.from_numpy(wav)[None])
    ref = numpy_fbank(wav)
    assert feats.dtype == torch.float32 and feats.shape == (1, *ref.shape) and int(frames) == ref.shape[0]
    assert ref.shape == (1 + (wav.size - 400) // 160, 80)
    np.testing.assert_allclose(feats[0].numpy(), ref, atol=ATOL_F32, rtol=0)
    exact = enc.utterance(torch.from_numpy(wav).double())  # the same operations in float64
    ref_same_bank = numpy_fbank(wav, bank=enc.bank.double().numpy())
    np.testing.assert_allclose(exact.numpy(), ref_same_bank, atol=ATOL_F64, rtol=0)
    np.testing.assert_allclose(enc.bank.numpy(), numpy_mel_bank(512), atol=ATOL_BANK, rtol=0)


def test_other_rate_follows_the_same_formulas():
    """22.05 kHz: windows 551 / 220 samples (truncated), FFT 1024."""
    wav = (0.1 * np.random.default_rng(1).standard_normal(22050)).astype(np.float32)
    enc = FbankEncoder(FbankConfig(sample_rate=22050))
    assert (enc.receptive_field, enc.hop_length) == (551, 220)
    exact = enc.utterance(torch.from_numpy(wav).double())
    np.testing.assert_allclose(exact.numpy(), numpy_fbank(wav, 22050, bank=enc.bank.double().numpy()),
                               atol=ATOL_F64, rtol=0)
    np.testing.assert_allclose(enc.bank.numpy(), numpy_mel_bank(1024, 22050), atol=ATOL_BANK, rtol=0)


# ---------------------------------------------------------------------------- hand-computed
def test_frame_count_and_sizes():
    assert window_sizes(FbankConfig()) == (400, 160, 512)
    assert [next_power_of_two(n) for n in (1, 2, 3, 400, 512, 513)] == [1, 2, 4, 512, 512, 1024]
    assert [num_frames(n) for n in (399, 400, 559, 560, 16000, 160400)] == [0, 1, 1, 2, 98, 1001]
    enc = FbankEncoder()
    assert (enc.sample_rate, enc.frame_rate, enc.hop_length, enc.receptive_field, enc.dim) == (16000, 100.0, 160, 400, 80)
    assert enc.output_frames(16000) == 98
    assert torch.equal(enc.num_frames(torch.tensor([399, 400, 16000])), torch.tensor([0, 1, 98]))


def test_dc_removal_preemphasis_and_power_spectrum_of_one_frame():
    """A 4-sample frame [1, 2, 3, 4], rectangular window, FFT of 4: DC removal gives
    [-1.5, -0.5, 0.5, 1.5], pre-emphasis (first sample against itself) [-0.045, 0.955, 0.985,
    1.015]; |X0|^2 = 2.91^2, |X1|^2 = (x0 - x2)^2 + (x3 - x1)^2, |X2|^2 = (x0 - x1 + x2 - x3)^2."""
    cfg = FbankConfig(sample_rate=160, frame_length_ms=25.0, frame_shift_ms=25.0, window="rectangular",
                      low_freq=0.0, num_mel_bins=4)
    assert window_sizes(cfg) == (4, 4, 4)
    spec = FbankEncoder(cfg).power_spectrum(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    x = [-0.045, 0.955, 0.985, 1.015]
    expected = [sum(x) ** 2, (x[0] - x[2]) ** 2 + (x[3] - x[1]) ** 2, (x[0] - x[1] + x[2] - x[3]) ** 2]
    torch.testing.assert_close(spec[0], torch.tensor(expected, dtype=torch.float64), atol=1e-12, rtol=0)


def test_padded_window_must_be_even():
    with pytest.raises(Exception, match="padded window is odd"):
        FbankConfig(sample_rate=200, round_to_power_of_two=False)


def test_power_of_two_fft_puts_a_1khz_tone_in_bin_32():
    """400-sample frames zero-padded to 512: bins are 31.25 Hz apart, 1000 Hz is bin 32."""
    t = torch.arange(4000, dtype=torch.float64) / 16000
    spec = FbankEncoder().power_spectrum(torch.sin(2 * math.pi * 1000 * t))
    assert spec.shape == (num_frames(4000), 257) and set(spec.argmax(1).tolist()) == {32}


def test_mel_bank_values_from_the_formula():
    """Filter 0 of the 80-bin 16 kHz bank by hand: edges mel(20) + (0, 1, 2) * delta with
    delta = (mel(8000) - mel(20)) / 81; FFT bins 1 and 2 (31.25, 62.5 Hz) on its two slopes."""
    bank = mel_banks(80, 512, 16000)
    assert bank.shape == (80, 257) and bank.dtype == torch.float32 and bool((bank[:, 256] == 0).all())
    lo = 1127.0 * math.log(1 + 20 / 700)
    delta = (1127.0 * math.log(1 + 8000 / 700) - lo) / 81
    m1, m2 = 1127.0 * math.log(1 + 31.25 / 700), 1127.0 * math.log(1 + 62.5 / 700)
    assert mel_scale(700.0) == pytest.approx(1127.0 * math.log(2))
    assert float(bank[0, 0]) == 0.0  # 0 Hz is below mel(20)
    assert float(bank[0, 1]) == pytest.approx((m1 - lo) / delta, abs=1e-5)  # rising slope
    assert float(bank[0, 2]) == pytest.approx((lo + 2 * delta - m2) / delta, abs=1e-5)  # falling slope
    assert float(bank[1, 2]) == pytest.approx((m2 - lo - delta) / delta, abs=1e-5)
    # neighbouring triangles cross-fade: between the first and last centres, weights sum to 1
    inside = (mel_scale(torch.arange(256) * 31.25) > lo + delta) & (mel_scale(torch.arange(256) * 31.25) < lo + 80 * delta)
    torch.testing.assert_close(bank[:, :256].sum(0)[inside], torch.ones(int(inside.sum())), atol=1e-5, rtol=0)


def test_constant_signal_gives_the_eps_floor_and_scaling_adds_log4():
    enc = FbankEncoder()
    flat, _ = enc.features(torch.full((1, 2000), 0.25))
    assert bool((flat == math.log(EPSILON)).all())  # DC removal: all-zero frames
    wav = torch.from_numpy(next(signals())[1])[None]
    a, _ = enc.features(wav)
    b, _ = enc.features(2 * wav)
    torch.testing.assert_close(b - a, torch.full_like(a, math.log(4.0)), atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------- encoder contract
def test_padded_batch_equals_items_and_too_short_raises():
    enc = FbankEncoder()
    g = torch.Generator().manual_seed(0)
    wavs = [0.1 * torch.randn(n, generator=g) for n in (5000, 401, 3333)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, frames = enc.features(batch, torch.tensor([w.numel() for w in wavs]))
    for i, w in enumerate(wavs):
        one, n = enc.features(w[None])
        assert int(frames[i]) == int(n) == num_frames(w.numel())
        assert torch.equal(feats[i, : int(n)], one[0]) and bool((feats[i, int(n):] == 0).all())
    with pytest.raises(AudioTooShortError, match="at least 400"):
        enc.features(torch.zeros(1, 399))


def test_native_file_round_trip(tmp_path):
    from textless.components import load_component

    enc = FbankEncoder(FbankConfig(num_mel_bins=40))
    enc.save(tmp_path / "fbank.safetensors")
    back = load_component(tmp_path / "fbank.safetensors", role="encoder")
    assert isinstance(back, FbankEncoder) and back.cfg == enc.cfg and back.dim == 40


def test_registry_pipeline_gives_units_of_the_logmel_kmeans(tmp_path):
    """``logmel-km50``: the computed encoder (no file) + GSLM's km.bin imported by name (trust on
    first use); units are sklearn's ``predict`` on the 80-bin features, at 100 Hz."""
    import joblib
    from sklearn.cluster import MiniBatchKMeans

    from textless import hub
    from textless.pipeline import load_pipeline

    (_, a), (_, b), (_, wav) = signals()
    train = FbankEncoder().features(torch.from_numpy(np.concatenate([a, b]))[None])[0][0].numpy()
    km = MiniBatchKMeans(n_clusters=50, n_init=1, random_state=0, batch_size=64).fit(train)
    wav = torch.from_numpy(wav)
    feats = FbankEncoder().features(wav[None])[0][0].numpy()
    (tmp_path / "km").mkdir()
    joblib.dump(km, tmp_path / "km" / "km.bin")
    hub.import_file(tmp_path / "km" / "km.bin", "logmel-fbank-kmeans-50")
    pipe = load_pipeline("logmel-km50")
    assert isinstance(pipe.encoder, FbankEncoder) and pipe.frame_rate == 100.0 and pipe.layer is None
    units = pipe.encode(wav, deduplicate=False)
    assert units.units.tolist() == km.predict(feats).tolist()
