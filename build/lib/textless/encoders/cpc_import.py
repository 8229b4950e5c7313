"""Import the official CPC checkpoint (GSLM's ``cpc_big_ll6kh_top_ctc.pt``) without running its pickle.

Layout (docs/cpc.md): a ``torch.save``d dict ``{"weights": state_dict, "config": {...}}`` where the
config holds CPC_audio's argument names (``hiddenEncoder``, ``hiddenGar``, ``nLevelsGRU``, ...) and
the state dict CPC_audio's module names:

* ``gEncoder.conv{i}.{weight,bias}`` ``[C, 1 or C, k]`` / ``[C]`` and
  ``gEncoder.batchNorm{i}.{weight,bias}`` ``[1, C, 1]`` for i = 0..4;
* ``gAR.baseNet.{weight_ih,weight_hh,bias_ih,bias_hh}_l{j}`` ``[4H, C or H]`` / ``[4H]`` for
  j = 0..nLevelsGRU-1.

GSLM builds the model with ``nLevelsGRU = layer`` (2) and loads with ``strict=False``, so the
deeper LSTM layers are ignored. We drop exactly those (j >= layer) and raise on anything else
that does not match, naming the key. The file is read by
:func:`textless.encoders.fairseq_import.safe_torch_load` (weights only; pickled classes other than
``argparse.Namespace`` and fairseq names are refused).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import CheckpointError
from .cpc import CPCConfig, CPCEncoder, build_from_state

_LSTM_KEY = re.compile(r"^gAR\.baseNet\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)$")


def _get(config, key, default=None):
    if isinstance(config, dict):
        return config.get(key, default)
    return getattr(config, key, default)


def config_from_official(config, layer: int = 2, max_chunk: int = 64000) -> CPCConfig:
    """:class:`CPCConfig` from the checkpoint's ``config`` (dict or namespace) and GSLM's ``layer``."""
    for key in ("hiddenEncoder", "hiddenGar"):
        if _get(config, key) is None:
            raise CheckpointError(f"CPC config has no {key!r}")
    ar_mode = _get(config, "arMode")
    if ar_mode is not None and str(ar_mode).upper() != "LSTM":
        raise CheckpointError(f"CPC arMode {ar_mode!r} is not supported (GSLM's reader builds an LSTM)")
    levels = _get(config, "nLevelsGRU")
    if levels is not None and layer > int(levels):
        raise CheckpointError(f"layer {layer} asked, the checkpoint has {levels} LSTM layers")
    return CPCConfig(hidden_encoder=int(_get(config, "hiddenEncoder")), hidden_ar=int(_get(config, "hiddenGar")),
                     num_layers=int(layer), max_chunk=int(max_chunk))


def convert_official_state(weights: dict, num_layers: int) -> dict:
    """Official ``weights`` -> our key names; LSTM layers ``>= num_layers`` are dropped (GSLM
    ignores them); every other key is kept so :func:`build_from_state` names the unknown ones."""
    out = {}
    for k, v in weights.items():
        m = _LSTM_KEY.match(k)
        if m:
            j = int(m.group(2))
            if j >= num_layers:
                continue
            out[f"ar.{j}.{m.group(1)}_l0"] = v
        else:
            out[k] = v
    return out


def load_cpc(path: str | os.PathLike, layer: int = 2, device="cpu", max_chunk: int = 64000) -> CPCEncoder:
    """The official CPC ``.pt`` (``{"weights", "config"}``), or our ``.safetensors`` -> ``eval()``
    :class:`CPCEncoder` returning LSTM layer ``layer`` (GSLM: 2)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from ..checkpoint import load_component

        return load_component(path, device)
    from .fairseq_import import safe_torch_load

    ckpt = safe_torch_load(path)
    if not isinstance(ckpt.get("weights"), dict) or ckpt.get("config") is None:
        raise CheckpointError(f"{path}: not a CPC checkpoint (expected keys 'weights' and 'config', "
                              f"found {sorted(ckpt)[:6]})")
    try:
        cfg = config_from_official(ckpt["config"], layer, max_chunk)
        return build_from_state(cfg, convert_official_state(ckpt["weights"], cfg.num_layers), device)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None


__all__ = ["load_cpc", "config_from_official", "convert_official_state"]
