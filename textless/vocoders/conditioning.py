"""What the unit vocoders share: the conditioning of fairseq/textlesslib ``CodeGenerator``
(unit embedding, optional F0, speaker, style, duration predictor) and the inference API.

Conditioning channels are concatenated in the order **code, f0, speaker, style** into
``[B, model_in_dim, T]``; :class:`UnitConditionedVocoder` builds the embeddings from the
conditioning fields of a config (``VocoderConfig`` or ``VocosConfig``), and its subclasses
(:class:`~textless.vocoders.hifigan.UnitHiFiGAN`, :class:`~textless.vocoders.vocos.UnitVocos`)
decode that conditioning into a waveform.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TextlessError
from ..units import Units


@dataclass(frozen=True)
class ConditioningConfig:
    """What every unit vocoder is conditioned on (the configs of both architectures extend it).

    ``vocab_size`` units embedded in ``embedding_dim`` channels, at ``sample_rate`` Hz out.
    ``num_speakers``/``num_styles`` > 0 add embeddings of ``embedding_dim`` channels
    (``speaker_embedder_dim`` > 0 makes the speaker a ``Linear`` over external speaker vectors
    instead). ``f0``: one continuous F0 channel, or an embedding of ``f0_quant_num_bin`` bins when
    that is > 0. ``duration_predictor`` adds fairseq's ``VariancePredictor`` (``dur_*`` fields).
    ``speakers``/``styles`` name the indices.
    """

    vocab_size: int = 100
    embedding_dim: int = 128
    sample_rate: int = 16000
    num_speakers: int = 0
    speaker_embedder_dim: int = 0
    num_styles: int = 0
    f0: bool = False
    f0_quant_num_bin: int = 0
    duration_predictor: bool = False
    dur_hidden_dim: int = 128
    dur_kernel_size: int = 3
    dur_dropout: float = 0.5
    speakers: tuple = ()
    styles: tuple = ()

    @property
    def has_speakers(self) -> bool:
        return self.num_speakers > 0 or self.speaker_embedder_dim > 0

    @property
    def model_in_dim(self) -> int:
        """Channels of the conditioning: code + f0 + speaker + style ."""
        e = self.embedding_dim
        f0 = (e if self.f0_quant_num_bin > 0 else 1) if self.f0 else 0
        return e + f0 + (e if self.has_speakers else 0) + (e if self.num_styles > 0 else 0)


class DurationPredictor(nn.Module):
    """fairseq ``VariancePredictor``: ``[B, T, C] -> [B, T]`` log(duration + 1) per unit.

    conv1 (padding (k-1)//2) -> ReLU -> LayerNorm -> dropout -> conv2 (padding 1) -> ReLU ->
    LayerNorm -> dropout -> Linear(., 1).
    """

    def __init__(self, in_dim: int, hidden: int, kernel_size: int, dropout: float):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv1d(in_dim, hidden, kernel_size, padding=(kernel_size - 1) // 2), nn.ReLU())
        self.ln1 = nn.LayerNorm(hidden)
        self.conv2 = nn.Sequential(nn.Conv1d(hidden, hidden, kernel_size, padding=1), nn.ReLU())
        self.ln2 = nn.LayerNorm(hidden)
        self.proj = nn.Linear(hidden, 1)
        self.dropout = dropout

    def forward(self, x):
        x = self.conv1(x.transpose(1, 2)).transpose(1, 2)
        x = F.dropout(self.ln1(x), p=self.dropout, training=self.training)
        x = self.conv2(x.transpose(1, 2)).transpose(1, 2)
        x = F.dropout(self.ln2(x), p=self.dropout, training=self.training)
        return self.proj(x).squeeze(2)


def predicted_durations(log_dur: torch.Tensor) -> torch.Tensor:
    """Frames per unit from predicted ``log(d + 1)``: ``clamp(round(exp(log_d) - 1), min=1)``.

    >>> predicted_durations(torch.log(torch.tensor([1.0, 3.0, 4.4]))).tolist()
    [1, 2, 3]
    """
    return torch.clamp(torch.round(torch.exp(log_dur) - 1).long(), min=1)


def upsample_repeat(signal: torch.Tensor, frames: int) -> torch.Tensor:
    """Repeat each frame of ``signal: [B, C, T]`` ``frames // T`` times -> ``[B, C, frames]``.

    Raises when ``T`` does not divide ``frames`` (fairseq's ``_upsample``).
    """
    t = signal.shape[-1]
    if frames % t:
        raise TextlessError(f"conditioning of {t} frames does not divide {frames} frames")
    return signal.repeat_interleave(frames // t, dim=2) if frames != t else signal


class UnitConditionedVocoder(nn.Module):
    """What every unit vocoder of textless shares: the unit embedding ``dict`` and the optional
    speaker (``spkr``), style, quantized-F0 embeddings and duration predictor built from the
    conditioning fields of ``config`` (those of :class:`VocoderConfig`), the conditioning
    ``[B, model_in_dim, T]`` they make, and the inference API (``synthesize``,
    ``synthesize_stream``) of :class:`textless.pipeline.Vocoder`. Subclasses give ``decode``
    (conditioning -> ``wav [B, T * hop_length]``) and ``decode_stream``.
    """

    def __init__(self, config):
        super().__init__()
        self.config = c = config
        e = c.embedding_dim
        self.dict = nn.Embedding(c.vocab_size, e)
        if c.speaker_embedder_dim > 0:
            self.spkr = nn.Linear(c.speaker_embedder_dim, e)
        elif c.num_speakers > 0:
            self.spkr = nn.Embedding(c.num_speakers, e)
        if c.num_styles > 0:
            self.style = nn.Embedding(c.num_styles, e)
        if c.f0 and c.f0_quant_num_bin > 0:
            self.f0_quant_embed = nn.Embedding(c.f0_quant_num_bin, e)
        if c.duration_predictor:
            self.dur_predictor = DurationPredictor(e, c.dur_hidden_dim, c.dur_kernel_size, c.dur_dropout)

    # ------------------------------------------------------------------ protocol attributes
    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.config.hop_length

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    # ------------------------------------------------------------------ forward
    def conditioning(self, code, f0=None, speaker=None, style=None, dur_prediction=False):
        """``code: [B, T]`` -> conditioning ``[B, model_in_dim, T']`` (see class docstring)."""
        c = self.config
        x = self.dict(code).transpose(1, 2)
        if dur_prediction and c.duration_predictor:
            if x.shape[0] != 1:
                raise TextlessError("duration prediction works on one utterance at a time")
            d = predicted_durations(self.dur_predictor(x.transpose(1, 2)))
            if f0 is not None and f0.shape[-1] == x.shape[-1]:  # one F0 value per unit: expand it too
                f0 = torch.repeat_interleave(f0, d.view(-1), dim=-1)
            x = torch.repeat_interleave(x, d.view(-1), dim=2)
        parts = [x]
        if c.f0:
            if f0 is None:
                raise TextlessError("this vocoder is conditioned on F0: give f0 per frame")
            f = self.f0_quant_embed(f0.long()).transpose(1, 2) if c.f0_quant_num_bin > 0 else f0.unsqueeze(1).to(x.dtype)
            if x.shape[-1] < f.shape[-1]:
                x = upsample_repeat(x, f.shape[-1])
            elif x.shape[-1] > f.shape[-1]:
                f = upsample_repeat(f, x.shape[-1])
            parts = [x, f]
        frames = x.shape[-1]
        if c.has_speakers:
            if speaker is None:
                raise TextlessError("this vocoder has speakers: give a speaker")
            s = self.spkr(speaker.view(-1, 1) if c.speaker_embedder_dim == 0 else speaker.view(x.shape[0], 1, -1))
            parts.append(s.transpose(1, 2).expand(-1, -1, frames))
        if c.num_styles > 0:
            if style is None:
                raise TextlessError("this vocoder has styles: give a style")
            parts.append(self.style(style.view(-1, 1)).transpose(1, 2).expand(-1, -1, frames))
        return torch.cat(parts, dim=1)

    def forward(self, code, f0=None, speaker=None, style=None, dur_prediction=False):
        return self.decode(self.conditioning(code, f0, speaker, style, dur_prediction))

    # ------------------------------------------------------------------ inference API
    @property
    def needs_f0(self) -> bool:
        """True when :meth:`synthesize` needs ``f0`` (the ``Vocoder`` protocol's optional member)."""
        return self.config.f0

    def index_of(self, name_or_index, names: tuple, count: int, what: str) -> int:
        """Resolve a speaker/style given as an index (int or digit string) or a name."""
        if isinstance(name_or_index, str) and not name_or_index.isdigit():
            if name_or_index not in names:
                raise TextlessError(f"unknown {what} {name_or_index!r}; known: {', '.join(names) or 'none'}")
            return names.index(name_or_index)
        i = int(name_or_index)
        if not 0 <= i < count:
            raise TextlessError(f"{what} index {i} out of range 0..{count - 1}")
        return i

    def prepare(self, units: Units, speaker=None, *, f0=None, style=None) -> tuple[torch.Tensor, dict]:
        """Check ``units`` and resolve the inputs of :meth:`synthesize`: ``(code [1, T] int64,
        keyword arguments of forward)``."""
        c = self.config
        if units.vocab_size is not None and units.vocab_size != c.vocab_size:
            raise TextlessError(f"units from a {units.vocab_size}-unit model, vocoder expects {c.vocab_size}")
        if len(units) == 0:
            raise TextlessError(f"{units.id or 'units'}: no units to vocode")
        if int(units.units.max()) >= c.vocab_size:
            raise TextlessError(f"unit {int(units.units.max())} >= vocoder vocabulary {c.vocab_size}")
        device = self.dict.weight.device
        kwargs = {"dur_prediction": False}
        if units.durations is not None:
            code = units.expanded().units
        else:
            code = units.units
            kwargs["dur_prediction"] = c.duration_predictor
        if c.has_speakers:
            if c.speaker_embedder_dim > 0:
                if speaker is None or not torch.is_tensor(speaker):
                    raise TextlessError("this vocoder takes a speaker embedding vector")
                kwargs["speaker"] = speaker.to(device, torch.float32).view(1, -1)
            else:
                i = self.index_of(0 if speaker is None else speaker, c.speakers, c.num_speakers, "speaker")
                kwargs["speaker"] = torch.tensor([i], device=device)
        if c.num_styles > 0:
            i = self.index_of(0 if style is None else style, c.styles, c.num_styles, "style")
            kwargs["style"] = torch.tensor([i], device=device)
        if c.f0:
            if f0 is None:
                raise TextlessError("this vocoder is conditioned on F0: pass f0")
            bins = torch.as_tensor(f0)
            if c.f0_quant_num_bin > 0 and (torch.any(bins != bins.round()) or torch.any(bins < 0)
                                           or torch.any(bins >= c.f0_quant_num_bin)):
                raise TextlessError(f"this vocoder takes quantized F0: bins 0..{c.f0_quant_num_bin - 1} "
                                    "from its F0 quantizer (continuous F0 is not supported)")
            kwargs["f0"] = torch.as_tensor(f0, dtype=torch.float32, device=device).view(1, -1)
        return code.to(device).view(1, -1), kwargs

    @torch.inference_mode()
    def synthesize(self, units: Units, speaker=None, *, f0=None, style=None) -> torch.Tensor:
        """``units`` -> ``wav: [T] float32`` in [-1, 1] at ``sample_rate`` Hz.

        Units with durations are expanded by them; without durations they are vocoded as they
        are, or expanded by the duration predictor when the vocoder has one. ``speaker``/``style``:
        index or name (default index 0 when the vocoder has them). ``f0: [frames]`` values as the
        vocoder was trained with (required when ``config.f0``); with predicted durations, an F0 of
        one value per unit is expanded by the same durations.
        """
        code, kwargs = self.prepare(units, speaker, f0=f0, style=style)
        return self(code, **kwargs)[0].float().clamp(-1.0, 1.0)

    def synthesize_stream(self, units: Units, chunk_frames: int, speaker=None, *, f0=None, style=None):
        """Yield ``wav`` chunks of ``chunk_frames * hop_length`` samples (the last may be shorter)
        whose concatenation equals :meth:`synthesize` (within float rounding, ~1e-7).

        A chunk of frames ``[a, b)`` needs the conditioning only up to frame ``b - 1 +
        lookahead_frames`` (:attr:`lookahead_frames`). The conditioning itself (embedding,
        speaker, F0, and the duration predictor, which sees the whole unit sequence) is computed
        up front: it costs nothing next to the decoder.
        """
        if chunk_frames < 1:
            raise TextlessError(f"chunk_frames must be >= 1, not {chunk_frames}")
        code, kwargs = self.prepare(units, speaker, f0=f0, style=style)
        with torch.inference_mode():
            x = self.conditioning(code, **kwargs)
        for chunk in self.decode_stream(x, chunk_frames):
            yield chunk.float().clamp(-1.0, 1.0)
