"""The convolutional feature extractor of HuBERT / wav2vec2: waveform ``[B, T]`` -> ``[B, C, F]``.

``F`` follows ``L -> (L - k) // s + 1`` per conv layer. CPU inference runs channels-last GEMMs
over blocks of output frames (see ``ConvFeatureExtractor._infer``), so memory stays bounded; GPUs
and training use the plain modules.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import BASE_CONV, HubertConfig  # noqa: F401 (BASE_CONV: used by the doctests)


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
        if (wav.device.type == "cpu" and not torch.is_grad_enabled() and not self.training
                and conv_frames(wav.shape[-1], self.specs) > 0):
            return self._infer(wav, lengths).transpose(1, 2)
        x = wav.unsqueeze(1)
        frames = lengths
        for (_, k, s), block in zip(self.specs, self.conv_layers):
            if frames is not None:
                frames = (frames - k) // s + 1
            for m in block:
                x = _masked_group_norm(x, m, frames) if isinstance(m, nn.GroupNorm) else m(x)
        return x

    # --------------------------------------------------------------------------- inference
    def _infer(self, wav: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """CPU inference path, ``wav: [B, T]`` -> channels-last ``[B, F, C]`` (same values as the
        modules). Each conv is a sum over its taps of GEMMs on strided views of the channels-last
        input (no im2col copy; a 1-channel first conv would run at ~1 GFLOP/s in oneDNN), computed
        over blocks of output frames so that layer 0 (the widest tensor) is never materialized and
        the blocks stay in cache."""
        # under CPU autocast (bf16) the GEMMs of layers >= 1 take that dtype; layer 0, the
        # GroupNorm statistics, LayerNorm and GELU stay fp32
        dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else wav.dtype
        convs = [block[0] for block in self.conv_layers]
        taps = [c.weight.permute(2, 1, 0).to(wav.dtype if i == 0 else dtype).contiguous()
                for i, c in enumerate(convs)]  # [k, C_in, C_out]
        out = []
        with torch.autocast("cpu", enabled=False):
            for i in range(wav.shape[0]):
                n = wav.shape[-1] if lengths is None else int(lengths[i])
                out.append(self._infer_one(wav[i], n, convs, taps, dtype))
        return torch.stack(out)

    def _post(self, i: int, y: torch.Tensor, gn: tuple | None) -> torch.Tensor:
        """Norm + GELU of conv layer ``i`` on rows ``y: [F, C]``; ``gn`` = per-channel (scale, shift)."""
        block = self.conv_layers[i]
        if self.mode == "layer_norm":
            ln = block[2][1]
            y = F.layer_norm(y, ln.normalized_shape, ln.weight, ln.bias, ln.eps)
        elif i == 0:
            y = y.mul_(gn[0]).add_(gn[1])
        return F.gelu(y)

    def _infer_one(self, wav: torch.Tensor, n: int, convs, taps, dtype, block: int = 1024) -> torch.Tensor:
        """One waveform ``[T]`` (``n`` valid samples) -> ``[F, C]`` in ``dtype``."""
        _, k0, s0 = self.specs[0]
        patches = wav.unfold(0, k0, s0)  # [F0, k0] view

        def layer0(a: int, b: int) -> torch.Tensor:  # raw conv-0 rows [a, b): [b - a, C0]
            y = patches[a:b] @ taps[0][:, 0]
            return y if convs[0].bias is None else y.add_(convs[0].bias)

        gn = None
        if self.mode != "layer_norm":  # per-channel GroupNorm over the valid frames of layer 0
            n0 = max(int(conv_frames(n, self.specs[:1])), 1)
            # shifted sums (shift = mean of the first block): one pass, no cancellation
            shift = layer0(0, min(block, n0)).mean(0)
            s1 = s2 = 0.0
            for a, b in _spans(n0, block):
                d = layer0(a, b).sub_(shift)
                s1, s2 = s1 + d.sum(0).double(), s2 + d.square().sum(0).double()
            mean = s1 / n0
            var = (s2 / n0 - mean.square()).clamp_min(0)
            mean = mean + shift.double()
            norm = self.conv_layers[0][2]
            scale = norm.weight.double() * torch.rsqrt(var + norm.eps)
            gn = (scale.to(wav.dtype), (norm.bias.double() - mean * scale).to(wav.dtype))
        t_prev = patches.shape[0]
        if len(self.specs) == 1:
            return self._post(0, layer0(0, t_prev), gn).to(dtype)

        prev = None  # post-activated output of the previous layer: [t_prev, C]
        for i in range(1, len(self.specs)):
            c, k, s = self.specs[i]
            t_out = (t_prev - k) // s + 1
            out = wav.new_empty(t_out, c, dtype=dtype)
            for a, b in _spans(t_out, block):
                lo, hi = s * a, s * (b - 1) + k
                x = self._post(0, layer0(lo, hi), gn).to(dtype) if prev is None else prev[lo:hi]
                y = out[a:b]
                for j in range(k):  # y = sum_j x[j :: s] @ W_j
                    xj = x[j: j + s * (b - a - 1) + 1: s]
                    torch.mm(xj, taps[i][j], out=y) if j == 0 else y.addmm_(xj, taps[i][j])
                y32 = y.float()
                if convs[i].bias is not None:
                    y32 = y32.add_(convs[i].bias)
                y.copy_(self._post(i, y32, None))
            prev, t_prev = out, t_out
        return prev


def _spans(n: int, size: int):
    """``[(a, b), ...]`` covering ``range(n)`` in pieces of ``size``."""
    return [(a, min(a + size, n)) for a in range(0, n, size)]

