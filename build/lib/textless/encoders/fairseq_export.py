"""Write a :class:`HubertEncoder` as an official-layout fairseq HuBERT checkpoint.

The file has the layout of ``hubert_base_ls960.pt`` (``args=None``, ``cfg`` dict, ``model``,
``task_state`` with a pickled ``fairseq.data.dictionary.Dictionary``, ``optimizer_history``,
``extra_state``), so that fairseq itself (and :func:`~textless.encoders.fairseq_import.load_fairseq`)
reads it. Used to export models trained with textless, and to build parity fixtures and
benchmarks without downloading official weights.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections import OrderedDict

import torch

from .hubert import HubertEncoder


class _Dictionary:
    """Same pickled layout as ``fairseq.data.dictionary.Dictionary`` (its 12 attributes)."""

    def __init__(self, units: int):
        self.bos_word, self.unk_word, self.pad_word, self.eos_word = "<s>", "<unk>", "<pad>", "</s>"
        self.symbols = ["<s>", "<pad>", "</s>", "<unk>"] + [str(i) for i in range(units)]
        self.count = [1] * 4 + [0] * units
        self.indices = {s: i for i, s in enumerate(self.symbols)}
        self.bos_index, self.pad_index, self.eos_index, self.unk_index = 0, 1, 2, 3
        self.nspecial = 4


@contextlib.contextmanager
def _fairseq_dictionary_class():
    """Make ``fairseq.data.dictionary.Dictionary`` resolvable for pickling, for the duration only."""
    try:
        from fairseq.data.dictionary import Dictionary  # noqa: F401  (real fairseq installed)

        yield Dictionary
        return
    except ImportError:
        pass
    names = ("fairseq", "fairseq.data", "fairseq.data.dictionary")
    saved = {n: sys.modules.get(n) for n in names}
    cls = type("Dictionary", (_Dictionary,), {"__module__": "fairseq.data.dictionary"})
    for n in names:
        sys.modules[n] = types.ModuleType(n)
    sys.modules["fairseq.data.dictionary"].Dictionary = cls
    try:
        yield cls
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def fairseq_state_dict(model: HubertEncoder, num_labels: int = 504, final_dim: int = 256) -> OrderedDict:
    """Our weights under fairseq names, with ``weight_g``/``weight_v`` and the pre-training heads
    (``label_embs_concat`` [num_labels, final_dim], ``final_proj``) that official files carry."""
    out = OrderedDict()
    pc = "encoder.pos_conv.0."
    for k, v in model.state_dict().items():
        if k == pc + "parametrizations.weight.original0":
            out[pc + "weight_g"] = v
        elif k == pc + "parametrizations.weight.original1":
            out[pc + "weight_v"] = v
        elif k == pc + "weight":  # folded: g = |w| over all dims but 2, v = w
            out[pc + "weight_g"] = v.norm(dim=(0, 1), keepdim=True)
            out[pc + "weight_v"] = v
        else:
            out[k] = v
    g = torch.Generator().manual_seed(0)
    out["label_embs_concat"] = torch.randn(num_labels, final_dim, generator=g)
    out["final_proj.weight"] = torch.randn(final_dim, model.cfg.embed_dim, generator=g) * 0.02
    out["final_proj.bias"] = torch.zeros(final_dim)
    return out


def fairseq_config(model: HubertEncoder, final_dim: int = 256, label_rate: float = 50.0) -> dict:
    """The ``cfg`` dict (plain dicts, as fairseq stores it) describing ``model``."""
    c = model.cfg
    convs = " + ".join(f"[{tuple(layer)}]" for layer in c.conv_layers).replace(" ", "")
    return {
        "common": {}, "checkpoint": {}, "optimization": {}, "dataset": {},
        "model": {
            "_name": "hubert", "label_rate": label_rate, "extractor_mode": c.extractor_mode,
            "encoder_layers": c.num_layers, "encoder_embed_dim": c.embed_dim,
            "encoder_ffn_embed_dim": c.ffn_dim, "encoder_attention_heads": c.num_heads,
            "activation_fn": "gelu", "layer_type": "transformer", "dropout": 0.1,
            "attention_dropout": 0.1, "activation_dropout": 0.0, "encoder_layerdrop": 0.05,
            "dropout_input": 0.1, "dropout_features": 0.1, "final_dim": final_dim,
            "untie_final_proj": True, "layer_norm_first": c.layer_norm_first,
            "conv_feature_layers": convs, "conv_bias": c.conv_bias, "logit_temp": 0.1,
            "target_glu": False, "feature_grad_mult": 0.1, "mask_length": 10, "mask_prob": 0.8,
            "conv_pos": c.conv_pos, "conv_pos_groups": c.conv_pos_groups,
        },
        "task": {
            "_name": "hubert_pretraining", "data": "/x", "labels": ["km"], "label_rate": label_rate,
            "sample_rate": c.sample_rate, "normalize": c.normalize, "enable_padding": False,
            "max_sample_size": 250000, "min_sample_size": 32000, "pad_audio": False,
        },
    }


def save_fairseq_checkpoint(model: HubertEncoder, path: str | os.PathLike, num_units: int = 500) -> None:
    """Write ``model`` to ``path`` in the official fairseq HuBERT layout (Dictionary pickled)."""
    final_dim = 256
    with _fairseq_dictionary_class() as Dictionary:
        d = _real_dictionary(Dictionary, num_units) if hasattr(Dictionary, "add_symbol") else Dictionary(num_units)
        ckpt = {
            "args": None,
            "cfg": fairseq_config(model, final_dim),
            "model": fairseq_state_dict(model, len(d.symbols), final_dim),
            "criterion": None,
            "task_state": {"dictionaries": [d]},
            "optimizer_history": [{
                "criterion_name": "HubertCriterion", "optimizer_name": "FairseqAdam",
                "lr_scheduler_state": {"best": None}, "num_updates": 400000,
            }],
            "extra_state": {"train_iterator": {"epoch": 1}},
        }
        torch.save(ckpt, str(path))


def _real_dictionary(Dictionary, num_units: int):
    d = Dictionary()
    for i in range(num_units):
        d.add_symbol(str(i))
    return d
