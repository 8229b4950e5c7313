"""Continuation: API relations, and ``textless continue`` on audio with a pipeline folder
(spectral encoder + k-means + unit LM, with and without a tiny random vocoder)."""

import pytest
import soundfile as sf
import torch

from textless.cli import main
from textless.errors import TextlessError
from textless.pipeline import save_pipeline_dir
from textless.ulm.checkpoint import save_ulm
from textless.ulm.model import UnitLM, UnitLMConfig
from textless.ulm.sample import continue_units, filter_logits
from textless.units import Units, read_units

K = 12


@pytest.fixture
def lm():
    torch.manual_seed(0)
    return UnitLM(UnitLMConfig.tiny(vocab_size=K)).eval()


def test_continue_units_relations(lm):
    frames = Units(torch.tensor([3, 3, 3, 5, 5, 1, 1, 1, 1]), frame_rate=50.0, vocab_size=K,
                   model="m", id="p")
    kw = dict(num_samples=3, max_new_tokens=10, temperature=1.0, seed=7, stop_at_eos=False)
    a = continue_units(lm, frames, **kw)
    b = continue_units(lm, frames.deduplicated(), **kw)  # prompts are deduplicated
    assert [u.units.tolist() for u in a] == [u.units.tolist() for u in b]
    assert len(a) == 3 and all(u.durations is None and u.frame_rate == 50.0 and u.model == "m"
                               for u in a)
    assert [u.id for u in a] == ["p-0", "p-1", "p-2"]
    for u in a:  # deduplicated ids in range
        assert 1 <= len(u) <= 10 and torch.all(u.units[1:] != u.units[:-1])
        assert int(u.units.max()) < K
    # the same seed gives the same batch
    assert [u.units.tolist() for u in continue_units(lm, frames, **kw)] == [u.units.tolist() for u in a]
    # duration: 0.2 s at 50 Hz with a mean of 2.25 frames per unit -> round(4.44) = 4 tokens
    d = continue_units(lm, frames.deduplicated(), duration_s=0.2, temperature=0.0, stop_at_eos=False)
    assert len(d) == 1 and len(d[0]) <= 4
    greedy = continue_units(lm, frames, max_new_tokens=6, temperature=0.0, stop_at_eos=False,
                            num_samples=2)
    assert greedy[0].units.tolist() == greedy[1].units.tolist()
    with pytest.raises(TextlessError):
        continue_units(lm, frames, max_new_tokens=5, duration_s=1.0)


def test_top_k_and_top_p_filters():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isfinite(filter_logits(logits, top_p=0.6)).tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.5)).tolist() == [[True, False, False, False]]
    assert torch.isfinite(filter_logits(logits, top_k=3)).tolist() == [[True, True, True, False]]


def _pipeline_dir(tmp, speech_dir, lm, vocoder: bool):
    from textless.audio import load_audio
    from textless.encoders.spectral import SpectralEncoder, mfcc_config
    from textless.quantizers.kmeans import KMeansQuantizer

    enc = SpectralEncoder(mfcc_config())
    wav, _ = load_audio(speech_dir / "slt_0.wav", 16000)
    feats, _ = enc.features(torch.from_numpy(wav)[None])
    centers = feats[0, torch.linspace(0, feats.shape[1] - 1, K).long()]
    enc.save(tmp / "encoder.safetensors")
    KMeansQuantizer(centers).save(tmp / "quantizer.safetensors")
    save_ulm(tmp / "ulm.safetensors", lm)
    files = {"encoder": "encoder.safetensors", "quantizer": "quantizer.safetensors",
             "ulm": "ulm.safetensors"}
    if vocoder:
        from textless.vocoders.checkpoint import save_vocoder
        from textless.vocoders.hifigan import UnitHiFiGAN, VocoderConfig

        torch.manual_seed(0)
        voc = UnitHiFiGAN(VocoderConfig(
            vocab_size=K, embedding_dim=8, upsample_rates=(10, 4, 4), upsample_kernel_sizes=(10, 4, 4),
            upsample_initial_channel=16, resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1,),),
            duration_predictor=True, dur_hidden_dim=8)).eval()
        save_vocoder(voc, tmp / "vocoder.safetensors")
        files["vocoder"] = "vocoder.safetensors"
    return save_pipeline_dir(tmp, name="tiny-mfcc", layer=None, files=files)


@pytest.mark.parametrize("vocoder", [False, True])
def test_continue_cli_audio(speech_dir, lm, tmp_path, vocoder):
    model_dir = _pipeline_dir(tmp_path / "pipe", speech_dir, lm, vocoder)
    out = tmp_path / "out"
    args = ["continue", str(speech_dir / "slt_0.wav"), str(speech_dir / "kal_1.wav"), "--model",
            str(model_dir), "--out", str(out), "--num-samples", "2", "--duration", "0.3",
            "--seed", "1"]
    assert main(args) == 0
    conts = read_units(out / "continuations.jsonl")
    assert [u.id for u in conts] == ["slt_0-0", "slt_0-1", "kal_1-0", "kal_1-1"]
    assert all(u.frame_rate == 100.0 and u.vocab_size == K and u.model == "tiny-mfcc" for u in conts)
    wavs = sorted(p.name for p in out.glob("*.wav"))
    if vocoder:
        assert wavs == sorted(f"{u.id}.wav" for u in conts)
        info = sf.info(str(out / wavs[0]))
        assert info.samplerate == 16000 and info.frames > 0
    else:
        assert wavs == []
