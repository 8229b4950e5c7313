"""Spectral dense features: log-mel filterbanks and MFCC with deltas (as in DiscreteSLU).

Frames are taken without centering: ``F = (T - n_fft) // hop_length + 1`` frames at
``frame_rate = sample_rate / hop_length`` Hz (100 Hz with the defaults), each from a periodic
Hann window of ``n_fft`` samples (the receptive field). Per frame:

* ``logmel``: ``log(max(mel_filterbank @ |rfft|^2, floor))`` -> ``n_mels`` dims;
* ``mfcc``: the first ``n_mfcc`` DCT-II (orthonormal) coefficients of the log-mel, then
  ``deltas`` orders of regression deltas over ``±delta_width`` frames (edge frames repeated,
  within each utterance's valid frames) -> ``n_mfcc * (1 + deltas)`` dims (39 by default).

``cmvn=True`` normalizes every dimension to zero mean, unit variance over each utterance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CheckpointError

KIND = "encoder.spectral"


@dataclass(frozen=True)
class SpectralConfig:
    """``kind``: ``"mfcc"`` or ``"logmel"``; sizes in samples (``n_fft``, ``hop_length``), Hz."""

    kind: str = "mfcc"
    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 40
    n_mfcc: int = 13
    deltas: int = 2
    delta_width: int = 2
    fmin: float = 0.0
    fmax: float | None = None
    log_floor: float = 1e-10
    cmvn: bool = False

    def __post_init__(self):
        if self.kind not in ("mfcc", "logmel"):
            raise CheckpointError(f"spectral kind must be 'mfcc' or 'logmel', not {self.kind!r}")
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise CheckpointError(f"n_mfcc {self.n_mfcc} > n_mels {self.n_mels}")


def mfcc_config(**kw) -> SpectralConfig:
    """13 MFCC + deltas + delta-deltas (39 dims) at 100 Hz."""
    return SpectralConfig(**{"kind": "mfcc", **kw})


def logmel_config(**kw) -> SpectralConfig:
    """80 log-mel filterbanks at 100 Hz."""
    return SpectralConfig(**{"kind": "logmel", "n_mels": 80, **kw})


def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Orthonormal DCT-II as a ``[n_in, n_out]`` matrix (``x @ M`` = scipy ``dct(x, norm='ortho')[:n_out]``)."""
    n = torch.arange(n_in, dtype=torch.float64)[:, None]
    k = torch.arange(n_out, dtype=torch.float64)[None, :]
    m = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    m[:, 0] /= math.sqrt(2.0)
    return m.float()


def deltas(x: torch.Tensor, frames: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Regression deltas of ``x: [B, F, D]`` over ``±width`` frames, repeating each utterance's
    first/last valid frame (``frames: [B]``) at its edges: ``sum_n n (x[t+n] - x[t-n]) / (2 sum n^2)``."""
    b, f, _ = x.shape
    t = torch.arange(f, device=x.device)[None, :]
    last = (frames.to(x.device)[:, None] - 1).clamp_min(0)
    out = torch.zeros_like(x)
    for n in range(1, width + 1):
        ahead = torch.minimum(t + n, last).clamp_min(0)
        behind = torch.minimum((t - n).clamp_min(0), last)
        gather = lambda idx: torch.gather(x, 1, idx[..., None].expand(b, f, x.shape[-1]))  # noqa: E731
        out = out + n * (gather(ahead) - gather(behind))
    return out / (2 * sum(n * n for n in range(1, width + 1)))


class SpectralEncoder(nn.Module):
    """MFCC / log-mel features implementing :class:`textless.pipeline.Encoder` (``layer`` ignored)."""

    def __init__(self, cfg: SpectralConfig = SpectralConfig()):
        super().__init__()
        import librosa

        self.cfg = cfg
        self.sample_rate = cfg.sample_rate
        self.hop_length = cfg.hop_length
        self.frame_rate = cfg.sample_rate / cfg.hop_length
        self.receptive_field = cfg.n_fft
        self.num_layers = 0
        mel = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels,
                                  fmin=cfg.fmin, fmax=cfg.fmax)
        self.register_buffer("mel", torch.from_numpy(mel).float().T.contiguous(), persistent=False)
        self.register_buffer("window", torch.hann_window(cfg.n_fft, periodic=True), persistent=False)
        if cfg.kind == "mfcc":
            self.register_buffer("dct", dct_matrix(cfg.n_mels, cfg.n_mfcc), persistent=False)
            self.dim = cfg.n_mfcc * (1 + cfg.deltas)
        else:
            self.dim = cfg.n_mels

    def num_frames(self, lengths):
        """``(T - n_fft) // hop_length + 1`` frames for ``T`` samples."""
        return (lengths - self.cfg.n_fft) // self.cfg.hop_length + 1

    def output_frames(self, length: int) -> int:
        return int(self.num_frames(length))

    @torch.inference_mode()
    def features(self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None):
        """``wav: [B, T]`` float32 (+ ``lengths: [B]`` samples) -> ``(feats [B, F, dim], frames [B])``."""
        if wav.dim() == 1:
            wav = wav[None]
        b, t = wav.shape
        if t < self.cfg.n_fft:
            raise ValueError(f"need at least {self.cfg.n_fft} samples, got {t}")
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long)
        frames = self.num_frames(lengths.to(wav.device).long()).clamp_min(0)
        x = wav.float().unfold(1, self.cfg.n_fft, self.cfg.hop_length) * self.window  # [B, F, n_fft]
        power = torch.fft.rfft(x, dim=-1).abs() ** 2
        feats = torch.log(torch.clamp(power @ self.mel, min=self.cfg.log_floor))
        if self.cfg.kind == "mfcc":
            c = feats @ self.dct
            parts, d = [c], c
            for _ in range(self.cfg.deltas):
                d = deltas(d, frames, self.cfg.delta_width)
                parts.append(d)
            feats = torch.cat(parts, -1)
        valid = (torch.arange(feats.shape[1], device=wav.device)[None] < frames[:, None])[..., None]
        if self.cfg.cmvn:
            n = frames.clamp_min(1)[:, None, None].to(feats.dtype)
            mean = (feats * valid).sum(1, keepdim=True) / n
            std = ((((feats - mean) * valid) ** 2).sum(1, keepdim=True) / n).sqrt()
            feats = (feats - mean) / (std + 1e-5)
        return feats * valid, frames

    def save(self, path):
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, {})


def from_native(config: dict, state_dict: dict, device="cpu") -> SpectralEncoder:
    """Loader for ``encoder.spectral`` files (the config is all there is; no weights)."""
    from ..checkpoint import config_from_dict

    if state_dict:
        raise CheckpointError(f"spectral encoder files hold no tensors, got {sorted(state_dict)[:3]}")
    return SpectralEncoder(config_from_dict(SpectralConfig, config)).to(device).eval()
