"""Behaviour the Pipeline owns (issue 13): one features path, all compatibility checks, F0 for an
F0-conditioned vocoder, speakers, and `textless continue` going through `continue_speech`.
Tiny random models: their speech is noise, the relations between calls are what is checked."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from textless.encoders.batch import features_of
from textless.encoders.spectral import SpectralConfig, SpectralEncoder
from textless.errors import IncompatibleComponentsError, TextlessError
from textless.pipeline import Pipeline
from textless.prosody import utterance_f0
from textless.quantizers.kmeans import KMeansQuantizer
from textless.ulm.model import UnitLM, UnitLMConfig
from textless.vocoders.hifigan import UnitHiFiGAN, VocoderConfig

K, SR = 8, 16000
ROOT = Path(__file__).resolve().parents[1]


def voiced(seconds=0.8, f_start=110.0, f_end=190.0):
    """A harmonic tone gliding from ``f_start`` to ``f_end`` Hz: voiced everywhere, F0 rising."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(np.linspace(f_start, f_end, t.size)) / SR
    return (0.3 * sum(np.sin(h * phase) / h for h in (1, 2, 3))).astype(np.float32)


def tiny_vocoder(**extra):
    torch.manual_seed(0)
    return UnitHiFiGAN(VocoderConfig(
        vocab_size=K, embedding_dim=8, upsample_initial_channel=32, resblock_kernel_sizes=(3,),
        resblock_dilation_sizes=((1,),), **extra)).eval()


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    encoder = SpectralEncoder(SpectralConfig(kind="mfcc", hop_length=320, n_fft=400, cmvn=True))
    quantizer = KMeansQuantizer(torch.randn(K, encoder.dim))
    ulm = UnitLM(UnitLMConfig.tiny(vocab_size=K)).eval()
    return encoder, quantizer, ulm


def test_features_padded_batch_equals_items_and_encode_uses_them(parts):
    encoder, quantizer, _ = parts
    pipe = Pipeline.from_parts(encoder, quantizer)
    a, b = voiced(0.8), voiced(0.3, 200.0, 150.0)
    batch = pipe.features([a, b])
    alone = [pipe.features([w])[0] for w in (a, b)]
    for f, g, w in zip(batch, alone, (a, b)):
        assert f.shape == g.shape == (int(encoder.num_frames(torch.tensor(len(w)))), encoder.dim)
        torch.testing.assert_close(f, g, atol=1e-4, rtol=1e-4)
    # a padded [B, T] tensor with lengths is the same path
    padded = torch.zeros(2, len(a))
    padded[0], padded[1, : len(b)] = torch.from_numpy(a), torch.from_numpy(b)
    again = features_of(encoder, padded, lengths=torch.tensor([len(a), len(b)]))
    torch.testing.assert_close(again[1], batch[1])
    units = pipe.encode(b, deduplicate=False)
    assert units.units.tolist() == quantizer.assign(alone[1]).tolist()


def test_all_checks_in_one_place(parts):
    encoder, quantizer, ulm = parts
    with pytest.raises(IncompatibleComponentsError, match="dimension"):
        Pipeline(encoder, KMeansQuantizer(torch.randn(K, encoder.dim + 1)))
    layered = KMeansQuantizer(torch.randn(K, encoder.dim), layer=6)
    assert Pipeline.from_parts(encoder, layered).layer == 6  # the quantizer's layer is the default
    with pytest.raises(IncompatibleComponentsError, match="trained on layer 6"):
        Pipeline.from_parts(encoder, layered, layer=5)
    with pytest.raises(IncompatibleComponentsError, match="unit LM"):
        Pipeline.from_parts(encoder, quantizer, ulm=UnitLM(UnitLMConfig.tiny(vocab_size=K + 1)))
    with pytest.raises(IncompatibleComponentsError, match="frame rate"):
        Pipeline.from_parts(encoder, quantizer, vocoder=tiny_vocoder(sample_rate=8000))

    class Layered:  # an encoder with layers 0..2 and no layer named anywhere
        sample_rate, frame_rate, receptive_field, dim, num_layers = SR, 50.0, 400, encoder.dim, 2

    with pytest.raises(IncompatibleComponentsError, match="give the layer"):
        Pipeline.from_parts(Layered(), quantizer)
    with pytest.raises(IncompatibleComponentsError, match="outside the encoder's layers 0..2"):
        Pipeline(Layered(), quantizer, layer=3)


def test_f0_vocoder_resynthesize_uses_the_audio_f0(parts):
    encoder, quantizer, ulm = parts
    voc = tiny_vocoder(f0=True)
    pipe = Pipeline.from_parts(encoder, quantizer, ulm=ulm, vocoder=voc)
    wav = voiced()
    units = pipe.encode(wav)
    out = pipe.resynthesize(units, wav=wav)
    f0 = utterance_f0(wav, SR, units.num_frames, pipe.frame_rate)
    assert (f0 != 0).sum() > units.num_frames // 2  # the tone is voiced: a real F0 went in
    assert out.shape == (units.num_frames * voc.hop_length,)
    torch.testing.assert_close(out, voc.synthesize(units, f0=torch.from_numpy(f0)))
    # without audio: a flat F0 of 0 (the speaker's mean), which sounds different from the input's
    flat = pipe.resynthesize(units)
    torch.testing.assert_close(flat, voc.synthesize(units, f0=torch.zeros(units.num_frames)))
    assert not torch.allclose(flat, out)
    # resynthesize_file (textless resynth) goes through the same method
    from textless.vocoders.resynth import resynthesize_file

    pipe_file = Pipeline.from_parts(encoder, quantizer, vocoder=voc, name="p")
    pipe_file.load = lambda path: wav
    torch.testing.assert_close(resynthesize_file(pipe_file, "x.wav"), out)


