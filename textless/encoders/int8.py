"""Dynamic int8 quantization of a HuBERT encoder for CPU inference (opt-in; check agreement)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from .hubert import HubertEncoder


class _Int8Conv1d(nn.Module):
    """A strided Conv1d computed as unfold + dynamically quantized int8 Linear (inference only)."""

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        from torch.ao.nn.quantized.dynamic import Linear as QLinear

        out_ch, in_ch, k = conv.weight.shape
        self.kernel, self.stride = k, conv.stride[0]
        lin = nn.Linear(in_ch * k, out_ch, bias=conv.bias is not None)
        with torch.no_grad():
            lin.weight.copy_(conv.weight.reshape(out_ch, in_ch * k))
            if conv.bias is not None:
                lin.bias.copy_(conv.bias)
        lin.qconfig = torch.ao.quantization.default_dynamic_qconfig
        self.linear = QLinear.from_float(lin)

    def forward(self, x):  # [B, C, T] -> [B, C_out, T_out]
        b = x.shape[0]
        patches = x.unfold(2, self.kernel, self.stride)  # [B, C, T_out, k]
        t_out = patches.shape[2]
        p = patches.permute(0, 2, 1, 3).reshape(b * t_out, -1)
        return self.linear(p).reshape(b, t_out, -1).transpose(1, 2)


def quantize_linear_int8(model: HubertEncoder, convs: bool | tuple = False) -> HubertEncoder:
    """CPU inference copy whose ``nn.Linear`` layers use dynamic int8 quantization (weights int8,
    activations quantized per batch); ``convs=True`` quantizes the conv layers after the first
    too (as unfold + int8 Linear), a tuple of conv indices (e.g. ``(1, 2)``) only those. Norms, the first conv and the positional conv stay fp32. Measure
    label agreement against fp32 before relying on it (``bench/encode.py`` does)."""
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8, inplace=True)
        blocks = q.feature_extractor.conv_layers
        chosen = range(1, len(blocks)) if convs is True else (convs or ())
        for i in chosen:
            if not 1 <= i < len(blocks):
                raise ValueError(f"conv index {i}: only 1..{len(blocks) - 1} can be quantized")
            blocks[i][0] = _Int8Conv1d(blocks[i][0])
    return q
