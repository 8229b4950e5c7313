"""The transformer of HuBERT / wav2vec2 (fairseq ``TransformerEncoder``): convolutional
positional embedding, then post-LN or pre-LN layers, stopping at the requested layer.
Shapes: ``x: [B, F, D]``, ``padding_mask: [B, F]`` (True = padding)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import math

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .hubert import HubertConfig


class _SamePad(nn.Module):
    """Drop the last frame of an even-kernel conv so that output length = input length."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.remove = 1 if kernel_size % 2 == 0 else 0

    def forward(self, x):
        return x[..., : -self.remove] if self.remove else x


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (fairseq key names)."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x: [B, F, D]``; ``key_padding_mask: [B, F]`` True on padding."""
        b, f, d = x.shape
        h = self.heads

        def split(t):
            return t.view(b, f, h, d // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        mask = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out_proj(y.transpose(1, 2).reshape(b, f, d))


class TransformerLayer(nn.Module):
    """fairseq ``TransformerSentenceEncoderLayer`` (post-LN or pre-LN), GELU feed-forward."""

    def __init__(self, cfg: HubertConfig):
        super().__init__()
        d = cfg.embed_dim
        self.self_attn = SelfAttention(d, cfg.num_heads, cfg.attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.fc1, self.fc2 = nn.Linear(d, cfg.ffn_dim), nn.Linear(cfg.ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.pre_ln = cfg.layer_norm_first

    def forward(self, x, key_padding_mask=None):
        if self.pre_ln:
            x = x + self.dropout(self.self_attn(self.self_attn_layer_norm(x), key_padding_mask))
            return x + self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(self.final_layer_norm(x))))))
        x = self.self_attn_layer_norm(x + self.dropout(self.self_attn(x, key_padding_mask)))
        return self.final_layer_norm(x + self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(x))))))


class TransformerEncoder(nn.Module):
    def __init__(self, cfg: HubertConfig):
        super().__init__()
        d = cfg.embed_dim
        conv = nn.Conv1d(d, d, cfg.conv_pos, padding=cfg.conv_pos // 2, groups=cfg.conv_pos_groups)
        std = math.sqrt(4 / (cfg.conv_pos * d))
        nn.init.normal_(conv.weight, mean=0, std=std)
        nn.init.zeros_(conv.bias)
        conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        self.pos_conv = nn.Sequential(conv, _SamePad(cfg.conv_pos), nn.GELU())
        self.layers = nn.ModuleList(TransformerLayer(cfg) for _ in range(cfg.num_layers))
        self.layer_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.layer_norm_first = cfg.layer_norm_first
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, padding_mask=None, layer: int | None = None):
        """``x: [B, F, D]`` -> output of transformer layer ``layer`` (1-based; 0 = input of layer 1;
        None = the full stack, with the final LN of pre-LN models)."""
        if padding_mask is not None:
            x = x.masked_fill(padding_mask[..., None], 0.0)
        x = x + self.pos_conv(x.transpose(1, 2)).transpose(1, 2)
        if not self.layer_norm_first:
            x = self.layer_norm(x)
        x = self.dropout(x)
        stop = len(self.layers) if layer is None else layer
        # No key mask when nothing is padded: lets SDPA use its fused kernel.
        kpm = padding_mask if padding_mask is not None and bool(padding_mask.any()) else None
        for blk in self.layers[:stop]:
            x = blk(x, kpm)
        if layer is None and self.layer_norm_first:
            x = self.layer_norm(x)
        return x
