"""The sentence source: a probabilistic grammar over a fixed, real English vocabulary.

No text corpus can be downloaded here, so the default corpus text is generated: simple but
natural English sentences (declaratives, questions, subordinate clauses, quoted speech) built
from a vocabulary of about 600 common words that recur across the corpus, so that a unit
language model can learn words from it. The vocabulary and grammar were written for textless
(same license as the project); every word is in the CMU pronouncing dictionary shipped with
pocketsphinx (checked by the tests), so every sentence can be force-aligned.

>>> s = generate_sentences(3, seed=0)
>>> len(s), s == generate_sentences(3, seed=0)
(3, True)
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

from ..errors import TextlessError

# nouns: (singular, plural)
PEOPLE = [
    ("man", "men"), ("woman", "women"), ("child", "children"), ("boy", "boys"), ("girl", "girls"),
    ("teacher", "teachers"), ("doctor", "doctors"), ("farmer", "farmers"), ("king", "kings"),
    ("queen", "queens"), ("soldier", "soldiers"), ("sailor", "sailors"), ("student", "students"),
    ("friend", "friends"), ("neighbor", "neighbors"), ("stranger", "strangers"),
    ("brother", "brothers"), ("sister", "sisters"), ("mother", "mothers"), ("father", "fathers"),
    ("baker", "bakers"), ("driver", "drivers"), ("singer", "singers"), ("writer", "writers"),
    ("painter", "painters"), ("hunter", "hunters"), ("guard", "guards"), ("nurse", "nurses"),
    ("judge", "judges"), ("captain", "captains"), ("prince", "princes"), ("merchant", "merchants"),
]
ANIMALS = [
    ("dog", "dogs"), ("cat", "cats"), ("horse", "horses"), ("bird", "birds"), ("fish", "fish"),
    ("cow", "cows"), ("sheep", "sheep"), ("wolf", "wolves"), ("fox", "foxes"), ("bear", "bears"),
    ("mouse", "mice"), ("rabbit", "rabbits"), ("duck", "ducks"), ("goat", "goats"),
    ("lion", "lions"), ("pig", "pigs"), ("owl", "owls"), ("frog", "frogs"),
]
THINGS = [
    ("book", "books"), ("letter", "letters"), ("box", "boxes"), ("bag", "bags"), ("cup", "cups"),
    ("key", "keys"), ("coat", "coats"), ("hat", "hats"), ("chair", "chairs"), ("table", "tables"),
    ("stone", "stones"), ("apple", "apples"), ("basket", "baskets"), ("bottle", "bottles"),
    ("candle", "candles"), ("ring", "rings"), ("knife", "knives"), ("rope", "ropes"),
    ("map", "maps"), ("picture", "pictures"), ("flower", "flowers"), ("ball", "balls"),
    ("shoe", "shoes"), ("clock", "clocks"), ("lamp", "lamps"), ("coin", "coins"),
    ("boat", "boats"), ("wagon", "wagons"), ("bell", "bells"), ("blanket", "blankets"),
    ("bread", "breads"), ("egg", "eggs"), ("pen", "pens"), ("window", "windows"),
    ("door", "doors"), ("song", "songs"), ("story", "stories"), ("gift", "gifts"),
]
PLACES = [
    "house", "garden", "river", "forest", "village", "city", "market", "church", "school",
    "kitchen", "field", "hill", "road", "bridge", "station", "harbor", "castle", "farm",
    "library", "shop", "valley", "lake", "mountain", "street", "room", "tower", "island", "park",
    "barn", "hall", "beach", "cave", "yard", "office", "hospital", "palace",
]
NAMES = [
    "john", "mary", "peter", "anna", "thomas", "alice", "james", "emma", "robert", "sarah",
    "william", "lucy", "henry", "jane", "george", "helen", "paul", "clara", "david", "ruth",
    "edward", "grace", "frank", "rose", "charles", "laura", "arthur", "martha",
]
ADJECTIVES = [
    "old", "young", "big", "small", "little", "tall", "short", "long", "happy", "sad", "quiet",
    "loud", "dark", "bright", "cold", "warm", "heavy", "light", "red", "green", "blue", "white",
    "black", "brown", "golden", "new", "strange", "kind", "clever", "tired", "hungry", "brave",
    "poor", "rich", "gentle", "wild", "empty", "wooden", "broken", "beautiful", "careful",
    "angry", "busy", "famous", "friendly", "lonely", "proud", "simple", "wet", "dry", "soft",
]
# verbs taking an object: (base, third person singular, past)
TRANSITIVE = [
    ("see", "sees", "saw"), ("find", "finds", "found"), ("take", "takes", "took"),
    ("bring", "brings", "brought"), ("carry", "carries", "carried"), ("hold", "holds", "held"),
    ("open", "opens", "opened"), ("close", "closes", "closed"), ("watch", "watches", "watched"),
    ("follow", "follows", "followed"), ("help", "helps", "helped"), ("call", "calls", "called"),
    ("meet", "meets", "met"), ("visit", "visits", "visited"), ("paint", "paints", "painted"),
    ("build", "builds", "built"), ("sell", "sells", "sold"), ("buy", "buys", "bought"),
    ("lose", "loses", "lost"), ("keep", "keeps", "kept"), ("clean", "cleans", "cleaned"),
    ("push", "pushes", "pushed"), ("pull", "pulls", "pulled"), ("wash", "washes", "washed"),
    ("hide", "hides", "hid"), ("catch", "catches", "caught"), ("drop", "drops", "dropped"),
    ("remember", "remembers", "remembered"), ("love", "loves", "loved"), ("like", "likes", "liked"),
    ("need", "needs", "needed"), ("want", "wants", "wanted"), ("show", "shows", "showed"),
    ("give", "gives", "gave"), ("send", "sends", "sent"), ("leave", "leaves", "left"),
    ("notice", "notices", "noticed"), ("admire", "admires", "admired"),
]
INTRANSITIVE = [
    ("sleep", "sleeps", "slept"), ("run", "runs", "ran"), ("walk", "walks", "walked"),
    ("sing", "sings", "sang"), ("laugh", "laughs", "laughed"), ("smile", "smiles", "smiled"),
    ("wait", "waits", "waited"), ("work", "works", "worked"), ("dance", "dances", "danced"),
    ("cry", "cries", "cried"), ("rest", "rests", "rested"), ("play", "plays", "played"),
    ("swim", "swims", "swam"), ("travel", "travels", "traveled"), ("listen", "listens", "listened"),
    ("arrive", "arrives", "arrived"), ("return", "returns", "returned"), ("speak", "speaks", "spoke"),
    ("sit", "sits", "sat"), ("stand", "stands", "stood"), ("jump", "jumps", "jumped"),
    ("shout", "shouts", "shouted"), ("stay", "stays", "stayed"), ("fall", "falls", "fell"),
]
REFLEXIVE_VERBS = [
    ("hurt", "hurts", "hurt"), ("see", "sees", "saw"), ("help", "helps", "helped"),
    ("wash", "washes", "washed"), ("blame", "blames", "blamed"), ("admire", "admires", "admired"),
]
ADVERBS = [
    "slowly", "quickly", "quietly", "loudly", "happily", "carefully", "softly", "gladly",
    "often", "never", "always", "sometimes", "again", "together", "alone", "early", "late",
]
PREPOSITIONS = ["in", "near", "behind", "under", "by", "inside", "outside", "across", "beyond"]
TIMES = [
    "in the morning", "in the evening", "at night", "every day", "last year", "on sunday",
    "after dinner", "before noon", "in the winter", "in the summer", "yesterday", "today",
    "at dawn", "every week", "once again", "long ago",
]
SAY_VERBS = [("say", "says", "said"), ("think", "thinks", "thought"), ("know", "knows", "knew"),
             ("hope", "hopes", "hoped"), ("hear", "hears", "heard")]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "ten", "twelve"]

_WORD_RE = re.compile(r"[a-z']+")


class SentenceGrammar:
    """Generate sentences with a seeded ``random.Random``; every method returns lower-case words."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    # --- phrases -----------------------------------------------------------------------------
    def pick(self, items):
        return self.rng.choice(items)

    def noun(self, plural: bool) -> str:
        group = self.rng.choices([PEOPLE, ANIMALS, THINGS], weights=[4, 3, 3])[0]
        return self.pick(group)[1 if plural else 0]

    def agent(self, plural: bool) -> str:
        return self.pick(self.rng.choice([PEOPLE, ANIMALS]))[1 if plural else 0]

    def np(self, plural: bool | None = None, animate: bool = False) -> str:
        """A noun phrase; ``plural=None`` picks the number at random."""
        r = self.rng.random()
        if plural is None:
            if animate and r < 0.25:
                return self.pick(NAMES)
            plural = self.rng.random() < 0.35
        noun = self.agent(plural) if animate else self.noun(plural)
        if plural:
            det = self.rng.choices(["the", "some", "these", "those", "many", self.pick(NUMBERS),
                                    "my", "our", "their"], weights=[6, 2, 1, 1, 1, 2, 1, 1, 1])[0]
        else:
            det = self.rng.choices(["the", "a", "this", "that", "my", "his", "her", "every"],
                                   weights=[6, 4, 1, 1, 1, 1, 1, 1])[0]
        adj = self.pick(ADJECTIVES) if self.rng.random() < 0.45 else None
        if det == "a" and (adj or noun)[0] in "aeiou":
            det = "an"
        return " ".join(w for w in (det, adj, noun) if w)

    def pp(self) -> str:
        adj = self.pick(ADJECTIVES) + " " if self.rng.random() < 0.3 else ""
        return f"{self.pick(PREPOSITIONS)} the {adj}{self.pick(PLACES)}"

    def verb(self, forms, plural: bool, tense: str) -> str:
        if tense == "past":
            return forms[2]
        if tense == "future":
            return "will " + forms[0]
        return forms[0] if plural else forms[1]

    def modifiers(self) -> list[str]:
        out = []
        if self.rng.random() < 0.4:
            out.append(self.pp())
        if self.rng.random() < 0.25:
            out.append(self.pick(TIMES))
        return out

    # --- clauses -----------------------------------------------------------------------------
    def clause(self, tense: str | None = None) -> str:
        tense = tense or self.rng.choices(["past", "present", "future"], weights=[5, 3, 1])[0]
        plural = self.rng.random() < 0.35
        if not plural and self.rng.random() < 0.25:
            subject = self.pick(NAMES)
        else:
            subject = self.np(plural=plural, animate=True)
        words = [subject]
        if self.rng.random() < 0.15:
            words.append(self.pick(ADVERBS))
        if self.rng.random() < 0.6:
            words.append(self.verb(self.pick(TRANSITIVE), plural, tense))
            words.append(self.np())
        else:
            words.append(self.verb(self.pick(INTRANSITIVE), plural, tense))
            if self.rng.random() < 0.4:
                words.append(self.pick(ADVERBS))
        words += self.modifiers()
        return " ".join(words)

    def sentence(self) -> str:
        kind = self.rng.choices(
            ["plain", "say", "when", "because", "there", "question", "and"],
            weights=[8, 2, 2, 1, 2, 2, 2])[0]
        if kind == "say":
            plural = self.rng.random() < 0.3
            subject = self.np(plural=True, animate=True) if plural else self.pick(NAMES)
            verb = self.verb(self.pick(SAY_VERBS), plural, "past")
            return f"{subject} {verb} that {self.clause()}"
        if kind == "when":
            return f"when {self.clause('past')} {self.clause('past')}"
        if kind == "because":
            return f"{self.clause()} because {self.clause()}"
        if kind == "there":
            plural = self.rng.random() < 0.4
            be = "were" if plural else "was"
            return f"there {be} {self.np(plural=plural)} {self.pp()}"
        if kind == "question":
            plural = self.rng.random() < 0.3
            subject = self.np(plural=plural, animate=True)
            aux = self.pick(["did", "will", "can"])
            v = self.pick(TRANSITIVE)[0]
            return f"{aux} {subject} {v} {self.np()}"
        if kind == "and":
            return f"{self.clause('past')} and {self.clause('past')}"
        return self.clause()


