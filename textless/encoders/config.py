"""Configuration of the HuBERT / wav2vec2 encoder: :class:`HubertConfig` and the conv stacks.

Apart from the modules (``conv.py``, ``transformer.py``, ``hubert.py``) so that every one of them
can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CheckpointError

#: HuBERT base / wav2vec2 base conv stack: (channels, kernel, stride) per layer, 320x down.
BASE_CONV = ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2


@dataclass(frozen=True)
class HubertConfig:
    """Architecture of a HuBERT / wav2vec2 encoder (fairseq field names in comments).

    Defaults are HuBERT base. ``conv_layers``: ``(channels, kernel, stride)`` per conv
    (``conv_feature_layers``); ``extractor_mode``: ``"default"`` or ``"layer_norm"``;
    ``layer_norm_first``: pre-LN transformer; ``normalize``: layer-norm the whole waveform first
    (``task.normalize``); ``max_chunk``: inputs longer than this many samples are encoded in
    independent chunks, as fairseq/GSLM/textlesslib HuBERT readers do (1,600,000 = 100 s); 0 encodes
    every input in one pass (GSLM's wav2vec 2.0 reader).
    """

    conv_layers: tuple = BASE_CONV
    extractor_mode: str = "default"
    conv_bias: bool = False
    embed_dim: int = 768
    ffn_dim: int = 3072
    num_layers: int = 12
    num_heads: int = 12
    layer_norm_first: bool = False
    conv_pos: int = 128
    conv_pos_groups: int = 16
    normalize: bool = False
    sample_rate: int = 16000
    layer_norm_eps: float = 1e-5
    max_chunk: int = 1_600_000
    dropout: float = 0.0
    attention_dropout: float = 0.0
    name: str = "hubert"

    def __post_init__(self):
        if self.extractor_mode not in ("default", "layer_norm"):
            raise CheckpointError(f"extractor_mode must be 'default' or 'layer_norm', not {self.extractor_mode!r}")
        if self.embed_dim % self.num_heads:
            raise CheckpointError(f"embed_dim {self.embed_dim} is not divisible by {self.num_heads} heads")
        object.__setattr__(self, "conv_layers", tuple(tuple(int(v) for v in c) for c in self.conv_layers))


def hubert_large_config(**kw) -> HubertConfig:
    """HuBERT large (``extractor_mode=layer_norm``, pre-LN, 24 x 1024, waveform normalization)."""
    base = dict(extractor_mode="layer_norm", embed_dim=1024, ffn_dim=4096, num_layers=24,
                num_heads=16, layer_norm_first=True, normalize=True)
    return HubertConfig(**{**base, **kw})
