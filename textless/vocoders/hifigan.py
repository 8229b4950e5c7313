"""Unit HiFi-GAN generator with the semantics of fairseq/textlesslib ``CodeGenerator``.

Units -> embedding ``[B, E, T]`` -> (duration predictor: repeat each unit by its predicted
frames) -> concatenation of conditioning channels in the order **code, f0, speaker, style** ->
HiFi-GAN body (``conv_pre``, transposed-conv upsampling + multi-receptive-field resblocks,
``leaky_relu(0.01)``, ``conv_post``, ``tanh``) -> ``wav: [B, T * hop_length]``.

The modules hold plain ``weight`` tensors (weight norm folded). Training wraps them with
:func:`apply_weight_norm` and :func:`remove_weight_norm` folds them back (``w = g * v / |v|``,
norm over all dims but 0), which is what the official wrappers do at inference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TextlessError
from .conditioning import (ConditioningConfig, DurationPredictor, UnitConditionedVocoder, predicted_durations,
                           upsample_repeat)

__all__ = ["DurationPredictor", "UnitConditionedVocoder", "UnitHiFiGAN", "VocoderConfig", "predicted_durations",
           "upsample_repeat", "apply_weight_norm", "remove_weight_norm", "fold_weight_norm"]
log = logging.getLogger(__name__)
LRELU_SLOPE = 0.1


@dataclass(frozen=True)
class VocoderConfig(ConditioningConfig):
    """Architecture of a unit HiFi-GAN: the conditioning of :class:`ConditioningConfig`, then
    ``upsample_rates`` that multiply to ``hop_length`` (samples per frame at ``sample_rate`` Hz)."""

    upsample_rates: tuple = (5, 4, 4, 2, 2)
    upsample_kernel_sizes: tuple = (11, 8, 8, 4, 4)
    upsample_initial_channel: int = 512
    resblock: str = "1"
    resblock_kernel_sizes: tuple = (3, 7, 11)
    resblock_dilation_sizes: tuple = ((1, 3, 5), (1, 3, 5), (1, 3, 5))

    def __post_init__(self):
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise TextlessError("upsample_rates and upsample_kernel_sizes differ in length")
        for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes):
            if k < u or (k - u) % 2:
                raise TextlessError(f"upsample kernel {k} for rate {u}: need k >= u and k - u even")
        if self.resblock not in ("1", "2"):
            raise TextlessError(f"resblock must be '1' or '2', not {self.resblock!r}")
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            raise TextlessError("upsample_initial_channel must be divisible by 2**len(upsample_rates)")

    @property
    def hop_length(self) -> int:
        """Samples per conditioning frame: the product of ``upsample_rates``."""
        h = 1
        for u in self.upsample_rates:
            h *= u
        return h



def conv_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a dilated conv with odd kernel: ``(k * d - d) // 2``."""
    return (kernel_size * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """Three ``x + c2(lrelu(c1(lrelu(x))))`` steps, ``c1`` dilated by ``dilation[j]``."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=conv_padding(kernel_size, d))
            for d in dilation
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=1, padding=conv_padding(kernel_size))
            for _ in dilation
        )

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = xt + x
        return x


class ResBlock2(nn.Module):
    """Two ``x + c(lrelu(x))`` steps (speech-resynthesis ``resblock: "2"``)."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=conv_padding(kernel_size, d))
            for d in dilation[:2]
        )

    def forward(self, x):
        for c in self.convs:
            x = c(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x


class UnitHiFiGAN(UnitConditionedVocoder):
    """Unit HiFi-GAN generator; implements :class:`textless.pipeline.Vocoder`.

    ``forward(code [B, T] int64, f0=None [B, T_f0], speaker=None [B] int64 or [B, D] float,
    style=None [B] int64) -> wav [B, T_max * hop_length]`` where ``T_max`` is the longer of the
    code and f0 streams (the shorter one is repeated to match; lengths must divide).
    """

    def __init__(self, config: VocoderConfig):
        super().__init__(config)
        c = config
        ch0 = c.upsample_initial_channel
        self.conv_pre = nn.Conv1d(c.model_in_dim, ch0, 7, 1, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(c.upsample_rates, c.upsample_kernel_sizes))
        )
        block = ResBlock1 if c.resblock == "1" else ResBlock2
        self.resblocks = nn.ModuleList(
            block(ch0 // 2 ** (i + 1), k, tuple(d))
            for i in range(len(c.upsample_rates))
            for k, d in zip(c.resblock_kernel_sizes, c.resblock_dilation_sizes)
        )
        self.conv_post = nn.Conv1d(ch0 // 2 ** len(c.upsample_rates), 1, 7, 1, padding=3)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """HiFi-GAN body: conditioning ``[B, model_in_dim, T]`` -> ``wav [B, T * hop_length]``."""
        x = self.conv_pre(x)
        nk = len(self.config.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            xs = self.resblocks[i * nk](x)
            for j in range(1, nk):
                xs = xs + self.resblocks[i * nk + j](x)
            x = xs / nk
        x = self.conv_post(F.leaky_relu(x))  # default slope 0.01, as in the original
        return torch.tanh(x).squeeze(1)

    def decode_stream(self, x: torch.Tensor, chunk_frames: int):
        """Chunks of ``decode(x)[0]``, ``chunk_frames * hop_length`` samples each (the last may be
        shorter): each decodes its frames with :attr:`lookahead_frames` frames of context on each
        side, so it waits for that many frames beyond the chunk (``textless.vocoders.stream``)."""
        from .stream import stream_by_context

        yield from stream_by_context(self.decode, x, chunk_frames, self.hop_length, self.lookahead_frames)

    @property
    def lookahead_frames(self) -> int:
        """Frames of context the decoder's output for a frame depends on, on either side (its
        receptive field, from :func:`textless.vocoders.stream.hifigan_context_frames`)."""
        from .stream import hifigan_context_frames

        return hifigan_context_frames(self.config)


# ---------------------------------------------------------------------------- weight norm
def _norm_convs(model: nn.Module):
    skip = getattr(model, "dur_predictor", None)
    skipped = set() if skip is None else {id(m) for m in skip.modules()}
    return [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) and id(m) not in skipped]


def apply_weight_norm(model: UnitHiFiGAN) -> UnitHiFiGAN:
    """Wrap every HiFi-GAN conv (not the duration predictor) in weight norm, in place.

    ``ConvTranspose1d`` weights are ``[in, out, k]`` and, like the original, are normalised over
    dim 0 as well.
    """
    from torch.nn.utils.parametrizations import weight_norm

    for m in _norm_convs(model):
        weight_norm(m, dim=0)
    return model


def remove_weight_norm(model: nn.Module) -> nn.Module:
    """Fold weight-norm parametrizations into plain weights (``w = g * v / |v|``), in place."""
    from torch.nn.utils import parametrize

    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


def fold_weight_norm(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``g * v / ||v||`` with the norm over all dims but 0 (old ``weight_norm(dim=0)`` keys)."""
    return torch._weight_norm(v, g, 0)
