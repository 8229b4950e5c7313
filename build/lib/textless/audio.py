"""Audio I/O: read any file libsndfile decodes, mix to mono, resample with soxr, write wav.

Waveforms are ``float32`` numpy arrays of shape ``[T]`` (samples) in [-1, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import (
    AudioTooLongError,
    AudioTooShortError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnreadableAudioError,
)
from .files import atomic_open

DEFAULT_MAX_DURATION_S = 3600.0


def resample(wav: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample ``wav: [T] float32`` from ``orig_rate`` to ``target_rate`` (Hz) with soxr (VHQ).

    The output has ``round(T * target_rate / orig_rate)`` samples.
    """
    if orig_rate == target_rate:
        return wav
    import soxr

    return soxr.resample(wav, orig_rate, target_rate, quality="VHQ").astype(np.float32, copy=False)


def to_mono(wav: np.ndarray) -> np.ndarray:
    """Average the channels of ``wav: [T, C]`` (soundfile's layout) into ``[T]``."""
    return wav.mean(axis=1) if wav.ndim == 2 else wav


def load_audio(
    path: str | os.PathLike,
    sample_rate: int | None = None,
    *,
    min_samples: int = 1,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float32 ``[T]``, resampled to ``sample_rate`` Hz when given.

    Returns ``(wav, rate)``. ``min_samples`` is counted at the returned rate (pass the encoder's
    receptive field, e.g. 400 samples for HuBERT at 16 kHz). Raises a subclass of
    :class:`~textless.errors.AudioError` for a missing/undecodable, empty, too short, too long or
    non-finite file.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UnreadableAudioError(f"{path}: no such file")
    try:
        info = sf.info(str(path))
    except Exception as e:  # libsndfile raises several types; all mean "cannot decode"
        raise UnreadableAudioError(f"{path}: not a readable audio file ({_short(e)})") from None
    if info.frames == 0:
        raise EmptyAudioError(f"{path}: contains no audio samples")
    if max_duration_s is not None and info.frames > max_duration_s * info.samplerate:
        raise AudioTooLongError(
            f"{path}: {info.frames / info.samplerate:.1f} s is longer than the maximum of "
            f"{max_duration_s:g} s"
        )
    try:
        wav, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as e:
        raise UnreadableAudioError(f"{path}: cannot decode audio ({_short(e)})") from None
    if wav.size == 0:
        raise EmptyAudioError(f"{path}: contains no audio samples")
    wav = to_mono(wav)
    if not np.isfinite(wav).all():
        raise NonFiniteAudioError(f"{path}: contains NaN or Inf samples")
    if sample_rate is not None:
        wav, rate = resample(wav, rate, sample_rate), sample_rate
    if wav.shape[0] < min_samples:
        raise AudioTooShortError(
            f"{path}: {wav.shape[0]} samples at {rate} Hz is shorter than the encoder's "
            f"receptive field of {min_samples} samples"
        )
    return np.ascontiguousarray(wav, dtype=np.float32), int(rate)


def write_audio(path: str | os.PathLike, wav, sample_rate: int) -> Path:
    """Write ``wav: [T]`` (numpy or torch, float in [-1, 1]) as 16-bit PCM wav, atomically.

    Parent folders are created; a failed write leaves no partial file behind.
    """
    import soundfile as sf

    data = wav.detach().cpu().numpy() if hasattr(wav, "detach") else np.asarray(wav)
    data = np.clip(data.astype(np.float32, copy=False).reshape(-1), -1.0, 1.0)
    with atomic_open(path, "wb") as f:
        sf.write(f, data, sample_rate, format="WAV", subtype="PCM_16")
    return Path(path)


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
