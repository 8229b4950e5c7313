"""Unit HiFi-GAN generator with the semantics of fairseq/textlesslib ``CodeGenerator``.

Units -> embedding ``[B, E, T]`` -> (duration predictor: repeat each unit by its predicted
frames) -> concatenation of conditioning channels in the order **code, f0, speaker, style** ->
HiFi-GAN body (``conv_pre``, transposed-conv upsampling + multi-receptive-field resblocks,
``leaky_relu(0.01)``, ``conv_post``, ``tanh``) -> ``wav: [B, T * hop_length]``.

The modules hold plain ``weight`` tensors (weight norm folded). Training wraps them with
:func:`apply_weight_norm` and :func:`remove_weight_norm` folds them back (``w = g * v / |v|``,
norm over all dims but 0), which is what the official wrappers do at inference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import TextlessError
from ..units import Units

log = logging.getLogger(__name__)
LRELU_SLOPE = 0.1


@dataclass(frozen=True)
class VocoderConfig:
    """Architecture of a unit HiFi-GAN.

    ``vocab_size`` units embedded in ``embedding_dim`` channels; ``upsample_rates`` multiply to
    ``hop_length`` (samples per frame at ``sample_rate`` Hz). ``num_speakers``/``num_styles`` > 0
    add embeddings of ``embedding_dim`` channels (``speaker_embedder_dim`` > 0 makes the speaker
    a ``Linear`` over external speaker vectors instead). ``f0``: one continuous F0 channel, or an
    embedding of ``f0_quant_num_bin`` bins when that is > 0. ``duration_predictor`` adds
    fairseq's ``VariancePredictor`` (``dur_*`` fields). ``speakers``/``styles`` name the indices.
    """

    vocab_size: int = 100
    embedding_dim: int = 128
    sample_rate: int = 16000
    upsample_rates: tuple = (5, 4, 4, 2, 2)
    upsample_kernel_sizes: tuple = (11, 8, 8, 4, 4)
    upsample_initial_channel: int = 512
    resblock: str = "1"
    resblock_kernel_sizes: tuple = (3, 7, 11)
    resblock_dilation_sizes: tuple = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
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

    def __post_init__(self):
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise TextlessError("upsample_rates and upsample_kernel_sizes differ in length")
        for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes):
            if k < u or (k - u) % 2:
                raise TextlessError(f"upsample kernel {k} for rate {u}: need k >= u and k - u even")
        if self.resblock not in ("1", "2"):
            raise TextlessError(f"resblock must be '1' or '2', not {self.resblock!r}")
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            raise TextlessError("upsample_initial_channel must be divisible by 2**len(upsample_rates)")

    @property
    def hop_length(self) -> int:
        """Samples per conditioning frame: the product of ``upsample_rates``."""
        h = 1
        for u in self.upsample_rates:
            h *= u
        return h

    @property
    def has_speakers(self) -> bool:
        return self.num_speakers > 0 or self.speaker_embedder_dim > 0

    @property
    def model_in_dim(self) -> int:
        """Channels into ``conv_pre``: code + f0 + speaker + style."""
        e = self.embedding_dim
        f0 = (e if self.f0_quant_num_bin > 0 else 1) if self.f0 else 0
        return e + f0 + (e if self.has_speakers else 0) + (e if self.num_styles > 0 else 0)


def conv_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a dilated conv with odd kernel: ``(k * d - d) // 2``."""
    return (kernel_size * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """Three ``x + c2(lrelu(c1(lrelu(x))))`` steps, ``c1`` dilated by ``dilation[j]``."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=conv_padding(kernel_size, d))
            for d in dilation
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=1, padding=conv_padding(kernel_size))
            for _ in dilation
        )

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = xt + x
        return x


class ResBlock2(nn.Module):
    """Two ``x + c(lrelu(x))`` steps (speech-resynthesis ``resblock: "2"``)."""

    def __init__(self, channels: int, kernel_size: int, dilation: tuple):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=conv_padding(kernel_size, d))
            for d in dilation[:2]
        )

    def forward(self, x):
        for c in self.convs:
            x = c(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x


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


class UnitHiFiGAN(nn.Module):
    """Unit HiFi-GAN generator; implements :class:`textless.pipeline.Vocoder`.

    ``forward(code [B, T] int64, f0=None [B, T_f0], speaker=None [B] int64 or [B, D] float,
    style=None [B] int64) -> wav [B, T_max * hop_length]`` where ``T_max`` is the longer of the
    code and f0 streams (the shorter one is repeated to match; lengths must divide).
    """

    def __init__(self, config: VocoderConfig):
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
        ch0 = c.upsample_initial_channel
        self.conv_pre = nn.Conv1d(c.model_in_dim, ch0, 7, 1, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(c.upsample_rates, c.upsample_kernel_sizes))
        )
        block = ResBlock1 if c.resblock == "1" else ResBlock2
        self.resblocks = nn.ModuleList(
            block(ch0 // 2 ** (i + 1), k, tuple(d))
            for i in range(len(c.upsample_rates))
            for k, d in zip(c.resblock_kernel_sizes, c.resblock_dilation_sizes)
        )
        self.conv_post = nn.Conv1d(ch0 // 2 ** len(c.upsample_rates), 1, 7, 1, padding=3)

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

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """HiFi-GAN body: conditioning ``[B, model_in_dim, T]`` -> ``wav [B, T * hop_length]``."""
        x = self.conv_pre(x)
        nk = len(self.config.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            xs = self.resblocks[i * nk](x)
            for j in range(1, nk):
                xs = xs + self.resblocks[i * nk + j](x)
            x = xs / nk
        x = self.conv_post(F.leaky_relu(x))  # default slope 0.01, as in the original
        return torch.tanh(x).squeeze(1)

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

    @torch.inference_mode()
    def synthesize(self, units: Units, speaker=None, *, f0=None, style=None) -> torch.Tensor:
        """``units`` -> ``wav: [T] float32`` in [-1, 1] at ``sample_rate`` Hz.

        Units with durations are expanded by them; without durations they are vocoded as they
        are, or expanded by the duration predictor when the vocoder has one. ``speaker``/``style``:
        index or name (default index 0 when the vocoder has them). ``f0: [frames]`` values as the
        vocoder was trained with (required when ``config.f0``); with predicted durations, an F0 of
        one value per unit is expanded by the same durations.
        """
        c = self.config
        if units.vocab_size is not None and units.vocab_size != c.vocab_size:
            raise TextlessError(f"units from a {units.vocab_size}-unit model, vocoder expects {c.vocab_size}")
        if len(units) == 0:
            raise TextlessError(f"{units.id or 'units'}: no units to vocode")
        if int(units.units.max()) >= c.vocab_size:
            raise TextlessError(f"unit {int(units.units.max())} >= vocoder vocabulary {c.vocab_size}")
        device = self.dict.weight.device
        dur_prediction = False
        if units.durations is not None:
            code = units.expanded().units
        else:
            code = units.units
            dur_prediction = c.duration_predictor
        kwargs = {}
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
        wav = self(code.to(device).view(1, -1), dur_prediction=dur_prediction, **kwargs)
        return wav[0].float()


# ---------------------------------------------------------------------------- weight norm
def _norm_convs(model: nn.Module):
    skip = getattr(model, "dur_predictor", None)
    skipped = set() if skip is None else {id(m) for m in skip.modules()}
    return [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) and id(m) not in skipped]


def apply_weight_norm(model: UnitHiFiGAN) -> UnitHiFiGAN:
    """Wrap every HiFi-GAN conv (not the duration predictor) in weight norm, in place.

    ``ConvTranspose1d`` weights are ``[in, out, k]`` and, like the original, are normalised over
    dim 0 as well.
    """
    from torch.nn.utils.parametrizations import weight_norm

    for m in _norm_convs(model):
        weight_norm(m, dim=0)
    return model


def remove_weight_norm(model: nn.Module) -> nn.Module:
    """Fold weight-norm parametrizations into plain weights (``w = g * v / |v|``), in place."""
    from torch.nn.utils import parametrize

    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return model


def fold_weight_norm(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``g * v / ||v||`` with the norm over all dims but 0 (old ``weight_norm(dim=0)`` keys)."""
    return torch._weight_norm(v, g, 0)
