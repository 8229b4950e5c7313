"""UnitVocos: a unit vocoder whose every layer runs at the unit frame rate (Vocos-style).

Units -> the conditioning of the unit HiFi-GAN (unit embedding, optional F0, speaker, style,
duration predictor: :class:`~textless.vocoders.hifigan.UnitConditionedVocoder`) ``[B, C, T]`` ->
input conv (kernel ``k``, ``lookahead`` frames ahead) -> LayerNorm -> ``num_layers`` ConvNeXt
blocks (causal depthwise conv k, LayerNorm, Linear-GELU-Linear, layer scale, residual) ->
LayerNorm -> Linear to ``n_fft + 2`` channels: log-magnitude and phase of ``n_fft // 2 + 1``
bins -> complex STFT ``[B, bins, T]`` (magnitude ``exp`` clipped at ``exp(max_log_magnitude)``)
-> inverse STFT with hop = the unit hop, Hann window of ``n_fft = fft_hops * hop_length``,
"same" padding -> ``wav [B, T * hop_length]``.

Look-ahead (docs/vocoder.md): an STFT frame depends on units up to ``lookahead`` frames ahead;
the samples of frame ``j`` need the STFT frames up to ``j + istft_lookahead``. With the defaults
(``lookahead=1``, ``fft_hops=3``) a streamed chunk waits for 2 unit frames beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TextlessError
from .conditioning import ConditioningConfig, UnitConditionedVocoder


@dataclass(frozen=True)
class VocosConfig(ConditioningConfig):
    """Architecture of a :class:`UnitVocos`.

    ``hop_length`` samples per unit frame at ``sample_rate`` Hz (320 for 50 Hz units at 16 kHz,
    640 for 25 Hz). Backbone: ``dim`` channels, ``intermediate_dim`` in the ConvNeXt MLPs,
    ``num_layers`` blocks of kernel ``kernel_size``; the input conv sees ``lookahead`` future
    frames, the blocks none. ``n_fft = fft_hops * hop_length``. The conditioning fields
    come from :class:`~textless.vocoders.conditioning.ConditioningConfig`.
    """

    hop_length: int = 320
    dim: int = 256
    intermediate_dim: int = 768
    num_layers: int = 8
    kernel_size: int = 7
    lookahead: int = 1
    fft_hops: int = 3
    max_log_magnitude: float = math.log(100.0)

    def __post_init__(self):
        if self.hop_length < 2 or self.kernel_size < 1:
            raise TextlessError(f"hop_length {self.hop_length} and kernel_size {self.kernel_size}: too small")
        if not 0 <= self.lookahead <= self.kernel_size - 1:
            raise TextlessError(f"lookahead {self.lookahead}: must be in 0..kernel_size - 1 ({self.kernel_size - 1})")
        if self.fft_hops < 2 or (self.n_fft - self.hop_length) % 2:
            raise TextlessError(f"fft_hops {self.fft_hops}: need >= 2 and an even n_fft - hop_length")

    @property
    def n_fft(self) -> int:
        """FFT size = window length, in samples."""
        return self.fft_hops * self.hop_length

    @property
    def istft_padding(self) -> int:
        """Samples trimmed from the start of the overlap-add ("same" padding): ``(n_fft - hop) / 2``."""
        return (self.n_fft - self.hop_length) // 2

    @property
    def istft_lookahead(self) -> int:
        """STFT frames beyond frame ``j`` that reach the samples of frame ``j``."""
        return (self.hop_length + self.istft_padding - 1) // self.hop_length

    @property
    def lookahead_frames(self) -> int:
        """Unit frames beyond a chunk a streamed chunk waits for: ``lookahead + istft_lookahead``."""
        return self.lookahead + self.istft_lookahead

    @property
    def left_context(self) -> int:
        """Past frames an STFT frame depends on: ``(k - 1 - lookahead) + num_layers * (k - 1)``."""
        return self.kernel_size - 1 - self.lookahead + self.num_layers * (self.kernel_size - 1)



def vocos_config(preset: str, **fields) -> VocosConfig:
    """``"small"`` (256 channels, 8 blocks: the CPU default) or ``"base"`` (512 channels, MLP 1536,
    8 blocks: the Vocos paper's backbone); ``fields`` (vocab_size, sample_rate, hop_length,
    conditioning) complete it."""
    sizes = {"small": dict(dim=256, intermediate_dim=768), "base": dict(dim=512, intermediate_dim=1536)}
    if preset not in sizes:
        raise TextlessError(f"unknown UnitVocos preset {preset!r}; known: {', '.join(sizes)}")
    return VocosConfig(**sizes[preset], **fields)


class ConvNeXtBlock(nn.Module):
    """``x + gamma * W2 gelu(W1 LayerNorm(dwconv(x)))`` on ``x: [B, dim, T]``; the depthwise conv is
    causal (``kernel - 1`` frames of left padding)."""

    def __init__(self, dim: int, intermediate_dim: int, kernel_size: int, layer_scale: float):
        super().__init__()
        self.kernel_size = kernel_size
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x):
        h = self.dwconv(F.pad(x, (self.kernel_size - 1, 0))).transpose(1, 2)
        h = self.gamma * self.pwconv2(F.gelu(self.pwconv1(self.norm(h))))
        return x + h.transpose(1, 2)


class UnitVocos(UnitConditionedVocoder):
    """Unit Vocos; implements :class:`textless.pipeline.Vocoder` (and ``synthesize_stream``).

    ``forward(code [B, T] int64, f0=None, speaker=None, style=None) -> wav [B, T * hop_length]``,
    the same inputs as :class:`~textless.vocoders.hifigan.UnitHiFiGAN`.
    """

    KIND = "vocoder.vocos"

    def __init__(self, config: VocosConfig):
        super().__init__(config)
        c = config
        self.embed = nn.Conv1d(c.model_in_dim, c.dim, c.kernel_size)
        self.norm = nn.LayerNorm(c.dim, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(c.dim, c.intermediate_dim, c.kernel_size, 1.0 / c.num_layers) for _ in range(c.num_layers)
        )
        self.final_norm = nn.LayerNorm(c.dim, eps=1e-6)
        self.head = nn.Linear(c.dim, c.n_fft + 2)
        self.register_buffer("window", torch.hann_window(c.n_fft), persistent=False)

    @property
    def lookahead_frames(self) -> int:
        """Unit frames beyond a streamed chunk that it waits for (see :class:`VocosConfig`)."""
        return self.config.lookahead_frames

    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """Conditioning ``[B, model_in_dim, T]`` -> complex STFT ``[B, n_fft // 2 + 1, T]``."""
        c = self.config
        x = self.embed(F.pad(x, (c.kernel_size - 1 - c.lookahead, c.lookahead)))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        x = self.head(self.final_norm(x.transpose(1, 2))).transpose(1, 2)
        log_mag, phase = x.chunk(2, dim=1)
        mag = torch.exp(torch.clamp(log_mag, max=c.max_log_magnitude))
        return torch.polar(mag, phase)

    def frames(self, spec: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``[B, bins, N]`` -> windowed time frames ``[B, n_fft, N]``."""
        return torch.fft.irfft(spec, n=self.config.n_fft, dim=1) * self.window[:, None]

    def envelope(self, num_frames: int, device=None) -> torch.Tensor:
        """Overlap-added squared window of ``num_frames`` frames, trimmed like the output:
        ``[num_frames * hop_length]`` (the inverse STFT divides by it)."""
        from .stream import overlap_add

        c = self.config
        w2 = (self.window.to(device) ** 2)[None, :, None].expand(1, -1, num_frames)
        return overlap_add(w2, c.hop_length)[0, c.istft_padding:c.istft_padding + num_frames * c.hop_length]

    def istft(self, spec: torch.Tensor) -> torch.Tensor:
        """Inverse STFT with "same" padding: ``[B, bins, T]`` -> ``wav [B, T * hop_length]``."""
        from .stream import overlap_add

        c = self.config
        n = spec.shape[-1]
        wav = overlap_add(self.frames(spec), c.hop_length)[:, c.istft_padding:c.istft_padding + n * c.hop_length]
        return wav / self.envelope(n, spec.device)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Conditioning ``[B, model_in_dim, T]`` -> ``wav [B, T * hop_length]`` (not clipped)."""
        return self.istft(self.spectrum(x))

    def decode_stream(self, x: torch.Tensor, chunk_frames: int):
        """Chunks of ``decode(x)[0]`` by overlap-add of the iSTFT frames (``textless.vocoders.stream``)."""
        from .stream import stream_by_overlap_add

        yield from stream_by_overlap_add(self, x, chunk_frames)


def stft_same(wav: torch.Tensor, config: VocosConfig) -> torch.Tensor:
    """The analysis matching :meth:`UnitVocos.istft`: ``wav [B, T * hop]`` -> ``[B, bins, T]``
    (frame ``t`` windows samples ``[t * hop - pad, t * hop - pad + n_fft)``, zeros outside)."""
    c = config
    n = wav.shape[-1] // c.hop_length
    right = (n - 1) * c.hop_length + c.n_fft - c.istft_padding - wav.shape[-1]
    padded = F.pad(wav, (c.istft_padding, right))
    frames = padded.unfold(-1, c.n_fft, c.hop_length)[..., :n, :] * torch.hann_window(c.n_fft, device=wav.device)
    return torch.fft.rfft(frames, dim=-1).transpose(-1, -2)
