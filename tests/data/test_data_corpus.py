import json

import pytest
import soundfile as sf

from textless.data.manifest import read_manifest, read_table, utt_id
from textless.data.synth import assign_voices, synthesize_corpus
from textless.errors import TextlessError



def test_corpus_has_expected_files_rate_and_durations(corpus):
    out, report, SENTENCES = corpus.out, corpus.report, corpus.sentences
    root, entries = read_manifest(out / "manifest.tsv")
    assert root == out.resolve()
    assert len(entries) == report.utterances == len(SENTENCES) * 2
    transcripts = read_table(out / "transcripts.tsv")
    speakers = read_table(out / "speakers.tsv")
    assert set(transcripts) == set(speakers) == {utt_id(rel) for rel, _ in entries}
    assert sorted(transcripts.values()) == sorted(SENTENCES * 2)
    assert len(set(speakers.values())) == 2
    total = 0
    for rel, n in entries:
        info = sf.info(str(root / rel))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.frames == n
        words = len(transcripts[utt_id(rel)].split())
        assert 0.12 * words < n / 16000 < 0.7 * words + 1.0  # a plausible speaking rate
        total += n
    assert total == report.num_samples
    meta = json.loads((out / "voices.json").read_text())
    assert meta["utterances"] == 6 and len(meta["voices"]) == 2


def test_corpus_resumes_and_is_deterministic(corpus, tmp_path):
    out = corpus.out
    _, entries = read_manifest(out / "manifest.tsv")
    before = {rel: (out / rel).read_bytes() for rel, _ in entries}
    (out / entries[0][0]).unlink()
    report = synthesize_corpus(corpus.sentences, corpus.voices, out, seed=3, utterances_per_sentence=2,
                               workers=1, show_progress=False)
    assert report.synthesized == 1  # only the deleted file is made again ...
    assert {rel: (out / rel).read_bytes() for rel, _ in entries} == before  # ... identically


def test_voice_assignment_is_balanced_and_seeded():
    a = assign_voices(101, 8, seed=1)
    counts = [sum(v in s for s in a) for v in range(8)]
    assert max(counts) - min(counts) <= 1 and sum(counts) == 101
    assert a == assign_voices(101, 8, seed=1) and a != assign_voices(101, 8, seed=2)
    two = assign_voices(20, 5, seed=0, per_sentence=2)
    assert all(len(set(s)) == 2 for s in two)


def test_resuming_into_a_folder_of_another_corpus_is_refused(corpus):
    with pytest.raises(TextlessError, match="another --out"):
        synthesize_corpus(corpus.sentences[:2], corpus.voices, corpus.out, seed=3,
                          utterances_per_sentence=2, workers=1, show_progress=False)


def test_first_index_keeps_ids_of_two_batches_disjoint(tmp_path):
    pytest.importorskip("parselmouth")
    first = synthesize_corpus(["a cat sat"], ["flite:rms"], tmp_path / "a", workers=1, show_progress=False)
    second = synthesize_corpus(["a dog ran"], ["flite:rms@formant=1.2"], tmp_path / "b", workers=1,
                               show_progress=False, first_index=1)
    ids_a = set(read_table(tmp_path / "a" / "speakers.tsv"))
    ids_b = set(read_table(tmp_path / "b" / "speakers.tsv"))
    assert ids_a == {"flite-rms_000000"} and ids_b == {"flite-rms-f120_000001"}
    assert first.utterances == second.utterances == 1
    # the same job numbered differently is another corpus: no silent mixing in one folder
    with pytest.raises(TextlessError, match="another --out"):
        synthesize_corpus(["a dog ran"], ["flite:rms@formant=1.2"], tmp_path / "b", workers=1,
                          show_progress=False, first_index=5)
