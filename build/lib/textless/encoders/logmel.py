"""A small log-mel encoder trained here for speaker-invariant units (``textless train encoder``).

Architecture (a few million parameters, every layer at the unit frame rate):

* 80-band log-mel of a 400-sample Hann window every ``hop_length`` samples (no centering:
  ``F = (T - 400) // hop + 1`` frames, the frame grid of the MFCC k-means targets), per-utterance
  mean removed over its valid frames (a channel/speaker normalisation);
* a conv front-end: ``conv_layers`` 1-D convolutions (kernel 5, GELU) from 80 to ``dim``;
* a depthwise convolutional positional layer (kernel 31) and ``num_layers`` pre-LN transformer
  layers (``num_heads`` heads, GELU feed-forward of ``ffn_dim``), a final LayerNorm.

``features(wav)`` returns the last layer ``[B, F, dim]``; the classifier head that predicts the
training targets is saved as a ``quantizer.linear`` (:mod:`textless.quantizers.linear`), whose
argmax is the unit. Padded frames are zeroed between convolutions and masked in attention, so a
padded batch gives each item's own result.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError
from .spectral import SpectralEncoder, logmel_config
from .transformer import SelfAttention

KIND = "encoder.logmel"


@dataclass(frozen=True)
class LogMelEncoderConfig:
    """Sizes: ``hop_length`` and ``n_fft`` in samples at ``sample_rate`` Hz."""

    sample_rate: int = 16000
    hop_length: int = 320
    n_fft: int = 400
    n_mels: int = 80
    dim: int = 256
    conv_layers: int = 2
    num_layers: int = 4
    num_heads: int = 4
    ffn_dim: int = 1024
    pos_kernel: int = 31
    dropout: float = 0.1
    name: str = "logmel-encoder"


class _Layer(nn.Module):
    """Pre-LN transformer layer: ``x + attn(ln(x))``, then ``x + ffn(ln(x))``."""

    def __init__(self, cfg: LogMelEncoderConfig):
        super().__init__()
        self.attn_norm, self.ffn_norm = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.attn = SelfAttention(cfg.dim, cfg.num_heads)
        self.ffn = nn.Sequential(nn.Linear(cfg.dim, cfg.ffn_dim), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(cfg.ffn_dim, cfg.dim))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, padding_mask):
        x = x + self.drop(self.attn(self.attn_norm(x), padding_mask))
        return x + self.drop(self.ffn(self.ffn_norm(x)))


class LogMelEncoder(nn.Module):
    """Implements :class:`textless.pipeline.Encoder` (``layer`` counts transformer layers from 1;
    ``None`` = all, with the final LayerNorm)."""

    def __init__(self, cfg: LogMelEncoderConfig = LogMelEncoderConfig()):
        super().__init__()
        self.cfg = cfg
        self.sample_rate = cfg.sample_rate
        self.hop_length = cfg.hop_length
        self.frame_rate = cfg.sample_rate / cfg.hop_length
        self.receptive_field = cfg.n_fft
        self.num_layers = cfg.num_layers
        self.dim = cfg.dim
        self.logmel = SpectralEncoder(logmel_config(
            sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels))
        chans = [cfg.n_mels] + [cfg.dim] * cfg.conv_layers
        self.convs = nn.ModuleList(nn.Conv1d(a, b, 5, padding=2) for a, b in zip(chans, chans[1:]))
        self.pos_conv = nn.Conv1d(cfg.dim, cfg.dim, cfg.pos_kernel, padding=cfg.pos_kernel // 2,
                                  groups=cfg.dim)
        self.layers = nn.ModuleList(_Layer(cfg) for _ in range(cfg.num_layers))
        self.norm = nn.LayerNorm(cfg.dim)

    def num_frames(self, lengths):
        return self.logmel.num_frames(lengths)

    def mel(self, wav: torch.Tensor, lengths: torch.Tensor | None = None):
        """``wav: [B, T]`` -> ``(log-mel [B, F, n_mels] with each utterance's mean removed, frames [B])``."""
        with torch.no_grad():
            m, frames = self.logmel.features(wav.float(), lengths)
        return normalize_mel(m.clone(), frames), frames

    def forward_mel(self, mel: torch.Tensor, frames: torch.Tensor, layer: int | None = None,
                    frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mel: [B, F, n_mels]`` (from :meth:`mel`), ``frames: [B]`` -> ``[B, F, dim]``.

        ``frame_mask: [B, F]`` True where the input frame is masked (replaced by zeros) for
        masked prediction."""
        f = mel.shape[1]
        valid = torch.arange(f, device=mel.device)[None] < frames.to(mel.device)[:, None]  # [B, F]
        keep = valid if frame_mask is None else valid & ~frame_mask
        x = (mel * keep[..., None]).transpose(1, 2)  # [B, n_mels, F]
        for conv in self.convs:
            x = F.gelu(conv(x)) * valid[:, None]
        x = x + F.gelu(self.pos_conv(x)) * valid[:, None]
        x = x.transpose(1, 2)  # [B, F, dim]
        n = self.num_layers if layer is None else layer
        if not 0 <= n <= self.num_layers:
            raise ValueError(f"layer {layer} out of range (1..{self.num_layers})")
        for block in self.layers[:n]:
            x = block(x, ~valid)
        if n == self.num_layers:
            x = self.norm(x)
        return x * valid[..., None]

    def features(self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None):
        """``wav: [B, T]`` float32 (+ ``lengths: [B]`` samples) -> ``(feats [B, F, dim], frames [B])``."""
        if wav.dim() == 1:
            wav = wav[None]
        mel, frames = self.mel(wav, lengths)
        return self.forward_mel(mel, frames, layer), frames

    def save(self, path):
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, self.state_dict())


def normalize_mel(mel: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Subtract each utterance's mean over its valid frames; zero the padding. ``[B, F, M]``."""
    valid = (torch.arange(mel.shape[1], device=mel.device)[None] < frames[:, None])[..., None]
    mean = (mel * valid).sum(1, keepdim=True) / frames.clamp_min(1)[:, None, None]
    return (mel - mean) * valid


def from_native(config: dict, state_dict: dict, device="cpu") -> LogMelEncoder:
    """Loader for ``encoder.logmel`` files (see :mod:`textless.checkpoint`)."""
    from ..checkpoint import config_from_dict

    model = LogMelEncoder(config_from_dict(LogMelEncoderConfig, config))
    expected = set(model.state_dict())
    if set(state_dict) != expected:
        missing, unknown = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
        raise CheckpointError(f"log-mel encoder checkpoint: missing {missing[:3]}, unknown {unknown[:3]}")
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as e:
        raise CheckpointError(f"log-mel encoder checkpoint: {str(e).splitlines()[0]}") from None
    return model.to(device).eval()
