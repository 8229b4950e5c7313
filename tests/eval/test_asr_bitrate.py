"""ASR-based WER/PER through pocketsphinx, and the bitrate CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from textless.eval import asr

SENTENCES = ["the cat sat on the mat", "she sells sea shells by the sea shore",
             "a quick brown fox jumps over the lazy dog"]


@pytest.fixture(scope="module")
def backend():
    pytest.importorskip("pocketsphinx")
    return asr.PocketSphinx()


def test_wer_per_relations(speech_dir, tmp_path, backend):
    """An identical "resynthesis" decodes exactly like its reference (decoding is deterministic);
    a time-reversed one is worse in WER and PER; the rates are the corpus edit rates (jiwer) of
    the transcripts reported per utterance."""
    import jiwer

    ref, syn = tmp_path / "ref", tmp_path / "syn"
    ref.mkdir()
    syn.mkdir()
    for i in range(2):
        src = speech_dir / f"slt_{i}.wav"
        shutil.copy(src, ref / f"u{i}.wav")
        wav, rate = sf.read(src, dtype="float32")
        sf.write(syn / f"u{i}.wav", wav if i == 0 else wav[::-1].copy(), rate)
    texts = {f"u{i}": s.upper() + "." for i, s in enumerate(SENTENCES)}
    r = asr.intelligibility(asr.pair_folders(ref, syn, texts), backend)
    same, rev = r["by_utterance"]
    assert same["hyp_reference"] == same["hyp_resynthesis"]
    assert same["phones_reference_audio"] == same["phones_resynthesis"]
    assert same["text"] == SENTENCES[0]
    assert r["wer_reference"] < 0.75  # pocketsphinx mostly follows flite slt
    assert r["wer_reference"] == pytest.approx(
        jiwer.wer([x["text"] for x in (same, rev)], [x["hyp_reference"] for x in (same, rev)]))
    assert r["wer_delta"] == pytest.approx(r["wer_resynthesis"] - r["wer_reference"])
    assert r["wer_delta"] > 0.2 and r["per_delta"] > 0.0
    # reference phones come from the CMU dictionary for known words
    assert same["phones_truth"][:3] == ["DH", "AH", "K"]


def test_cli_wer_without_transcripts(speech_dir, tmp_path, backend):
    """Without transcripts, the ASR of the reference audio is the reference text: WER(ref) = 0."""
    from textless.cli import main

    ref = tmp_path / "ref"
    ref.mkdir()
    shutil.copy(speech_dir / "slt_0.wav", ref / "a.wav")
    out = tmp_path / "wer.json"
    assert main(["eval", "wer", str(ref), str(ref), "--no-phones", "-o", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["wer_reference"] == 0.0 and r["wer_resynthesis"] == 0.0 and "per_reference" not in r
    assert main(["eval", "wer", str(ref), str(ref), "--asr", "whisper"]) == 2  # needs --asr-model


def test_error_rate_and_normalisation():
    assert asr.normalize_text("Hello, World!  It's me.") == "hello world it's me"
    assert asr.error_rate([["a", "b", "c", "d"]], [["a", "x", "c"]]) == 0.5  # 1 sub + 1 del / 4


def test_cli_bitrate(tmp_path, capsys):
    from textless.cli import main
    from textless.units import Units, bitrate, write_units

    rng = np.random.default_rng(0)
    utts = [Units(torch.as_tensor(rng.integers(0, 50, 200)), frame_rate=50.0, vocab_size=50,
                  id=f"u{i}").deduplicated() for i in range(3)]
    path = write_units(tmp_path / "u.jsonl", utts)
    out = tmp_path / "b.json"
    assert main(["eval", "bitrate", str(path), "-o", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["vocab_bps"] == pytest.approx(bitrate(utts, "vocab"))
    assert r["entropy_bps"] == pytest.approx(bitrate(utts, "entropy"))
    assert r["duration_s"] == pytest.approx(12.0) and r["deduplicated"]
    assert r["vocab_bps"] < 50 * np.log2(50)  # dedup lowers the token rate
    # fairseq files carry no frame rate: a user error until --frame-rate is given
    fs = write_units(tmp_path / "u.txt", [u.expanded() for u in utts])
    assert main(["eval", "bitrate", str(fs)]) == 2
    assert "--frame-rate" in capsys.readouterr().err
    assert main(["eval", "bitrate", str(fs), "--frame-rate", "50", "--vocab-size", "50",
                 "-o", str(out)]) == 0
    assert json.loads(out.read_text())["vocab_bps"] == pytest.approx(50 * np.log2(50))


def test_wav2vec2_adapter_plumbing(tmp_path):
    """A tiny random-weight Wav2Vec2ForCTC folder: the adapter's transcript is the greedy CTC
    decoding of the model's logits (no real checkpoint offline: plumbing only)."""
    import re

    transformers = pytest.importorskip("transformers")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4,
             **{c: i + 5 for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")}}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tok = transformers.Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json"), word_delimiter_token="|")
    fe = transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000,
                                               padding_value=0.0, do_normalize=True)
    transformers.Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok).save_pretrained(tmp_path)
    cfg = transformers.Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    model = transformers.Wav2Vec2ForCTC(cfg).eval()
    model.save_pretrained(tmp_path)
    wav = (np.random.default_rng(0).normal(size=8000) * 0.1).astype(np.float32)
    backend = asr.get_backend("wav2vec2", str(tmp_path))
    text = backend.transcribe(wav)
    with torch.inference_mode():
        x = fe(wav, sampling_rate=16000, return_tensors="pt").input_values
        ids = model(x).logits.argmax(-1)
    expected = asr.normalize_text(re.sub(r"<[^>]*>", " ", tok.batch_decode(ids)[0]))
    assert text == expected and text
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyz' ")


def test_pocketsphinx_with_an_in_domain_lm(tmp_path):
    from textless.audio import load_audio
    from textless.data.align import write_bigram_lm
    from textless.data.text import generate_sentences
    from textless.data.voices import parse_voice, synthesize
    from textless.errors import TextlessError

    lm = write_bigram_lm(generate_sentences(3000, seed=0), tmp_path / "lm.arpa")
    backend = asr.get_backend("pocketsphinx", lm=str(lm))
    refs, hyps = [], []
    for i, s in enumerate(generate_sentences(2, seed=99)):
        synthesize(parse_voice("flite:rms"), tmp_path / f"{i}.wav", s)
        refs.append(s.split())
        hyps.append(backend.transcribe(load_audio(tmp_path / f"{i}.wav")[0]).split())
    assert asr.error_rate(refs, hyps) < 0.2
    with pytest.raises(TextlessError, match="no such language model"):
        asr.PocketSphinx(tmp_path / "missing.arpa")
    with pytest.raises(TextlessError, match="pocketsphinx only"):
        asr.get_backend("whisper", str(tmp_path), lm=str(lm))
