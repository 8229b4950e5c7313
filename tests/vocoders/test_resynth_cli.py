"""`textless resynth`: unit files through an official checkpoint, and audio through a pipeline folder."""

import json

import pytest
import soundfile as sf
import torch

from textless.cli import main
from textless.pipeline import load_pipeline, save_pipeline_dir
from textless.units import Units, read_units, write_units
from textless.vocoders import UnitHiFiGAN, VocoderConfig
from textless.vocoders.checkpoint import save_vocoder

SMALL = dict(embedding_dim=8, upsample_rates=(5, 4, 4, 4), upsample_kernel_sizes=(11, 8, 8, 8),
             upsample_initial_channel=16, resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),))


def _official(tmp_path):
    """A random official-layout generator with 3 named speakers (weight_g/weight_v keys)."""
    torch.manual_seed(0)
    voc = UnitHiFiGAN(VocoderConfig(vocab_size=12, num_speakers=3, **SMALL))
    sd = {}
    for k, v in voc.state_dict().items():
        if k.endswith(".weight") and not k.startswith(("dict", "spkr")):
            sd[k[:-len("weight")] + "weight_g"] = v.flatten(1).norm(dim=1).view(-1, *[1] * (v.dim() - 1)) * 2
            sd[k[:-len("weight")] + "weight_v"] = v
        else:
            sd[k] = v
    torch.save({"generator": sd}, tmp_path / "g_00100000")
    cfg = {"resblock": "1", "upsample_rates": [5, 4, 4, 4], "upsample_kernel_sizes": [11, 8, 8, 8],
           "upsample_initial_channel": 16, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3]],
           "num_embeddings": 12, "embedding_dim": 8, "model_in_dim": 16, "multispkr": True, "num_speakers": 3,
           "sampling_rate": 16000}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "speakers.txt").write_text("alice\nbob\ncarol\n")


def test_resynth_units_with_official_checkpoint(tmp_path, capsys):
    _official(tmp_path)
    utts = [Units(torch.tensor([1, 5, 5, 11]), frame_rate=50.0, vocab_size=12, id="one"),
            Units(torch.tensor([3, 4]), torch.tensor([2, 3]), frame_rate=50.0, vocab_size=12, id="two")]
    write_units(tmp_path / "u.jsonl", utts)
    base = ["resynth", "--vocoder", str(tmp_path / "g_00100000"), "--vocoder-config", str(tmp_path / "config.json"),
            "--units", str(tmp_path / "u.jsonl"), "--out", str(tmp_path / "out")]
    assert main(base + ["--speakers-file", str(tmp_path / "speakers.txt"), "--speaker", "bob"]) == 0
    one, rate = sf.read(tmp_path / "out" / "one.wav")
    two, _ = sf.read(tmp_path / "out" / "two.wav")
    assert rate == 16000 and one.shape == (4 * 320,) and two.shape == (5 * 320,)  # durations expanded
    first = one.copy()
    assert main(base + ["--speaker", "1"]) == 0  # the same speaker by index
    again, _ = sf.read(tmp_path / "out" / "one.wav")
    assert (again == first).all()
    assert main(base + ["--speaker", "2"]) == 0
    other, _ = sf.read(tmp_path / "out" / "one.wav")
    assert not (other == first).all()
    capsys.readouterr()
    assert main(base + ["--speaker", "dave"]) == 2
    assert "unknown speaker" in capsys.readouterr().err
    assert main(base[:-2]) == 2  # --units without --out
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("textless: error:")


