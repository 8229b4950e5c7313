"""sWUGGY / sBLIMP scoring: hand-computed accuracies on tiny sets, submission files, CLI glue."""

from __future__ import annotations

import csv
import json
import math
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


def write_gold(path, header, rows):
    """``rows``: dicts by column name, written in the order of ``header``."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return path


def write_lexical_gold(path, header=LEX_HEADER):
    return write_gold(path, header, [
        {"id": i, "filename": name, "voice": voice, "frequency": freq if correct else "",
         "word": word, "phones": "p h", "length": 3, "correct": correct}
        for name, voice, freq, word, correct, i, _ in LEX])


def write_syntactic_gold(path, header=SYN_HEADER):
    return write_gold(path, header, [
        {"id": i, "filename": name, "voice": voice, "type": t, "subtype": st,
         "transcription": "some text", "correct": correct}
        for name, voice, t, st, correct, i, _ in SYN])


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
    gold = lx.read_gold(write_syntactic_gold(tmp_path / "gold.csv"), lx.SYNTACTIC_REQUIRED)
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
    for name, voice, _freq, word, _correct, _i in rows:
        subprocess.run(["flite", "-voice", voice, "-t", word, "-o", str(split / f"{name}.wav")],
                       check=True)
    write_gold(split / "gold.csv", LEX_HEADER, [
        {"id": i, "filename": name, "voice": voice, "frequency": freq, "word": word,
         "phones": "x", "length": 3, "correct": correct}
        for name, voice, freq, word, correct, i in rows])
    out, js = tmp_path / "sub", tmp_path / "acc.json"
    assert main(["eval", "lexical", str(tmp_path / "data"), "--model", str(tiny_pipeline),
                 "--out", str(out), "-o", str(js)]) == 0
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
                 str(out / "lexical" / "dev.txt"), "-o", str(js2)]) == 0
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
                 "--features", "units", "-o", str(out)]) == 0
    got = json.loads(out.read_text())
    assert expected.within is not None and expected.across is not None
    assert got["within"] == expected.within and got["across"] == expected.across
    assert main(["eval", "abx", str(speech_dir), str(item), "--model", str(tiny_pipeline),
                 "-o", str(out)]) == 0
    assert 0.0 <= json.loads(out.read_text())["within"] <= 1.0


def test_cli_syntactic_submission(tmp_path, capsys):
    """`textless eval syntactic DATASET --submission FILE` scores an existing submission."""
    from textless.cli import main

    split = tmp_path / "syntactic" / "dev"
    split.mkdir(parents=True)
    write_syntactic_gold(split / "gold.csv")
    sub = lx.write_submission(tmp_path / "sub" / "syntactic" / "dev.txt", {r[0]: r[-1] for r in SYN})
    js = tmp_path / "acc.json"
    assert main(["eval", "syntactic", str(tmp_path), "--submission", str(sub),
                 "-o", str(js)]) == 0
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


# ------------------------------------------------------------------------------------------
# An independent reading with the official scorer's semantics (zerospeech-benchmarks,
# tasks/lm/lexical.py and syntactic.py, as written down in docs/zerospeech.md): it keys rows by
# filename, pairs them by the columns named voice/id (lexical) or by row order (syntactic),
# but takes frequency, word, length (lexical) and type (syntactic) BY POSITION in its by-pair
# frame, whose columns are the gold's own, in file order, less filename, phones and correct.
OFFICIAL_BANDS = (("oov", 0, 1), ("1-5", 1, 5), ("6-20", 5, 20), ("21-100", 20, 100),
                  (">100", 100, math.inf))


def _rows(path):
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, [dict(zip(header, r)) for r in rows]


def _pair_score(good, bad):
    return 0.5 * (good == bad) + (good > bad)


def official_lexical(gold_path, scores):
    header, rows = _rows(gold_path)
    frame = [c for c in header if c not in ("filename", "phones", "correct")]
    words = {(r["voice"], r["id"]): r for r in rows if int(r["correct"]) == 1}
    nonwords = {(r["voice"], r["id"]): r for r in rows if int(r["correct"]) == 0}
    per_id = {}
    for key, w in words.items():
        if key in nonwords:
            s = _pair_score(scores[w["filename"]], scores[nonwords[key]["filename"]])
            per_id.setdefault(w["id"], []).append(([w[c] for c in frame], s))
    by_pair = []  # (frequency, length, score): positions 2 and 4 of the first row of the id
    for items in per_id.values():
        first = items[0][0]
        frequency = int(first[2])  # the official pd.cut fails on a non-number here
        by_pair.append((frequency, first[4], sum(s for _, s in items) / len(items)))
    bands = {}
    for label, lo, hi in OFFICIAL_BANDS:  # every band, empty ones with n=0 and score NaN
        ss = [s for f, _, s in by_pair if lo <= f < hi]
        bands[label] = {"n": len(ss), "score": sum(ss) / len(ss) if ss else math.nan}
    inv = [b for label, b in bands.items() if label != "oov"]
    # numpy.average(score, weights=n): a NaN score (empty band) makes the result NaN
    invocab = (math.nan if any(b["n"] == 0 for b in inv)
               else sum(b["n"] * b["score"] for b in inv) / sum(b["n"] for b in inv))
    lengths = {}
    for _, length, s in by_pair:
        lengths.setdefault(length, []).append(s)
    return {"all": sum(s for *_, s in by_pair) / len(by_pair), "invocab": invocab, "bands": bands,
            "by_length": {k: {"n": len(v), "score": sum(v) / len(v)} for k, v in lengths.items()}}


def official_syntactic(gold_path, scores):
    header, rows = _rows(gold_path)
    frame = [c for c in header if c not in ("filename", "correct")]
    good = [r for r in rows if int(r["correct"]) == 1]
    bad = [r for r in rows if int(r["correct"]) == 0]
    groups = {}  # grouped by the columns named type, subtype, id; labelled by position 2
    for g, b in zip(good, bad):
        entry = groups.setdefault((g["type"], g["subtype"], g["id"]),
                                  {"type": [g[c] for c in frame][2], "scores": []})
        entry["scores"].append(_pair_score(scores[g["filename"]], scores[b["filename"]]))
    by_pair = [(e["type"], sum(e["scores"]) / len(e["scores"])) for e in groups.values()]
    types = {}
    for t, s in by_pair:
        types.setdefault(t, []).append(s)
    return {"all": sum(s for _, s in by_pair) / len(by_pair),
            "by_type": {t: {"n": len(v), "score": sum(v) / len(v)} for t, v in types.items()}}


def _eval_submission(task, dataset, scores, tmp_path):
    from textless.cli import main

    sub = lx.write_submission(tmp_path / "sub" / task / "dev.txt", scores)
    js = tmp_path / f"{task}.json"
    assert main(["eval", task, str(dataset), "--submission", str(sub), "-o", str(js)]) == 0
    return json.loads(js.read_text())


def test_gold_we_write_scores_the_same_under_the_official_positional_reading(tmp_path):
    """gold.csv files written by `textless data lexical/syntactic`, scored by the official
    (positional) semantics, give the numbers `textless eval lexical/syntactic` prints."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    from textless.data.lexical import build_lexical_set
    from textless.data.syntactic import build_syntactic_set

    voices = ["flite:kal", "flite:awb@pitch=-2"]
    # one word per frequency band, and 5 (the edge: official band "6-20" is [5, 20))
    counts = {"garden": 3, "dog": 5, "river": 10, "market": 50, "window": 150, "table": 0}
    text = [w for w, n in counts.items() for _ in range(n)]
    lex_gold = build_lexical_set(tmp_path / "data", sorted(counts), voices=voices, text=text,
                                 workers=2, show_progress=False)
    syn_gold = build_syntactic_set(tmp_path / "data", voices=voices, pairs_per_subtype=1,
                                   workers=2, show_progress=False)
    rng = np.random.default_rng(0)
    for task, gold in (("lexical", lex_gold), ("syntactic", syn_gold)):
        _, rows = _rows(gold)
        scores = {r["filename"]: float(rng.integers(-3, 1)) for r in rows}  # ties happen
        ours = _eval_submission(task, tmp_path / "data", scores, tmp_path)
        if task == "lexical":
            official = official_lexical(gold, scores)
            assert all(band["n"] for band in official["bands"].values())  # no band is empty
            assert ours["invocab"] == pytest.approx(official["invocab"])
            assert ours["invocab_empty_bands"] == []
            assert ours["by_frequency"] == {k: {"n": v["n"], "score": pytest.approx(v["score"])}
                                            for k, v in official["bands"].items()}
            assert ours["by_length"] == official["by_length"]
        else:
            official = official_syntactic(gold, scores)
            assert set(official["by_type"]) == {"agreement", "anaphor", "word_order", "morphology"}
            assert ours["by_type"] == official["by_type"]
        assert ours["all"] == pytest.approx(official["all"])


