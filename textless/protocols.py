"""The component protocols: the seams between stages.

Every encoder, quantizer, unit LM and vocoder of textless implements one of them; the
:class:`~textless.pipeline.Pipeline` only talks through them. Stages may import this module
(it imports no stage and no pipeline).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from .units import Units


@runtime_checkable
class Encoder(Protocol):
    """Dense features from audio.

    ``sample_rate`` (Hz) of the input, ``frame_rate`` (Hz) of the output,
    ``receptive_field`` (samples): the shortest input that yields one frame. Optional members
    the pipeline checks when present: ``dim`` (feature channels) and ``num_layers`` (valid
    ``layer`` values are ``0 .. num_layers``).
    """

    sample_rate: int
    frame_rate: float
    receptive_field: int

    def features(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, layer: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav: [B, T] float32`` (+ valid ``lengths: [B]`` samples) -> ``([B, F, D], [B] frames)``.

        ``layer`` counts from 1 (fairseq's ``output_layer``); encoders without layers ignore it.
        """
        ...


@runtime_checkable
class Quantizer(Protocol):
    """Nearest-centroid assignment: ``vocab_size`` centroids of dimension ``dim``.

    Optional: ``cfg.layer``, the encoder layer it was trained on (checked against the pipeline's).
    """

    vocab_size: int
    dim: int

    def assign(self, feats: torch.Tensor) -> torch.Tensor:
        """``feats: [..., D] float`` -> ``[...] int64`` unit ids."""
        ...


@runtime_checkable
class Vocoder(Protocol):
    """Units to waveform: ``hop_length`` samples per unit frame at ``sample_rate`` Hz.

    Optional members the pipeline reads: ``needs_f0`` (default False): ``synthesize`` then
    takes ``f0=[frames]`` log-F0 normalised over voiced frames, 0 where unvoiced (see
    :func:`textless.prosody.utterance_f0`), which :meth:`Pipeline.resynthesize` extracts from
    the audio; ``synthesize`` may take ``style=`` (a name or index) too.
    """

    sample_rate: int
    hop_length: int
    vocab_size: int

    def synthesize(self, units: Units, speaker: int | str | None = None) -> torch.Tensor:
        """``units`` (expanded by their durations, or by a duration predictor) -> ``wav: [T]``."""
        ...


@runtime_checkable
class UnitLanguageModel(Protocol):
    """A unit LM over unit ids ``0 .. vocab_size - 1`` (specials are its own business)."""

    vocab_size: int
