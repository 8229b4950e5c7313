"""Import a GSLM fairseq ``transformer_lm`` checkpoint (``checkpoint_best.pt`` + ``dict.txt``).

No fairseq needed and no pickled code runs: the checkpoint is read with
``torch.load(weights_only=True)`` and a short allow-list of plain classes (``argparse.Namespace``
for argparse-era ``args``, numpy scalars for logged metrics). The dictionary maps unit ids to
fairseq token indices: ``<s>=0 <pad>=1 </s>=2 <unk>=3``, then the ``dict.txt`` lines in file
order (sorted by count, so unit ``"17"`` is *not* index 21), padded with ``madeupwordNNNN``.
Facts: docs/checkpoint_formats.md section 2.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from ..checkpoint import load_torch_file
from ..errors import CheckpointError
from .model import UnitLM, UnitLMConfig

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
BOS, PAD, EOS, UNK = range(4)


def read_dict(path: str | os.PathLike) -> list[str]:
    """Symbols of a fairseq ``dict.txt`` by token index, the four implicit specials first."""
    symbols = list(SPECIALS)
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such dictionary file")
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.rstrip()
        if not line:
            continue
        if line.endswith(" #fairseq:overwrite"):
            line = line[: -len(" #fairseq:overwrite")]
        symbol, _, count = line.rpartition(" ")
        if not symbol or not count.lstrip("-").isdigit():
            raise CheckpointError(f"{path}:{lineno}: expected '<symbol> <count>', got {line!r}")
        symbols.append(symbol)
    return symbols


def unit_tokens_from_dict(symbols: list[str]) -> tuple[int, tuple[int, ...]]:
    """``(vocab_size, unit_tokens)`` from dictionary symbols: units are the integer symbols.

    ``vocab_size`` = largest unit id + 1; a unit id absent from the dict maps to ``-1``
    (encoded as ``<unk>``, as fairseq does).
    """
    found = {}
    for index, s in enumerate(symbols):
        if index < len(SPECIALS) or s.startswith("madeupword"):
            continue
        if not s.isdigit():
            raise CheckpointError(f"dict symbol {s!r} at index {index} is not a unit id")
        found[int(s)] = index
    if not found:
        raise CheckpointError("dictionary holds no units")
    vocab = max(found) + 1
    return vocab, tuple(found.get(u, -1) for u in range(vocab))


def _torch_load(path: Path) -> dict:
    import numpy as np

    # numpy scalars and dtypes appear in logged metrics of some checkpoints
    core = getattr(np, "_core", None) or np.core  # numpy 2 renamed numpy.core
    allowed = [argparse.Namespace, core.multiarray.scalar, np.dtype, type(np.dtype("float64"))]
    return load_torch_file(path, "a fairseq checkpoint", safe_globals=allowed)


def _model_args(ckpt: dict) -> dict:
    cfg = ckpt.get("cfg")
    if isinstance(cfg, dict) and isinstance(cfg.get("model"), (dict, argparse.Namespace)):
        model = cfg["model"]
        return dict(vars(model)) if isinstance(model, argparse.Namespace) else dict(model)
    args = ckpt.get("args")
    if isinstance(args, argparse.Namespace):
        return dict(vars(args))
    if isinstance(args, dict):
        return dict(args)
    raise CheckpointError("fairseq checkpoint has neither cfg['model'] nor args")


# option -> value our architecture implements. decoder_normalize_before is not checked:
# base_lm_architecture forces it to True whatever the stored value.
_REQUIRE = {
    "decoder_learned_pos": False,
    "no_token_positional_embeddings": False,
    "layernorm_embedding": False,
    "no_decoder_final_norm": False,
    "adaptive_softmax_cutoff": None,
    "adaptive_input": False,
    "character_embeddings": False,
    "share_decoder_input_output_embed": True,
    "no_scale_embedding": False,
    "quant_noise_pq": 0,
}


def config_from_fairseq(args: dict, state: dict, symbols: list[str]) -> UnitLMConfig:
    """Our config from fairseq model args (shapes taken from the state dict)."""
    for key, want in _REQUIRE.items():
        have = args.get(key, want)
        if have in ("", "None") and want is None:
            have = None
        if have != want and not (want in (0, False) and not have):
            raise CheckpointError(f"unsupported fairseq option {key}={have!r} (need {want!r})")
    emb = state["decoder.embed_tokens.weight"]
    n_tok, dim = emb.shape
    if n_tok != len(symbols):
        raise CheckpointError(f"embedding has {n_tok} rows but dict.txt gives {len(symbols)} symbols")
    layers = sorted({int(k.split(".")[2]) for k in state if k.startswith("decoder.layers.")})
    if layers != list(range(len(layers))):
        raise CheckpointError(f"layer indices are not contiguous: {layers}")
    heads = int(args.get("decoder_attention_heads", 16 if dim == 1024 else 8))
    vocab, unit_tokens = unit_tokens_from_dict(symbols)
    act = args.get("activation_fn", "relu")
    if act not in ("relu", "gelu"):
        raise CheckpointError(f"unsupported activation_fn {act!r}")
    max_pos = int(args.get("max_target_positions") or args.get("tokens_per_sample") or 3072)
    return UnitLMConfig(
        vocab_size=vocab, dim=dim, num_layers=len(layers), num_heads=heads,
        ffn_dim=state["decoder.layers.0.fc1.weight"].shape[0],
        dropout=float(args.get("dropout", 0.1)),
        attention_dropout=float(args.get("attention_dropout", 0.0)), activation=act,
        max_positions=max_pos, num_embeddings=n_tok, unit_tokens=unit_tokens,
        eos_index=EOS, pad_index=PAD, unk_index=UNK, position_offset=PAD + 1,
    )


_LN_LEGACY = {"0": "self_attn_layer_norm", "1": "final_layer_norm"}


def convert_state_dict(state: dict, num_layers: int) -> dict:
    """fairseq ``decoder.*`` keys -> our keys; raises on any key it does not know."""
    state = {k: v for k, v in state.items()}
    version = state.pop("decoder.version", None)
    if version is not None and float(version.reshape(-1)[0]) <= 2:
        raise CheckpointError("decoder.version <= 2: fairseq would drop the final layer norm; unsupported")
    for k in ("decoder.embed_positions._float_tensor", "decoder.embed_positions.weights"):
        state.pop(k, None)
    if "decoder.embed_out" in state:  # pre-2020 name of the output projection
        state["decoder.output_projection.weight"] = state.pop("decoder.embed_out")
    for k in list(state):  # layers.N.layer_norms.{0,1} -> current names
        parts = k.split(".")
        if len(parts) == 6 and parts[3] == "layer_norms" and parts[4] in _LN_LEGACY:
            state[".".join(parts[:3] + [_LN_LEGACY[parts[4]], parts[5]])] = state.pop(k)
    out = {}
    emb = state.pop("decoder.embed_tokens.weight")
    out["embed.weight"] = emb
    proj = state.pop("decoder.output_projection.weight", None)
    if proj is not None and not torch.equal(proj, emb):
        raise CheckpointError("output projection differs from the embeddings (untied): unsupported")
    out["norm.weight"] = state.pop("decoder.layer_norm.weight")
    out["norm.bias"] = state.pop("decoder.layer_norm.bias")
    for i in range(num_layers):
        p = f"decoder.layers.{i}."
        for t in ("weight", "bias"):
            out[f"layers.{i}.attn.qkv.{t}"] = torch.cat(
                [state.pop(f"{p}self_attn.{n}_proj.{t}") for n in "qkv"], dim=0
            )
            out[f"layers.{i}.attn.out.{t}"] = state.pop(f"{p}self_attn.out_proj.{t}")
            out[f"layers.{i}.attn_norm.{t}"] = state.pop(f"{p}self_attn_layer_norm.{t}")
            out[f"layers.{i}.ffn_norm.{t}"] = state.pop(f"{p}final_layer_norm.{t}")
            out[f"layers.{i}.fc1.{t}"] = state.pop(f"{p}fc1.{t}")
            out[f"layers.{i}.fc2.{t}"] = state.pop(f"{p}fc2.{t}")
    if state:
        raise CheckpointError(f"unknown keys in the fairseq checkpoint: {sorted(state)[:8]}")
    return out


def load_fairseq_ulm(checkpoint: str | os.PathLike, dictionary: str | os.PathLike | None = None,
                     device="cpu") -> UnitLM:
    """A GSLM ULM from ``checkpoint_best.pt`` (+ ``dict.txt``, default: beside it), ``eval()``."""
    checkpoint = Path(checkpoint)
    if checkpoint.is_dir():
        checkpoint = checkpoint / "checkpoint_best.pt"
    if not checkpoint.is_file():
        raise CheckpointError(f"{checkpoint}: no such checkpoint")
    dictionary = Path(dictionary) if dictionary else checkpoint.parent / "dict.txt"
    symbols = read_dict(dictionary)
    ckpt = _torch_load(checkpoint)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise CheckpointError(f"{checkpoint}: not a fairseq checkpoint (no 'model' state dict)")
    state = ckpt["model"]
    if "decoder.embed_tokens.weight" not in state:
        raise CheckpointError(f"{checkpoint}: not a fairseq transformer_lm (no decoder.embed_tokens)")
    config = config_from_fairseq(_model_args(ckpt), state, symbols)
    model = UnitLM(config)
    converted = convert_state_dict(state, config.num_layers)
    missing, unexpected = model.load_state_dict(converted, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{checkpoint}: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval()
