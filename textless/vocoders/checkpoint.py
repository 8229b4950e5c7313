"""Load unit HiFi-GAN vocoders: official ``{"generator": sd}`` + ``config.json``, and our own files.

Official files (fairseq ``CodeHiFiGANVocoder``, speech-resynthesis, textlesslib) hold weight-norm
pairs ``X.weight_g`` / ``X.weight_v``; they are folded into ``X.weight`` at import, so the model
runs without weight norm. Keys that the architecture does not have raise
:class:`~textless.errors.CheckpointError` naming them, as do missing keys and shape mismatches.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from ..checkpoint import config_from_dict, load_checkpoint, load_torch_file, save_checkpoint
from ..errors import CheckpointError
from .hifigan import UnitHiFiGAN, VocoderConfig, fold_weight_norm

log = logging.getLogger(__name__)
KIND = "vocoder.hifigan"

# Features of some speech-resynthesis checkpoints that this architecture does not implement.
_UNSUPPORTED = {
    "f0_quantizer_path": "an F0 VQ-VAE quantizer (speech-resynthesis *_lut configs)",
    "lambda_commit": "a VQ-VAE content encoder (speech-resynthesis vqvae configs)",
    "lambda_commit_code": "a VQ-VAE code encoder",
}


def config_from_official(cfg: dict, speakers=(), styles=()) -> VocoderConfig:
    """A :class:`VocoderConfig` from an official ``config.json`` dict (see checkpoint_formats §3.2)."""
    for key, what in _UNSUPPORTED.items():
        if cfg.get(key):
            raise CheckpointError(f"vocoder config uses {key!r}: {what} is not supported by textless")
    try:
        embedder = bool(cfg.get("embedder_params"))
        multispkr = bool(cfg.get("multispkr")) and not embedder
        dur = cfg.get("dur_predictor_params") or {}
        has_dur = bool(dur) or bool(cfg.get("dur_prediction_weight"))
        e = int(cfg["embedding_dim"])
        config = VocoderConfig(
            vocab_size=int(cfg["num_embeddings"]),
            embedding_dim=e,
            sample_rate=int(cfg.get("sampling_rate", 16000)),
            upsample_rates=tuple(int(u) for u in cfg["upsample_rates"]),
            upsample_kernel_sizes=tuple(int(k) for k in cfg["upsample_kernel_sizes"]),
            upsample_initial_channel=int(cfg["upsample_initial_channel"]),
            resblock=str(cfg.get("resblock", "1")),
            resblock_kernel_sizes=tuple(int(k) for k in cfg["resblock_kernel_sizes"]),
            resblock_dilation_sizes=tuple(tuple(int(d) for d in ds) for ds in cfg["resblock_dilation_sizes"]),
            num_speakers=int(cfg.get("num_speakers", 200)) if multispkr else 0,
            speaker_embedder_dim=int(cfg.get("embedder_dim", 256)) if embedder else 0,
            num_styles=int(cfg.get("num_styles", 100)) if cfg.get("multistyle") else 0,
            f0=bool(cfg.get("f0")),
            f0_quant_num_bin=int(cfg.get("f0_quant_num_bin", 0) or 0),
            duration_predictor=has_dur,
            dur_hidden_dim=int(dur.get("var_pred_hidden_dim", 128)),
            dur_kernel_size=int(dur.get("var_pred_kernel_size", 3)),
            dur_dropout=float(dur.get("var_pred_dropout", 0.5)),
            speakers=tuple(speakers),
            styles=tuple(styles),
        )
        if has_dur and int(dur.get("encoder_embed_dim", e)) != e:
            raise CheckpointError(f"dur_predictor_params.encoder_embed_dim != embedding_dim {e}")
    except (KeyError, TypeError, ValueError) as ex:
        raise CheckpointError(f"vocoder config.json: missing or malformed key ({ex})") from None
    if "model_in_dim" in cfg and int(cfg["model_in_dim"]) != config.model_in_dim:
        raise CheckpointError(
            f"vocoder config.json: model_in_dim {cfg['model_in_dim']} != {config.model_in_dim} implied by "
            f"its code/f0/speaker/style settings"
        )
    return config


def convert_official_state_dict(state_dict: dict) -> dict:
    """Fold ``X.weight_g``/``X.weight_v`` pairs into ``X.weight``; other keys pass unchanged."""
    out = {}
    for key, value in state_dict.items():
        if key.endswith(".weight_g"):
            base = key[: -len("_g")]
            if base + "_v" not in state_dict:
                raise CheckpointError(f"vocoder checkpoint: {key} without {base}_v")
            out[base] = fold_weight_norm(value.float(), state_dict[base + "_v"].float())
        elif key.endswith(".weight_v"):
            if key[: -len("_v")] + "_g" not in state_dict:
                raise CheckpointError(f"vocoder checkpoint: {key} without {key[:-2]}_g")
        else:
            out[key] = value
    return out


def load_state_strict(model: torch.nn.Module, state_dict: dict, where: str):
    """``load_state_dict`` that names unknown, missing and mis-shaped keys in a CheckpointError."""
    own = model.state_dict()
    unknown = sorted(set(state_dict) - set(own))
    missing = sorted(set(own) - set(state_dict))
    if unknown:
        raise CheckpointError(f"{where}: unknown key(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
    if missing:
        raise CheckpointError(f"{where}: missing key(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    for k, v in state_dict.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointError(f"{where}: {k} has shape {tuple(v.shape)}, expected {tuple(own[k].shape)}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state_dict.items()}, strict=True)


def read_names(path) -> tuple[str, ...]:
    """``speakers.txt`` / ``styles.txt``: one name per line, index = line number (0-based)."""
    if path is None:
        return ()
    return tuple(line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip())


def from_official(generator_state: dict, cfg: dict, device="cpu", speakers=(), styles=()) -> UnitHiFiGAN:
    """Build an ``eval()`` :class:`UnitHiFiGAN` from an official generator state dict + config dict."""
    config = config_from_official(cfg, speakers, styles)
    if config.num_speakers and speakers and len(speakers) > config.num_speakers:
        raise CheckpointError(f"{len(speakers)} speaker names for {config.num_speakers} speaker embeddings")
    model = UnitHiFiGAN(config)
    load_state_strict(model, convert_official_state_dict(generator_state), "vocoder checkpoint")
    return model.to(device).eval()


def load_official(checkpoint, config, speakers=None, styles=None, device="cpu") -> UnitHiFiGAN:
    """Load an official ``(checkpoint, config.json[, speakers.txt, styles.txt])`` set of files.

    ``checkpoint`` is a ``torch.save``d ``{"generator": state_dict}`` read with ``weights_only=True``.
    """
    checkpoint, config = Path(checkpoint), Path(config)
    for p in (checkpoint, config):
        if not p.is_file():
            raise CheckpointError(f"{p}: no such file")
    try:
        cfg = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{config}: not a JSON vocoder config ({e})") from None
    ckpt = load_torch_file(checkpoint, "a vocoder checkpoint")  # unsafe pickle, truncated: one line
    if not isinstance(ckpt, dict) or "generator" not in ckpt:
        raise CheckpointError(f"{checkpoint}: expected a dict with a 'generator' state dict")
    return from_official(ckpt["generator"], cfg, device, read_names(speakers), read_names(styles))


def from_native(config: dict, state_dict: dict, device="cpu") -> UnitHiFiGAN:
    """``vocoder.hifigan`` entry of :data:`textless.components.NATIVE_LOADERS`: our safetensors files."""
    model = UnitHiFiGAN(config_from_dict(VocoderConfig, config))
    load_state_strict(model, state_dict, "vocoder file")
    return model.to(device).eval()


def vocos_from_native(config: dict, state_dict: dict, device="cpu"):
    """Loader of our own ``kind="vocoder.vocos"`` safetensors files (a :class:`UnitVocos`)."""
    from .vocos import UnitVocos, VocosConfig

    model = UnitVocos(config_from_dict(VocosConfig, config))
    load_state_strict(model, state_dict, "vocoder file")
    return model.to(device).eval()


def save_vocoder(model, path: str | os.PathLike) -> Path:
    """Write ``model`` (weight norm folded, ``w = g * v / |v|``) as our safetensors file, atomically.

    The file's kind is the model's ``KIND`` (``vocoder.vocos`` for UnitVocos), else ``vocoder.hifigan``.
    """
    return save_checkpoint(path, getattr(model, "KIND", KIND), model.config, folded_state_dict(model))


def folded_state_dict(model: torch.nn.Module) -> dict:
    """The state dict of ``model`` with weight-norm parametrizations folded into plain ``weight``s
    (the model itself is left as it is)."""
    from torch.nn.utils import parametrize

    out = {k: v.detach() for k, v in model.state_dict().items() if ".parametrizations." not in k}
    with torch.no_grad():
        for name, m in model.named_modules():
            if parametrize.is_parametrized(m, "weight"):
                out[f"{name}.weight"] = m.weight.detach().clone()
    return out


def load_vocoder(path: str | os.PathLike, config: str | os.PathLike | None = None, *, speakers=None,
                 styles=None, device="cpu"):
    """Load a vocoder file: ours (``.safetensors``: a UnitHiFiGAN or a UnitVocos) or an official
    checkpoint with ``config``."""
    path = Path(path)
    if config is not None:
        return load_official(path, config, speakers, styles, device)
    if path.suffix == ".safetensors":
        cfg, state = load_checkpoint(path)
        kind = read_kind(path)
        if kind == KIND:
            return from_native(cfg, state, device)
        if kind == "vocoder.vocos":
            return vocos_from_native(cfg, state, device)
        raise CheckpointError(f"{path}: holds a {kind} checkpoint, expected a vocoder")
    raise CheckpointError(f"{path}: an official vocoder checkpoint needs its config.json (--vocoder-config)")


def read_kind(path) -> str | None:
    """The ``kind`` metadata of one of our safetensors files."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return (f.metadata() or {}).get("kind")


def load_bundle(bundle, files: dict, device="cpu") -> UnitHiFiGAN:
    """Hub loader (:data:`textless.bundle.Loader`): file roles ``checkpoint`` and ``config`` (official) + optional ``speakers``, ``styles``.

    A user bundle with only a ``checkpoint`` role must be one of our safetensors files.
    """
    if "config" not in files:
        return load_vocoder(files["checkpoint"], device=device)
    return load_official(files["checkpoint"], files["config"], files.get("speakers"), files.get("styles"), device)
