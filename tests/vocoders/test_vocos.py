"""UnitVocos: output length and hop for 25 and 50 Hz units, bounded look-ahead, the inverse STFT,
streaming == whole utterance for both architectures, save/load through pipeline.json."""

import pytest
import torch

from textless.errors import CheckpointError, TextlessError
from textless.units import Units
from textless.vocoders.hifigan import UnitHiFiGAN, VocoderConfig
from textless.vocoders.vocos import UnitVocos, VocosConfig, stft_same, vocos_config


def tiny_vocos(hop=320, **kw):
    torch.manual_seed(0)
    fields = dict(vocab_size=12, embedding_dim=8, hop_length=hop, dim=16, intermediate_dim=32, num_layers=2)
    return UnitVocos(VocosConfig(**{**fields, **kw})).eval()


def tiny_hifigan(**kw):
    torch.manual_seed(0)
    return UnitHiFiGAN(VocoderConfig(vocab_size=12, embedding_dim=8, upsample_initial_channel=32,
                                     upsample_rates=(5, 4, 4, 4), upsample_kernel_sizes=(11, 8, 8, 8),
                                     resblock_kernel_sizes=(3, 7), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)),
                                     **kw)).eval()


@pytest.mark.parametrize("frame_rate,hop", [(50, 320), (25, 640)])
def test_length_hop_and_stft_size_follow_the_unit_rate(frame_rate, hop):
    voc = tiny_vocos(hop)
    assert voc.sample_rate / voc.hop_length == frame_rate
    assert voc.config.n_fft == 3 * hop and voc.lookahead_frames == 2
    for n in (1, 2, 17):
        wav = voc.synthesize(Units(torch.randint(0, 12, (n,)), frame_rate=float(frame_rate)))
        assert wav.shape == (n * hop,) and torch.isfinite(wav).all() and wav.abs().max() > 0
    # durations expand the units first: 3 units lasting 2 + 1 + 4 frames
    wav = voc.synthesize(Units(torch.tensor([3, 1, 4]), torch.tensor([2, 1, 4])))
    assert wav.shape == (7 * hop,)
    assert vocos_config("base", vocab_size=12, hop_length=hop).dim == 512


def test_look_ahead_is_bounded_and_exactly_two_frames():
    """Samples of frames < j depend on units up to j + 1 (look-ahead 2 beyond frame j - 1), not later."""
    voc = tiny_vocos()
    a = torch.randint(0, 12, (30,))
    j = 12
    b = a.clone()
    b[j + 1:] = (a[j + 1:] + 1) % 12  # change every unit from j + 1 on
    wa, wb = voc.synthesize(Units(a)), voc.synthesize(Units(b))
    hop = voc.hop_length
    assert torch.equal(wa[: (j - 1) * hop], wb[: (j - 1) * hop])  # frames < j - 1 see units <= j only
    assert not torch.allclose(wa[(j - 1) * hop: j * hop], wb[(j - 1) * hop: j * hop])  # frame j - 1 sees j + 1


