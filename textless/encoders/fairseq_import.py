"""Import HuBERT / wav2vec2 weights without fairseq: fairseq ``.pt`` and Hugging Face models.

fairseq checkpoints pickle a ``fairseq.data.dictionary.Dictionary`` (and sometimes other fairseq
objects or an ``argparse.Namespace``). :func:`safe_torch_load` reads them with
``torch.load(weights_only=True)``: the only extra globals allowed are inert stub classes named
like the fairseq ones (they hold attributes, run nothing) and ``argparse.Namespace``; any other
global (``os.system``, ``builtins.eval``...) makes the load fail before anything is built.
``conv_feature_layers`` strings are parsed with :mod:`ast`, never ``eval``-ed.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import logging
import os
from pathlib import Path

import torch

from ..checkpoint import load_torch_file
from ..errors import CheckpointError
from .hubert import HubertConfig, HubertEncoder, build_from_state

log = logging.getLogger(__name__)

_STUB_PREFIXES = ("fairseq.", "fairseq_cli.", "omegaconf.")


def _make_stub(qualname: str) -> type:
    module, _, name = qualname.rpartition(".")

    class Stub:
        """Inert stand-in for a pickled fairseq object: keeps its state, runs no code."""

        def __init__(self, *args, **kwargs):
            self._args, self._kwargs = args, kwargs

        def __setstate__(self, state):
            if isinstance(state, dict):
                self.__dict__.update(state)
            else:
                self._state = state

    Stub.__module__, Stub.__name__, Stub.__qualname__ = module, name, name
    return Stub


def safe_torch_load(path: str | os.PathLike) -> dict:
    """``torch.load(path, weights_only=True)`` that tolerates pickled fairseq objects as inert stubs.

    Raises :class:`CheckpointError` naming the offending globals when the pickle references
    anything else (code that would run on a plain ``torch.load``).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"{path}: not a torch checkpoint ({type(e).__name__}: {first})") from None
    refused = [g for g in unsafe if not (g.startswith(_STUB_PREFIXES) or g == "argparse.Namespace")]
    if refused:
        raise CheckpointError(
            f"{path}: refusing to load, the pickle references {refused} (it could run code); "
            "only tensors, fairseq dictionaries/configs and argparse.Namespace are accepted"
        )
    allowed = [argparse.Namespace] + [_make_stub(g) for g in unsafe if g != "argparse.Namespace"]
    obj = load_torch_file(path, "a fairseq checkpoint", safe_globals=allowed)
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def parse_conv_layers(spec: str) -> tuple:
    """Evaluate fairseq's ``conv_feature_layers`` expression safely (lists, tuples, ints, + and *).

    >>> parse_conv_layers("[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2")[-1]
    (512, 2, 2)
    """

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b
        raise CheckpointError(f"conv_feature_layers: unsupported expression {ast.dump(node)[:60]}")

    try:
        layers = ev(ast.parse(spec, mode="eval"))
    except SyntaxError as e:
        raise CheckpointError(f"conv_feature_layers {spec!r}: {e}") from None
    if not isinstance(layers, list) or not all(isinstance(t, tuple) and len(t) == 3 for t in layers):
        raise CheckpointError(f"conv_feature_layers {spec!r}: expected a list of (dim, kernel, stride)")
    return tuple(layers)


def _as_dict(section) -> dict:
    if section is None:
        return {}
    if isinstance(section, dict):
        return section
    return dict(vars(section))  # argparse.Namespace or a stub


def config_from_fairseq(model_cfg: dict, task_cfg: dict | None = None) -> HubertConfig:
    """:class:`HubertConfig` from fairseq ``cfg["model"]`` (+ ``cfg["task"]`` for ``normalize``).

    Raises :class:`CheckpointError` for variants this architecture does not implement.
    """
    m, t = _as_dict(model_cfg), _as_dict(task_cfg)

    def get(key, default):
        v = m.get(key, default)
        return default if v is None else v

    if get("layer_type", "transformer") != "transformer":
        raise CheckpointError(f"layer_type {m['layer_type']!r} is not supported (only 'transformer')")
    if get("conv_pos_batch_norm", False):
        raise CheckpointError("conv_pos_batch_norm=True checkpoints are not supported")
    if int(get("pos_conv_depth", 1)) != 1:
        raise CheckpointError(f"pos_conv_depth={m['pos_conv_depth']} is not supported (only 1)")
    if get("activation_fn", "gelu") != "gelu":
        raise CheckpointError(f"activation_fn {m['activation_fn']!r} is not supported (only gelu)")
    conv = get("conv_feature_layers", None)
    return HubertConfig(
        conv_layers=parse_conv_layers(conv) if isinstance(conv, str) else HubertConfig().conv_layers,
        extractor_mode=get("extractor_mode", "default"),
        conv_bias=bool(get("conv_bias", False)),
        embed_dim=int(get("encoder_embed_dim", 768)),
        ffn_dim=int(get("encoder_ffn_embed_dim", 3072)),
        num_layers=int(get("encoder_layers", 12)),
        num_heads=int(get("encoder_attention_heads", 12)),
        layer_norm_first=bool(get("layer_norm_first", False)),
        conv_pos=int(get("conv_pos", 128)),
        conv_pos_groups=int(get("conv_pos_groups", 16)),
        normalize=bool(t.get("normalize") or False),
        sample_rate=int(t.get("sample_rate") or 16000),
        name=str(m.get("_name") or m.get("arch") or "hubert"),
    )


