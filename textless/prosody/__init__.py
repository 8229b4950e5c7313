"""Prosody: F0 extraction (pyworld), unit-aligned F0, per-speaker normalisation."""

from .f0 import F0Stats, denormalize_f0, extract_f0, normalize_f0, speaker_stats, unit_aligned_f0, utterance_f0

__all__ = ["F0Stats", "denormalize_f0", "extract_f0", "normalize_f0", "speaker_stats", "unit_aligned_f0", "utterance_f0"]