def test_resynth_audio_through_pipeline_folder(tmp_path, sine):
    from textless.encoders.hubert import HubertConfig, HubertEncoder
    from textless.quantizers.kmeans import KMeansQuantizer

    torch.manual_seed(0)
    conv = ((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2
    enc = HubertEncoder(HubertConfig(conv_layers=conv, embed_dim=32, ffn_dim=64, num_layers=2, num_heads=2,
                                     conv_pos=16, conv_pos_groups=4)).eval()
    enc.save(tmp_path / "encoder.safetensors")
    KMeansQuantizer(torch.randn(12, 32)).save(tmp_path / "quantizer.safetensors")
    save_vocoder(UnitHiFiGAN(VocoderConfig(vocab_size=12, **SMALL)), tmp_path / "vocoder.safetensors")
    save_pipeline_dir(tmp_path, name="tiny", layer=2, files={
        "encoder": "encoder.safetensors", "quantizer": "quantizer.safetensors", "vocoder": "vocoder.safetensors"})
    wav = sine(180.0, 0.7)
    sf.write(tmp_path / "in.wav", wav, 16000)
    assert main(["resynth", "--model", str(tmp_path), str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav")]) == 0
    out, rate = sf.read(tmp_path / "out.wav", dtype="float32")
    frames = enc.output_frames(wav.size)  # (11200 - 400) // 320 + 1 = 34
    assert rate == 16000 and frames == 34 and out.shape == (frames * 320,)
    # the same as encoding, then vocoding, through the Python API
    p = load_pipeline(str(tmp_path))
    want = p.resynthesize(p.encode_file(tmp_path / "in.wav")).numpy()
    assert abs(out - want).max() <= 1 / 32767 + 1e-6  # 16-bit PCM rounding
    # --units through the pipeline's vocoder
    write_units(tmp_path / "u.jsonl", [p.encode_file(tmp_path / "in.wav")])
    assert read_units(tmp_path / "u.jsonl")[0].id == "in"
    assert main(["resynth", "--model", str(tmp_path), "--units", str(tmp_path / "u.jsonl"), "--out", str(tmp_path / "o")]) == 0
    again, _ = sf.read(tmp_path / "o" / "in.wav", dtype="float32")
    assert (again == out).all()


def test_f0_vocoder_gets_the_input_f0_aligned_to_units(tmp_path, sine):
    from textless.encoders.hubert import HubertConfig, HubertEncoder
    from textless.pipeline import Pipeline
    from textless.prosody import F0Stats, normalize_f0, unit_aligned_f0
    from textless.quantizers.kmeans import KMeansQuantizer
    from textless.vocoders.resynth import resynthesize_file

    torch.manual_seed(1)
    conv = ((16, 10, 5),) + ((16, 3, 2),) * 4 + ((16, 2, 2),) * 2
    enc = HubertEncoder(HubertConfig(conv_layers=conv, embed_dim=16, ffn_dim=32, num_layers=1, num_heads=2,
                                     conv_pos=8, conv_pos_groups=4)).eval()
    voc = UnitHiFiGAN(VocoderConfig(vocab_size=6, f0=True, num_styles=2, styles=("calm", "loud"), **SMALL)).eval()
    p = Pipeline(enc, KMeansQuantizer(torch.randn(6, 16)), vocoder=voc, layer=1)
    t = torch.arange(8000) / 16000
    wav = (0.3 * torch.sin(2 * torch.pi * 150 * t) + 0.1 * torch.sin(2 * torch.pi * 300 * t)).numpy()
    sf.write(tmp_path / "in.wav", wav, 16000)
    got = resynthesize_file(p, tmp_path / "in.wav", style="loud")
    units = p.encode_file(tmp_path / "in.wav")
    raw = unit_aligned_f0(p.load(tmp_path / "in.wav"), 16000, units.num_frames, 50.0)
    assert (raw > 0).mean() > 0.8 and abs(float(raw[raw > 0].mean()) / 150 - 1) < 0.02
    f0 = torch.from_numpy(normalize_f0(raw, F0Stats.of([raw])))
    assert got.shape == (units.num_frames * 320,)
    assert torch.equal(got, voc.synthesize(units, f0=f0, style=1))
    assert not torch.equal(got, voc.synthesize(units, f0=f0 + 1, style=1))
