"""Linear-head quantizer: the unit of a frame is the argmax of a trained classifier's logits.

An encoder trained to predict frame labels (``textless train encoder``) keeps its head as the
quantizer: ``unit = argmax_k (feats @ weight[k] + bias[k])`` with ``weight: [K, D]``,
``bias: [K]``. Implements :class:`textless.pipeline.Quantizer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError, TextlessError

KIND = "quantizer.linear"


@dataclass(frozen=True)
class LinearQuantizerConfig:
    """``vocab_size`` classes over ``dim``-dimensional features of ``encoder`` layer ``layer``."""

    vocab_size: int
    dim: int
    encoder: str | None = None
    layer: int | None = None


class LinearQuantizer(nn.Module):
    def __init__(self, cfg: LinearQuantizerConfig):
        super().__init__()
        self.cfg = cfg
        self.head = nn.Linear(cfg.dim, cfg.vocab_size)

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab_size

    @property
    def dim(self) -> int:
        return self.cfg.dim

    def logits(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats: [..., D]`` -> ``[..., K]``."""
        return self.head(feats)

    @torch.inference_mode()
    def assign(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats: [..., D]`` -> ``[...]`` int64 unit ids."""
        if feats.shape[-1] != self.dim:
            raise TextlessError(f"features have dimension {feats.shape[-1]}, the quantizer expects {self.dim}")
        return self.head(feats.to(self.head.weight.device, torch.float32)).argmax(-1)

    def save(self, path) -> Path:
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, self.state_dict())


def from_native(config: dict, state_dict: dict, device="cpu") -> LinearQuantizer:
    """Loader for ``quantizer.linear`` files (see :mod:`textless.checkpoint`)."""
    from ..checkpoint import config_from_dict

    q = LinearQuantizer(config_from_dict(LinearQuantizerConfig, config))
    if set(state_dict) != {"head.weight", "head.bias"}:
        raise CheckpointError(f"linear quantizer: expected head.weight and head.bias, got {sorted(state_dict)}")
    try:
        q.load_state_dict(state_dict)
    except RuntimeError as e:
        raise CheckpointError(f"linear quantizer: {str(e).splitlines()[0]}") from None
    return q.to(device).eval()