def test_f0_vocoder_continue_speech(parts):
    encoder, quantizer, ulm = parts
    voc = tiny_vocoder(f0=True)
    pipe = Pipeline.from_parts(encoder, quantizer, ulm=ulm, vocoder=voc)
    wav = voiced()
    r = pipe.continue_speech(wav, max_new_tokens=6, num_samples=2, seed=3, stop_at_eos=False)
    torch.testing.assert_close(r.prompt_wav, pipe.resynthesize(r.prompt, wav=wav))
    assert len(r.continuation_wavs) == 2
    for c, w in zip(r.continuations, r.continuation_wavs):
        assert w.shape == (len(c) * voc.hop_length,)  # no durations, no predictor: one frame a unit
        torch.testing.assert_close(w, voc.synthesize(c, f0=torch.zeros(len(c))))
    # a Units prompt gives the same continuations as its audio
    again = pipe.continue_speech(r.prompt, max_new_tokens=6, num_samples=2, seed=3,
                                 stop_at_eos=False, vocode_prompt=False)
    assert [c.units.tolist() for c in again.continuations] == [c.units.tolist() for c in r.continuations]
    assert again.prompt_wav is None


def test_speaker_vocoder_resynthesize_and_continue(parts):
    encoder, quantizer, ulm = parts
    voc = tiny_vocoder(num_speakers=2, speakers=("ann", "bob"))
    pipe = Pipeline.from_parts(encoder, quantizer, ulm=ulm, vocoder=voc)
    units = pipe.encode(voiced())
    bob = pipe.resynthesize(units, speaker="bob")
    torch.testing.assert_close(bob, pipe.resynthesize(units, speaker=1))
    torch.testing.assert_close(bob, pipe.resynthesize(units, speaker="1"))
    assert not torch.allclose(bob, pipe.resynthesize(units, speaker="ann"))
    with pytest.raises(TextlessError, match="unknown speaker 'eve'"):
        pipe.resynthesize(units, speaker="eve")
    r = pipe.continue_speech(voiced(), max_new_tokens=5, seed=1, speaker="bob", stop_at_eos=False)
    torch.testing.assert_close(r.prompt_wav, pipe.resynthesize(r.prompt, speaker=1))
    torch.testing.assert_close(r.continuation_wavs[0], pipe.resynthesize(r.continuations[0], speaker=1))


def test_continue_cli_equals_continue_speech(parts, tmp_path):
    import soundfile as sf

    from textless.components import load_component
    from textless.cli import main
    from textless.pipeline import save_pipeline_dir
    from textless.ulm.checkpoint import save_ulm
    from textless.units import read_units
    from textless.vocoders.checkpoint import save_vocoder

    encoder, quantizer, ulm = parts
    encoder.save(tmp_path / "encoder.safetensors")
    quantizer.save(tmp_path / "quantizer.safetensors")
    save_ulm(tmp_path / "ulm.safetensors", ulm)
    save_vocoder(tiny_vocoder(f0=True, num_speakers=2, speakers=("ann", "bob")), tmp_path / "vocoder.safetensors")
    save_pipeline_dir(tmp_path, name="tiny", layer=None,
                      files={r: f"{r}.safetensors" for r in ("encoder", "quantizer", "ulm", "vocoder")})
    sf.write(tmp_path / "hello.wav", voiced(), SR)
    out = tmp_path / "out"
    assert main(["continue", str(tmp_path / "hello.wav"), "--model", str(tmp_path), "--out", str(out),
                 "--num-samples", "2", "--max-new-tokens", "6", "--seed", "4", "--no-eos",
                 "--speaker", "bob"]) == 0
    got = read_units(out / "continuations.jsonl")
    pipe = Pipeline.from_parts(*(load_component(tmp_path / f"{r}.safetensors") for r in ("encoder", "quantizer")),
                               ulm=load_component(tmp_path / "ulm.safetensors"),
                               vocoder=load_component(tmp_path / "vocoder.safetensors"))
    want = pipe.continue_speech(pipe.load(tmp_path / "hello.wav"), id="hello", max_new_tokens=6,
                                num_samples=2, seed=4, stop_at_eos=False, speaker="bob")
    assert [u.id for u in got] == ["hello-0", "hello-1"]
    assert [u.units.tolist() for u in got] == [u.units.tolist() for u in want.continuations]
    wav, sr = sf.read(out / "hello-1.wav", dtype="float32")
    assert sr == SR and len(wav) == len(want.continuation_wavs[1])


def _imports(module_file: Path) -> set[str]:
    """Absolute names of the textless modules a file imports (relative imports resolved)."""
    package = "textless." + ".".join(module_file.relative_to(ROOT / "textless").with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(module_file.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.rstrip(".").split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("stage", ["components.py", "encoders/batch.py", "vocoders/data.py",
                                   "vocoders/resynth.py", "eval/features.py"])
def test_stage_modules_do_not_import_pipeline_or_cli(stage):
    names = _imports(ROOT / "textless" / stage)
    assert names and not {n for n in names if n.startswith(("textless.cli", "textless.pipeline"))}


def test_demo_is_in_the_package_and_imports_gradio_lazily():
    code = ("import sys, textless.demo, textless.cli.demo; "
            "print('gradio' in sys.modules, textless.demo.__file__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    assert out[0] == "False" and Path(out[1]).parent == ROOT / "textless"
    assert "demos" not in (ROOT / "textless" / "cli" / "demo.py").read_text()
