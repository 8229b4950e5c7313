"""Resynthesis: audio -> units -> audio through a pipeline, or unit files -> wavs through a vocoder."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from ..audio import check_finite, write_audio
from ..errors import TextlessError
from ..ids import safe_file_stem
from ..progress import progress
from ..units import Units, iter_units

log = logging.getLogger(__name__)


def resynthesize_file(pipeline, audio: str | os.PathLike, *, speaker=None, style=None) -> torch.Tensor:
    """Encode ``audio`` with ``pipeline`` (a :class:`textless.pipeline.Pipeline`) and vocode it:
    ``wav [T]`` at the vocoder's rate.

    Units are deduplicated with durations, so the vocoder reproduces the input's timing;
    F0-conditioned vocoders get the F0 of the input (:meth:`Pipeline.resynthesize`). A vocoder
    output with NaN or Inf samples raises :class:`~textless.errors.NonFiniteAudioError`.
    """
    if pipeline.vocoder is None:
        raise TextlessError(f"{pipeline.name} has no vocoder: choose a pipeline with one")
    wav = pipeline.load(audio)
    units = pipeline.encode(wav, deduplicate=True, id=Path(audio).stem)
    out = pipeline.resynthesize(units, wav=wav, speaker=speaker, style=style)
    check_finite(out, f"{audio}: the vocoder's output")  # NaN would be written as full-scale clicks
    return out


def vocode_units(vocoder, units_path: str | os.PathLike, out_dir: str | os.PathLike, *, speaker=None,
                 style=None, format: str | None = None, show_progress: bool = True) -> list[Path]:
    """Vocode every utterance of a unit file into ``out_dir/<id>.wav``; returns the paths."""
    out_dir = Path(out_dir)
    utterances: list[Units] = list(iter_units(units_path, format))
    if not utterances:
        raise TextlessError(f"{units_path}: no utterances")
    if getattr(vocoder, "needs_f0", False):  # optional member of the Vocoder protocol
        raise TextlessError("this vocoder is conditioned on F0, which a unit file does not carry: "
                            "resynthesize from audio with --model instead")
    # every name is checked before any work: an id from the unit file must not leave out_dir
    names = [safe_file_stem(u.id) if u.id else f"utt{i:06d}" for i, u in enumerate(utterances)]
    written = []
    kwargs = {} if style is None else {"style": style}
    for i, u in enumerate(progress(utterances, desc="vocoding", unit="utt", enabled=show_progress)):
        if u.frame_rate is not None and abs(u.frame_rate - vocoder.sample_rate / vocoder.hop_length) > 1e-6:
            raise TextlessError(
                f"{u.id}: units at {u.frame_rate:g} Hz, the vocoder expects "
                f"{vocoder.sample_rate / vocoder.hop_length:g} Hz"
            )
        wav = vocoder.synthesize(u, speaker=speaker, **kwargs)
        written.append(write_audio(out_dir / f"{names[i]}.wav", wav, vocoder.sample_rate,
                                   what=f"{names[i]}: the vocoder's output"))
    return written
