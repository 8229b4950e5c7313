"""HuBERT parity with transformers.HubertModel on random checkpoints in the official fairseq layout."""

from __future__ import annotations

import pytest
import torch

from textless.encoders.fairseq_import import load_fairseq, load_hf
from textless.encoders.hubert import HubertEncoder, conv_frames

ATOL = 1e-4  # fp32 CPU; measured differences are ~1e-6


@pytest.mark.parametrize("large", [False, True], ids=["base-like", "large-like"])
@pytest.mark.parametrize("n_samples", [16123, 4000])
def test_every_layer_equals_transformers_hidden_states(fairseq_checkpoint, hf_reference, large, n_samples):
    path, cfg = fairseq_checkpoint(large)
    ours = load_fairseq(path)
    assert ours.cfg == cfg
    ref = hf_reference(path, cfg)
    wav = torch.randn(1, n_samples, generator=torch.Generator().manual_seed(n_samples))
    # the official readers layer-norm the whole waveform when task.normalize is set (large)
    ref_in = torch.nn.functional.layer_norm(wav, wav.shape) if large else wav
    with torch.no_grad():
        out = ref(ref_in, output_hidden_states=True)
    for layer in range(cfg.num_layers + 1):
        feats, frames = ours.features(wav, layer=layer)
        assert feats.shape == out.hidden_states[layer].shape
        assert int(frames) == conv_frames(n_samples, cfg.conv_layers) == feats.shape[1]
        torch.testing.assert_close(feats, out.hidden_states[layer], atol=ATOL, rtol=0)
    full, _ = ours.features(wav, layer=None)  # pre-LN: the final LN only without a layer
    torch.testing.assert_close(full, out.last_hidden_state, atol=ATOL, rtol=0)


@pytest.mark.parametrize("large", [False, True], ids=["base-like", "large-like"])
def test_padded_batch_equals_per_item(fairseq_checkpoint, large):
    path, _ = fairseq_checkpoint(large)
    model = load_fairseq(path)
    g = torch.Generator().manual_seed(0)
    wavs = [torch.randn(n, generator=g) for n in (12000, 7001, 2500)]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    feats, frames = model.features(batch, torch.tensor([w.numel() for w in wavs]), layer=2)
    for i, w in enumerate(wavs):
        one, n = model.features(w[None], layer=2)
        assert int(frames[i]) == int(n) == conv_frames(w.numel(), model.cfg.conv_layers)
        torch.testing.assert_close(feats[i, : int(n)], one[0], atol=ATOL, rtol=0)


