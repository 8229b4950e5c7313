"""HiFi-GAN losses: LSGAN adversarial, feature matching, log-mel L1.

Score and feature-map lists are as returned by the discriminators (one entry per
sub-discriminator). Waveforms are ``[B, T]`` or ``[B, 1, T]`` float32 at ``sample_rate`` Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def discriminator_loss(real_scores, fake_scores) -> torch.Tensor:
    """LSGAN: ``sum_k mean((1 - D_k(real))^2) + mean(D_k(fake)^2)``."""
    return sum(torch.mean((1 - r) ** 2) + torch.mean(f**2) for r, f in zip(real_scores, fake_scores))


def generator_loss(fake_scores) -> torch.Tensor:
    """LSGAN: ``sum_k mean((1 - D_k(G(x)))^2)``."""
    return sum(torch.mean((1 - f) ** 2) for f in fake_scores)


def feature_loss(real_fmaps, fake_fmaps) -> torch.Tensor:
    """Feature matching: ``2 * sum over all layers of mean |real - fake|`` (real detached)."""
    return 2 * sum(
        torch.mean(torch.abs(r.detach() - f)) for rs, fs in zip(real_fmaps, fake_fmaps) for r, f in zip(rs, fs)
    )


@dataclass(frozen=True)
class MelConfig:
    """HiFi-GAN's mel front end: ``n_fft``/``win_length``/``hop_length`` in samples, ``fmin``/``fmax`` Hz."""

    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0


class LogMel(nn.Module):
    """``wav: [B, T]`` -> ``log(clamp(mel, 1e-5)): [B, n_mels, frames]`` (HiFi-GAN's reflect padding)."""

    def __init__(self, config: MelConfig = MelConfig()):
        super().__init__()
        import librosa

        self.config = c = config
        mel = librosa.filters.mel(sr=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)
        self.register_buffer("mel_basis", torch.from_numpy(mel).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(c.win_length), persistent=False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        c = self.config
        wav = wav.reshape(-1, wav.shape[-1])
        pad = (c.n_fft - c.hop_length) // 2
        wav = F.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        spec = torch.stft(wav, c.n_fft, c.hop_length, c.win_length, self.window, center=False,
                          return_complex=True)
        mag = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
        return torch.log(torch.clamp(self.mel_basis @ mag, min=1e-5))


def mel_loss(logmel: LogMel, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of log-mel spectrograms (HiFi-GAN weights it by 45)."""
    return F.l1_loss(logmel(fake), logmel(real))
