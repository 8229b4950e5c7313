"""Streaming synthesis: a conditioning ``x: [1, C, T]`` (T unit frames) decoded chunk by chunk.

Two ways, one per architecture (docs/vocoder.md, "Streaming"):

* **By context** (unit HiFi-GAN): the output samples of frame ``j`` depend on the frames
  ``j - R .. j + R`` only (``R`` = :func:`hifigan_context_frames`, the receptive field of the
  convolution stack). A chunk of frames ``[a, b)`` is decoded from ``x[a - R : b + R]`` and its
  own ``(b - a) * hop`` samples are kept. Look-ahead: ``R`` frames beyond the chunk.
* **By overlap-add** (UnitVocos): the backbone makes one complex STFT frame per unit frame and
  looks ``lookahead`` frames ahead; the inverse STFT overlap-adds windowed frames. A chunk
  computes the STFT frames it newly needs (with the backbone's left context), adds them into a
  running overlap-add buffer, and emits the samples that no later frame can change.

Both give, concatenated, the whole-utterance output within float rounding (tests check 1e-4).
"""

from __future__ import annotations

import math

import torch


def hifigan_context_frames(config) -> int:
    """Receptive half-width, in unit frames, of a unit HiFi-GAN decoder (``VocoderConfig``).

    Summed over the layers, each converted to frames at its own sample rate: ``conv_pre`` (k 7),
    per upsampling stage the transposed conv (``max(k - 1 - p, p) / u + 1`` input samples) and the
    widest multi-receptive-field block (ResBlock1: ``sum_d (d + 1)(k - 1) / 2``; ResBlock2:
    ``sum_d d (k - 1) / 2``), and ``conv_post`` (k 7); rounded up, plus one frame of margin.

    >>> from textless.vocoders.hifigan import VocoderConfig
    >>> hifigan_context_frames(VocoderConfig())  # V1 size, 16 kHz, hop 320
    24
    """
    frames = 3.0  # conv_pre, kernel 7, at frame rate
    per_frame = 1
    for u, k in zip(config.upsample_rates, config.upsample_kernel_sizes):
        p = (k - u) // 2
        frames += (max(k - 1 - p, p) / u + 1) / per_frame
        per_frame *= u
        widest = 0.0
        for rk, dil in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes):
            if config.resblock == "1":
                widest = max(widest, sum((d + 1) * (rk - 1) / 2 for d in dil))
            else:
                widest = max(widest, sum(d * (rk - 1) / 2 for d in dil[:2]))
        frames += widest / per_frame
    frames += 3 / per_frame  # conv_post
    return math.ceil(frames) + 1


def stream_by_context(decode, x: torch.Tensor, chunk_frames: int, hop: int, context: int):
    """Yield ``decode(x)[0]`` in chunks of ``chunk_frames`` frames, each decoded from its frames
    plus ``context`` frames on both sides (clipped at the ends of ``x: [1, C, T]``)."""
    total = x.shape[-1]
    for a in range(0, total, chunk_frames):
        b = min(a + chunk_frames, total)
        lo, hi = max(0, a - context), min(total, b + context)
        with torch.inference_mode():
            wav = decode(x[..., lo:hi])
        yield wav[0, (a - lo) * hop:(b - lo) * hop]


def overlap_add(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """``frames: [B, n_fft, N]`` placed every ``hop`` samples and summed -> ``[B, (N - 1) * hop + n_fft]``."""
    n_fft, n = frames.shape[1], frames.shape[2]
    out = torch.nn.functional.fold(frames, output_size=(1, (n - 1) * hop + n_fft), kernel_size=(1, n_fft),
                                   stride=(1, hop))
    return out[:, 0, 0, :]


def stream_by_overlap_add(vocos, x: torch.Tensor, chunk_frames: int):
    """Yield ``vocos.decode(x)[0]`` chunk by chunk (see the module docstring).

    ``vocos`` is a :class:`textless.vocoders.vocos.UnitVocos`; ``x: [1, C, T]`` its conditioning.
    STFT frame ``t`` covers (untrimmed) samples ``[t * hop, t * hop + n_fft)``; output sample
    ``s`` is untrimmed sample ``s + pad``, final once the frames up to ``(s + pad) // hop`` are in.
    """
    c = vocos.config
    hop, pad = c.hop_length, c.istft_padding
    total = x.shape[-1]
    envelope = vocos.envelope(total, x.device)  # [T * hop]
    acc = x.new_zeros(1, 0)  # overlap-add sums of untrimmed samples acc_start, acc_start + 1, ...
    acc_start, next_frame = 0, 0
    for a in range(0, total, chunk_frames):
        b = min(a + chunk_frames, total)
        last = min(total - 1, (b * hop + pad - 1) // hop)  # the last STFT frame that touches the chunk
        if last >= next_frame:
            lo = max(0, next_frame - c.left_context)
            hi = min(total, last + 1 + c.lookahead)
            with torch.inference_mode():
                spec = vocos.spectrum(x[..., lo:hi])[..., next_frame - lo:last + 1 - lo]
                ola = overlap_add(vocos.frames(spec), hop)  # untrimmed samples from next_frame * hop
            start = next_frame * hop - acc_start
            if acc.shape[-1] < start + ola.shape[-1]:
                acc = torch.cat([acc, acc.new_zeros(1, start + ola.shape[-1] - acc.shape[-1])], dim=-1)
            acc[:, start:start + ola.shape[-1]] += ola
            next_frame = last + 1
        u0, u1 = a * hop + pad - acc_start, b * hop + pad - acc_start
        yield acc[0, u0:u1] / envelope[a * hop:b * hop]
        acc, acc_start = acc[:, u1:], acc_start + u1
