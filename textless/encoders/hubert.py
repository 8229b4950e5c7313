"""HuBERT / wav2vec2 encoder: the fairseq architecture, features from any layer.

The module tree mirrors fairseq's ``HubertModel`` so that a fairseq state dict loads with a
near-identity mapping (see :mod:`textless.encoders.fairseq_import`):

* ``feature_extractor.conv_layers.{i}`` = ``Sequential(conv, Dropout, norm?, GELU)``; the norm is a
  per-channel GroupNorm on layer 0 only (``extractor_mode="default"``, HuBERT base) or a
  LayerNorm over channels on every layer (``"layer_norm"``, HuBERT large);
* ``layer_norm`` (over the conv channels) then ``post_extract_proj``;
* ``encoder.pos_conv`` = weight-normed grouped conv (``dim=2``), SamePad, GELU;
* ``encoder.layers.{i}`` post-LN (base) or pre-LN (large) transformer layers;
* ``encoder.layer_norm`` applied before layer 1 (post-LN) or after the last layer (pre-LN, only
  when no ``layer`` is asked for, as fairseq does).

Shapes: ``wav: [B, T]`` float32 samples at ``sample_rate`` Hz; features ``[B, F, D]`` at
``frame_rate = sample_rate / prod(strides)`` Hz with ``F = frames(T)`` from the conv formula
``L -> (L - k) // s + 1`` per layer (400 samples give 1 frame, 160000 give 499 for base).
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError
from .config import BASE_CONV, HubertConfig, hubert_large_config
from .conv import ConvFeatureExtractor, conv_frames, receptive_field
from .int8 import quantize_linear_int8
from .transformer import TransformerEncoder

log = logging.getLogger(__name__)

KIND = "encoder.hubert"


class EncoderOutput(NamedTuple):
    """``features: [B, F, D]``, ``frames: [B]`` valid frames, ``padding_mask: [B, F]`` (True = pad)."""

    features: torch.Tensor
    frames: torch.Tensor
    padding_mask: torch.Tensor | None


class HubertEncoder(nn.Module):
    """HuBERT / wav2vec2 encoder implementing :class:`textless.pipeline.Encoder`.

    ``features(wav, lengths, layer)`` computes nothing past ``layer`` (1-based, fairseq's
    ``output_layer``). For training, :meth:`extract` also takes a frame mask (frames replaced by
    ``mask_emb``) and returns the padding mask.
    """

    def __init__(self, cfg: HubertConfig = HubertConfig()):
        super().__init__()
        self.cfg = cfg
        conv_dim = cfg.conv_layers[-1][0]
        self.feature_extractor = ConvFeatureExtractor(cfg)
        self.layer_norm = nn.LayerNorm(conv_dim, eps=1e-5)
        self.post_extract_proj = nn.Linear(conv_dim, cfg.embed_dim) if conv_dim != cfg.embed_dim else None
        self.mask_emb = nn.Parameter(torch.empty(cfg.embed_dim).uniform_())
        self.encoder = TransformerEncoder(cfg)
        self.dropout_input = nn.Dropout(cfg.dropout)
        self.sample_rate = cfg.sample_rate
        self.hop_length = math.prod(s for _, _, s in cfg.conv_layers)
        self.frame_rate = cfg.sample_rate / self.hop_length
        self.receptive_field = receptive_field(cfg.conv_layers)
        self.dim = cfg.embed_dim
        self.num_layers = cfg.num_layers

    def num_frames(self, lengths):
        """Frames for ``lengths`` samples in one pass (no chunking)."""
        return conv_frames(lengths, self.cfg.conv_layers)

    def output_frames(self, length: int) -> int:
        """Frames :meth:`features` returns for ``length`` samples (chunks of ``max_chunk``)."""
        total, c = 0, self.cfg.max_chunk or max(length, 1)
        for start in range(0, length, c):
            n = min(c, length - start)
            if n >= self.receptive_field:
                total += self.num_frames(n)
        return total

    # ---------------------------------------------------------------------------- core
    def normalize_waveform(self, wav: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Layer-norm each waveform over its valid samples (``F.layer_norm(x, x.shape)`` per item)."""
        if lengths is None:
            return F.layer_norm(wav, wav.shape[-1:])
        mask = (torch.arange(wav.shape[-1], device=wav.device)[None] < lengths[:, None]).to(wav.dtype)
        n = lengths.to(wav.dtype)[:, None].clamp_min(1)
        mean = (wav * mask).sum(-1, keepdim=True) / n
        var = (((wav - mean) * mask) ** 2).sum(-1, keepdim=True) / n
        return (wav - mean) * torch.rsqrt(var + 1e-5) * mask

    def extract(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None,
        frame_mask: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """One pass (no chunking, no waveform normalization): ``wav: [B, T]`` -> :class:`EncoderOutput`.

        ``frame_mask: [B, F]`` bool replaces those frames by ``mask_emb`` (masked prediction).
        """
        if layer is not None and not 0 <= layer <= self.num_layers:
            raise ValueError(f"layer must be in 0..{self.num_layers}, got {layer}")
        x = self.feature_extractor(wav, lengths).transpose(1, 2)
        b, f, _ = x.shape
        if lengths is None:
            frames = torch.full((b,), f, dtype=torch.long, device=wav.device)
            padding_mask = None
        else:
            frames = self.num_frames(lengths.to(wav.device).long()).clamp(0, f)
            padding_mask = torch.arange(f, device=wav.device)[None] >= frames[:, None]
        x = self.layer_norm(x)
        if self.post_extract_proj is not None:
            x = self.post_extract_proj(x)
        x = self.dropout_input(x)
        if frame_mask is not None:
            x = torch.where(frame_mask[..., None], self.mask_emb.to(x.dtype), x)
        x = self.encoder(x, padding_mask, layer)
        return EncoderOutput(x, frames, padding_mask)

    def forward(self, wav, lengths=None, layer=None, frame_mask=None) -> EncoderOutput:
        return self.extract(wav, lengths, layer, frame_mask)

    @torch.inference_mode()
    def features(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav: [B, T]`` (+ ``lengths: [B]`` samples) -> ``(feats [B, F, D], frames [B])``.

        Inference only (no autograd); training uses :meth:`extract`.
        Normalizes waveforms when the checkpoint says so, then encodes inputs longer than
        ``max_chunk`` samples as independent chunks (batched together) and concatenates their
        frames, like the official readers. Chunks shorter than the receptive field are dropped.
        """
        if wav.dim() == 1:
            wav = wav[None]
        b, t = wav.shape
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long)
        lengths = lengths.to(wav.device).long()
        if self.cfg.normalize:
            wav = self.normalize_waveform(wav, lengths)
        c = self.cfg.max_chunk or t
        if t <= c:
            out = self.extract(wav, None if bool((lengths == t).all()) else lengths, layer)
            return out.features, out.frames
        pieces, owner = [], []
        for i, n in enumerate(lengths.tolist()):
            for start in range(0, n, c):
                if min(c, n - start) >= self.receptive_field:
                    pieces.append(wav[i, start: min(start + c, n)])
                    owner.append(i)
        # Sub-batches of at most max_chunk padded samples: memory stays that of one chunk.
        per_item = [[] for _ in range(b)]
        j = 0
        while j < len(pieces):
            k = j + 1
            while k < len(pieces) and (k + 1 - j) * max(p.numel() for p in pieces[j: k + 1]) <= c:
                k += 1
            group = pieces[j:k]
            plens = torch.tensor([p.numel() for p in group], dtype=torch.long, device=wav.device)
            full = bool((plens == plens.max()).all())
            out = self.extract(nn.utils.rnn.pad_sequence(group, batch_first=True), None if full else plens, layer)
            for m in range(len(group)):
                per_item[owner[j + m]].append(out.features[m, : int(out.frames[m])])
            j = k
        seqs = [torch.cat(p) if p else wav.new_zeros(0, self.dim) for p in per_item]
        frames = torch.tensor([s.shape[0] for s in seqs], dtype=torch.long, device=wav.device)
        return nn.utils.rnn.pad_sequence(seqs, batch_first=True), frames

    # ---------------------------------------------------------------------------- weights
    def fold_weight_norm(self) -> "HubertEncoder":
        """Replace the weight-normed positional conv by a plain conv (for inference)."""
        conv = self.encoder.pos_conv[0]
        if nn.utils.parametrize.is_parametrized(conv):
            nn.utils.parametrize.remove_parametrizations(conv, "weight", leave_parametrized=True)
        return self

    def save(self, path) -> "object":
        """Write this encoder as a textless safetensors checkpoint (kind ``encoder.hubert``)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, self.state_dict())


def build_from_state(cfg: HubertConfig, state_dict: dict, device="cpu") -> HubertEncoder:
    """Random-init ``HubertEncoder(cfg)``, load ``state_dict`` strictly (our key names, with the
    positional conv as ``weight`` or as ``weight_g``/``weight_v``/parametrization keys), fold the
    weight norm, move to ``device``, ``eval()``. Raises :class:`CheckpointError` naming bad keys."""
    model = HubertEncoder(cfg)
    state = dict(state_dict)
    pc = "encoder.pos_conv.0."
    # fairseq's old-style weight norm (weight_g / weight_v) becomes parametrization keys; errors
    # name the keys as the file spells them
    old_style = {pc + "parametrizations.weight.original0": pc + "weight_g",
                 pc + "parametrizations.weight.original1": pc + "weight_v"}
    file_names = old_style if any(k in state for k in old_style.values()) else {}
    for new_key, old_key in file_names.items():
        if old_key in state:
            state[new_key] = state.pop(old_key)
    if pc + "weight" in state:
        model.fold_weight_norm()
    expected = model.state_dict()
    missing = sorted(file_names.get(k, k) for k in set(expected) - set(state))
    unknown = sorted(set(state) - set(expected))
    if missing or unknown:
        raise CheckpointError(
            "checkpoint does not match the HuBERT architecture: "
            + (f"missing keys {missing[:5]}{'...' if len(missing) > 5 else ''} " if missing else "")
            + (f"unknown keys {unknown[:5]}{'...' if len(unknown) > 5 else ''}" if unknown else "")
        )
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise CheckpointError(f"{file_names.get(k, k)}: shape {tuple(v.shape)} in checkpoint, {tuple(expected[k].shape)} in model")
    model.load_state_dict(state, strict=True)
    model.fold_weight_norm()
    return model.to(device).eval()


def from_native(config: dict, state_dict: dict, device="cpu") -> HubertEncoder:
    """``encoder.hubert`` entry of :data:`textless.components.NATIVE_LOADERS`."""
    from ..checkpoint import config_from_dict

    return build_from_state(config_from_dict(HubertConfig, config), state_dict, device)


__all__ = [
    "HubertConfig", "HubertEncoder", "EncoderOutput", "hubert_large_config", "conv_frames",
    "receptive_field", "build_from_state", "from_native", "quantize_linear_int8", "KIND", "BASE_CONV",
]
