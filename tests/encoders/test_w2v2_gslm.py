"""wav2vec 2.0 Large as GSLM uses it (docs/zoo_gslm.md): ``wav2vec_vox_new.pt``'s argparse-era
layout written with random weights, parity with ``transformers.Wav2Vec2Model`` (stable layer norm)
holding the same weights, GSLM's reader (raw waveform, one pass, 0-based ``layer_results``), the
converter's errors, and the registry pipeline ``w2v2-large-km100``.

Tolerance: fp32 CPU, ``atol = 1e-4`` (measured differences ~1e-6), as tests/encoders/test_hubert_parity.py.
"""

from __future__ import annotations

import argparse

import pytest
import torch

from textless.encoders.fairseq_import import GSLM_W2V2_READER, load_fairseq, load_gslm_w2v2_bundle, safe_torch_load
from textless.encoders.hubert import conv_frames
from textless.errors import CheckpointError

from tests.encoders.conftest import _randomize_norms, fairseq_key

ATOL = 1e-4
LAYERS, DIM, FINAL_DIM, LATENT_VARS, GROUPS = 16, 32, 24, 8, 2
CONV = "[(16, 10, 5)] + [(16, 3, 2)] * 4 + [(16, 2, 2)] * 2"  # the real stack, 16 channels: 50 Hz
GSLM_LAYER = 15  # textless layer of GSLM's reader --layer 14


