"""Audio I/O: read any file libsndfile decodes, mix to mono, resample with soxr, write wav.

Waveforms are ``float32`` numpy arrays of shape ``[T]`` (samples) in [-1, 1].
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from .errors import (
    AudioTooLongError,
    AudioTooShortError,
    DamagedAudioError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnreadableAudioError,
    UnsupportedAudioError,
)
from .files import atomic_open

DEFAULT_MAX_DURATION_S = 3600.0
MIN_SAMPLE_RATE = 1000  # Hz; below this a file is not speech (and resampling it up explodes)
MAX_SAMPLE_RATE = 768000  # Hz; the highest rate audio interfaces record at
_READ_BLOCK = 1 << 20  # frames decoded per read: memory follows what decodes, not the header


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
    :class:`~textless.errors.AudioError` for a missing/undecodable, empty, too short, too long,
    non-finite or damaged file (:class:`~textless.errors.DamagedAudioError`: a WAV/AIFF whose header
    declares more audio than the file holds, or a file that decodes fewer frames than its header
    declares), or a sample rate outside ``MIN_SAMPLE_RATE .. MAX_SAMPLE_RATE`` Hz.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UnreadableAudioError(f"{path}: no such file")
    try:
        info = sf.info(str(path))
    except Exception as e:  # libsndfile raises several types; all mean "cannot decode"
        raise UnreadableAudioError(f"{path}: not a readable audio file ({_short(e)})") from None
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise UnsupportedAudioError(
            f"{path}: sample rate {info.samplerate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    # libsndfile silently shortens a truncated WAV/AIFF to what is present: ask the header itself
    damage = _truncation(path, info.samplerate)
    if damage:
        raise DamagedAudioError(f"{path}: damaged or truncated: {damage}")
    if info.frames == 0:
        raise EmptyAudioError(f"{path}: contains no audio samples")
    if max_duration_s is not None and info.frames > max_duration_s * info.samplerate:
        raise AudioTooLongError(
            f"{path}: {info.frames / info.samplerate:.1f} s is longer than the maximum of "
            f"{max_duration_s:g} s"
        )
    wav, rate = _decode(path, info)
    if wav.size == 0:
        raise EmptyAudioError(f"{path}: contains no audio samples")
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


def _decode(path: Path, info) -> tuple[np.ndarray, int]:
    """Decode all of ``path`` into mono float32 ``[T]`` block by block; a decoder error or fewer
    frames than the header declares (MP3 excepted: its frame count is an estimate) is damage."""
    import soundfile as sf

    blocks, read = [], 0
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                block = f.read(_READ_BLOCK, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                read += block.shape[0]
                with np.errstate(invalid="ignore", over="ignore"):  # Inf samples: refused below
                    blocks.append(to_mono(block))
            rate = f.samplerate
    except Exception as e:  # the header was read: a decoder error midway means a damaged file
        raise DamagedAudioError(
            f"{path}: damaged: decoding failed after {read} of the {info.frames} frames its header "
            f"declares ({_short(e)})"
        ) from None
    if read < info.frames and info.format != "MP3":
        raise DamagedAudioError(
            f"{path}: damaged or truncated: {read} of the {info.frames} frames its header declares "
            "could be decoded"
        )
    wav = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    return wav, int(rate)


# Data sizes that writers put in a header when they cannot seek back to fill it in (streams).
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
_STREAMED_MIN = 0x7FFFF000  # sox and others write about 2**31 when the length is unknown


def _truncation(path: Path, sample_rate: int) -> str | None:
    """Why the header of a WAV (RIFF/RIFX/RF64) or AIFF file says it is truncated, or ``None``.

    Compares the size its data chunk (``data``/``SSND``) declares with the bytes the file holds
    after the chunk header; a shortfall of at least one frame is damage. Sizes writers use for an
    unknown length (0, >= 0x7FFFF000) and other formats are not judged here.
    """
    file_size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12:
            return None
        kind, form = head[:4], head[8:12]
        if kind in (b"RIFF", b"RIFX", b"RF64", b"BW64") and form == b"WAVE":
            endian, data_id = (">" if kind == b"RIFX" else "<"), b"data"
        elif kind == b"FORM" and form in (b"AIFF", b"AIFC"):
            endian, data_id = ">", b"SSND"
        else:
            return None
        offset, ds64_size, frame_bytes, bytes_per_s = 12, None, 1, 0
        for _ in range(1024):  # a few chunks precede the audio; the bound only stops odd files
            f.seek(offset)
            header = f.read(8)
            if len(header) < 8:
                return None
            cid, size = header[:4], struct.unpack(endian + "I", header[4:])[0]
            body = f.read(min(size, 28))
            if cid == b"ds64" and len(body) >= 16:  # RF64: 64-bit RIFF and data sizes
                ds64_size = struct.unpack("<Q", body[8:16])[0]
            elif cid == b"fmt " and len(body) >= 14:  # tag, channels, rate, bytes/s, block align
                bytes_per_s, frame_bytes = struct.unpack(endian + "IH", body[8:14])
            elif cid == b"COMM" and len(body) >= 8:  # channels, frames, bits per sample
                channels, _, bits = struct.unpack(">hIh", body[:8])
                frame_bytes = max(channels, 1) * ((max(bits, 1) + 7) // 8)
                bytes_per_s = frame_bytes * sample_rate
            if cid == data_id:
                if size == 0xFFFFFFFF and ds64_size is not None:
                    size = ds64_size
                elif size in _UNKNOWN_SIZES or size >= _STREAMED_MIN:
                    return None
                present = file_size - (offset + 8)
                if size - present < max(frame_bytes, 1):
                    return None
                if bytes_per_s > 0:
                    return (f"its header declares {size / bytes_per_s:.2f} s of audio, the file "
                            f"holds {max(present, 0) / bytes_per_s:.2f} s")
                return f"its header declares {size} bytes of audio, the file holds {max(present, 0)}"
            offset += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


def check_finite(wav, what: str) -> None:
    """Raise :class:`~textless.errors.NonFiniteAudioError` naming ``what`` when ``wav`` (numpy or
    torch, any shape) holds a NaN or Inf sample; the message says how many and where the first is."""
    finite = np.isfinite(_numpy(wav)).reshape(-1)
    if not finite.all():
        raise NonFiniteAudioError(
            f"{what} has NaN or Inf in {finite.size - int(finite.sum())} of its {finite.size} "
            f"samples (the first at sample {int(np.argmin(finite))}): refusing to write it"
        )


def write_audio(path: str | os.PathLike, wav, sample_rate: int, *, what: str | None = None) -> Path:
    """Write ``wav: [T]`` (numpy or torch, float in [-1, 1]) as 16-bit PCM wav, atomically.

    Parent folders are created; a failed write leaves no partial file behind. NaN or Inf samples
    raise :class:`~textless.errors.NonFiniteAudioError` (they would become full-scale clicks) and
    nothing is written; ``what`` names the signal in that message (default: the path).
    """
    import soundfile as sf

    data = _numpy(wav)
    check_finite(data, what or f"{path}: the audio to write")
    data = np.clip(data.astype(np.float32, copy=False).reshape(-1), -1.0, 1.0)
    with atomic_open(path, "wb") as f:
        sf.write(f, data, sample_rate, format="WAV", subtype="PCM_16")
    return Path(path)


def _numpy(wav) -> np.ndarray:
    return wav.detach().float().cpu().numpy() if hasattr(wav, "detach") else np.asarray(wav)


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