# Keys of fairseq models that inference does not use (pre-training heads, quantizer, CTC head).
_DROPPED_PREFIXES = ("label_embs_concat", "final_proj.", "quantizer.", "project_q.", "target_glu.",
                     "proj.", "encoder.version")
_FINETUNED_PREFIX = "w2v_encoder.w2v_model."


def convert_fairseq_state(state: dict) -> dict:
    """fairseq ``ckpt["model"]`` -> our state dict (fairseq names, minus unused heads).

    Fine-tuned checkpoints (``w2v_encoder.w2v_model.*``) lose their prefix and CTC projection.
    Anything else is kept, so that :func:`build_from_state` names unknown keys.
    """
    if any(k.startswith(_FINETUNED_PREFIX) for k in state):
        state = {k[len("w2v_encoder."):] if k.startswith("w2v_encoder.proj") else k: v
                 for k, v in state.items()}
        state = {k[len(_FINETUNED_PREFIX):] if k.startswith(_FINETUNED_PREFIX) else k: v
                 for k, v in state.items()}
    return {k: v for k, v in state.items() if not k.startswith(_DROPPED_PREFIXES)}


def _model_and_task_cfg(ckpt: dict, path) -> tuple[dict, dict]:
    cfg = ckpt.get("cfg")
    if cfg is not None:
        cfg = _as_dict(cfg)
        model, task = _as_dict(cfg.get("model")), _as_dict(cfg.get("task"))
    elif ckpt.get("args") is not None:
        model = task = _as_dict(ckpt["args"])  # argparse era: one flat namespace
    else:
        raise CheckpointError(f"{path}: fairseq checkpoint without 'cfg' or 'args'")
    w2v = model.get("w2v_args")
    if w2v:  # fine-tuned: the encoder's own config is nested
        w2v = _as_dict(w2v)
        inner_model = _as_dict(w2v.get("model")) if "model" in w2v else w2v
        inner_task = _as_dict(w2v.get("task")) if "task" in w2v else w2v
        task = {**inner_task, **({"normalize": task["normalize"]} if "normalize" in task else {})}
        model = inner_model
    return model, task


def dictionaries(ckpt: dict) -> list[list[str]]:
    """The label symbol lists of ``task_state["dictionaries"]`` (empty when absent)."""
    out = []
    for d in (ckpt.get("task_state") or {}).get("dictionaries", []) or []:
        symbols = getattr(d, "symbols", None)
        if isinstance(symbols, list):
            out.append([str(s) for s in symbols])
    return out


def load_fairseq(path: str | os.PathLike, device="cpu", **reader) -> HubertEncoder:
    """An official fairseq HuBERT / mHuBERT / wav2vec2 ``.pt`` -> ``eval()`` :class:`HubertEncoder`.

    Hydra-era files (``cfg``) and argparse-era ones (``args``, e.g. ``wav2vec_vox_new.pt``) alike.
    ``reader``: :class:`HubertConfig` fields that belong to the reader rather than the checkpoint
    (``normalize``, ``max_chunk``), to reproduce one that departs from the file's settings.
    """
    ckpt = safe_torch_load(path)
    if "model" not in ckpt or not isinstance(ckpt["model"], dict):
        raise CheckpointError(f"{path}: no 'model' state dict (not a fairseq checkpoint)")
    model_cfg, task_cfg = _model_and_task_cfg(ckpt, path)
    cfg = dataclasses.replace(config_from_fairseq(model_cfg, task_cfg), **reader)
    try:
        return build_from_state(cfg, convert_fairseq_state(ckpt["model"]), device)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None


# ----------------------------------------------------------------------------- Hugging Face
def config_from_hf(hf: dict, normalize: bool = False) -> HubertConfig:
    """:class:`HubertConfig` from a transformers ``HubertConfig`` / ``Wav2Vec2Config`` dict.

    ``normalize`` is not part of the model config in transformers (it lives in the feature
    extractor's ``do_normalize``): pass it explicitly.
    """
    if hf.get("hidden_act", "gelu") != "gelu" or hf.get("feat_extract_activation", "gelu") != "gelu":
        raise CheckpointError("only GELU activations are supported")
    if hf.get("model_type") == "hubert" and not hf.get("feat_proj_layer_norm", True):
        raise CheckpointError("feat_proj_layer_norm=False is not supported")
    if hf.get("num_conv_pos_embedding_layers", 1) != 1 or hf.get("conv_pos_batch_norm", False):
        raise CheckpointError("only one positional conv without batch norm is supported")
    conv = tuple(zip(hf["conv_dim"], hf["conv_kernel"], hf["conv_stride"]))
    return HubertConfig(
        conv_layers=conv,
        extractor_mode="layer_norm" if hf.get("feat_extract_norm", "group") == "layer" else "default",
        conv_bias=bool(hf.get("conv_bias", False)),
        embed_dim=int(hf["hidden_size"]), ffn_dim=int(hf["intermediate_size"]),
        num_layers=int(hf["num_hidden_layers"]), num_heads=int(hf["num_attention_heads"]),
        layer_norm_first=bool(hf.get("do_stable_layer_norm", False)),
        conv_pos=int(hf.get("num_conv_pos_embeddings", 128)),
        conv_pos_groups=int(hf.get("num_conv_pos_embedding_groups", 16)),
        normalize=normalize, layer_norm_eps=float(hf.get("layer_norm_eps", 1e-5)),
        name=str(hf.get("model_type", "hubert")),
    )