def generate_sentences(n: int, seed: int = 0, *, min_words: int = 4, max_words: int = 20) -> list[str]:
    """``n`` grammar sentences (lower case, no punctuation), the same list for the same seed."""
    grammar = SentenceGrammar(seed)
    out = []
    while len(out) < n:
        s = grammar.sentence()
        if min_words <= len(s.split()) <= max_words:
            out.append(s)
    return out


def vocabulary() -> set[str]:
    """Every word the grammar can produce (lower case)."""
    words = set()
    for group in (PEOPLE, ANIMALS, THINGS, TRANSITIVE, INTRANSITIVE, REFLEXIVE_VERBS, SAY_VERBS):
        for forms in group:
            words.update(forms)
    for group in (PLACES, NAMES, ADJECTIVES, ADVERBS, PREPOSITIONS, NUMBERS):
        words.update(group)
    for phrase in TIMES:
        words.update(phrase.split())
    words.update("the a an some these those many my our their his her every that this will did "
                 "can there was were when because and himself herself themselves".split())
    words.update("he she they was is are were".split())
    return words


def normalize(text: str) -> str:
    """Lower-case words only: ``"The Cat, sat!" -> "the cat sat"``.

    >>> normalize("The old Man's  hat, again!")
    "the old man's hat again"
    """
    return " ".join(_WORD_RE.findall(text.lower()))


def read_sentences(path: str | os.PathLike) -> list[str]:
    """One sentence per line (blank lines skipped), normalized with :func:`normalize`."""
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such text file")
    sentences = [normalize(line) for line in path.read_text(encoding="utf-8").splitlines()]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise TextlessError(f"{path}: contains no sentences")
    return sentences
