"""An sWUGGY-like lexical set: real words and matched pronounceable non-words, ZeroSpeech layout.

For each real word (its first pronunciation in the CMU dictionary) a non-word of the same length
in phones is made the way Wuggy does it, in simplified form: one phone (two for words of five
phones or more) is replaced by another of the same class (vowel for vowel, consonant for
consonant) such that every phone bigram of the result, word edges included, occurs in some
dictionary word (pronounceable) and the result is the pronunciation of no dictionary word.
Both members of a pair are spoken from their phone strings (flite ``-p``), so that they differ
only in their phones.

Written in ``out_dir/lexical/<split>/``: ``<filename>.wav`` and ``gold.csv`` with the official
columns in the official order ``id,filename,voice,frequency,word,phones,length,correct`` (the
official scorer reads frequency, word and length by position: docs/zerospeech.md; ``id`` links
the pair; ``phones`` space-separated lower-case ARPAbet; ``word`` empty for a non-word;
``frequency`` = occurrences of the word in the given text, the training text by default, on both
rows of a pair; ``correct`` 1 for the word, 0 for the non-word).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open
from .align import dictionary
from .synth import speak_all
from .voices import Voice, parse_voice

log = logging.getLogger(__name__)

#: the official sWUGGY gold.csv columns, in the official order (the scorer reads some by position)
LEXICAL_COLUMNS = ["id", "filename", "voice", "frequency", "word", "phones", "length", "correct"]
VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
#: flite voices (phone strings) that the training corpus never uses
LEXICAL_VOICES = ("flite:kal", "flite:awb@pitch=-2", "flite:rms@pitch=-2,tempo=1.1")


@dataclass(frozen=True)
class LexicalPair:
    id: int
    word: str
    phones: tuple[str, ...]  # the word's pronunciation (upper-case ARPAbet)
    nonword: tuple[str, ...]  # same length
    frequency: int


class Phonotactics:
    """Phone bigrams (with ``#`` for word edges) seen in the dictionary, and its pronunciations."""

    def __init__(self):
        self.bigrams: set[tuple[str, str]] = set()
        self.prons: set[tuple[str, ...]] = set()
        for prons in dictionary().values():
            for p in prons:
                self.prons.add(p)
                seq = ("#",) + p + ("#",)
                self.bigrams.update(zip(seq[:-1], seq[1:]))
        phones = {p for pron in self.prons for p in pron}
        self.vowels = sorted(phones & VOWELS)
        self.consonants = sorted(phones - VOWELS)

    def legal(self, phones: tuple[str, ...]) -> bool:
        seq = ("#",) + phones + ("#",)
        return all(b in self.bigrams for b in zip(seq[:-1], seq[1:]))

    def nonword(self, phones: tuple[str, ...], rng: random.Random, taken: set,
                tries: int = 500) -> tuple[str, ...] | None:
        """A legal non-word of ``len(phones)`` phones differing in 1-2 phones, or ``None``."""
        n_sub = 1 if len(phones) < 5 else 2
        for _ in range(tries):
            out = list(phones)
            for pos in rng.sample(range(len(phones)), n_sub):
                pool = self.vowels if phones[pos] in VOWELS else self.consonants
                out[pos] = rng.choice([p for p in pool if p != phones[pos]])
            cand = tuple(out)
            if cand not in self.prons and cand not in taken and self.legal(cand):
                return cand
        return None


def sample_words(words: list[str], max_words: int | None, seed: int = 0) -> list[str]:
    """``words`` cut to ``max_words`` of them, drawn with ``seed`` and sorted (``textless data
    lexical --max-words``); all of them when ``max_words`` is None or not smaller.

    >>> sample_words(["c", "a", "b"], None)
    ['c', 'a', 'b']
    >>> sample_words(["a", "b", "c", "d"], 2, seed=0) == sample_words(["a", "b", "c", "d"], 2, seed=0)
    True
    """
    if max_words and len(words) > max_words:
        return sorted(random.Random(seed).sample(words, max_words))
    return words


def make_lexical_pairs(words: list[str], *, frequencies: dict[str, int] | None = None,
                       seed: int = 0, min_phones: int = 3) -> list[LexicalPair]:
    """Word / non-word pairs for the dictionary words among ``words`` with >= ``min_phones``."""
    d = dictionary()
    rng = random.Random(seed)
    tactics = Phonotactics()
    taken: set = set()
    pairs = []
    for word in sorted(set(words)):
        if word not in d or len(d[word][0]) < min_phones:
            continue
        nonword = tactics.nonword(d[word][0], rng, taken)
        if nonword is None:
            log.debug("no non-word found for %s", word)
            continue
        taken.add(nonword)
        pairs.append(LexicalPair(len(pairs), word, d[word][0], nonword,
                                 (frequencies or {}).get(word, 0)))
    return pairs


def _filename(seed: int, voice: str, pair_id: int, correct: int) -> str:
    # opaque, so that the name does not tell a word from a non-word
    return hashlib.sha1(f"lexical-{seed}-{voice}-{pair_id}-{correct}".encode()).hexdigest()[:16]


def build_lexical_set(
    out_dir: str | os.PathLike,
    words: list[str],
    *,
    voices: list[str | Voice] = LEXICAL_VOICES,
    text: list[str] | None = None,
    split: str = "dev",
    seed: int = 0,
    workers: int | None = None,
    show_progress: bool = True,
) -> Path:
    """Write an sWUGGY-like set for ``words`` in ``out_dir/lexical/<split>/``; returns gold.csv.

    ``text`` (sentences) gives the ``frequency`` column; voices must speak phones (flite).
    """
    voices = [v if isinstance(v, Voice) else parse_voice(v) for v in voices]
    for v in voices:
        if not v.speaks_phones:
            raise TextlessError(f"voice {v.spec}: the lexical set needs voices that speak phone "
                                f"strings (flite voices)")
    freq = Counter(w for s in (text or []) for w in s.split())
    pairs = make_lexical_pairs(words, frequencies=freq, seed=seed)
    if not pairs:
        raise TextlessError("none of the words is in the dictionary with 3 phones or more")
    split_dir = Path(out_dir) / "lexical" / split
    rows, jobs = [], []
    for pair in pairs:
        for v in voices:
            for correct, phones in ((1, pair.phones), (0, pair.nonword)):
                name = _filename(seed, v.speaker, pair.id, correct)
                flite_phones = "pau " + " ".join(p.lower() for p in phones) + " pau"
                jobs.append((v.spec, str(split_dir / f"{name}.wav"), None, flite_phones, 16000))
                rows.append({
                    "filename": name, "voice": v.speaker, "frequency": pair.frequency,
                    "word": pair.word if correct else "", "phones": " ".join(phones).lower(),
                    "length": len(phones), "correct": correct, "id": pair.id,
                })
    speak_all(jobs, workers=workers, desc="lexical", show_progress=show_progress)
    gold = split_dir / "gold.csv"
    with atomic_open(gold, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LEXICAL_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    log.info("%s: %d pairs x %d voices", gold, len(pairs), len(voices))
    return gold
