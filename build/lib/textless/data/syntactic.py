"""An sBLIMP-like syntactic set: grammatical / minimally different ungrammatical sentence pairs.

Pairs are generated over the corpus vocabulary (:mod:`textless.data.text`), one phenomenon per
``(type, subtype)``:

- ``agreement/subject_verb``: *the dog sleeps in the barn* vs *the dog sleep in the barn*
- ``agreement/determiner_noun``: *these dogs slept* vs *this dogs slept*
- ``anaphor/gender``: *the king hurt himself* vs *the king hurt herself*
- ``anaphor/number``: *the kings hurt themselves* vs *the kings hurt himself*
- ``word_order/adjective_noun``: *the old dog slept* vs *the dog old slept*
- ``word_order/verb_object``: *mary saw the dog* vs *mary the dog saw*
- ``morphology/irregular_past``: *the boy took the key* vs *the boy taked the key*

Written in ``out_dir/syntactic/<split>/``: ``<filename>.wav`` and ``gold.csv`` with the official
columns in the official order ``id,filename,voice,type,subtype,transcription,correct`` (the
official scorer reads type and subtype by position: docs/zerospeech.md). For each voice, the
grammatical row of a pair comes right before its ungrammatical row, so pairing correct and
incorrect rows by order (as the official scorer does) gives the pairs back.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import random
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open
from .synth import speak_all
from .text import ADJECTIVES, ANIMALS, INTRANSITIVE, NAMES, PEOPLE, PLACES, REFLEXIVE_VERBS, THINGS, TRANSITIVE
from .voices import Voice, parse_voice

log = logging.getLogger(__name__)

#: the official sBLIMP gold.csv columns, in the official order (the scorer reads some by position)
SYNTACTIC_COLUMNS = ["id", "filename", "voice", "type", "subtype", "transcription", "correct"]
#: gendered nouns: (singular, plural, reflexive)
GENDERED = [("man", "men", "himself"), ("woman", "women", "herself"), ("boy", "boys", "himself"),
            ("girl", "girls", "herself"), ("king", "kings", "himself"),
            ("queen", "queens", "herself"), ("brother", "brothers", "himself"),
            ("sister", "sisters", "herself"), ("mother", "mothers", "herself"),
            ("father", "fathers", "himself"), ("prince", "princes", "himself")]
#: irregular past forms with the over-regularized form a learner might say
IRREGULAR_PAST = {"saw": "seed", "found": "finded", "took": "taked", "brought": "bringed",
                  "held": "holded", "met": "meeted", "built": "builded", "sold": "selled",
                  "bought": "buyed", "lost": "losed", "kept": "keeped", "hid": "hided",
                  "caught": "catched", "gave": "gived", "sent": "sended", "left": "leaved"}
PHENOMENA = [("agreement", "subject_verb"), ("agreement", "determiner_noun"),
             ("anaphor", "gender"), ("anaphor", "number"),
             ("word_order", "adjective_noun"), ("word_order", "verb_object"),
             ("morphology", "irregular_past")]
#: held-out voices (one festival voice: festival starts slowly)
SYNTACTIC_VOICES = ("festival:ked_diphone", "flite:kal", "flite:rms@pitch=-2,tempo=1.1")


def _pair(rng: random.Random, type_: str, subtype: str) -> tuple[str, str]:
    pick = rng.choice
    agent = pick(PEOPLE + ANIMALS)
    place = f"{pick(['in', 'near', 'behind'])} the {pick(PLACES)}"
    obj = f"the {pick(THINGS)[0]}"
    if subtype == "subject_verb":
        verb = pick(INTRANSITIVE)
        if rng.random() < 0.5:
            return f"the {agent[0]} {verb[1]} {place}", f"the {agent[0]} {verb[0]} {place}"
        return f"the {agent[1]} {verb[0]} {place}", f"the {agent[1]} {verb[1]} {place}"
    if subtype == "determiner_noun":
        sg, pl = pick([("this", "these"), ("that", "those")])
        verb = pick(INTRANSITIVE)[2]
        if rng.random() < 0.5:
            return f"{pl} {agent[1]} {verb} {place}", f"{sg} {agent[1]} {verb} {place}"
        return f"{sg} {agent[0]} {verb} {place}", f"{pl} {agent[0]} {verb} {place}"
    if subtype == "gender":
        noun, _, refl = pick(GENDERED)
        other = "herself" if refl == "himself" else "himself"
        verb = pick(REFLEXIVE_VERBS)[2]
        return f"the {noun} {verb} {refl} {place}", f"the {noun} {verb} {other} {place}"
    if subtype == "number":
        noun, plural, refl = pick(GENDERED)
        verb = pick(REFLEXIVE_VERBS)[2]
        return f"the {plural} {verb} themselves {place}", f"the {plural} {verb} {refl} {place}"
    if subtype == "adjective_noun":
        adj, verb = pick(ADJECTIVES), pick(INTRANSITIVE)[2]
        return f"the {adj} {agent[0]} {verb} {place}", f"the {agent[0]} {adj} {verb} {place}"
    if subtype == "verb_object":
        name, verb = pick(NAMES), pick(TRANSITIVE)[2]
        return f"{name} {verb} {obj} {place}", f"{name} {obj} {verb} {place}"
    if subtype == "irregular_past":
        verb = pick(sorted(IRREGULAR_PAST))
        return f"the {agent[0]} {verb} {obj}", f"the {agent[0]} {IRREGULAR_PAST[verb]} {obj}"
    raise ValueError(f"unknown phenomenon {type_}/{subtype}")


def make_syntactic_pairs(pairs_per_subtype: int = 20, seed: int = 0) -> list[tuple[str, str, str, str]]:
    """``[(type, subtype, grammatical, ungrammatical)]``, distinct pairs, deterministic for ``seed``.

    >>> p = make_syntactic_pairs(2, seed=1)
    >>> len(p), all(g != u and len(g.split()) == len(u.split()) for _, _, g, u in p)
    (14, True)
    """
    rng = random.Random(seed)
    out, seen = [], set()
    for type_, subtype in PHENOMENA:
        n = 0
        for _ in range(pairs_per_subtype * 50):
            if n == pairs_per_subtype:
                break
            good, bad = _pair(rng, type_, subtype)
            if good in seen:
                continue
            seen.add(good)
            out.append((type_, subtype, good, bad))
            n += 1
    return out


def _filename(seed: int, voice: str, pair_id: int, correct: int) -> str:
    return hashlib.sha1(f"syntactic-{seed}-{voice}-{pair_id}-{correct}".encode()).hexdigest()[:16]


def build_syntactic_set(
    out_dir: str | os.PathLike,
    *,
    voices: list[str | Voice] = SYNTACTIC_VOICES,
    pairs_per_subtype: int = 20,
    split: str = "dev",
    seed: int = 0,
    workers: int | None = None,
    show_progress: bool = True,
) -> Path:
    """Write an sBLIMP-like set in ``out_dir/syntactic/<split>/``; returns the gold.csv path."""
    voices = [v if isinstance(v, Voice) else parse_voice(v) for v in voices]
    if not voices:
        raise TextlessError("no voices given")
    if pairs_per_subtype < 1:
        raise TextlessError("pairs per subtype must be at least 1")
    pairs = make_syntactic_pairs(pairs_per_subtype, seed)
    split_dir = Path(out_dir) / "syntactic" / split
    rows, jobs = [], []
    for pair_id, (type_, subtype, good, bad) in enumerate(pairs):
        for v in voices:
            for correct, text in ((1, good), (0, bad)):
                name = _filename(seed, v.speaker, pair_id, correct)
                jobs.append((v.spec, str(split_dir / f"{name}.wav"), text, None, 16000))
                rows.append({"filename": name, "voice": v.speaker, "type": type_,
                             "subtype": subtype, "transcription": text, "correct": correct,
                             "id": pair_id})
    speak_all(jobs, workers=workers, desc="syntactic", show_progress=show_progress)
    gold = split_dir / "gold.csv"
    with atomic_open(gold, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SYNTACTIC_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    log.info("%s: %d pairs x %d voices", gold, len(pairs), len(voices))
    return gold