def test_long_input_is_encoded_in_independent_chunks(fairseq_checkpoint):
    """Inputs longer than max_chunk give the frames of the official readers' chunk loop."""
    path, _ = fairseq_checkpoint(False)
    model = load_fairseq(path)
    model.cfg = type(model.cfg)(**{**model.cfg.__dict__, "max_chunk": 4000})
    wav = torch.randn(1, 9300, generator=torch.Generator().manual_seed(3))
    feats, frames = model.features(wav, layer=3)
    pieces = [wav[:, s: s + 4000] for s in range(0, 9300, 4000)]
    expected = torch.cat([model.extract(p, layer=3).features for p in pieces], 1)
    assert int(frames) == expected.shape[1] == model.output_frames(9300)
    torch.testing.assert_close(feats, expected, atol=ATOL, rtol=0)
    # a batch mixing long and short items equals per-item results
    short = torch.randn(1, 3000)
    batch = torch.zeros(2, 9300)
    batch[0], batch[1, :3000] = wav[0], short[0]
    bf, bn = model.features(batch, torch.tensor([9300, 3000]), layer=3)
    torch.testing.assert_close(bf[0, : int(bn[0])], feats[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(bf[1, : int(bn[1])], model.features(short, layer=3)[0][0], atol=ATOL, rtol=0)


def test_early_exit_runs_no_later_layer(fairseq_checkpoint):
    path, _ = fairseq_checkpoint(False)
    model = load_fairseq(path)
    called = []
    for i, blk in enumerate(model.encoder.layers):
        blk.register_forward_hook(lambda m, a, o, i=i: called.append(i))
    model.features(torch.randn(1, 4000), layer=2)
    assert called == [0, 1]


def test_hf_import_and_native_round_trip(fairseq_checkpoint, hf_reference, tmp_path):
    from textless.components import load_component

    path, cfg = fairseq_checkpoint(True)
    ours = load_fairseq(path)
    from_hf = load_hf(hf_reference(path, cfg), normalize=True)
    ours.save(tmp_path / "enc.safetensors")
    native = load_component(tmp_path / "enc.safetensors")
    assert isinstance(native, HubertEncoder) and native.cfg == ours.cfg
    wav = torch.randn(2, 6000)
    ref = ours.features(wav, layer=2)[0]
    torch.testing.assert_close(from_hf.features(wav, layer=2)[0], ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(native.features(wav, layer=2)[0], ref, atol=0, rtol=0)


def test_trainable_forward_returns_padding_mask_and_gradients():
    from textless.encoders.hubert import HubertConfig

    model = HubertEncoder(HubertConfig(conv_layers=((16, 10, 5), (16, 4, 4)), embed_dim=32, ffn_dim=32,
                                       num_layers=2, num_heads=2, conv_pos=8, conv_pos_groups=2))
    wav = torch.randn(2, 2000)
    lengths = torch.tensor([2000, 1200])
    frames_expected = conv_frames(lengths, model.cfg.conv_layers)
    mask = torch.zeros(2, int(frames_expected[0]), dtype=torch.bool)
    mask[:, :3] = True
    out = model(wav, lengths, frame_mask=mask)
    assert out.frames.tolist() == frames_expected.tolist()
    assert out.padding_mask.sum(1).tolist() == (out.frames.max() - out.frames).tolist()
    assert model.frame_rate == 16000 / 20 and model.receptive_field == 10 + (4 - 1) * 5
    out.features[~out.padding_mask].sum().backward()
    assert model.mask_emb.grad is not None and model.encoder.pos_conv[0].parametrizations.weight.original0.grad is not None


def test_int8_copy_stays_close_and_leaves_the_original(fairseq_checkpoint):
    from textless.encoders.hubert import quantize_linear_int8

    path, _ = fairseq_checkpoint(False)
    model = load_fairseq(path)
    wav = torch.randn(1, 8000, generator=torch.Generator().manual_seed(5))
    ref, n = model.features(wav, layer=3)
    q = quantize_linear_int8(model)
    out, m = q.features(wav, layer=3)
    assert int(m) == int(n) and out.shape == ref.shape
    assert float((out - ref).norm() / ref.norm()) < 0.1  # int8 error, not a different model
    again, _ = model.features(wav, layer=3)
    torch.testing.assert_close(again, ref, atol=0, rtol=0)  # the fp32 model was not modified


@pytest.mark.parametrize("stable", [False, True], ids=["group-norm", "stable-layer-norm"])
def test_wav2vec2_model_import_equals_transformers(stable):
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    hf = Wav2Vec2Model(Wav2Vec2Config(
        conv_dim=(16, 16, 16), conv_kernel=(10, 3, 2), conv_stride=(5, 2, 2), hidden_size=32,
        intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=4, feat_extract_norm="layer" if stable else "group",
        do_stable_layer_norm=stable, conv_bias=stable,
    )).eval()
    ours = load_hf(hf)
    wav = torch.randn(1, 3000)
    with torch.no_grad():
        out = hf(wav, output_hidden_states=True)
    for layer in range(3):
        torch.testing.assert_close(ours.features(wav, layer=layer)[0], out.hidden_states[layer], atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.features(wav)[0], out.last_hidden_state, atol=ATOL, rtol=0)


@pytest.mark.parametrize("large", [False, True], ids=["base-like", "large-like"])
def test_blocked_inference_extractor_equals_the_module_path(fairseq_checkpoint, large):
    """The no-grad extractor (tap GEMMs over blocks of frames, one-pass GroupNorm statistics)
    gives the values of the plain nn.Conv1d modules, padding included (several blocks per item)."""
    path, _ = fairseq_checkpoint(large)
    extractor = load_fairseq(path).feature_extractor.eval()
    g = torch.Generator().manual_seed(5)
    wav = torch.randn(2, 30000, generator=g) + 3.0  # an offset makes one-pass variance sums fragile
    lengths = torch.tensor([30000, 17001])
    with torch.no_grad():
        fast = extractor(wav, lengths)
    with torch.enable_grad():
        slow = extractor(wav, lengths).detach()
    assert fast.shape == slow.shape
    for i, n in enumerate(lengths.tolist()):
        f = conv_frames(n, extractor.specs)
        torch.testing.assert_close(fast[i, :, :f], slow[i, :, :f], atol=ATOL, rtol=0)


@pytest.mark.parametrize("large", [False, True], ids=["base-like", "large-like"])
def test_bf16_autocast_features_stay_close_to_fp32(fairseq_checkpoint, large):
    """Under CPU bf16 autocast the conv GEMMs and the transformer run in bfloat16: features within
    bf16 rounding of fp32 (relative error ~1e-2), padded batch included."""
    path, _ = fairseq_checkpoint(large)
    model = load_fairseq(path)
    wav = torch.randn(2, 12000, generator=torch.Generator().manual_seed(6))
    lengths = torch.tensor([12000, 9000])
    ref, frames = model.features(wav, lengths, layer=2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf, frames_bf = model.features(wav, lengths, layer=2)
    assert bf.dtype == torch.bfloat16 and torch.equal(frames, frames_bf)
    for i, n in enumerate(frames.tolist()):
        err = (bf[i, :n].float() - ref[i, :n]).norm() / ref[i, :n].norm()
        assert err < 0.03, float(err)
