"""Fixtures for encoder tests: tiny random HuBERTs written in the official fairseq layout, and a
transformers ``HubertModel`` holding the same weights (the reference implementation)."""

from __future__ import annotations

import pytest
import torch

TINY_CONV = ((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2


def _tiny_config(large: bool, **kw):
    from textless.encoders.hubert import HubertConfig

    base = dict(conv_layers=TINY_CONV, embed_dim=48, ffn_dim=64, num_layers=3, num_heads=4,
                conv_pos=16, conv_pos_groups=4, extractor_mode="layer_norm" if large else "default",
                layer_norm_first=large, normalize=large, conv_bias=large)
    return HubertConfig(**{**base, **kw})


def _randomize_norms(model, seed=0):
    """Random-init models have LN/GN weight 1, bias 0: perturb them so parity checks their use."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model


@pytest.fixture
def fairseq_checkpoint(tmp_path):
    """``make(large=False, **cfg) -> (path, HubertConfig)``: a random model saved as fairseq .pt."""
    from textless.encoders.fairseq_export import save_fairseq_checkpoint
    from textless.encoders.hubert import HubertEncoder

    def make(large=False, name="ckpt", **kw):
        torch.manual_seed(1 + large)
        cfg = _tiny_config(large, **kw)
        model = _randomize_norms(HubertEncoder(cfg), seed=int(large))
        path = tmp_path / f"{name}.pt"
        save_fairseq_checkpoint(model, path, num_units=20)
        return path, cfg

    return make


def hf_config(cfg):
    from transformers import HubertConfig as HFConfig

    large = cfg.extractor_mode == "layer_norm"
    return HFConfig(
        conv_dim=[c[0] for c in cfg.conv_layers], conv_kernel=[c[1] for c in cfg.conv_layers],
        conv_stride=[c[2] for c in cfg.conv_layers], hidden_size=cfg.embed_dim,
        intermediate_size=cfg.ffn_dim, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, num_conv_pos_embeddings=cfg.conv_pos,
        num_conv_pos_embedding_groups=cfg.conv_pos_groups,
        feat_extract_norm="layer" if large else "group", do_stable_layer_norm=cfg.layer_norm_first,
        conv_bias=cfg.conv_bias,
    )


def fairseq_key(hf_key: str, layer_norm_extractor: bool) -> str:
    """The fairseq name of a transformers ``HubertModel`` / ``Wav2Vec2Model`` key, from the key
    table of docs/checkpoint_formats.md section 1 (written here, independently of our importer)."""
    k = hf_key
    if k == "masked_spec_embed":
        return "mask_emb"
    if k.startswith("feature_extractor.conv_layers."):
        return k.replace(".conv.", ".0.").replace(".layer_norm.", ".2.1." if layer_norm_extractor else ".2.")
    if k.startswith("feature_projection.projection."):
        return k.replace("feature_projection.projection.", "post_extract_proj.")
    if k.startswith("feature_projection.layer_norm."):
        return k.replace("feature_projection.layer_norm.", "layer_norm.")
    if k.startswith("encoder.pos_conv_embed.conv."):
        return (k.replace("encoder.pos_conv_embed.conv.", "encoder.pos_conv.0.")
                .replace("parametrizations.weight.original0", "weight_g")
                .replace("parametrizations.weight.original1", "weight_v"))
    if k.startswith("encoder.layers."):
        return (k.replace(".attention.", ".self_attn.").replace(".layer_norm.", ".self_attn_layer_norm.")
                .replace(".feed_forward.intermediate_dense.", ".fc1.")
                .replace(".feed_forward.output_dense.", ".fc2."))
    return k


@pytest.fixture
def hf_reference():
    """``make(fairseq_path, cfg) -> transformers.HubertModel`` with the checkpoint's weights,
    mapped with :func:`fairseq_key` (independently of our importer: it reads the raw fairseq
    state dict)."""

    def make(path, cfg):
        from transformers import HubertModel

        from textless.encoders.fairseq_import import safe_torch_load

        fs = safe_torch_load(path)["model"]  # raw fairseq dict; the mapping is ours to check
        model = HubertModel(hf_config(cfg)).eval()
        ln = cfg.extractor_mode == "layer_norm"
        model.load_state_dict({hk: fs[fairseq_key(hk, ln)] for hk in model.state_dict()}, strict=True)
        return model

    return make