_HF_RULES = (  # (HF substring, fairseq substring), applied in order to each key
    ("feature_projection.projection.", "post_extract_proj."),
    ("feature_projection.layer_norm.", "layer_norm."),
    ("encoder.pos_conv_embed.conv.", "encoder.pos_conv.0."),
    (".attention.", ".self_attn."),
    (".layer_norm.", ".self_attn_layer_norm."),
    (".feed_forward.intermediate_dense.", ".fc1."),
    (".feed_forward.output_dense.", ".fc2."),
)


def convert_hf_state(state: dict, cfg: HubertConfig) -> dict:
    """transformers ``HubertModel`` / ``Wav2Vec2Model`` state dict -> our key names."""
    out = {}
    ln_conv = ".2.1." if cfg.extractor_mode == "layer_norm" else ".2."
    for key, v in state.items():
        k = key
        for prefix in ("hubert.", "wav2vec2."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        if k.startswith(("lm_head.", "masked_spec_embed", "quantizer.", "project_q.", "project_hid.",
                         "adapter.", "projector.", "classifier.")):
            if k == "masked_spec_embed":
                out["mask_emb"] = v
            continue
        if k.startswith("feature_extractor.conv_layers."):
            k = k.replace(".conv.", ".0.").replace(".layer_norm.", ln_conv)
        elif k.startswith("encoder.layers."):
            for a, b in _HF_RULES[3:]:
                k = k.replace(a, b)
        else:
            for a, b in _HF_RULES[:3]:
                if k.startswith(a):
                    k = b + k[len(a):]
        out[k] = v
    out.setdefault("mask_emb", torch.zeros(cfg.embed_dim))
    return out


def load_hf(model_or_dir, normalize: bool = False, device="cpu") -> HubertEncoder:
    """A transformers ``HubertModel``/``Wav2Vec2Model`` instance, or a folder with its
    ``config.json`` and ``model.safetensors`` (or ``pytorch_model.bin``) -> :class:`HubertEncoder`."""
    if isinstance(model_or_dir, torch.nn.Module):
        hf_cfg = model_or_dir.config.to_dict()
        state = model_or_dir.state_dict()
    else:
        d = Path(model_or_dir)
        try:
            hf_cfg = json.loads((d / "config.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{d}: no readable config.json ({e})") from None
        if (d / "model.safetensors").is_file():
            from safetensors.torch import load_file

            state = load_file(str(d / "model.safetensors"))
        elif (d / "pytorch_model.bin").is_file():
            state = load_torch_file(d / "pytorch_model.bin", "a Hugging Face state dict")
        else:
            raise CheckpointError(f"{d}: neither model.safetensors nor pytorch_model.bin")
    cfg = config_from_hf(hf_cfg, normalize)
    return build_from_state(cfg, convert_hf_state(state, cfg), device)


def load_encoder(path: str | os.PathLike, device="cpu") -> HubertEncoder:
    """Any supported encoder file: our ``.safetensors``, a Hugging Face folder, a fairseq ``.pt``."""
    path = Path(path)
    if path.is_dir():
        return load_hf(path, device=device)
    if path.suffix == ".safetensors":
        from ..components import load_component

        return load_component(path, device, role="encoder")
    return load_fairseq(path, device)


def load_bundle(bundle, files: dict, device="cpu") -> HubertEncoder:
    """Hub loader (:class:`textless.bundle.Loader`): ``files["checkpoint"]`` is an official
    fairseq ``.pt`` (or a Hugging Face folder, or our safetensors for a user bundle)."""
    return load_encoder(files["checkpoint"], device)


#: GSLM's wav2vec 2.0 reader (docs/zoo_gslm.md): the raw waveform (no layer norm, although
#: ``wav2vec_vox_new.pt`` says ``normalize=True``), the whole file in one pass (no chunks).
GSLM_W2V2_READER = {"normalize": False, "max_chunk": 0}


def load_gslm_w2v2_bundle(bundle, files: dict, device="cpu") -> HubertEncoder:
    """Hub loader of ``wav2vec_vox_new.pt`` as GSLM's w2v2 k-means saw it (:data:`GSLM_W2V2_READER`)."""
    return load_fairseq(files["checkpoint"], device, **GSLM_W2V2_READER)
