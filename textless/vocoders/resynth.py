"""Resynthesis: audio -> units -> audio through a pipeline, or unit files -> wavs through a vocoder."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from ..audio import check_finite, write_audio
from ..errors import TextlessError
from ..ids import safe_file_stem
from ..progress import progress
from ..units import Units, iter_units

log = logging.getLogger(__name__)


def f0_condition(vocoder, wav: np.ndarray, sample_rate: int, num_frames: int) -> torch.Tensor | None:
    """The F0 input an F0-conditioned vocoder expects for ``wav``: ``[num_frames]`` log-F0
    normalised over this utterance's voiced frames (0 = unvoiced); ``None`` for other vocoders."""
    if not vocoder.config.f0:
        return None
    if vocoder.config.f0_quant_num_bin > 0:
        raise TextlessError("vocoders with quantized F0 need F0 bins from their F0 quantizer (not supported)")
    from ..prosody import F0Stats, normalize_f0, unit_aligned_f0

    frame_rate = vocoder.sample_rate / vocoder.hop_length
    f0 = unit_aligned_f0(wav, sample_rate, num_frames, frame_rate)
    if (f0 > 0).sum() < 2:
        return torch.zeros(num_frames)
    return torch.from_numpy(normalize_f0(f0, F0Stats.of([f0])))


def resynthesize_file(pipeline, audio: str | os.PathLike, *, speaker=None, style=None) -> torch.Tensor:
    """Encode ``audio`` with ``pipeline`` and vocode it: ``wav [T]`` at the vocoder's rate.

    Units are deduplicated with durations, so the vocoder reproduces the input's timing.
    F0-conditioned vocoders get the F0 of the input. A vocoder output with NaN or Inf samples
    raises :class:`~textless.errors.NonFiniteAudioError`.
    """
    if pipeline.vocoder is None:
        raise TextlessError(f"{pipeline.name} has no vocoder: choose a pipeline with one")
    wav = pipeline.load(audio)
    units = pipeline.encode(wav, deduplicate=True, id=Path(audio).stem)
    voc = pipeline.vocoder
    kwargs = {}
    if hasattr(voc, "config"):
        f0 = f0_condition(voc, wav, pipeline.sample_rate, units.num_frames)
        if f0 is not None:
            kwargs["f0"] = f0
        if style is not None:
            kwargs["style"] = style
    wav = voc.synthesize(units, speaker=speaker, **kwargs)
    check_finite(wav, f"{audio}: the vocoder's output")  # NaN would be written as full-scale clicks
    return wav


def vocode_units(vocoder, units_path: str | os.PathLike, out_dir: str | os.PathLike, *, speaker=None,
                 style=None, format: str | None = None, show_progress: bool = True) -> list[Path]:
    """Vocode every utterance of a unit file into ``out_dir/<id>.wav``; returns the paths."""
    out_dir = Path(out_dir)
    utterances: list[Units] = list(iter_units(units_path, format))
    if not utterances:
        raise TextlessError(f"{units_path}: no utterances")
    if getattr(getattr(vocoder, "config", None), "f0", False):
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
