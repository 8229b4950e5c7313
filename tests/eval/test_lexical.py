"""sWUGGY / sBLIMP scoring: hand-computed accuracies on tiny sets, submission files, CLI glue."""

from __future__ import annotations

import csv
import json
import subprocess
import shutil

import numpy as np
import pytest

from textless.eval import lexical as lx

LEX_HEADER = list(lx.LEXICAL_COLUMNS)
# (filename, voice, frequency, word, correct, id, score)
LEX = [
    ("w1a", "v1", 10, "cat", 1, "1", -1.0), ("n1a", "v1", "", "kat", 0, "1", -2.0),   # 1
    ("w1b", "v2", 10, "cat", 1, "1", -3.0), ("n1b", "v2", "", "kat", 0, "1", -3.0),   # tie .5
    ("w2a", "v1", 0, "zax", 1, "2", -5.0), ("n2a", "v1", "", "zix", 0, "2", -4.0),    # 0
    ("w2b", "v2", 0, "zax", 1, "2", -1.0), ("n2b", "v2", "", "zix", 0, "2", -2.0),    # 1
    ("w3a", "v1", 200, "the", 1, "3", -2.0), ("n3a", "v1", "", "thi", 0, "3", -2.0),  # tie .5
    ("w3b", "v2", 200, "the", 1, "3", -9.0), ("n3b", "v2", "", "thi", 0, "3", -1.0),  # 0
    ("w4a", "v1", 3, "dog", 1, "4", 0.0), ("n4a", "v1", "", "dag", 0, "4", -1.0),     # 1
    ("w4b", "v2", 3, "dog", 1, "4", 0.0),  # no non-word by v2: not a pair
    ("w5a", "v1", 5, "sun", 1, "5", -7.0), ("n5a", "v1", "", "san", 0, "5", -6.0),    # 0
]
# by pair id: 1 -> .75 (band 6-20), 2 -> .5 (oov), 3 -> .25 (>100), 4 -> 1 (1-5),
# 5 -> 0 (frequency 5 falls in [5, 20): band 6-20)
SYN_HEADER = list(lx.SYNTACTIC_COLUMNS)
SYN = [  # (filename, voice, type, subtype, correct, id, score); k-th correct pairs k-th incorrect
    ("c1", "v1", "A", "a1", 1, "1", -1.0), ("c2", "v2", "A", "a1", 1, "1", -2.0),
    ("i1", "v1", "A", "a1", 0, "1", -2.0), ("i2", "v2", "A", "a1", 0, "1", -2.0),
    ("c3", "v1", "A", "a1", 1, "2", -3.0), ("i3", "v1", "A", "a1", 0, "2", -1.0),
    ("c4", "v1", "B", "b1", 1, "1", -1.0), ("i4", "v1", "B", "b1", 0, "1", -5.0),
]


