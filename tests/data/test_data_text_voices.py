from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from textless.data.align import dictionary
from textless.data.text import generate_sentences, normalize, read_sentences, vocabulary
from textless.data.voices import (CANONICAL_VOICE, HELDOUT_VOICES, PARALLEL_VOICES, TRAIN_VOICES,
                                  parse_voice, synthesize)
from textless.errors import TextlessError


def test_grammar_is_seeded_and_its_vocabulary_recurs_and_is_in_the_dictionary():
    a = generate_sentences(2000, seed=5)
    assert a == generate_sentences(2000, seed=5)
    assert a != generate_sentences(2000, seed=6)
    assert len(set(a)) > 1900  # sentences rarely repeat ...
    counts = Counter(w for s in a for w in s.split())
    assert set(counts) <= vocabulary()
    # ... but words recur: most word types occur 5+ times, most tokens are of frequent types
    assert sum(n >= 5 for n in counts.values()) > 0.75 * len(counts)
    assert sum(n for n in counts.values() if n >= 20) > 0.8 * sum(counts.values())
    missing = vocabulary() - set(dictionary())
    assert not missing, f"grammar words missing from the pronouncing dictionary: {missing}"


def test_read_sentences_normalizes(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("The Cat sat.\n\n  A DOG, barked!\n")
    assert read_sentences(p) == ["the cat sat", "a dog barked"]
    assert normalize("Hello, World") == "hello world"
    with pytest.raises(TextlessError):
        read_sentences(tmp_path / "missing.txt")


def test_voice_sets_are_disjoint_and_distinct():
    train = {parse_voice(v).speaker for v in TRAIN_VOICES}
    held = {parse_voice(v).speaker for v in HELDOUT_VOICES}
    assert len(train) == len(TRAIN_VOICES) >= 8
    assert not train & held
    for spec in TRAIN_VOICES + HELDOUT_VOICES + PARALLEL_VOICES:
        assert parse_voice(parse_voice(spec).spec) == parse_voice(spec)
    # the speaker-invariant encoder's voices: >= 30 speakers with the canonical one, none held out
    parallel = {parse_voice(v).speaker for v in PARALLEL_VOICES + (CANONICAL_VOICE,)}
    assert len(parallel) == len(PARALLEL_VOICES) + 1 >= 30
    assert not parallel & held
    assert parse_voice("flite:rms@formant=1.15").speaker == "flite-rms-f115"


@pytest.mark.parametrize("bad", ["slt", "flite:nope", "say:slt", "flite:slt@pitch=x",
                                 "flite:slt@speed=2", "flite:slt@pitch=40", "flite:slt@formant=3",
                                 "flite:slt@band=500", "flite:slt@band=8000", "flite:slt@band=3999.5"])
def test_bad_voice_specs_raise(bad):
    with pytest.raises(TextlessError):
        parse_voice(bad)


def test_synthesize_writes_16k_pcm16_deterministically_and_tempo_shortens(tmp_path):
    pytest.importorskip("soxr")
    text = "the small dog ran across the field"
    v = parse_voice("flite:kal@pitch=2")  # kal is 8 kHz: resampled to 16 kHz
    n = synthesize(v, tmp_path / "a.wav", text)
    synthesize(v, tmp_path / "b.wav", text)
    info = sf.info(str(tmp_path / "a.wav"))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", n)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    fast = synthesize(parse_voice("flite:kal@pitch=2,tempo=1.25"), tmp_path / "c.wav", text)
    assert abs(fast / n - 1 / 1.25) < 0.05
    wav, _ = sf.read(str(tmp_path / "a.wav"))
    assert np.abs(wav).max() > 0.05  # speech, not silence


def test_band_limited_voice_keeps_length_and_removes_energy_above_the_band(tmp_path):
    pytest.importorskip("soxr")
    text = "the small dog ran across the field"
    v = parse_voice("flite:slt@band=3000")
    assert (v.band, v.speaker, parse_voice(v.spec)) == (3000, "flite-slt-b3000", v)
    full = synthesize(parse_voice("flite:slt"), tmp_path / "full.wav", text)
    assert synthesize(v, tmp_path / "band.wav", text) == full

    def share_above(path, hz):  # share of the power spectrum above hz
        x, sr = sf.read(str(path))
        p = np.abs(np.fft.rfft(x)) ** 2
        return p[np.fft.rfftfreq(len(x), 1 / sr) > hz].sum() / p.sum()

    assert share_above(tmp_path / "full.wav", 3300) > 1e-3  # slt has energy up to 8 kHz ...
    assert share_above(tmp_path / "band.wav", 3300) < 1e-6  # ... the band-limited copy none above 3 kHz
    assert share_above(tmp_path / "band.wav", 500) > 0.5 * share_above(tmp_path / "full.wav", 500)
