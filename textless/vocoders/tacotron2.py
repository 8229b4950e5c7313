"""GSLM's unit-to-speech Tacotron2 (NVIDIA Tacotron2 with optional observed/latent embeddings).

Module names mirror the official ``model_dict`` so an official state dict loads with the identity
mapping (:mod:`textless.vocoders.gslm_import`). Semantics (docs/gslm_unit2speech.md):

* ``embedding`` of the unit tokens -> ``encoder``: ``encoder_n_convolutions`` x [conv (k5, same
  padding), BatchNorm, ReLU] then a bidirectional LSTM (``encoder_embedding_dim / 2`` per side);
* ``decoder``: autoregressive over mel frames. Each step: ``prenet`` (2 x [Linear without bias,
  ReLU, dropout p=0.5 **always on**, also at inference, as the reference]) of the previous frame
  (a zero "go" frame first), ``attention_rnn`` LSTMCell on [prenet, context], location-sensitive
  attention (``v(tanh(q(h) + location_dense(location_conv([w_prev, w_cum])) + memory_layer(mem)))``,
  softmax over input positions), ``decoder_rnn`` LSTMCell on [h_att, context (, obs/lat)], then
  ``linear_projection`` -> mel frame and ``gate_layer`` -> stop logit;
* inference stops after the first step whose ``sigmoid(gate) > gate_threshold``, or after
  ``max_decoder_steps`` frames;
* ``postnet``: 5 convs (tanh on all but the last) whose output is added to the mel.

Shapes: ``tokens: [B, N] int64`` -> mel ``[B, n_mel_channels, T]`` (log-magnitude mel at
``sampling_rate / 256`` frames per second for the LJSpeech models).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

KIND = "vocoder.tacotron2"


@dataclass(frozen=True)
class Tacotron2Config:
    """NVIDIA/GSLM ``hparams`` names. ``obs_dim`` > 0 adds an observed-label embedding
    (``obs_n_class`` labels); ``lat_dim`` > 0 a latent vector that inference sets to zeros."""

    n_symbols: int = 102
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    n_mel_channels: int = 80
    n_frames_per_step: int = 1
    attention_rnn_dim: int = 1024
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    max_decoder_steps: int = 2000
    gate_threshold: float = 0.5
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    obs_dim: int = 0
    obs_n_class: int = 1
    lat_dim: int = 0
    mask_padding: bool = True
    sampling_rate: int = 22050
    prenet_dropout: float = 0.5


class _Lin(nn.Module):
    def __init__(self, i, o, bias=True):
        super().__init__()
        self.linear_layer = nn.Linear(i, o, bias=bias)

    def forward(self, x):
        return self.linear_layer(x)


class _Conv(nn.Module):
    def __init__(self, i, o, k, bias=True):
        super().__init__()
        self.conv = nn.Conv1d(i, o, k, padding=(k - 1) // 2, bias=bias)

    def forward(self, x):
        return self.conv(x)


def _conv_bn(i, o, k):
    return nn.Sequential(_Conv(i, o, k), nn.BatchNorm1d(o))


class _Encoder(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        d = c.encoder_embedding_dim
        self.convolutions = nn.ModuleList(_conv_bn(d, d, c.encoder_kernel_size) for _ in range(c.encoder_n_convolutions))
        self.lstm = nn.LSTM(d, d // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, x, lengths=None):
        """``x: [B, D, N]`` -> ``[B, N, D]``; ``lengths`` (sorted descending) packs the batch."""
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x)), 0.5, self.training)
        x = x.transpose(1, 2)
        if lengths is None:
            return self.lstm(x)[0]
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True)
        return nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=x.shape[1])[0]


class _LocationLayer(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.location_conv = _Conv(2, c.attention_location_n_filters, c.attention_location_kernel_size, bias=False)
        self.location_dense = _Lin(c.attention_location_n_filters, c.attention_dim, bias=False)

    def forward(self, w):
        return self.location_dense(self.location_conv(w).transpose(1, 2))


class _Attention(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.query_layer = _Lin(c.attention_rnn_dim, c.attention_dim, bias=False)
        self.memory_layer = _Lin(c.encoder_embedding_dim, c.attention_dim, bias=False)
        self.v = _Lin(c.attention_dim, 1, bias=False)
        self.location_layer = _LocationLayer(c)

    def forward(self, query, memory, processed_memory, weights_cat, mask):
        energies = self.v(torch.tanh(self.query_layer(query[:, None]) + self.location_layer(weights_cat)
                                     + processed_memory)).squeeze(-1)
        if mask is not None:
            energies = energies.masked_fill(mask, float("-inf"))
        w = F.softmax(energies, dim=1)
        return torch.bmm(w[:, None], memory)[:, 0], w


class _Prenet(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        sizes = [c.n_mel_channels * c.n_frames_per_step, c.prenet_dim, c.prenet_dim]
        self.layers = nn.ModuleList(_Lin(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:]))
        self.p = c.prenet_dropout

    def forward(self, x):
        for lin in self.layers:  # dropout stays on at inference (the reference's training=True)
            x = F.dropout(F.relu(lin(x)), p=self.p, training=True)
        return x


class _Decoder(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.c = c
        extra = c.encoder_embedding_dim + c.lat_dim + c.obs_dim
        self.prenet = _Prenet(c)
        self.attention_rnn = nn.LSTMCell(c.prenet_dim + c.encoder_embedding_dim, c.attention_rnn_dim)
        self.attention_layer = _Attention(c)
        self.decoder_rnn = nn.LSTMCell(c.attention_rnn_dim + extra, c.decoder_rnn_dim)
        self.linear_projection = _Lin(c.decoder_rnn_dim + extra, c.n_mel_channels * c.n_frames_per_step)
        self.gate_layer = _Lin(c.decoder_rnn_dim + extra, 1)

    def _init(self, memory, cond, mask):
        b, n, d = memory.shape
        z = memory.new_zeros
        self.s = dict(ah=z(b, self.c.attention_rnn_dim), ac=z(b, self.c.attention_rnn_dim),
                      dh=z(b, self.c.decoder_rnn_dim), dc=z(b, self.c.decoder_rnn_dim),
                      w=z(b, n), wcum=z(b, n), ctx=z(b, d), memory=memory,
                      pmem=self.attention_layer.memory_layer(memory), cond=cond, mask=mask)

    def _step(self, prenet_out):
        s = self.s
        s["ah"], s["ac"] = self.attention_rnn(torch.cat((prenet_out, s["ctx"]), -1), (s["ah"], s["ac"]))
        s["ah"] = F.dropout(s["ah"], 0.1, self.training)
        cat = torch.stack((s["w"], s["wcum"]), dim=1)
        s["ctx"], s["w"] = self.attention_layer(s["ah"], s["memory"], s["pmem"], cat, s["mask"])
        s["wcum"] = s["wcum"] + s["w"]
        inp = torch.cat((s["ah"], s["ctx"]) + (() if s["cond"] is None else (s["cond"],)), -1)
        s["dh"], s["dc"] = self.decoder_rnn(inp, (s["dh"], s["dc"]))
        s["dh"] = F.dropout(s["dh"], 0.1, self.training)
        out = torch.cat((s["dh"], s["ctx"]) + (() if s["cond"] is None else (s["cond"],)), 1)
        return self.linear_projection(out), self.gate_layer(out), s["w"]

    @staticmethod
    def _outputs(mels, gates, aligns, n_mel):
        mel = torch.stack(mels, 1)  # [B, T, n_mel * frames_per_step]
        return mel.reshape(mel.shape[0], -1, n_mel).transpose(1, 2), torch.cat(gates, 1), torch.stack(aligns, 1)

    def forward(self, memory, cond, mels, memory_lengths=None):
        """Teacher forcing: ``mels: [B, n_mel, T]`` -> (mel ``[B, n_mel, T]``, gate ``[B, T]``,
        alignments ``[B, T, N]``). The prenet runs on all T + 1 inputs at once."""
        b = memory.shape[0]
        frames = mels.transpose(1, 2).reshape(b, mels.shape[2] // self.c.n_frames_per_step, -1).transpose(0, 1)
        inputs = self.prenet(torch.cat((memory.new_zeros(1, b, frames.shape[2]), frames), 0))
        mask = None
        if memory_lengths is not None:
            mask = torch.arange(memory.shape[1], device=memory.device)[None] >= memory_lengths[:, None].to(memory.device)
        self._init(memory, cond, mask)
        outs = [self._step(inputs[t]) for t in range(inputs.shape[0] - 1)]
        return self._outputs(*zip(*outs), self.c.n_mel_channels)

    def inference(self, memory, cond, max_steps: int):
        """Free running from a zero frame; returns (mel, gate, alignments, has_eos)."""
        x = memory.new_zeros(memory.shape[0], self.c.n_mel_channels * self.c.n_frames_per_step)
        self._init(memory, cond, None)
        mels, gates, aligns, has_eos = [], [], [], False
        while True:
            mel, gate, w = self._step(self.prenet(x))
            mels.append(mel), gates.append(gate), aligns.append(w)
            if torch.sigmoid(gate) > self.c.gate_threshold:
                has_eos = True
                break
            if len(mels) == max_steps:
                break
            x = mel
        return (*self._outputs(mels, gates, aligns, self.c.n_mel_channels), has_eos)


class _Postnet(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        n, d, k = c.n_mel_channels, c.postnet_embedding_dim, c.postnet_kernel_size
        dims = [n] + [d] * (c.postnet_n_convolutions - 1) + [n]
        self.convolutions = nn.ModuleList(_conv_bn(a, b, k) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, conv in enumerate(self.convolutions):
            x = conv(x)
            x = F.dropout(x if i == len(self.convolutions) - 1 else torch.tanh(x), 0.5, self.training)
        return x


class Tacotron2(nn.Module):
    """Unit tokens -> mel spectrogram. Build with :class:`Tacotron2Config`; weights come from
    :func:`textless.vocoders.gslm_import.load_tacotron`."""

    def __init__(self, cfg: Tacotron2Config = Tacotron2Config()):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.n_symbols, cfg.symbols_embedding_dim)
        self.obs_embedding = nn.Embedding(cfg.obs_n_class, cfg.obs_dim) if cfg.obs_dim > 0 else None
        self.encoder = _Encoder(cfg)
        self.decoder = _Decoder(cfg)
        self.postnet = _Postnet(cfg)

    def _cond(self, b, device, dtype, obs_labels):
        parts = []
        if self.obs_embedding is not None:
            labels = torch.zeros(b, dtype=torch.long, device=device) if obs_labels is None else obs_labels
            parts.append(self.obs_embedding(labels.to(device)))
        if self.cfg.lat_dim > 0:
            parts.append(torch.zeros(b, self.cfg.lat_dim, device=device, dtype=dtype))
        return torch.cat(parts, -1) if parts else None

    def forward(self, tokens, lengths, mels, output_lengths=None, obs_labels=None):
        """Teacher forcing. ``tokens: [B, N]`` with ``lengths: [B]`` sorted descending, ``mels:
        [B, n_mel, T]`` -> ``(mel, mel_postnet, gate [B, T], alignments [B, T, N])``; frames past
        ``output_lengths`` are masked (mel 0, gate 1e3) when ``mask_padding``. The latent
        encoder of ``lat_dim`` models is not run: the latent is zeros, as at inference."""
        memory = self.encoder(self.embedding(tokens).transpose(1, 2), lengths)
        cond = self._cond(tokens.shape[0], tokens.device, memory.dtype, obs_labels)
        mel, gate, align = self.decoder(memory, cond, mels, lengths)
        post = mel + self.postnet(mel)
        if self.cfg.mask_padding and output_lengths is not None:
            pad = torch.arange(mel.shape[2], device=mel.device)[None] >= output_lengths[:, None].to(mel.device)
            mel, post = mel.masked_fill(pad[:, None], 0.0), post.masked_fill(pad[:, None], 0.0)
            gate = gate.masked_fill(pad, 1e3)
        return mel, post, gate, align

    @torch.no_grad()
    def inference(self, tokens, obs_labels=None, max_decoder_steps: int | None = None):
        """``tokens: [1, N]`` -> ``(mel, mel_postnet [1, n_mel, T], gate [1, T], alignments
        [1, T, N], has_eos)``; ``T <= max_decoder_steps`` (default from the config). Stochastic
        (prenet dropout): seed ``torch.manual_seed`` for repeatable output."""
        memory = self.encoder(self.embedding(tokens).transpose(1, 2))
        cond = self._cond(tokens.shape[0], tokens.device, memory.dtype, obs_labels)
        steps = self.cfg.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        mel, gate, align, has_eos = self.decoder.inference(memory, cond, steps)
        return mel, mel + self.postnet(mel), gate, align, has_eos


__all__ = ["Tacotron2", "Tacotron2Config", "KIND"]
