"""The convolutional feature extractor of HuBERT / wav2vec2: waveform ``[B, T]`` -> ``[B, C, F]``.

``F`` follows ``L -> (L - k) // s + 1`` per conv layer. At inference, long inputs are convolved
in blocks of output frames and normalized/activated in place, so memory stays bounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .hubert import HubertConfig

#: HuBERT base / wav2vec2 base conv stack: (channels, kernel, stride) per layer, 320x down.
BASE_CONV = ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2


def conv_frames(lengths: torch.Tensor | int, conv_layers) -> torch.Tensor | int:
    """Frames out of the conv stack for ``lengths`` samples: ``L -> (L - k) // s + 1`` per layer.

    >>> conv_frames(160000, BASE_CONV), conv_frames(400, BASE_CONV), conv_frames(32443, BASE_CONV)
    (499, 1, 101)
    """
    for _, k, s in conv_layers:
        lengths = (lengths - k) // s + 1
    return lengths


def receptive_field(conv_layers) -> int:
    """Samples needed for one output frame (400 for the HuBERT stack)."""
    r = 1
    for _, k, s in reversed(conv_layers):
        r = (r - 1) * s + k
    return r


class _TransposeLast(nn.Module):
    def forward(self, x):
        return x.transpose(-2, -1)


def _masked_group_norm(x: torch.Tensor, norm: nn.GroupNorm, frames: torch.Tensor | None) -> torch.Tensor:
    """Per-channel GroupNorm (groups == channels) over the valid frames of ``x: [B, C, F]`` only,
    so that a padded batch gives the per-item result. Statistics in fp32 like fairseq's
    Fp32GroupNorm; one output buffer (no full-size temporaries beyond it)."""
    if frames is None or bool((frames >= x.shape[-1]).all()):
        y = F.group_norm(x.float(), norm.num_groups, norm.weight.float(), norm.bias.float(), norm.eps)
        return y.to(x.dtype)
    out = torch.empty_like(x)
    w, b = norm.weight.float()[:, None], norm.bias.float()[:, None]
    for i, n in enumerate(frames.tolist()):
        xi = x[i, :, : max(n, 1)].float()
        var, mean = torch.var_mean(xi, dim=-1, unbiased=False, keepdim=True)
        scale = w * torch.rsqrt(var + norm.eps)
        out[i] = (x[i].float() * scale + (b - mean * scale)).to(x.dtype)
    return out


class ConvFeatureExtractor(nn.Module):
    """Waveform ``[B, T]`` -> conv features ``[B, C, F]`` (fairseq ``ConvFeatureExtractionModel``)."""

    def __init__(self, cfg: HubertConfig):
        super().__init__()
        self.mode = cfg.extractor_mode
        layers, in_ch = [], 1
        for i, (ch, k, s) in enumerate(cfg.conv_layers):
            block = [nn.Conv1d(in_ch, ch, k, stride=s, bias=cfg.conv_bias), nn.Dropout(cfg.dropout)]
            if cfg.extractor_mode == "layer_norm":
                block.append(nn.Sequential(_TransposeLast(), nn.LayerNorm(ch, eps=1e-5), _TransposeLast()))
            elif i == 0:
                block.append(nn.GroupNorm(ch, ch, eps=1e-5))
            block.append(nn.GELU())
            layers.append(nn.Sequential(*block))
            in_ch = ch
        self.conv_layers = nn.ModuleList(layers)
        self.specs = cfg.conv_layers

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = wav.unsqueeze(1)
        frames = lengths
        inplace = not torch.is_grad_enabled() and not self.training
        for (_, k, s), block in zip(self.specs, self.conv_layers):
            if frames is not None:
                frames = (frames - k) // s + 1
            for m in block:
                if isinstance(m, nn.GroupNorm):
                    x = _group_norm_(x, m, frames) if inplace else _masked_group_norm(x, m, frames)
                elif isinstance(m, nn.GELU) and inplace:
                    _gelu_(x)
                elif isinstance(m, nn.Conv1d) and inplace:
                    x = _blocked_conv(m, x)
                else:
                    x = m(x)
        return x


def _blocked_conv(conv: nn.Conv1d, x: torch.Tensor, block: int = 1 << 14) -> torch.Tensor:
    """``conv(x)`` computed over blocks of ``block`` output frames (same values: the conv is
    local), so the backend's im2col workspace stays small on long inputs."""
    k, s = conv.kernel_size[0], conv.stride[0]
    t_out = (x.shape[-1] - k) // s + 1
    if t_out <= block:
        return conv(x)
    out = x.new_empty(x.shape[0], conv.out_channels, t_out)
    for t0 in range(0, t_out, block):
        t1 = min(t0 + block, t_out)
        out[..., t0:t1] = conv(x[..., t0 * s: (t1 - 1) * s + k])
    return out


def _gelu_(x: torch.Tensor, block: int = 1 << 16) -> torch.Tensor:
    """Exact GELU written back into ``x: [B, C, T]`` block by block (inference: bounded memory)."""
    for piece in x.split(block, dim=-1):
        piece.copy_(F.gelu(piece))
    return x


def _group_norm_(x: torch.Tensor, norm: nn.GroupNorm, frames: torch.Tensor | None) -> torch.Tensor:
    """In-place per-channel GroupNorm over each item's valid frames (inference: no extra copy)."""
    w, b = norm.weight.float()[:, None], norm.bias.float()[:, None]
    for i in range(x.shape[0]):
        n = x.shape[-1] if frames is None else max(int(frames[i]), 1)
        var, mean = torch.var_mean(x[i, :, :n].float(), dim=-1, unbiased=False, keepdim=True)
        scale = w * torch.rsqrt(var + norm.eps)
        x[i].mul_(scale.to(x.dtype)).add_((b - mean * scale).to(x.dtype))
    return x
