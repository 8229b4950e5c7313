"""The one audio -> trimmed features path: pad a list of waveforms, run an encoder, cut each
item's frames back to its own length.

:meth:`textless.pipeline.Pipeline.features` calls :func:`features_of`; so do the stages that
have an encoder but no pipeline (k-means training, feature extraction of a corpus).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..bf16 import use_bf16


def encoder_autocast(device, bf16: bool | str):
    """Context in which an encoder runs its matrix products in bfloat16 (CPU or CUDA autocast; the
    HuBERT conv front-end follows it too) when :func:`textless.bf16.use_bf16` says so: ``True``
    (auto) on CUDA and on CPUs with avx512_bf16/AMX, ``"force"`` anywhere. There it measured ~1.5x
    faster than fp32 with 99.97 % frame-label agreement (BENCHMARKS.md) and features come out in
    bfloat16; an AVX2-only CPU emulates bf16 ~40x slower, so auto runs fp32 there (one warning)."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                          enabled=use_bf16(device, bf16))


def pad_batch(wavs: Sequence[np.ndarray | torch.Tensor], device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Waveforms ``[T_i]`` -> ``(batch [B, max T_i] float32, lengths [B] int64 samples)`` on
    ``device``, zero-padded at the end.

    >>> b, n = pad_batch([np.ones(3), np.ones(1)])
    >>> b.tolist(), n.tolist()
    ([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]], [3, 1])
    """
    tensors = [torch.as_tensor(np.asarray(w), dtype=torch.float32).reshape(-1) for w in wavs]
    lengths = torch.tensor([t.numel() for t in tensors], dtype=torch.long)
    batch = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)
    return batch.to(device), lengths.to(device)


@torch.inference_mode()
def features_of(
    encoder, wavs: Sequence[np.ndarray | torch.Tensor] | torch.Tensor, layer: int | None = None, *,
    lengths: torch.Tensor | None = None, device="cpu",
) -> list[torch.Tensor]:
    """Dense features of each waveform, trimmed to its own frames: ``[F_i, D] float32`` on
    ``device``.

    ``wavs``: a sequence of ``[T_i]`` waveforms at ``encoder.sample_rate`` Hz (padded into one
    batch here), or an already padded ``[B, T]`` tensor with valid ``lengths: [B]`` samples
    (default: all ``T``). ``layer`` counts from 1 (see ``Encoder.features``). ``F_i`` is what the
    encoder reports for ``T_i`` samples, so a padded batch gives each item the frames it has
    alone. Mixed precision is the caller's: run this inside an autocast context (the pipeline's
    ``bf16``); features are returned as float32 either way.
    """
    if isinstance(wavs, torch.Tensor) and wavs.dim() == 2:
        batch = wavs.to(device, torch.float32)
        if lengths is None:
            lengths = torch.full((batch.shape[0],), batch.shape[1], dtype=torch.long)
        lengths = torch.as_tensor(lengths, dtype=torch.long).to(device)
    else:
        if lengths is not None:
            raise ValueError("lengths go with a padded [B, T] tensor, not a list of waveforms")
        batch, lengths = pad_batch(wavs, device)
    feats, frames = encoder.features(batch, lengths, layer)
    return [feats[i, : int(n)].float() for i, n in enumerate(frames.tolist())]
