"""Generator presets of ``textless train vocoder --config``: ``small`` / ``v1`` HiFi-GANs, ``small``
/ ``base`` UnitVocos, or a JSON file of config fields; the upsampling plan of a hop."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..errors import TextlessError
from .hifigan import VocoderConfig


def upsample_plan(hop_length: int) -> tuple[tuple, tuple]:
    """Upsample rates (product ``hop_length``) and kernels (``2u`` or ``2u + 1``, so ``k - u`` is
    even): factors 5 and 3 first, then 4s, then a 2.

    >>> upsample_plan(320)
    ((5, 4, 4, 4), (11, 8, 8, 8))
    >>> upsample_plan(160)
    ((5, 4, 4, 2), (11, 8, 8, 4))
    """
    n, rates = hop_length, []
    for p in (7, 5, 3):
        while n % p == 0:
            rates.append(p)
            n //= p
    while n % 4 == 0:
        rates.append(4)
        n //= 4
    if n % 2 == 0:
        rates.append(2)
        n //= 2
    if n != 1 or not rates:
        raise TextlessError(f"hop of {hop_length} samples cannot be factored into upsampling rates 2-7")
    return tuple(rates), tuple(2 * u if u % 2 == 0 else 2 * u + 1 for u in rates)


def generator_config(preset: str, *, vocab_size: int, sample_rate: int, hop_length: int, arch: str = "hifigan",
                     **extra):
    """hifigan: ``"small"`` (128 channels, CPU-trainable), ``"v1"`` (HiFi-GAN V1: 512 channels) or a
    JSON file of :class:`VocoderConfig` fields. vocos: ``"small"`` or ``"base"``
    (:func:`~textless.vocoders.vocos.vocos_config`) or a JSON file of ``VocosConfig`` fields.
    ``vocab_size``/``sample_rate`` (and the Vocos ``hop_length``) come from the data."""
    base = dict(vocab_size=vocab_size, sample_rate=sample_rate, **extra)
    if arch == "vocos":
        from .vocos import VocosConfig, vocos_config

        if preset in ("small", "base"):
            return vocos_config(preset, hop_length=hop_length, **base)
        base.update(_json_fields(preset, VocosConfig, ("small", "base")), hop_length=hop_length)
        return VocosConfig(**base)
    if preset in ("small", "v1"):
        if preset == "v1" and hop_length == 320:
            rates, kernels = (5, 4, 4, 2, 2), (11, 8, 8, 4, 4)
        else:
            rates, kernels = upsample_plan(hop_length)
        base.update(upsample_rates=rates, upsample_kernel_sizes=kernels,
                    upsample_initial_channel=128 if preset == "small" else 512)
    else:
        base.update(_json_fields(preset, VocoderConfig, ("small", "v1")))
    config = VocoderConfig(**base)
    if config.hop_length != hop_length:
        raise TextlessError(f"generator hop {config.hop_length} != {hop_length} samples per unit frame")
    return config


def _json_fields(preset: str, cls, presets: tuple) -> dict:
    """Fields of ``cls`` from the JSON file ``preset`` (lists as tuples; vocab/rate/hop dropped)."""
    path = Path(preset)
    if not path.is_file():
        raise TextlessError(f"--config {preset}: not {' or '.join(repr(p) for p in presets)} or a JSON file")
    try:
        fields = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise TextlessError(f"{path}: not JSON ({e.msg})") from None
    unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TextlessError(f"{path}: unknown {cls.__name__} fields {sorted(unknown)}")
    return {k: (tuple(map(tuple, v)) if k == "resblock_dilation_sizes" else tuple(v) if isinstance(v, list) else v)
            for k, v in fields.items() if k not in ("vocab_size", "sample_rate", "hop_length")}