def test_an_empty_invocab_band_is_named_where_the_official_score_is_nan(tmp_path, capsys):
    """LEX has no pair of frequency 21-100: the official in-vocabulary score is NaN; textless
    gives the mean over the bands with pairs, names the empty band, and says so."""
    split = tmp_path / "lexical" / "dev"
    split.mkdir(parents=True)
    gold = write_lexical_gold(split / "gold.csv")
    scores = {r[0]: r[-1] for r in LEX}
    assert math.isnan(official_lexical(gold, scores)["invocab"])
    result = _eval_submission("lexical", tmp_path, scores, tmp_path)
    assert result["invocab_empty_bands"] == ["21-100"]
    assert result["invocab"] == pytest.approx((0.75 + 0.25 + 1.0 + 0.0) / 4)
    out = capsys.readouterr().out
    assert "in-vocabulary 50.00 %" in out
    assert "frequency bands without pairs: 21-100; the official scorer reports NaN" in out
    # with that band filled, the official score is a number and equals ours
    rows = [dict(r, frequency=50) if r["id"] == "5" else r for r in _rows(gold)[1]]
    write_gold(gold, LEX_HEADER, rows)
    result = _eval_submission("lexical", tmp_path, scores, tmp_path)
    assert result["invocab_empty_bands"] == []
    assert result["invocab"] == pytest.approx(official_lexical(gold, scores)["invocab"])
    assert "official scorer" not in capsys.readouterr().out
