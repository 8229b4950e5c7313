import pytest

from textless.audio import load_audio
from textless.data.align import (
    ITEM_HEADER, SILENCE, align, new_decoder, phone_set, recognize, word_error_rate,
    write_bigram_lm,
)
from textless.data.manifest import read_manifest, read_table, utt_id, write_manifest, write_table
from textless.data.text import generate_sentences
from textless.data.voices import parse_voice, synthesize


def test_pocketsphinx_transcribes_flite_with_low_wer(corpus):
    # tests the voice set (flite slt), not the ASR: the bundled news LM on a plain sentence
    root, entries = read_manifest(corpus.out / "manifest.tsv")
    texts = read_table(corpus.out / "transcripts.tsv")
    rel = next(r for r, _ in entries if r.startswith("wav/flite-slt/")
               and texts[utt_id(r)].startswith("the old man"))
    wav, _ = load_audio(root / rel)
    ref = texts[utt_id(rel)]
    assert word_error_rate(ref, recognize(wav)) < 0.2


def test_grammar_sentences_with_in_domain_lm(tmp_path):
    # the grammar's sentences are unlikely under the news LM; an in-domain bigram LM is fair
    lm = write_bigram_lm(generate_sentences(3000, seed=0), tmp_path / "lm.arpa")
    decoder = new_decoder(lm)
    errors = words = 0
    for i, s in enumerate(generate_sentences(2, seed=99)):
        synthesize(parse_voice("flite:rms"), tmp_path / f"{i}.wav", s)
        wav, _ = load_audio(tmp_path / f"{i}.wav")
        errors += word_error_rate(s, recognize(wav, decoder)) * len(s.split())
        words += len(s.split())
    assert errors / words < 0.2


def test_word_error_rate():
    assert word_error_rate("a b c", "a b c") == 0
    assert word_error_rate("a b c", "a x c") == pytest.approx(1 / 3)
    assert word_error_rate("a b", "") == 1


def test_item_file_parses_lies_inside_files_and_uses_dictionary_phones(corpus, aligned):
    align_dir, report = aligned
    root, entries = read_manifest(corpus.out / "manifest.tsv")
    durations = {utt_id(rel): n / 16000 for rel, n in entries}
    speakers = read_table(corpus.out / "speakers.tsv")
    assert report.aligned == len(entries) and not report.failed and not report.skipped
    lines = report.item_path.read_text().splitlines()
    assert lines[0] == ITEM_HEADER
    phones = phone_set()
    assert len(phones) == 39
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == report.phones > 20 * len(entries)
    for f, on, off, ph, prev, nxt, spk in rows:  # exactly 7 fields
        assert 0 <= float(on) < float(off) <= durations[f] + 1e-6
        assert ph in phones and {prev, nxt} <= phones | {SILENCE}
        assert spk == speakers[f]
    assert {r[0] for r in rows} == set(durations)


def test_ctm_words_follow_the_transcripts_and_contain_their_phones(corpus, aligned):
    align_dir, _ = aligned
    texts = read_table(corpus.out / "transcripts.tsv")
    words: dict[str, list] = {}
    for line in (align_dir / "words.ctm").read_text().splitlines():
        uid, _, start, dur, w = line.split()
        words.setdefault(uid, []).append((float(start), float(start) + float(dur), w))
    assert {u: " ".join(w for *_, w in ws) for u, ws in words.items()} == texts
    phones = [line.split() for line in (align_dir / "phones.ctm").read_text().splitlines()]
    for uid, _, start, dur, ph in phones:
        if ph != SILENCE:
            mid = float(start) + float(dur) / 2
            assert any(a <= mid <= b for a, b, _ in words[uid])


def test_missing_words_are_reported_not_dropped(corpus, tmp_path):
    root, entries = read_manifest(corpus.out / "manifest.tsv")
    texts = read_table(corpus.out / "transcripts.tsv")
    first = utt_id(entries[0][0])
    texts[first] = texts[first] + " blorptastic"
    write_manifest(tmp_path / "m.tsv", root, entries[:2])
    write_table(tmp_path / "t.tsv", texts)
    report = align(tmp_path / "m.tsv", tmp_path / "t.tsv", tmp_path / "out", show_progress=False)
    assert report.missing_words == {"blorptastic": 1}
    assert report.skipped == [first] and report.aligned == 1
    assert (tmp_path / "out" / "missing_words.txt").read_text() == "blorptastic\t1\n"
    items = (tmp_path / "out" / "m.item").read_text().splitlines()[1:]
    assert items and all(line.split()[0] == utt_id(entries[1][0]) for line in items)


def test_item_file_reads_with_the_abx_reader(aligned):
    item = pytest.importorskip("textless.eval.item")
    _, report = aligned
    parsed = item.read_item_file(report.item_path)
    assert len(parsed) == report.phones
    assert set(parsed.phones) <= phone_set()