def write_lexical_gold(path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(LEX_HEADER)
        for name, voice, freq, word, correct, i, _ in LEX:
            w.writerow([name, voice, freq if correct else "", word, "p h", 3, correct, i])
    return path


def test_lexical_accuracy_by_hand(tmp_path):
    gold = lx.read_gold(write_lexical_gold(tmp_path / "gold.csv"), lx.LEXICAL_REQUIRED)
    scores = {r[0]: r[-1] for r in LEX}
    acc = lx.lexical_accuracy(gold, scores)
    assert acc["pairs"] == 5
    assert acc["all"] == pytest.approx((0.75 + 0.5 + 0.25 + 1.0 + 0.0) / 5)
    assert acc["invocab"] == pytest.approx((0.75 + 0.25 + 1.0 + 0.0) / 4)
    assert acc["by_frequency"] == {
        "oov": {"n": 1, "score": 0.5}, "1-5": {"n": 1, "score": 1.0},
        "6-20": {"n": 2, "score": 0.375}, ">100": {"n": 1, "score": 0.25},
    }
    # accuracy through a written submission file is the same
    sub = lx.write_submission(tmp_path / "lexical" / "dev.txt", scores)
    assert lx.read_submission(sub) == scores
    assert lx.lexical_accuracy(gold, lx.read_submission(sub)) == acc


def test_syntactic_accuracy_by_hand(tmp_path):
    path = tmp_path / "gold.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SYN_HEADER)
        for name, voice, t, st, correct, i, _ in SYN:
            w.writerow([name, voice, t, st, "some text", correct, i])
    gold = lx.read_gold(path, lx.SYNTACTIC_REQUIRED)
    acc = lx.syntactic_accuracy(gold, {r[0]: r[-1] for r in SYN})
    assert acc["pairs"] == 3
    assert acc["all"] == pytest.approx((0.75 + 0.0 + 1.0) / 3)
    assert acc["by_type"] == {"A": {"n": 2, "score": 0.375}, "B": {"n": 1, "score": 1.0}}


def test_submission_errors(tmp_path):
    gold = lx.read_gold(write_lexical_gold(tmp_path / "gold.csv"), lx.LEXICAL_REQUIRED)
    scores = {r[0]: r[-1] for r in LEX}
    with pytest.raises(lx.SubmissionError, match="no score"):
        lx.lexical_accuracy(gold, {k: v for k, v in scores.items() if k != "w1a"})
    with pytest.raises(lx.SubmissionError, match="not in gold"):
        lx.lexical_accuracy(gold, {**scores, "extra": 0.0})
    bad = tmp_path / "dup.txt"
    bad.write_text("a 1.0\na 2.0\n")
    with pytest.raises(lx.SubmissionError, match="duplicate"):
        lx.read_submission(bad)


def test_cli_lexical_end_to_end(tiny_pipeline, tmp_path):
    """`textless eval lexical`: the submission holds the LM's log-probabilities of the encoded
    units, and the printed/saved accuracy is the official one of that submission."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    from textless.cli import main
    from textless.pipeline import load_pipeline
    from textless.ulm.score import score_sequences

    split = tmp_path / "data" / "lexical" / "dev"
    split.mkdir(parents=True)
    rows = [("w1", "slt", 10, "cat", 1, "1"), ("n1", "slt", "", "kat", 0, "1"),
            ("w2", "kal", 0, "dog", 1, "1"), ("n2", "kal", "", "dag", 0, "1"),
            ("w3", "slt", 50, "sun", 1, "2"), ("n3", "slt", "", "sen", 0, "2")]
    with open(split / "gold.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(LEX_HEADER)
        for name, voice, freq, word, correct, i in rows:
            subprocess.run(["flite", "-voice", voice, "-t", word, "-o", str(split / f"{name}.wav")],
                           check=True)
            w.writerow([name, voice, freq, word, "x", 3, correct, i])
    out, js = tmp_path / "sub", tmp_path / "acc.json"
    assert main(["eval", "lexical", str(tmp_path / "data"), "--model", str(tiny_pipeline),
                 "--out", str(out), "--json", str(js)]) == 0
    sub = lx.read_submission(out / "lexical" / "dev.txt")
    pipe = load_pipeline(str(tiny_pipeline))
    names = [r[0] for r in rows]
    expected = score_sequences(pipe.ulm, [pipe.encode_file(split / f"{n}.wav").units for n in names])
    assert [sub[n] for n in names] == pytest.approx([lp for lp, _ in expected], abs=1e-4)
    gold = lx.read_gold(split / "gold.csv", lx.LEXICAL_REQUIRED)
    result = json.loads(js.read_text())
    assert result["all"] == lx.lexical_accuracy(gold, sub)["all"]
    # scoring the written submission again through the CLI gives the same accuracy
    js2 = tmp_path / "acc2.json"
    assert main(["eval", "lexical", str(tmp_path / "data"), "--submission",
                 str(out / "lexical" / "dev.txt"), "--json", str(js2)]) == 0
    assert json.loads(js2.read_text())["all"] == result["all"]


def test_cli_abx_from_pipeline(tiny_pipeline, tmp_path, speech_dir):
    """`--model` computes features from audio: one-hot units ([frames, K]) and dense MFCCs."""
    from textless.cli import main
    from textless.eval.abx import AbxConfig, abx
    from textless.eval.features import pipeline_features
    from textless.eval.item import read_item_file, write_item_file
    from textless.pipeline import load_pipeline

    rows = []
    rng = np.random.default_rng(0)
    for wav in sorted(speech_dir.glob("*.wav")):
        seq = "".join(rng.choice(list("ab"), 24))  # fake "phones" of 0.05 s
        for k in range(1, 23):
            rows.append((wav.stem, k * 0.05, (k + 1) * 0.05, seq[k], seq[k - 1], seq[k + 1],
                         wav.stem.split("_")[0]))
    item = write_item_file(tmp_path / "x.item", rows)
    pipe = load_pipeline(str(tiny_pipeline))
    units = pipeline_features(pipe, speech_dir, "units")
    first = next(iter(units.values()))
    assert first.shape[1] == 8 and set(np.unique(first)) <= {0.0, 1.0}
    assert (first.sum(1) == 1).all()
    expected = abx(units, read_item_file(item), AbxConfig(1 / pipe.frame_rate))
    out = tmp_path / "r.json"
    assert main(["eval", "abx", str(speech_dir), str(item), "--model", str(tiny_pipeline),
                 "--features", "units", "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert expected.within is not None and expected.across is not None
    assert got["within"] == expected.within and got["across"] == expected.across
    assert main(["eval", "abx", str(speech_dir), str(item), "--model", str(tiny_pipeline),
                 "--out", str(out)]) == 0
    assert 0.0 <= json.loads(out.read_text())["within"] <= 1.0


def test_cli_syntactic_submission(tmp_path, capsys):
    """`textless eval syntactic DATASET --submission FILE` scores an existing submission."""
    from textless.cli import main

    split = tmp_path / "syntactic" / "dev"
    split.mkdir(parents=True)
    with open(split / "gold.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SYN_HEADER)
        for name, voice, t, st, correct, i, _ in SYN:
            w.writerow([name, voice, t, st, "some text", correct, i])
    sub = lx.write_submission(tmp_path / "sub" / "syntactic" / "dev.txt", {r[0]: r[-1] for r in SYN})
    js = tmp_path / "acc.json"
    assert main(["eval", "syntactic", str(tmp_path), "--submission", str(sub),
                 "--json", str(js)]) == 0
    assert json.loads(js.read_text())["all"] == pytest.approx(1.75 / 3)
    assert "58.33 %" in capsys.readouterr().out
    assert main(["eval", "syntactic", str(tmp_path)]) == 2  # neither --model nor --submission


def test_lexical_without_frequencies(tmp_path):
    """A gold file without a frequency column: same overall accuracy, no in-vocabulary score."""
    path = tmp_path / "gold.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["filename", "voice", "word", "correct", "id"])
        for name, voice, _freq, word, correct, i, _ in LEX:
            w.writerow([name, voice, word, correct, i])
    acc = lx.lexical_accuracy(lx.read_gold(path, lx.LEXICAL_REQUIRED), {r[0]: r[-1] for r in LEX})
    assert acc["all"] == pytest.approx(0.5) and acc["invocab"] is None
    assert acc["by_frequency"] == {}
