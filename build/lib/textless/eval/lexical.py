"""sWUGGY (lexical) and sBLIMP (syntactic) scoring, by the ZeroSpeech 2021 rules.

A dataset split is a folder of wavs plus ``gold.csv`` (columns read by name, in any order;
the official files, and the ones ``textless data`` writes, have this order, which the official
scorer needs: docs/zerospeech.md):

* lexical: ``id,filename,voice,frequency,word,phones,length,correct`` - a word (correct=1) and
  a non-word (correct=0) share ``id`` and ``voice``;
* syntactic: ``id,filename,voice,type,subtype,transcription,correct`` - the k-th correct row
  pairs with the k-th incorrect row.

A submission is ``<filename> <score>`` per line (higher = more likely). A pair scores 1 if the
correct item's score is higher, 1/2 on a tie, else 0; pair scores are averaged over voices per
pair id, and accuracy is the mean over pairs. The lexical in-vocabulary accuracy is the mean
over pairs whose word frequency is >= 1 (the count-weighted mean of the frequency bands
1-5, 6-20, 21-100, >100; OOV = frequency 0 is left out). Where one of those bands has no pair,
the official scorer's in-vocabulary score is NaN; textless reports the mean over the bands that
have pairs and names the empty ones (``invocab_empty_bands``).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import TextlessError
from ..files import atomic_open
from ..progress import progress

# the official gold.csv columns, in the official order
LEXICAL_COLUMNS = ("id", "filename", "voice", "frequency", "word", "phones", "length", "correct")
SYNTACTIC_COLUMNS = ("id", "filename", "voice", "type", "subtype", "transcription", "correct")
# the columns scoring needs; without a frequency column there is no in-vocabulary score
LEXICAL_REQUIRED = ("filename", "voice", "correct", "id")
SYNTACTIC_REQUIRED = ("filename", "voice", "type", "subtype", "correct", "id")
# pandas.cut(freq, [0, 1, 5, 20, 100, inf], right=False) with the official labels
FREQUENCY_BANDS = (("oov", 0, 1), ("1-5", 1, 5), ("6-20", 5, 20), ("21-100", 20, 100),
                   (">100", 100, math.inf))


class SubmissionError(TextlessError):
    """A gold file or a submission file is malformed or does not match the dataset."""


def read_gold(path: str | os.PathLike, columns: Sequence[str]) -> list[dict]:
    """Rows of a ``gold.csv`` as dicts; checks the needed ``columns`` are there
    (e.g. :data:`LEXICAL_REQUIRED`, :data:`SYNTACTIC_REQUIRED`)."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: no such gold file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise SubmissionError(f"{path}: missing columns {missing}")
        rows = list(reader)
    for r in rows:
        try:
            r["correct"] = int(float(r["correct"]))
        except ValueError:
            raise SubmissionError(f"{path}: 'correct' must be 0 or 1, got {r['correct']!r}") from None
    return rows


def write_submission(path: str | os.PathLike, scores: Mapping[str, float]) -> Path:
    """Write ``<stem> <score>`` lines (sorted by stem), atomically."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        for stem in sorted(scores):
            f.write(f"{stem} {float(scores[stem])!r}\n")
    return Path(path)


def read_submission(path: str | os.PathLike) -> dict[str, float]:
    """Read ``<stem> <score>`` lines; duplicates and malformed lines are errors."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: no such submission file")
    out: dict[str, float] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise SubmissionError(f"{path}:{lineno}: expected '<filename> <score>'")
        try:
            score = float(parts[1])
        except ValueError:
            raise SubmissionError(f"{path}:{lineno}: score is not a number") from None
        if parts[0] in out:
            raise SubmissionError(f"{path}:{lineno}: duplicate filename {parts[0]}")
        out[parts[0]] = score
    return out


def _scores_for(rows: list[dict], scores: Mapping[str, float]) -> list[float]:
    missing = [r["filename"] for r in rows if r["filename"] not in scores]
    if missing:
        raise SubmissionError(f"{len(missing)} files have no score (e.g. {missing[0]})")
    extra = set(scores) - {r["filename"] for r in rows}
    if extra:
        raise SubmissionError(f"{len(extra)} scores for files not in gold (e.g. {sorted(extra)[0]})")
    return [float(scores[r["filename"]]) for r in rows]


def _pair_score(good: float, bad: float) -> float:
    return 1.0 if good > bad else 0.5 if good == bad else 0.0


