import csv
from collections import defaultdict

import pytest
import soundfile as sf

from textless.data.align import dictionary
from textless.data.lexical import LEXICAL_COLUMNS, Phonotactics, build_lexical_set, make_lexical_pairs
from textless.data.syntactic import PHENOMENA, SYNTACTIC_COLUMNS, build_syntactic_set, make_syntactic_pairs


def _read(gold):
    with open(gold, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_nonwords_match_length_are_legal_and_not_words():
    pairs = make_lexical_pairs(["garden", "dog", "river", "beautiful", "market", "zzzq"], seed=0)
    prons = {p for ps in dictionary().values() for p in ps}
    tactics = Phonotactics()
    assert [p.word for p in pairs] == ["beautiful", "dog", "garden", "market", "river"]
    for p in pairs:
        assert len(p.nonword) == len(p.phones) and p.nonword != p.phones
        assert p.nonword not in prons and tactics.legal(p.nonword)
        assert 1 <= sum(a != b for a, b in zip(p.phones, p.nonword)) <= 2
    assert len({p.nonword for p in pairs}) == len(pairs)


def test_lexical_set_has_official_columns_and_complete_pairs(tmp_path):
    gold = build_lexical_set(tmp_path, ["garden", "river", "market"], voices=["flite:kal"],
                             text=["the river and the garden", "the river"], workers=2,
                             show_progress=False)
    assert gold == tmp_path / "lexical" / "dev" / "gold.csv"
    columns, rows = _read(gold)
    # the official order: the official scorer takes frequency, word and length by position
    assert columns == LEXICAL_COLUMNS == ["id", "filename", "voice", "frequency", "word", "phones",
                                          "length", "correct"]
    by_pair = defaultdict(list)
    for r in rows:
        by_pair[(r["voice"], r["id"])].append(r)
        info = sf.info(str(gold.parent / f"{r['filename']}.wav"))
        assert info.samplerate == 16000 and info.frames > 1600
        assert int(r["length"]) == len(r["phones"].split())
    assert len(by_pair) == 3
    for pair in by_pair.values():
        assert sorted(r["correct"] for r in pair) == ["0", "1"]
        assert len({r["length"] for r in pair}) == 1
        word = next(r for r in pair if r["correct"] == "1")
        assert word["word"] and next(r for r in pair if r["correct"] == "0")["word"] == ""
    freq = {r["word"]: int(r["frequency"]) for r in rows if r["word"]}
    assert freq == {"garden": 1, "river": 2, "market": 0}


def test_syntactic_pairs_cover_every_phenomenon_and_differ_minimally():
    pairs = make_syntactic_pairs(3, seed=0)
    assert [(t, s) for t, s, *_ in pairs] == [ph for ph in PHENOMENA for _ in range(3)]
    for t, s, good, bad in pairs:
        g, b = good.split(), bad.split()
        assert sorted(g) == sorted(b) if t == "word_order" else sum(x != y for x, y in zip(g, b)) == 1


def test_syntactic_set_has_official_columns_and_complete_pairs(tmp_path):
    gold = build_syntactic_set(tmp_path, voices=["flite:kal"], pairs_per_subtype=1, workers=2,
                               show_progress=False)
    columns, rows = _read(gold)
    # the official order: the official scorer takes type and subtype by position
    assert columns == SYNTACTIC_COLUMNS == ["id", "filename", "voice", "type", "subtype",
                                            "transcription", "correct"]
    good = [r for r in rows if r["correct"] == "1"]
    bad = [r for r in rows if r["correct"] == "0"]
    assert len(good) == len(bad) == len(PHENOMENA)
    for g, b in zip(good, bad):  # the official scorer pairs rows by order
        assert (g["id"], g["type"], g["subtype"], g["voice"]) == (b["id"], b["type"], b["subtype"], b["voice"])
        assert g["transcription"] != b["transcription"]
    for r in rows:
        assert sf.info(str(gold.parent / f"{r['filename']}.wav")).samplerate == 16000


def test_columns_match_the_scorer():
    scorer = pytest.importorskip("textless.eval.lexical")
    assert tuple(LEXICAL_COLUMNS) == tuple(scorer.LEXICAL_COLUMNS)
    assert tuple(SYNTACTIC_COLUMNS) == tuple(scorer.SYNTACTIC_COLUMNS)


def test_sample_words_is_a_seeded_sorted_subset():
    from textless.data.lexical import sample_words

    words = [f"w{i}" for i in range(50)]
    picked = sample_words(words, 10, seed=3)
    assert len(picked) == 10 and picked == sorted(picked) and set(picked) <= set(words)
    assert picked == sample_words(words, 10, seed=3) != sample_words(words, 10, seed=4)
    assert sample_words(words, 50) == words and sample_words(words, None) == words
