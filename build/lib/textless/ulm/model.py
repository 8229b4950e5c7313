"""Decoder-only transformer over units (GSLM's ``transformer_lm``), with a KV cache.

Architecture (fairseq ``transformer_lm`` semantics, so that GSLM checkpoints import exactly):
``x = sqrt(d) * E[tok] + sinusoid(position)``, pre-LN causal blocks
``x += Attn(LN(x)); x += fc2(act(fc1(LN(x))))``, a final LN, and logits ``x @ E^T`` (tied).

Token space. The model speaks *unit ids* ``0 .. vocab_size - 1`` at its API (the
:class:`~textless.pipeline.UnitLanguageModel` protocol), and *token indices*
``0 .. num_embeddings - 1`` inside. ``unit_tokens`` maps unit id -> token index (``None`` means
the identity); native models put the specials above the units (``eos = V``, ``pad = V + 1``),
imported fairseq models keep their ``dict.txt`` order (``<s>=0 <pad>=1 </s>=2 <unk>=3``).
The end-of-sequence token also opens every sequence (fairseq's convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UnitLMConfig:
    """Architecture of a unit LM. Sizes: ``tiny()`` for tests, the defaults for CPU training,
    :meth:`gslm_big` for GSLM's ``transformer_lm_big`` (12 x 1024, ffn 4096, 16 heads)."""

    vocab_size: int = 100            # number of units (ids 0 .. vocab_size - 1)
    dim: int = 512
    num_layers: int = 6
    num_heads: int = 8
    ffn_dim: int = 2048
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation: str = "relu"         # "relu" or "gelu"
    max_positions: int = 3072        # longest sequence, opening eos included
    # token space (see the module docstring); None = native layout derived from vocab_size
    num_embeddings: int | None = None
    unit_tokens: tuple[int, ...] | None = None   # unit id -> token index, -1: absent (-> unk)
    eos_index: int | None = None
    pad_index: int | None = None
    unk_index: int | None = None
    position_offset: int = 0         # sinusoid row of the first position (fairseq: pad + 1)

    def __post_init__(self):
        if self.dim % self.num_heads:
            raise ValueError(f"dim {self.dim} is not a multiple of num_heads {self.num_heads}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}")
        if self.unit_tokens is not None and len(self.unit_tokens) != self.vocab_size:
            raise ValueError("unit_tokens must have one entry per unit")

    @classmethod
    def tiny(cls, vocab_size: int = 20, **kw) -> "UnitLMConfig":
        """2 layers of width 32: a model for tests."""
        base = dict(dim=32, num_layers=2, num_heads=4, ffn_dim=64, dropout=0.0, max_positions=512)
        return cls(vocab_size=vocab_size, **{**base, **kw})

    @classmethod
    def gslm_big(cls, vocab_size: int = 100, **kw) -> "UnitLMConfig":
        """GSLM's ``transformer_lm_big``: 12 layers, d=1024, ffn 4096, 16 heads, ReLU."""
        base = dict(dim=1024, num_layers=12, num_heads=16, ffn_dim=4096, dropout=0.1)
        return cls(vocab_size=vocab_size, **{**base, **kw})

    # resolved token space ------------------------------------------------------------------
    @property
    def n_tokens(self) -> int:
        return self.num_embeddings if self.num_embeddings is not None else self.vocab_size + 2

    @property
    def eos(self) -> int:
        return self.eos_index if self.eos_index is not None else self.vocab_size

    @property
    def pad(self) -> int:
        return self.pad_index if self.pad_index is not None else self.vocab_size + 1


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """fairseq's sinusoidal table rows: ``positions: [...] int`` -> ``[..., dim]`` float32.

    ``cat(sin, cos)`` halves with ``freq_i = exp(-i ln(10000) / (half - 1))``; odd ``dim`` gets a
    zero last column.
    """
    half = dim // 2
    freq = torch.exp(
        torch.arange(half, dtype=torch.float32, device=positions.device)
        * -(math.log(10000.0) / (half - 1))
    )
    ang = positions.to(torch.float32).unsqueeze(-1) * freq
    out = torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)
    if dim % 2:
        out = F.pad(out, (0, 1))
    return out


class KVCache:
    """Preallocated keys and values of every layer: ``[B, H, max_len, head_dim]`` each.

    ``length`` is the number of positions filled; :meth:`UnitLM.forward` appends to it.
    ``prefix`` positions (deep prompts) sit at the front and take no sinusoid position.
    """

    def __init__(self, config: UnitLMConfig, batch_size: int, max_len: int, device, dtype):
        shape = (batch_size, config.num_heads, max_len, config.dim // config.num_heads)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_layers)]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_layers)]
        self.length = 0
        self.prefix = 0
        self.max_len = max_len

    def reorder(self, index: torch.Tensor) -> None:
        """Keep batch rows ``index`` (e.g. to drop finished samples)."""
        self.k = [k.index_select(0, index) for k in self.k]
        self.v = [v.index_select(0, index) for v in self.v]


class Attention(nn.Module):
    def __init__(self, config: UnitLMConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.dim // config.num_heads
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.out = nn.Linear(config.dim, config.dim)
        self.dropout = config.attention_dropout

    def forward(self, x, cache: KVCache | None, layer: int, mask: torch.Tensor | None):
        """``x: [B, T, D]`` -> ``[B, T, D]``; causal, attending to the cache's past positions."""
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        dropout = self.dropout if self.training else 0.0
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=mask is None, attn_mask=mask,
                                               dropout_p=dropout)
        else:
            start = cache.length
            cache.k[layer][:, :, start:start + T] = k
            cache.v[layer][:, :, start:start + T] = v
            k = cache.k[layer][:, :, :start + T]
            v = cache.v[layer][:, :, :start + T]
            if T == 1:
                y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
            else:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, config: UnitLMConfig):
        super().__init__()
        self.attn_norm = nn.LayerNorm(config.dim)
        self.attn = Attention(config)
        self.ffn_norm = nn.LayerNorm(config.dim)
        self.fc1 = nn.Linear(config.dim, config.ffn_dim)
        self.fc2 = nn.Linear(config.ffn_dim, config.dim)
        self.act = _ACTIVATIONS[config.activation]
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, cache, layer, mask):
        x = x + self.dropout(self.attn(self.attn_norm(x), cache, layer, mask))
        return x + self.dropout(self.fc2(self.dropout(self.act(self.fc1(self.ffn_norm(x))))))