def _mean(xs) -> float | None:
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def lexical_accuracy(gold: list[dict], scores: Mapping[str, float]) -> dict:
    """sWUGGY accuracy (fractions): ``{"all", "invocab", "invocab_empty_bands", "pairs",
    "by_frequency", "by_length"}``.

    ``invocab`` is the mean over pairs of frequency >= 1, ``None`` when there is none (or no
    ``frequency`` column). ``invocab_empty_bands`` lists the in-vocabulary bands with no pair
    (``[]`` without frequencies): where it is not empty the official scorer prints NaN (all
    bands empty: it fails) while ``invocab`` is the mean over the other bands.
    ``by_length`` groups pairs by the word's ``length`` column.
    """
    values = _scores_for(gold, scores)
    words, nonwords = {}, {}
    for r, s in zip(gold, values):
        (words if r["correct"] == 1 else nonwords)[(r["voice"], r["id"])] = (r, s)
    per_id: dict[str, list[float]] = {}
    meta: dict[str, dict] = {}
    for key, (w, sw) in words.items():
        if key not in nonwords:
            continue
        per_id.setdefault(w["id"], []).append(_pair_score(sw, nonwords[key][1]))
        meta.setdefault(w["id"], w)
    if not per_id:
        raise SubmissionError("no (word, non-word) pair shares a voice and an id")
    by_pair = {i: sum(v) / len(v) for i, v in per_id.items()}
    bands: dict[str, list[float]] = {}
    lengths: dict[str, list[float]] = {}
    for i, score in by_pair.items():
        freq = _number(meta[i].get("frequency"))
        if freq is not None:
            label = next(lab for lab, lo, hi in FREQUENCY_BANDS if lo <= freq < hi)
            bands.setdefault(label, []).append(score)
        lengths.setdefault(str(meta[i].get("length")), []).append(score)
    invocab = [s for lab, ss in bands.items() if lab != "oov" for s in ss]
    empty = [lab for lab, _, _ in FREQUENCY_BANDS[1:] if lab not in bands] if bands else []
    return {
        "all": _mean(by_pair.values()),
        "invocab": _mean(invocab),
        "invocab_empty_bands": empty,
        "pairs": len(by_pair),
        "by_frequency": {lab: {"n": len(bands[lab]), "score": _mean(bands[lab])}
                         for lab, _, _ in FREQUENCY_BANDS if lab in bands},
        "by_length": {k: {"n": len(v), "score": _mean(v)} for k, v in sorted(lengths.items())},
    }


def syntactic_accuracy(gold: list[dict], scores: Mapping[str, float]) -> dict:
    """sBLIMP accuracy (fractions): ``{"all", "pairs", "by_type"}``."""
    values = _scores_for(gold, scores)
    good = [(r, s) for r, s in zip(gold, values) if r["correct"] == 1]
    bad = [(r, s) for r, s in zip(gold, values) if r["correct"] == 0]
    if len(good) != len(bad) or not good:
        raise SubmissionError(f"{len(good)} correct and {len(bad)} incorrect sentences: cannot pair")
    per_pair: dict[tuple, list[float]] = {}
    for (rg, sg), (_rb, sb) in zip(good, bad):
        per_pair.setdefault((rg["type"], rg["subtype"], rg["id"]), []).append(_pair_score(sg, sb))
    by_pair = {k: sum(v) / len(v) for k, v in per_pair.items()}
    types: dict[str, list[float]] = {}
    for (t, _st, _i), s in by_pair.items():
        types.setdefault(t, []).append(s)
    return {
        "all": _mean(by_pair.values()),
        "pairs": len(by_pair),
        "by_type": {t: {"n": len(v), "score": _mean(v)} for t, v in sorted(types.items())},
    }


def _number(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


# ------------------------------------------------------------------------------- glue
def split_dir(dataset: str | os.PathLike, task: str, split: str = "dev") -> Path:
    """The folder with ``gold.csv`` and the wavs: ``dataset/task/split``, ``dataset/split`` or
    ``dataset`` itself."""
    dataset = Path(dataset)
    for d in (dataset / task / split, dataset / split, dataset):
        if (d / "gold.csv").is_file():
            return d
    raise SubmissionError(f"{dataset}: no {task}/{split}/gold.csv (ZeroSpeech layout expected)")


def score_files(
    wavs: Sequence[Path], encode: Callable[[Path], "object"], lm, batch_size: int = 32,
    normalize: bool = False,
) -> dict[str, float]:
    """Encode each wav (``encode(path) -> Units``, deduplicated) and score it with the unit LM.

    Score = log-probability of the unit sequence (natural log, fairseq's convention of
    :func:`textless.ulm.score.score_sequences`); ``normalize`` divides by the token count.
    """
    from ..ulm.score import score_sequences

    units = [encode(p).units for p in progress(wavs, desc="encode", unit="file")]
    scored = score_sequences(lm, units, batch_size=batch_size)
    return {p.stem: (lp / n if normalize else lp) for p, (lp, n) in zip(wavs, scored)}


def evaluate_split(
    task: str, dataset: str | os.PathLike, pipeline, lm, out_dir: str | os.PathLike,
    split: str = "dev", normalize: bool = False,
) -> dict:
    """Score a ZeroSpeech-layout split, write ``out_dir/<task>/<split>.txt`` and the accuracy.

    ``task``: ``"lexical"`` (sWUGGY) or ``"syntactic"`` (sBLIMP). ``pipeline`` encodes
    (``encode_file``), ``lm`` is a :class:`~textless.ulm.model.UnitLM`.
    """
    if task not in ("lexical", "syntactic"):
        raise ValueError(f"task must be 'lexical' or 'syntactic', got {task!r}")
    folder = split_dir(dataset, task, split)
    gold = read_gold(folder / "gold.csv",
                     LEXICAL_REQUIRED if task == "lexical" else SYNTACTIC_REQUIRED)
    wavs = []
    for r in gold:
        p = folder / f"{r['filename']}.wav"
        if not p.is_file():
            raise SubmissionError(f"{p}: listed in gold.csv but missing")
        wavs.append(p)
    scores = score_files(wavs, pipeline.encode_file, lm, normalize=normalize)
    path = write_submission(Path(out_dir) / task / f"{split}.txt", scores)
    accuracy = (lexical_accuracy if task == "lexical" else syntactic_accuracy)(gold, scores)
    return {"task": task, "split": split, "submission": str(path), **accuracy}
