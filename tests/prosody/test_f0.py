"""F0: a synthetic tone's pitch is recovered within 2 %, frames align with units, normalisation inverts."""

import numpy as np
import pytest

from textless.prosody import F0Stats, denormalize_f0, extract_f0, normalize_f0, speaker_stats, unit_aligned_f0

SR = 16000


def tone(freq, seconds, harmonics=1, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return sum(0.4 / k * np.sin(2 * np.pi * freq * k * t) for k in range(1, harmonics + 1)).astype(np.float32)


@pytest.mark.parametrize("method,harmonics", [("dio", 1), ("dio", 6), ("harvest", 6)])
@pytest.mark.parametrize("freq", [110.0, 237.0])
def test_tone_pitch_within_2_percent(method, harmonics, freq):
    f0 = extract_f0(tone(freq, 0.6, harmonics), SR, 100.0, method=method)
    assert f0.shape == (int(np.ceil(0.6 * 100)) + 1,)
    voiced = f0[f0 > 0]
    assert voiced.size >= 0.8 * f0.size
    assert np.abs(np.median(voiced) / freq - 1) < 0.02


def test_unit_aligned_f0_follows_a_pitch_step():
    # 0.5 s at 120 Hz then 0.5 s at 200 Hz, units at 50 Hz -> 50 frames, the step at frame 25
    wav = np.concatenate([tone(120, 0.5, 4), tone(200, 0.5, 4)])
    f0 = unit_aligned_f0(wav, SR, 50, 50.0)
    assert f0.shape == (50,) and f0.dtype == np.float32
    assert np.all(np.abs(f0[2:23] / 120 - 1) < 0.02)
    assert np.all(np.abs(f0[27:48] / 200 - 1) < 0.02)


def test_silence_is_unvoiced():
    f0 = unit_aligned_f0(np.zeros(SR // 2, np.float32), SR, 25, 50.0)
    assert f0.shape == (25,) and not f0.any()


def test_per_speaker_normalisation_round_trip():
    rng = np.random.default_rng(0)
    tracks = {f"a{i}": np.where(rng.random(40) < 0.3, 0, rng.uniform(80, 140, 40)) for i in range(3)}
    tracks.update({f"b{i}": np.where(rng.random(40) < 0.3, 0, rng.uniform(180, 300, 40)) for i in range(3)})
    stats = speaker_stats(tracks, {u: u[0] for u in tracks})
    assert stats["a"].mean < stats["b"].mean
    for utt, f0 in tracks.items():
        z = normalize_f0(f0, stats[utt[0]])
        assert np.all(z[f0 == 0] == 0)
        np.testing.assert_allclose(denormalize_f0(z, f0 > 0, stats[utt[0]]), f0, rtol=1e-5)
    pooled = np.concatenate([normalize_f0(tracks[u], stats["b"]) for u in tracks if u[0] == "b"])
    voiced = np.concatenate([tracks[u] for u in tracks if u[0] == "b"]) > 0
    assert abs(pooled[voiced].mean()) < 1e-5 and abs(pooled[voiced].std() - 1) < 1e-4
    with pytest.raises(Exception, match="voiced"):
        F0Stats.of([np.zeros(5)])
