"""CPC-big encoder (``cpc-big-ll6k``, GSLM's ``cpc_big_ll6kh_top_ctc.pt``) as GSLM/textlesslib run it.

Architecture (docs/cpc.md has the reference semantics this follows):

* ``gEncoder``: five ``Conv1d`` (kernel/stride/padding ``10/5/3, 8/4/2, 4/2/1, 4/2/1, 4/2/1``, 1 -> C
  -> C channels) each followed by a *ChannelNorm* (per frame: mean and unbiased variance over the
  C channels, ``(x - mean) * rsqrt(var + 1e-5) * weight + bias``, weight/bias ``[1, C, 1]``) and
  ReLU: 160 samples per frame, 100 Hz at 16 kHz;
* ``gAR``: a unidirectional LSTM (``hidden_ar`` units). The checkpoint holds 4 layers; GSLM and
  textlesslib keep the first ``layer=2`` and quantize the output of the second.

Shapes: ``wav: [B, T]`` float32 at 16 kHz -> ``features [B, F, hidden_ar]`` with ``F`` from
``L -> (L + 2p - k) // s + 1`` per conv (16000 samples give 100 frames).

The official reader encodes 64,000-sample (4 s) chunks independently and handles the remainder
with a quirk (the "tail" pass runs the whole waveform, see :meth:`CPCEncoder.features`); we
reproduce it, so features match GSLM's on inputs of any length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AudioTooShortError, CheckpointError

KIND = "encoder.cpc"

#: (kernel, stride, padding) of the five convolutions of CPC's ``gEncoder``.
CPC_CONV = ((10, 5, 3), (8, 4, 2), (4, 2, 1), (4, 2, 1), (4, 2, 1))


@dataclass(frozen=True)
class CPCConfig:
    """``hidden_encoder``: conv channels (``hiddenEncoder``); ``hidden_ar``: LSTM units
    (``hiddenGar``); ``num_layers``: LSTM layers kept (GSLM's ``layer``, 2); ``max_chunk``: samples
    per independently encoded chunk (64000 in the official reader)."""

    hidden_encoder: int = 512
    hidden_ar: int = 512
    num_layers: int = 2
    sample_rate: int = 16000
    max_chunk: int = 64000
    eps: float = 1e-5
    name: str = "cpc-big-ll6k"


def cpc_frames(lengths, conv=CPC_CONV):
    """Frames out of the CPC conv stack for ``lengths`` samples.

    >>> cpc_frames(16000), cpc_frames(64000), cpc_frames(158), cpc_frames(159)
    (100, 400, 0, 1)
    """
    for k, s, p in conv:
        lengths = (lengths + 2 * p - k) // s + 1
    return lengths


def _receptive_field() -> int:
    n = 1
    while cpc_frames(n) < 1:
        n += 1
    return n


class ChannelNorm(nn.Module):
    """Per-frame normalization over channels: ``x: [B, C, T]`` (unbiased variance, as CPC_audio)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class _ConvEncoder(nn.Module):
    def __init__(self, cfg: CPCConfig):
        super().__init__()
        c = cfg.hidden_encoder
        for i, (k, s, p) in enumerate(CPC_CONV):
            setattr(self, f"conv{i}", nn.Conv1d(1 if i == 0 else c, c, k, stride=s, padding=p))
            setattr(self, f"batchNorm{i}", ChannelNorm(c, cfg.eps))

    def forward(self, x, lengths=None):
        """``x: [B, 1, T]`` -> ``[B, C, F]``; with ``lengths`` (samples), positions past each item's
        end are zeroed after every layer, so the next conv sees the zero padding a lone item sees."""
        for i in range(len(CPC_CONV)):
            x = F.relu(getattr(self, f"batchNorm{i}")(getattr(self, f"conv{i}")(x)))
            if lengths is not None:
                lengths = cpc_frames(lengths, CPC_CONV[i: i + 1])
                x = x * (torch.arange(x.shape[-1], device=x.device)[None] < lengths[:, None])[:, None]
        return x


class CPCEncoder(nn.Module):
    """CPC conv encoder + LSTM context network, implementing :class:`textless.pipeline.Encoder`.

    ``features(wav, lengths, layer)``: ``layer`` 1..``num_layers`` is the LSTM layer whose output
    is returned (default ``num_layers``, GSLM's choice); ``layer=0`` returns the conv encoder
    output (the reader's ``use_encoder_layer=True``).
    """

    def __init__(self, cfg: CPCConfig = CPCConfig()):
        super().__init__()
        if cfg.num_layers < 1:
            raise CheckpointError(f"num_layers must be >= 1, got {cfg.num_layers}")
        self.cfg = cfg
        self.gEncoder = _ConvEncoder(cfg)
        self.ar = nn.ModuleList(
            nn.LSTM(cfg.hidden_encoder if i == 0 else cfg.hidden_ar, cfg.hidden_ar, batch_first=True)
            for i in range(cfg.num_layers))
        self.sample_rate = cfg.sample_rate
        self.hop_length = math.prod(s for _, s, _ in CPC_CONV)
        self.frame_rate = cfg.sample_rate / self.hop_length
        self.receptive_field = _receptive_field()
        self.dim = cfg.hidden_ar
        self.num_layers = cfg.num_layers

    def extract(self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None):
        """One pass, no chunking: ``wav: [B, T]`` -> ``(feats [B, F, D], frames [B])``."""
        layer = self.num_layers if layer is None else layer
        if not 0 <= layer <= self.num_layers:
            raise ValueError(f"layer must be in 0..{self.num_layers}, got {layer}")
        if lengths is not None:
            wav = wav * (torch.arange(wav.shape[-1], device=wav.device)[None] < lengths[:, None])
        x = self.gEncoder(wav[:, None], lengths).transpose(1, 2)
        for lstm in self.ar[:layer]:
            x, _ = lstm(x)
        b, f = x.shape[:2]
        if lengths is None:
            frames = torch.full((b,), f, dtype=torch.long, device=wav.device)
        else:
            frames = cpc_frames(lengths.long()).clamp(0, f)
        return x, frames

    def _gslm_chunks(self, x: torch.Tensor, layer) -> torch.Tensor:
        """GSLM/textlesslib ``get_feats`` on one waveform ``x: [T]`` -> ``[F, D]``."""
        n, c = x.numel(), self.cfg.max_chunk
        feats, start = [], 0
        while start + c <= n:
            feats.append(self.extract(x[None, start: start + c], None, layer)[0][0])
            start += c
        if start < n:
            # The reference slices ``x[:, -max_chunk:]`` of a [1, 1, T] tensor: the channel axis,
            # so the "tail chunk" is the whole waveform. It keeps its last ``delta`` frames, where
            # ``delta = (n - start) // (n // F)``; ``delta == 0`` keeps all of them (``[-0:]``).
            full = self.extract(x[None], None, layer)[0][0]
            delta = (n - start) // (n // full.shape[0])
            feats.append(full[-delta:])
        return torch.cat(feats)

    @torch.inference_mode()
    def features(self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None):
        """``wav: [B, T]`` float32 at 16 kHz (+ valid ``lengths: [B]`` samples) ->
        ``(feats [B, F, D], frames [B])``, each item as the official reader computes it.

        Items no longer than ``max_chunk`` run as one padded batch (padding never leaks: the
        convs see zeros past each end, the LSTM is causal). Longer items follow the reader's
        chunking, quirk included. Raises :class:`AudioTooShortError` below ``receptive_field``.
        """
        if wav.dim() == 1:
            wav = wav[None]
        b, t = wav.shape
        lengths = torch.full((b,), t, dtype=torch.long) if lengths is None else lengths
        lengths = lengths.to(wav.device).long()
        if int(lengths.min()) < self.receptive_field:
            raise AudioTooShortError(
                f"{int(lengths.min())} samples: CPC needs at least {self.receptive_field}")
        if int(lengths.max()) <= self.cfg.max_chunk:
            full = bool((lengths == t).all())
            return self.extract(wav, None if full else lengths, layer)
        seqs = [self._gslm_chunks(wav[i, : int(n)], layer) for i, n in enumerate(lengths.tolist())]
        frames = torch.tensor([s.shape[0] for s in seqs], dtype=torch.long, device=wav.device)
        return nn.utils.rnn.pad_sequence(seqs, batch_first=True), frames

    def output_frames(self, length: int) -> int:
        """Frames :meth:`features` returns for ``length`` samples (the reader's chunking)."""
        c = self.cfg.max_chunk
        whole, rest = divmod(length, c)
        if not rest:
            return whole * cpc_frames(c)
        f = cpc_frames(length)
        delta = rest // (length // f)
        return whole * cpc_frames(c) + (f if delta == 0 else min(delta, f))

    def save(self, path):
        """Write this encoder as a textless safetensors checkpoint (kind ``encoder.cpc``)."""
        from ..checkpoint import save_checkpoint

        return save_checkpoint(path, KIND, self.cfg, self.state_dict())


def build_from_state(cfg: CPCConfig, state_dict: dict, device="cpu") -> CPCEncoder:
    """``CPCEncoder(cfg)`` with ``state_dict`` (our key names) loaded strictly; raises
    :class:`CheckpointError` naming missing, unknown or misshaped keys."""
    model = CPCEncoder(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unknown = sorted(set(state_dict) - set(expected))
    if missing or unknown:
        raise CheckpointError(
            "checkpoint does not match the CPC architecture: "
            + (f"missing keys {missing[:5]} " if missing else "")
            + (f"unknown keys {unknown[:5]}" if unknown else ""))
    for k, v in state_dict.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise CheckpointError(f"{k}: shape {tuple(v.shape)} in checkpoint, {tuple(expected[k].shape)} in model")
    model.load_state_dict(state_dict, strict=True)
    return model.to(device).eval()


def from_native(config: dict, state_dict: dict, device="cpu") -> CPCEncoder:
    """Loader for our ``encoder.cpc`` safetensors files (see textless.checkpoint)."""
    from ..checkpoint import config_from_dict

    return build_from_state(config_from_dict(CPCConfig, config), state_dict, device)


def load_bundle(bundle, files: dict, device="cpu") -> CPCEncoder:
    """Hub loader: ``files["checkpoint"]`` is the official ``cpc_big_ll6kh_top_ctc.pt`` (or ours)."""
    from .cpc_import import load_cpc

    return load_cpc(files["checkpoint"], device=device)


__all__ = ["CPCConfig", "CPCEncoder", "ChannelNorm", "cpc_frames", "build_from_state", "from_native",
           "load_bundle", "KIND", "CPC_CONV"]