class UnitLM(nn.Module):
    """A causal LM over unit ids ``0 .. config.vocab_size - 1`` (see the module docstring)."""

    def __init__(self, config: UnitLMConfig):
        super().__init__()
        self.config = config
        self.vocab_size = config.vocab_size
        self.embed = nn.Embedding(config.n_tokens, config.dim)
        nn.init.normal_(self.embed.weight, std=config.dim ** -0.5)
        with torch.no_grad():
            self.embed.weight[config.pad].zero_()
        self.layers = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.dim)
        self.dropout = nn.Dropout(config.dropout)
        self.embed_scale = math.sqrt(config.dim)
        table = (torch.arange(config.vocab_size) if config.unit_tokens is None
                 else torch.tensor(config.unit_tokens, dtype=torch.long))
        if config.unk_index is not None:
            table = torch.where(table < 0, torch.full_like(table, config.unk_index), table)
        self.register_buffer("unit_to_token", table, persistent=False)

    # token space ----------------------------------------------------------------------------
    @property
    def eos(self) -> int:
        return self.config.eos

    @property
    def pad(self) -> int:
        return self.config.pad

    def tokens_of(self, units: torch.Tensor) -> torch.Tensor:
        """Unit ids ``[...]`` -> token indices ``[...]`` (units absent from a dict -> ``<unk>``)."""
        units = torch.as_tensor(units, dtype=torch.long, device=self.unit_to_token.device)
        if units.numel() and (int(units.min()) < 0 or int(units.max()) >= self.vocab_size):
            from ..errors import UnitsFormatError

            raise UnitsFormatError(f"unit ids must lie in 0..{self.vocab_size - 1}")
        tokens = self.unit_to_token[units]
        if tokens.numel() and int(tokens.min()) < 0:
            from ..errors import UnitsFormatError

            raise UnitsFormatError("a unit id is not in this LM's dictionary")
        return tokens

    def unit_token_mask(self) -> torch.Tensor:
        """``[n_tokens] bool``: True at the token index of every unit."""
        mask = torch.zeros(self.config.n_tokens, dtype=torch.bool, device=self.unit_to_token.device)
        mask[self.unit_to_token[self.unit_to_token >= 0]] = True
        return mask

    # forward --------------------------------------------------------------------------------
    def embed_tokens(self, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        """``tokens: [B, T]`` at positions ``start .. start + T - 1`` -> ``[B, T, D]`` inputs."""
        pos = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        x = self.embed_scale * self.embed(tokens)
        return x + sinusoid(pos + self.config.position_offset, self.config.dim).to(x.dtype)

    def forward(
        self, tokens: torch.Tensor, cache: KVCache | None = None, *,
        prefix: torch.Tensor | None = None, return_hidden: bool = False,
    ) -> torch.Tensor:
        """``tokens: [B, T]`` token indices -> logits ``[B, T, n_tokens]`` (fp32).

        With ``cache``, the tokens continue the cached positions and their keys/values are
        appended. ``prefix: [B, P, D]`` are extra input vectors placed before the tokens (input
        prompts, already scaled; they take positions like tokens). The result covers the tokens
        only. Right padding needs no mask: a real position never sees a later one.
        """
        start = 0 if cache is None else cache.length - cache.prefix
        x = self.embed_tokens(tokens, start + (0 if prefix is None else prefix.shape[1]))
        if prefix is not None:
            P = prefix.shape[1]
            pos = torch.arange(start, start + P, device=tokens.device) + self.config.position_offset
            x = torch.cat([prefix + sinusoid(pos, self.config.dim).to(x.dtype), x], dim=1)
        x = self.dropout(x)
        mask = None
        if cache is not None and x.shape[1] > 1:
            T, past = x.shape[1], cache.length
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
        for i, layer in enumerate(self.layers):
            x = layer(x, cache, i, mask)
        if cache is not None:
            cache.length += x.shape[1]
        x = self.norm(x)
        if prefix is not None:
            x = x[:, prefix.shape[1]:]
        if return_hidden:
            return x
        return F.linear(x, self.embed.weight).float()

    def new_cache(self, batch_size: int, max_len: int | None = None, dtype=None) -> KVCache:
        """An empty cache for ``batch_size`` rows and up to ``max_len`` positions."""
        p = self.embed.weight
        return KVCache(self.config, batch_size, max_len or self.config.max_positions,
                       p.device, dtype or p.dtype)

    @property
    def device(self) -> torch.device:
        return self.embed.weight.device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
