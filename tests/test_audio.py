import numpy as np
import pytest
import soundfile as sf

from textless.audio import load_audio, write_audio
from textless.errors import (
    AudioTooLongError,
    AudioTooShortError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnreadableAudioError,
)


@pytest.mark.parametrize("orig, target", [(8000, 16000), (44100, 16000), (22050, 24000), (16000, 16000)])
def test_resampling_rate_and_length(tmp_path, sine, orig, target):
    p = tmp_path / "a.wav"
    sf.write(p, sine(440.0, 1.5, orig), orig)
    wav, rate = load_audio(p, target)
    assert rate == target and wav.dtype == np.float32 and wav.ndim == 1
    assert abs(wav.shape[0] - round(1.5 * target)) <= 1
    # the tone survives: its spectral peak stays at 440 Hz
    spectrum = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spectrum) * target / wav.shape[0] - 440.0) < 2.0


def test_stereo_is_mixed_to_mono(tmp_path, sine):
    left, right = sine(300.0, 0.5), sine(500.0, 0.5)
    p = tmp_path / "s.flac"
    sf.write(p, np.stack([left, right], axis=1), 16000)
    wav, _ = load_audio(p)
    np.testing.assert_allclose(wav, (left + right) / 2, atol=1e-4)  # flac is 16-bit


@pytest.mark.parametrize("fmt, subtype, suffix", [("OGG", "VORBIS", ".ogg"), ("MP3", None, ".mp3")])
def test_compressed_formats_are_read(tmp_path, sine, fmt, subtype, suffix):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    p = tmp_path / f"a{suffix}"
    sf.write(p, sine(440.0, 0.5), 16000, format=fmt, subtype=subtype)
    wav, rate = load_audio(p)
    assert rate == 16000 and abs(wav.shape[0] - 8000) < 1200  # codec padding


def test_write_then_read(tmp_path, sine):
    x = sine(200.0, 0.25)
    out = write_audio(tmp_path / "sub" / "x.wav", x, 16000)
    y, rate = load_audio(out)
    assert rate == 16000 and np.abs(x - y).max() < 1e-4
    assert [p.name for p in out.parent.iterdir()] == ["x.wav"]  # no temporary left behind


def test_typed_errors(tmp_path, sine):
    with pytest.raises(UnreadableAudioError, match="no such file"):
        load_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio" * 10)
    with pytest.raises(UnreadableAudioError):
        load_audio(junk)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(EmptyAudioError):
        load_audio(empty)
    short = tmp_path / "short.wav"
    sf.write(short, sine(440.0, 0.01), 16000)  # 160 samples
    with pytest.raises(AudioTooShortError, match="400"):
        load_audio(short, 16000, min_samples=400)
    nan = tmp_path / "nan.wav"
    x = sine(440.0, 0.1)
    x[10] = np.nan
    sf.write(nan, x, 16000, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError):
        load_audio(nan)
    long = tmp_path / "long.wav"
    sf.write(long, sine(440.0, 3.0), 16000)
    with pytest.raises(AudioTooLongError):
        load_audio(long, max_duration_s=2.0)
    assert load_audio(long, max_duration_s=None)[0].shape[0] == 48000


def test_written_files_respect_the_umask(tmp_path, sine):
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = write_audio(tmp_path / "p.wav", sine(200.0, 0.1), 16000)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
