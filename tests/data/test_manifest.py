"""One manifest reader (textless.data.manifest.read_items) for encode, the vocoder's data and eval."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from textless.data.manifest import (ManifestItem, folder_items, read_items, write_manifest,
                                    write_table)
from textless.errors import TextlessError


def test_a_corpus_manifest_brings_its_speakers_and_texts(tmp_path):
    write_manifest(tmp_path / "manifest.tsv", tmp_path, [("wav/a/x.wav", 16000), ("wav/b/y.wav", 800)])
    write_table(tmp_path / "speakers.tsv", {"x": "kal", "y": "slt"})
    write_table(tmp_path / "transcripts.tsv", {"x": "the cat"})
    assert read_items(tmp_path / "manifest.tsv") == [
        ManifestItem("x", tmp_path.resolve() / "wav/a/x.wav", 16000, "kal", "the cat"),
        ManifestItem("y", tmp_path.resolve() / "wav/b/y.wav", 800, "slt", None),
    ]


def test_list_lines_name_a_path_a_path_and_speaker_or_an_id_and_path(tmp_path):
    (tmp_path / "list.tsv").write_text(f"# a comment\na.wav\nsub/b.wav\tkal\n\nc\t{tmp_path}/d/e.flac\n")
    assert read_items(tmp_path / "list.tsv") == [
        ManifestItem("a", tmp_path / "a.wav"),
        ManifestItem("b", tmp_path / "sub/b.wav", speaker="kal"),
        ManifestItem("c", tmp_path / "d/e.flac"),
    ]


def test_two_items_with_one_id_are_refused_naming_both(tmp_path):
    (tmp_path / "list.tsv").write_text("a/x.wav\nb/x.wav\n")
    with pytest.raises(TextlessError, match=r"two inputs have the id 'x': .*a/x.wav and .*b/x.wav"):
        read_items(tmp_path / "list.tsv")
    with pytest.raises(TextlessError, match="cannot read manifest"):
        read_items(tmp_path / "missing.tsv")


def test_the_same_files_through_encode_vocoder_data_and_eval(tmp_path):
    """encode's inputs, the vocoder's --audio and eval wer's reference read one list alike."""
    from textless.corpus import collect_inputs
    from textless.eval.asr import pair_folders
    from textless.vocoders.data import read_audio_list

    for sub, name in (("a", "x1"), ("b", "x2")):
        (tmp_path / "wav" / sub).mkdir(parents=True)
        sf.write(tmp_path / "wav" / sub / f"{name}.wav", np.zeros(800, dtype=np.float32), 16000)
    write_manifest(tmp_path / "manifest.tsv", tmp_path, [("wav/a/x1.wav", 800), ("wav/b/x2.wav", 800)])
    write_table(tmp_path / "speakers.tsv", {"x1": "kal", "x2": "slt"})
    write_table(tmp_path / "transcripts.tsv", {"x1": "one", "x2": "two"})
    items = read_items(tmp_path / "manifest.tsv")
    assert [(it.id, it.path) for it in collect_inputs(manifest=tmp_path / "manifest.tsv")] == \
        [(it.id, it.path) for it in items]
    assert read_audio_list(tmp_path / "manifest.tsv") == items  # with speakers, for --speakers
    assert [it.id for it in read_audio_list(tmp_path / "wav")] == ["x1", "x2"]  # a folder: no speakers
    assert folder_items(tmp_path / "wav") == read_audio_list(tmp_path / "wav")
    (tmp_path / "syn").mkdir()
    sf.write(tmp_path / "syn" / "x2.wav", np.zeros(800, dtype=np.float32), 16000)
    (utt,) = pair_folders(tmp_path / "manifest.tsv", tmp_path / "syn")
    assert (utt.id, utt.reference, utt.text) == ("x2", items[1].path, "two")
