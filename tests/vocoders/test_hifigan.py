"""Unit HiFi-GAN: output length formula, parity with CodeGenerator semantics on random official
checkpoints, checkpoint conversion errors, native round trip."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from textless.components import load_component
from textless.errors import CheckpointError, TextlessError
from textless.units import Units, dedup
from textless.vocoders import UnitHiFiGAN, VocoderConfig, apply_weight_norm, remove_weight_norm
from textless.vocoders.checkpoint import load_bundle, load_official, load_vocoder, save_vocoder
from textless.vocoders.hifigan import predicted_durations


def _reference():
    spec = importlib.util.spec_from_file_location("reference_codegen", Path(__file__).parents[2] / "references" / "codegen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BASE = {
    "resblock": "1", "upsample_rates": [5, 4, 2], "upsample_kernel_sizes": [11, 8, 4],
    "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "embedding_dim": 16,
    "sampling_rate": 16000, "segment_size": 8960, "code_hop_size": 40,
}
# speakers + styles + duration predictor (textlesslib Expresso/TWIST layout)
CFG_SPK = dict(BASE, num_embeddings=20, model_in_dim=48, multispkr=True, num_speakers=4, multistyle=True,
               num_styles=3, dur_predictor_params={"encoder_embed_dim": 16, "var_pred_hidden_dim": 16,
                                                   "var_pred_kernel_size": 3, "var_pred_dropout": 0.5})
# continuous F0 at twice the code rate
CFG_F0 = dict(BASE, num_embeddings=10, model_in_dim=17, f0=True)
# quantized F0 + speaker embedder (Linear)
CFG_F0Q = dict(BASE, num_embeddings=10, model_in_dim=48, f0=True, f0_quant_num_bin=8, multispkr=True,
               embedder_params={"x": 1}, embedder_dim=6)


def _official_files(tmp_path, cfg, seed=0):
    """A random reference CodeGenerator saved in the official layout; returns (ref, ckpt, config)."""
    torch.manual_seed(seed)
    ref = _reference().CodeGenerator(cfg)
    with torch.no_grad():  # make weight_g differ from |v| so that folding matters
        for name, p in ref.named_parameters():
            if name.endswith("weight_g"):
                p.mul_(torch.rand_like(p) + 0.5)
    sd = ref.state_dict()
    assert any(k.endswith("weight_g") for k in sd)
    ckpt, conf = tmp_path / "g_00000001", tmp_path / "config.json"
    torch.save({"generator": sd}, ckpt)
    conf.write_text(json.dumps(cfg))
    ref.eval().remove_weight_norm()
    return ref, ckpt, conf


def test_parity_speakers_styles_and_duration_prediction(tmp_path):
    ref, ckpt, conf = _official_files(tmp_path, CFG_SPK)
    (tmp_path / "speakers.txt").write_text("ex01\nex02\nlj\nvctk\n")
    (tmp_path / "styles.txt").write_text("read\nhappy\nsad\n")
    voc = load_official(ckpt, conf, tmp_path / "speakers.txt", tmp_path / "styles.txt")
    assert voc.hop_length == 40 and voc.vocab_size == 20 and voc.config.speakers[2] == "lj"
    code = torch.randint(0, 20, (1, 23))
    spk, sty = torch.tensor([[2]]), torch.tensor([[1]])
    with torch.no_grad():
        want = ref(code=code, spkr=spk, style=sty).squeeze()
        want_dur = ref(code=code, spkr=spk, style=sty, dur_prediction=True).squeeze()
    # expanded units: vocoded as they are, speaker/style by name or index
    got = voc.synthesize(Units(code[0]), speaker="lj", style=1)
    assert got.shape == (23 * 40,)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    # no durations -> duration predictor; durations = clamp(round(exp(log_d) - 1), min=1)
    got_dur = voc.synthesize(Units(code[0]), speaker=2, style="happy")
    torch.testing.assert_close(got_dur, want_dur, rtol=0, atol=1e-6)
    with torch.no_grad():
        log_d = ref.dur_predictor(ref.dict(code))
    d = torch.clamp(torch.round(torch.exp(log_d) - 1).long(), min=1)
    assert torch.equal(predicted_durations(log_d), d)
    assert got_dur.shape == (int(d.sum()) * 40,)
    # units with durations are expanded by them, never by the predictor
    u, dd = dedup(code[0])
    got_given = voc.synthesize(Units(u, dd), speaker=2, style=1)
    torch.testing.assert_close(got_given, want, rtol=0, atol=1e-6)
    # concatenation order is code, f0, spkr, style: conv_pre input columns 16:32 are the speaker
    x = voc.conditioning(code, speaker=torch.tensor([2]), style=torch.tensor([1]))
    torch.testing.assert_close(x[0, 16:32, 0], voc.spkr.weight[2])
    torch.testing.assert_close(x[0, 32:48, 0], voc.style.weight[1])
    with pytest.raises(TextlessError, match="unknown speaker"):
        voc.synthesize(Units(code[0]), speaker="nobody")
    with pytest.raises(TextlessError, match="out of range"):
        voc.synthesize(Units(code[0]), speaker=4)


@pytest.mark.parametrize("cfg", [CFG_F0, CFG_F0Q], ids=["f0", "f0-quantized+embedder"])
def test_parity_f0_conditioning(tmp_path, cfg):
    ref, ckpt, conf = _official_files(tmp_path, cfg, seed=1)
    voc = load_official(ckpt, conf)
    code = torch.randint(0, 10, (1, 9))
    if cfg.get("f0_quant_num_bin"):
        f0 = torch.randint(0, 8, (1, 18)).float()
        emb = torch.randn(1, 6)
        kwargs, ours = {"spkr": emb.view(1, 1, 6)}, {"speaker": emb}
    else:
        f0 = torch.rand(1, 18) * 3 - 1
        kwargs, ours = {}, {}
    with torch.no_grad():
        want = ref(code=code, f0=f0, **kwargs).squeeze()
    got = voc.synthesize(Units(code[0]), f0=f0[0], **ours)
    assert got.shape == (18 * 40,)  # the longer stream (f0) sets the frame count
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    with pytest.raises(TextlessError, match="F0"):
        voc.synthesize(Units(code[0]), **ours)
    with pytest.raises(TextlessError, match="divide"):
        voc.synthesize(Units(code[0]), f0=torch.zeros(13), **ours)


@pytest.mark.parametrize("frames", [1, 7, 50])
@pytest.mark.parametrize("rates,kernels", [((5, 4, 4, 2, 2), (11, 8, 8, 4, 4)), ((4, 4), (8, 8)), ((2,), (4,))])
def test_output_length_is_frames_times_hop(frames, rates, kernels):
    c = VocoderConfig(vocab_size=5, embedding_dim=8, upsample_rates=rates, upsample_kernel_sizes=kernels,
                      upsample_initial_channel=32, resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),))
    voc = UnitHiFiGAN(c).eval()
    wav = voc.synthesize(Units(torch.randint(0, 5, (frames,))))
    hop = 1
    for r in rates:
        hop *= r
    assert voc.hop_length == hop and wav.shape == (frames * hop,) and torch.isfinite(wav).all()
    assert wav.abs().max() <= 1


def test_converter_raises_on_unknown_missing_and_misshaped_keys(tmp_path):
    ref, ckpt, conf = _official_files(tmp_path, CFG_F0)
    sd = torch.load(ckpt, weights_only=True)["generator"]
    cases = {
        "unknown": dict(sd, **{"quantizer.encoder.weight": torch.zeros(1)}),
        "missing": {k: v for k, v in sd.items() if k != "dict.weight"},
        "shape": dict(sd, **{"dict.weight": torch.zeros(11, 16)}),
    }
    for what, bad in cases.items():
        torch.save({"generator": bad}, tmp_path / "bad.pt")
        with pytest.raises(CheckpointError, match={"unknown": "quantizer.encoder.weight", "missing": "dict.weight",
                                                   "shape": "shape"}[what]):
            load_official(tmp_path / "bad.pt", conf)
    bad_cfg = tmp_path / "bad.json"
    bad_cfg.write_text(json.dumps(dict(CFG_F0, model_in_dim=256)))
    with pytest.raises(CheckpointError, match="model_in_dim"):
        load_official(ckpt, bad_cfg)
    bad_cfg.write_text(json.dumps(dict(CFG_F0, f0_quantizer_path="checkpoints/lj_f0_vq/g_00400000")))
    with pytest.raises(CheckpointError, match="f0_quantizer_path"):
        load_official(ckpt, bad_cfg)
    torch.save({"model": sd}, tmp_path / "nogen.pt")
    with pytest.raises(CheckpointError, match="generator"):
        load_official(tmp_path / "nogen.pt", conf)


def test_native_round_trip_and_bundle_loader(tmp_path):
    ref, ckpt, conf = _official_files(tmp_path, CFG_SPK)
    voc = load_bundle(None, {"checkpoint": ckpt, "config": conf})
    path = save_vocoder(voc, tmp_path / "voc.safetensors")
    again = load_component(path)
    also = load_vocoder(path)
    assert isinstance(again, UnitHiFiGAN) and again.config == voc.config
    u = Units(torch.randint(0, 20, (11,)), torch.randint(1, 4, (11,)))
    want = voc.synthesize(u, speaker=1, style=2)
    assert torch.equal(again.synthesize(u, speaker=1, style=2), want)
    assert torch.equal(also.synthesize(u, speaker=1, style=2), want)
    with pytest.raises(CheckpointError, match="config"):
        load_vocoder(ckpt)


def test_weight_norm_apply_then_fold_keeps_the_function():
    torch.manual_seed(0)
    c = VocoderConfig(vocab_size=7, embedding_dim=8, upsample_rates=(4, 2), upsample_kernel_sizes=(8, 4),
                      upsample_initial_channel=16, num_speakers=2, duration_predictor=True)
    voc = UnitHiFiGAN(c).eval()
    code = torch.randint(0, 7, (2, 12))
    spk = torch.tensor([0, 1])
    with torch.no_grad():
        want = voc(code, speaker=spk)
        apply_weight_norm(voc)
        keys = set(voc.state_dict())
        assert "conv_pre.parametrizations.weight.original0" in keys
        assert "dur_predictor.conv1.0.weight" in keys  # the predictor is not weight-normed
        mid = voc(code, speaker=spk)
        remove_weight_norm(voc)
        assert "conv_pre.weight" in voc.state_dict()
        got = voc(code, speaker=spk)
    torch.testing.assert_close(mid, want, rtol=0, atol=1e-5)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    assert want.shape == (2, 12 * 8)


def test_units_checks():
    voc = UnitHiFiGAN(VocoderConfig(vocab_size=5, embedding_dim=8, upsample_rates=(2,), upsample_kernel_sizes=(4,),
                                    upsample_initial_channel=8)).eval()
    with pytest.raises(TextlessError, match="vocabulary|expects"):
        voc.synthesize(Units(torch.tensor([1, 2]), vocab_size=100))
    with pytest.raises(TextlessError, match="no units"):
        voc.synthesize(Units(torch.tensor([], dtype=torch.long)))
