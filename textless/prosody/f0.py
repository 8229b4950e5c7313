"""F0 with pyworld (harvest, or dio + stonemask), aligned to unit frames, normalised per speaker.

``f0: [F] float32`` in Hz, one value per frame of ``1 / frame_rate`` seconds, 0 where unvoiced.
Frame ``i`` is the analysis centred at ``i / frame_rate`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TextlessError

METHODS = ("harvest", "dio")


def extract_f0(
    wav: np.ndarray,
    sample_rate: int,
    frame_rate: float = 100.0,
    *,
    method: str = "dio",
    f0_min: float = 50.0,
    f0_max: float = 600.0,
) -> np.ndarray:
    """F0 of ``wav: [T]`` (Hz) -> ``[ceil(T / sample_rate * frame_rate) + 1]`` float32 Hz, 0 = unvoiced.

    ``method``: ``"dio"`` (fast, refined with stonemask; the default) or ``"harvest"`` (more robust on
    noisy speech, ~25x slower; it reports a perfectly pure sinusoid as unvoiced).
    """
    import pyworld

    if method not in METHODS:
        raise TextlessError(f"unknown F0 method {method!r}: use one of {METHODS}")
    x = np.ascontiguousarray(np.asarray(wav, dtype=np.float64).reshape(-1))
    period_ms = 1000.0 / frame_rate
    if method == "harvest":
        f0, _ = pyworld.harvest(x, sample_rate, f0_floor=f0_min, f0_ceil=f0_max, frame_period=period_ms)
    else:
        f0, t = pyworld.dio(x, sample_rate, f0_floor=f0_min, f0_ceil=f0_max, frame_period=period_ms)
        f0 = pyworld.stonemask(x, f0, t, sample_rate)
    return f0.astype(np.float32)


def unit_aligned_f0(
    wav: np.ndarray, sample_rate: int, num_frames: int, frame_rate: float, *, method: str = "dio",
    f0_min: float = 50.0, f0_max: float = 600.0, oversample: int = 4,
) -> np.ndarray:
    """F0 per unit frame: ``[num_frames]`` Hz (0 = unvoiced) for units at ``frame_rate`` Hz.

    F0 is analysed at ``oversample * frame_rate``; each unit frame ``i`` (covering
    ``[i, i + 1) / frame_rate`` seconds) gets the median of the voiced analyses inside it, or 0
    when fewer than half of them are voiced.
    """
    f0 = extract_f0(wav, sample_rate, frame_rate * oversample, method=method, f0_min=f0_min, f0_max=f0_max)
    need = num_frames * oversample
    if f0.shape[0] < need:
        f0 = np.pad(f0, (0, need - f0.shape[0]))
    # analysis k is centred at k / (oversample * frame_rate) s: unit i owns k in [i*os, (i+1)*os)
    windows = f0[:need].reshape(num_frames, oversample)
    voiced = windows > 0
    out = np.zeros(num_frames, dtype=np.float32)
    keep = voiced.sum(1) * 2 >= oversample
    for i in np.nonzero(keep)[0]:
        out[i] = np.median(windows[i][voiced[i]])
    return out


@dataclass(frozen=True)
class F0Stats:
    """Mean and standard deviation of log F0 (natural log of Hz) over voiced frames of a speaker."""

    mean: float
    std: float

    @classmethod
    def of(cls, f0s) -> "F0Stats":
        """Statistics of the voiced frames of one or more ``[F]`` F0 tracks (Hz)."""
        voiced = np.concatenate([np.asarray(f, dtype=np.float64).reshape(-1) for f in f0s])
        voiced = voiced[voiced > 0]
        if voiced.size < 2:
            raise TextlessError("F0 statistics need at least two voiced frames")
        lf = np.log(voiced)
        return cls(float(lf.mean()), float(max(lf.std(), 1e-3)))


def normalize_f0(f0: np.ndarray, stats: F0Stats) -> np.ndarray:
    """``(log f0 - mean) / std`` on voiced frames, 0 on unvoiced ones. ``[F] -> [F]`` float32.

    >>> normalize_f0(np.array([0.0, 100.0]), F0Stats(float(np.log(100.0)), 1.0)).tolist()
    [0.0, 0.0]
    """
    f0 = np.asarray(f0, dtype=np.float64)
    out = np.zeros_like(f0)
    v = f0 > 0
    out[v] = (np.log(f0[v]) - stats.mean) / stats.std
    return out.astype(np.float32)


def denormalize_f0(norm: np.ndarray, voiced: np.ndarray, stats: F0Stats) -> np.ndarray:
    """Inverse of :func:`normalize_f0` given the voicing mask: Hz, 0 where unvoiced."""
    norm = np.asarray(norm, dtype=np.float64)
    return np.where(voiced, np.exp(norm * stats.std + stats.mean), 0.0).astype(np.float32)


def speaker_stats(f0_by_utt: dict, speaker_of: dict) -> dict:
    """Per-speaker :class:`F0Stats` from ``{utt: f0 [F]}`` and ``{utt: speaker}``."""
    groups: dict = {}
    for utt, f0 in f0_by_utt.items():
        groups.setdefault(speaker_of.get(utt), []).append(f0)
    return {spk: F0Stats.of(f0s) for spk, f0s in groups.items()}


def utterance_f0(wav: np.ndarray, sample_rate: int, num_frames: int, frame_rate: float) -> np.ndarray:
    """The F0 input of an F0-conditioned unit vocoder at inference: :func:`unit_aligned_f0` of
    ``wav`` normalised by this utterance's own voiced frames (:func:`normalize_f0`); ``[num_frames]``
    float32, 0 where unvoiced, and all zeros when fewer than two frames are voiced."""
    f0 = unit_aligned_f0(wav, sample_rate, num_frames, frame_rate)
    if (f0 > 0).sum() < 2:
        return np.zeros(num_frames, dtype=np.float32)
    return normalize_f0(f0, F0Stats.of([f0]))
