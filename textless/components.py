"""Our own component files: one :func:`load_component` for every textless ``.safetensors`` file.

A component file (written by :func:`textless.checkpoint.save_checkpoint`) names its kind,
``"role.format"``, in its metadata; :data:`NATIVE_LOADERS` maps each kind to the function that
builds the model from the saved config and weights. Foreign formats (fairseq ``.pt``, GSLM
``km.bin``, official vocoder checkpoints) are read by one import function per stage instead
(docs/loading.md).

This module sits above the stages (it imports them); stages never import it.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from .checkpoint import load_checkpoint, read_kind, split_kind
from .encoders import cpc, fbank, hubert, logmel, spectral
from .errors import CheckpointError
from .quantizers import kmeans, linear
from .ulm import checkpoint as ulm_checkpoint
from .vocoders import checkpoint as vocoder_checkpoint

#: ``from_native(config: dict, state_dict: dict, device) -> model`` in ``eval()`` mode.
NativeLoader = Callable[[dict, dict, Any], Any]

#: Kind (``"role.format"``, as written in the file) -> its loader. A new format is one line.
NATIVE_LOADERS: dict[str, NativeLoader] = {
    "encoder.hubert": hubert.from_native,
    "encoder.spectral": spectral.from_native,
    "encoder.logmel": logmel.from_native,
    "encoder.cpc": cpc.from_native,
    "encoder.fbank": fbank.from_native,
    "quantizer.kmeans": kmeans.from_native,
    "quantizer.linear": linear.from_native,
    "ulm.transformer": ulm_checkpoint.from_native,
    "vocoder.hifigan": vocoder_checkpoint.from_native,
    "vocoder.vocos": vocoder_checkpoint.vocos_from_native,
}


def load_component(path: str | os.PathLike, device="cpu", *, role: str | None = None):
    """Load any textless component file (``.safetensors``) as an ``eval()`` model on ``device``.

    ``role`` (``"encoder"``, ``"quantizer"``, ``"ulm"``, ``"vocoder"``): refuse a file of another
    role. Raises :class:`CheckpointError` naming the file for a file that is not ours, of an
    unknown kind or of another role.
    """
    kind = read_kind(path)
    if kind not in NATIVE_LOADERS:
        raise CheckpointError(
            f"{path}: unknown component kind {kind!r} (known: {', '.join(NATIVE_LOADERS)})"
        )
    if role is not None and split_kind(kind)[0] != role:
        raise CheckpointError(f"{path}: holds a {kind} checkpoint, not a {role}")
    config, state = load_checkpoint(path, kind)
    return NATIVE_LOADERS[kind](config, state, device)