def test_inverse_stft_inverts_the_matching_analysis():
    config = tiny_vocos(640).config
    voc = UnitVocos(config)
    wav = torch.randn(2, 9 * 640)
    spec = stft_same(wav, config)
    assert spec.shape == (2, config.n_fft // 2 + 1, 9)
    torch.testing.assert_close(voc.istft(spec), wav, atol=1e-5, rtol=0)


def test_config_errors():
    with pytest.raises(TextlessError, match="lookahead"):
        VocosConfig(lookahead=7, kernel_size=7)
    with pytest.raises(TextlessError, match="fft_hops"):
        VocosConfig(fft_hops=1)
    with pytest.raises(TextlessError, match="unknown UnitVocos preset"):
        vocos_config("v1", vocab_size=12)


@pytest.mark.parametrize("arch", ["vocos", "hifigan"])
def test_streamed_chunks_equal_the_whole_utterance(arch):
    extra = dict(num_speakers=2, speakers=("a", "b"), f0=True, duration_predictor=True, dur_hidden_dim=8)
    voc = tiny_vocos(**extra) if arch == "vocos" else tiny_hifigan(**extra)
    units = Units(torch.randint(0, 12, (9,)))  # no durations: the duration predictor expands them
    f0 = torch.randn(9)
    whole = voc.synthesize(units, speaker="b", f0=f0)
    assert whole.numel() >= 9 * voc.hop_length
    for chunk in (1, 2, 5, 64):
        parts = list(voc.synthesize_stream(units, chunk, speaker="b", f0=f0))
        assert all(p.numel() == chunk * voc.hop_length for p in parts[:-1])
        torch.testing.assert_close(torch.cat(parts), whole, atol=1e-4, rtol=0)
    with pytest.raises(TextlessError, match="chunk_frames"):
        next(voc.synthesize_stream(units, 0, speaker="b", f0=f0))


def test_hifigan_stream_context_covers_its_receptive_field():
    """The gradient of frame j's samples is zero outside frames j - R .. j + R."""
    voc = tiny_hifigan()
    r = voc.lookahead_frames
    x = torch.randn(1, voc.config.model_in_dim, 2 * r + 21, requires_grad=True)
    j, hop = r + 10, voc.hop_length
    voc.decode(x)[0, j * hop:(j + 1) * hop].sum().backward()
    touched = (x.grad[0].abs().sum(0) > 0).nonzero().view(-1)
    assert touched.min() >= j - r and touched.max() <= j + r
    assert touched.max() > j + 1  # the HiFi-GAN is not causal: it needs look-ahead


def _pipeline_dir(directory, vocoder):
    from textless.encoders.spectral import SpectralConfig, SpectralEncoder
    from textless.pipeline import save_pipeline_dir
    from textless.quantizers.kmeans import KMeansQuantizer
    from textless.vocoders.checkpoint import save_vocoder

    directory.mkdir(parents=True, exist_ok=True)
    encoder = SpectralEncoder(SpectralConfig(kind="mfcc", hop_length=320, n_fft=400, cmvn=True))
    encoder.save(directory / "encoder.safetensors")
    KMeansQuantizer(torch.randn(12, encoder.dim)).save(directory / "quantizer.safetensors")
    save_vocoder(vocoder, directory / "vocoder.safetensors")
    return save_pipeline_dir(directory, name="vocos", layer=None, files={
        role: f"{role}.safetensors" for role in ("encoder", "quantizer", "vocoder")})


def test_save_load_round_trip_through_pipeline_json(tmp_path, sine):
    from safetensors.torch import load_file, save_file

    from textless.components import load_component
    from textless.pipeline import load_pipeline_dir
    from textless.vocoders.checkpoint import load_vocoder, read_kind

    voc = tiny_vocos(num_speakers=2, speakers=("a", "b"))
    d = _pipeline_dir(tmp_path / "pipe", voc)
    assert read_kind(d / "vocoder.safetensors") == "vocoder.vocos"
    pipe = load_pipeline_dir(d)
    assert isinstance(pipe.vocoder, UnitVocos) and pipe.vocoder.config == voc.config
    units = pipe.encode(torch.from_numpy(sine(220.0, 0.5)), deduplicate=True)
    torch.testing.assert_close(pipe.resynthesize(units, speaker="b"), voc.synthesize(units, speaker="b"),
                               atol=0, rtol=0)
    assert pipe.resynthesize(units).numel() == units.num_frames * 320
    for loaded in (load_component(d / "vocoder.safetensors"), load_vocoder(d / "vocoder.safetensors")):
        assert isinstance(loaded, UnitVocos) and not loaded.training
    # a file with a key the architecture lacks is refused, naming the key
    state = load_file(d / "vocoder.safetensors")
    from safetensors import safe_open

    with safe_open(str(d / "vocoder.safetensors"), framework="pt") as f:
        meta = f.metadata()
    save_file({**state, "head.extra": torch.zeros(1)}, str(tmp_path / "bad.safetensors"), metadata=meta)
    with pytest.raises(CheckpointError, match="head.extra"):
        load_component(tmp_path / "bad.safetensors")