def _hf_model():
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(
        conv_dim=(16,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
        hidden_size=DIM, intermediate_size=48, num_hidden_layers=LAYERS, num_attention_heads=4,
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=4, feat_extract_norm="layer",
        do_stable_layer_norm=True, conv_bias=True)
    return _randomize_norms(Wav2Vec2Model(cfg)).eval()


def _args() -> argparse.Namespace:
    """The argparse namespace of a fairseq wav2vec 2.0 pre-training run (model + task fields)."""
    return argparse.Namespace(
        arch="wav2vec2", task="audio_pretraining", criterion="wav2vec", data="/checkpoint/librilight",
        extractor_mode="layer_norm", encoder_layers=LAYERS, encoder_embed_dim=DIM, encoder_ffn_embed_dim=48,
        encoder_attention_heads=4, activation_fn="gelu", dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, encoder_layerdrop=0.0, dropout_input=0.0, dropout_features=0.0,
        final_dim=FINAL_DIM, layer_norm_first=True, conv_feature_layers=CONV, conv_bias=True, logit_temp=0.1,
        quantize_targets=True, quantize_input=False, same_quantizer=False, target_glu=False,
        feature_grad_mult=1.0, latent_vars=LATENT_VARS, latent_groups=GROUPS, latent_dim=0, mask_length=10,
        mask_prob=0.65, conv_pos=8, conv_pos_groups=4, latent_temp=(2.0, 0.5, 0.999995), normalize=True,
        sample_rate=16000, max_sample_size=320000, min_sample_size=32000)


def official_state(hf) -> dict:
    """``hf``'s weights under fairseq ``Wav2Vec2Model`` names, with the pre-training heads."""
    g = torch.Generator().manual_seed(1)
    sd = {fairseq_key(k, True): v.clone() for k, v in hf.state_dict().items()}
    sd.update({
        "quantizer.vars": torch.randn(1, LATENT_VARS * GROUPS, FINAL_DIM // GROUPS, generator=g),
        "quantizer.weight_proj.weight": torch.randn(LATENT_VARS * GROUPS, 16, generator=g),
        "quantizer.weight_proj.bias": torch.zeros(LATENT_VARS * GROUPS),
        "project_q.weight": torch.randn(FINAL_DIM, FINAL_DIM, generator=g),
        "project_q.bias": torch.zeros(FINAL_DIM),
        "final_proj.weight": torch.randn(FINAL_DIM, DIM, generator=g),
        "final_proj.bias": torch.zeros(FINAL_DIM),
    })
    return sd


def write_official(path, state) -> None:
    """A file in ``wav2vec_vox_new.pt``'s layout: ``args`` namespace, no ``cfg``."""
    torch.save({"args": _args(), "model": state, "optimizer_history": [
        {"criterion_name": "Wav2vecCriterion", "optimizer_name": "FairseqAdam",
         "lr_scheduler_state": {"best": None}, "num_updates": 400000}],
        "extra_state": {"train_iterator": {"epoch": 1}}, "last_optimizer_state": None}, path)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    hf = _hf_model()
    path = tmp_path_factory.mktemp("w2v2") / "wav2vec_vox_new.pt"
    write_official(path, official_state(hf))
    return path, hf


def _wav(n=8000, seed=0):
    return 0.3 * torch.randn(1, n, generator=torch.Generator().manual_seed(seed))


def test_argparse_layout_reads_as_wav2vec2_large(official):
    path, _ = official
    assert "cfg" not in safe_torch_load(path)
    cfg = load_fairseq(path).cfg
    assert (cfg.extractor_mode, cfg.conv_bias, cfg.layer_norm_first, cfg.normalize) == ("layer_norm", True, True, True)
    assert (cfg.num_layers, cfg.embed_dim, cfg.conv_pos, cfg.conv_pos_groups, cfg.name) == (LAYERS, DIM, 8, 4, "wav2vec2")


def test_every_layer_equals_transformers(official):
    """The file's own settings (task normalize=True): the layer-normed waveform, every layer;
    no layer = the final encoder LayerNorm of the pre-LN model."""
    path, hf = official
    ours, wav = load_fairseq(path), _wav()
    with torch.no_grad():
        out = hf(torch.nn.functional.layer_norm(wav, wav.shape), output_hidden_states=True)
    for layer in range(LAYERS + 1):
        torch.testing.assert_close(ours.features(wav, layer=layer)[0], out.hidden_states[layer], atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.features(wav)[0], out.last_hidden_state, atol=ATOL, rtol=0)


def test_gslm_reader_raw_waveform_one_pass(official):
    """GSLM's reader: no waveform normalization, no chunks; ``layer_results[14]`` is the output
    of the 15th layer (textless layer 15), before the final LayerNorm."""
    path, hf = official
    enc = load_gslm_w2v2_bundle(None, {"checkpoint": path})
    assert GSLM_W2V2_READER == {"normalize": False, "max_chunk": 0}
    assert (enc.cfg.normalize, enc.cfg.max_chunk) == (False, 0)
    wav = _wav(seed=1)
    with torch.no_grad():
        raw = hf(wav, output_hidden_states=True).hidden_states[GSLM_LAYER]
    feats, frames = enc.features(wav, layer=GSLM_LAYER)
    torch.testing.assert_close(feats, raw, atol=ATOL, rtol=0)
    assert (feats - load_fairseq(path).features(wav, layer=GSLM_LAYER)[0]).abs().max() > 1e-2  # normalizing differs
    n = 10 * 1_600_000  # longer than the HuBERT readers' 100 s chunks: still one pass
    assert enc.output_frames(n) == conv_frames(n, enc.cfg.conv_layers) != load_fairseq(path).output_frames(n)


@pytest.mark.parametrize("change", ["unknown", "missing", "shape"])
def test_converter_names_the_bad_key(official, tmp_path, change):
    path, hf = official
    sd = official_state(hf)
    key = {"unknown": "encoder.layers.3.self_attn.rel_bias", "missing": "feature_extractor.conv_layers.2.0.bias",
           "shape": "encoder.pos_conv.0.weight_v"}[change]
    if change == "unknown":
        sd[key] = torch.zeros(4)
    elif change == "missing":
        del sd[key]
    else:
        sd[key] = sd[key][:, :2]
    bad = tmp_path / "bad.pt"
    write_official(bad, sd)
    with pytest.raises(CheckpointError, match=key.replace(".", r"\.")):
        load_fairseq(bad)


def test_registry_pipeline_gives_gslm_units(official, tmp_path):
    """``w2v2-large-km100`` from the two files imported by name (trust on first use): units are
    the nearest centroids of the transformers model's 15th layer on the raw waveform."""
    import joblib
    import numpy as np
    from sklearn.cluster import MiniBatchKMeans

    from textless import hub
    from textless.pipeline import load_pipeline

    path, hf = official
    wav = _wav(32000, seed=2)
    with torch.no_grad():
        ref = hf(wav, output_hidden_states=True).hidden_states[GSLM_LAYER][0].numpy()
    noise = np.random.default_rng(0).standard_normal((2, *ref.shape))
    km = MiniBatchKMeans(n_clusters=100, n_init=1, random_state=0, batch_size=64).fit(
        np.concatenate([ref, ref + 0.1 * noise[0], ref + 0.1 * noise[1]]).astype(np.float32))
    (tmp_path / "km").mkdir()
    joblib.dump(km, tmp_path / "km" / "km.bin")
    hub.import_file(path, "w2v2-large-lv60")
    hub.import_file(tmp_path / "km" / "km.bin", "w2v2-large-lv60-kmeans-100")
    pipe = load_pipeline("w2v2-large-km100")
    assert pipe.layer == GSLM_LAYER and pipe.frame_rate == 50.0
    units = pipe.encode(wav[0], deduplicate=False)
    assert units.units.tolist() == km.predict(ref).tolist()
