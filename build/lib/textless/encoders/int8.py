"""Dynamic int8 quantization of a HuBERT encoder for CPU inference (opt-in; check agreement)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from .hubert import HubertEncoder


def quantize_linear_int8(model: HubertEncoder) -> HubertEncoder:
    """CPU inference copy whose ``nn.Linear`` layers use dynamic int8 quantization (weights int8,
    activations quantized per batch). Convolutions and norms stay fp32 (int8 convs lost label
    agreement in ``bench/encode.py``). Measure agreement against fp32 before relying on it."""
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8, inplace=True)
    return q
