"""Unit tokenization: BPE over deduplicated unit streams (acoustic BPE), saved as JSON.

Each unit id ``u`` of a ``K``-unit quantizer is one private-use character (``U+E000 + u`` for
``u < 6400``, then ``U+F0000 + (u - 6400)``); a deduplicated utterance is the string of its
units, one "word" (no pre-tokenizer, no normalizer). The Hugging Face ``tokenizers`` BPE trainer
starts from the full alphabet of ``K`` units and merges frequent adjacent pairs until the
vocabulary holds ``vocab_size`` tokens (fewer if no pair occurs ``min_frequency`` times).

Durations are carried through: a token's duration (frames) is the sum of its units'
durations, and :class:`Tokens` keeps the per-unit durations so that
``tokenizer.decode(tokenizer.encode(u)) == u.deduplicated()`` exactly (units and durations;
``u`` itself when it is already deduplicated). Decoding bare token ids (sampled by a token LM)
gives units without durations.

File format (JSON, written atomically; unknown or missing keys are refused)::

    {"format_version": 1, "kind": "tokenizer.bpe", "unit_vocab_size": K, "vocab_size": V,
     "min_frequency": 2, "model": "<units model or null>", "hf_tokenizer": {...}}

``hf_tokenizer`` is the ``tokenizers`` library's own JSON of the BPE model (docs/tokenizer.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from .errors import CheckpointError, UnitsFormatError
from .files import atomic_open
from .units import Units, dedup, iter_units

FORMAT_VERSION = 1
KIND = "tokenizer.bpe"
_KEYS = {"format_version", "kind", "unit_vocab_size", "vocab_size", "min_frequency", "model",
         "hf_tokenizer"}
_BMP_PUA = 0xE000
_BMP_PUA_SIZE = 6400            # U+E000 .. U+F8FF
_PLANE15_PUA = 0xF0000
_MAX_UNITS = _BMP_PUA_SIZE + 65534  # U+F0000 .. U+FFFFD


def unit_codepoints(num_units: int) -> np.ndarray:
    """Code point of each unit id: ``[num_units] uint32``.

    >>> [hex(c) for c in unit_codepoints(6402)[[0, 1, 6399, 6400, 6401]]]
    ['0xe000', '0xe001', '0xf8ff', '0xf0000', '0xf0001']
    """
    if not 0 < num_units <= _MAX_UNITS:
        raise UnitsFormatError(f"a tokenizer maps 1 .. {_MAX_UNITS} units, not {num_units}")
    ids = np.arange(num_units, dtype=np.uint32)
    return np.where(ids < _BMP_PUA_SIZE, _BMP_PUA + ids, _PLANE15_PUA + ids - _BMP_PUA_SIZE
                    ).astype(np.uint32)


def _unit_of_codepoint(c: int) -> int:
    if _BMP_PUA <= c < _BMP_PUA + _BMP_PUA_SIZE:
        return c - _BMP_PUA
    if _PLANE15_PUA <= c < _PLANE15_PUA + _MAX_UNITS - _BMP_PUA_SIZE:
        return c - _PLANE15_PUA + _BMP_PUA_SIZE
    return -1


@dataclass(frozen=True)
class Tokens:
    """One utterance as tokens.

    ``ids: [M] int64`` token ids; ``durations: [M] int64`` frames per token (the sum of its
    units' frames), or ``None`` when no durations were known; ``unit_durations: [N] int64`` frames
    per unit (``N`` units after deduplication), kept so that decoding restores them, or ``None``.
    ``vocab_size`` is the tokenizer's; ``frame_rate`` (Hz), ``model`` and ``id`` come from the units.
    """

    ids: torch.Tensor
    durations: torch.Tensor | None = None
    unit_durations: torch.Tensor | None = None
    vocab_size: int | None = None
    frame_rate: float | None = None
    model: str | None = None
    id: str | None = None

    def __len__(self) -> int:
        return self.ids.numel()

    def as_units(self) -> Units:
        """The token stream as a :class:`Units` value over the token vocabulary (what a token
        LM reads and what :func:`textless.units.bitrate` counts): ``units = ids``,
        ``durations`` = token durations, so ``num_frames`` and ``duration_s`` are unchanged."""
        return Units(self.ids, self.durations, frame_rate=self.frame_rate,
                     vocab_size=self.vocab_size, model=self.model, id=self.id)


class Tokenizer:
    """BPE over unit ids. Build with :func:`train_tokenizer` or :meth:`load`.

    ``unit_vocab_size`` = K units; ``vocab_size`` = V tokens (``V >= K``; token ``t`` spells
    ``token_units(t)``, one or more unit ids).
    """

    def __init__(self, hf_tokenizer, unit_vocab_size: int, min_frequency: int = 2,
                 model: str | None = None):
        self._hf = hf_tokenizer
        self.unit_vocab_size = int(unit_vocab_size)
        self.min_frequency = int(min_frequency)
        self.model = model
        self._codes = unit_codepoints(self.unit_vocab_size)
        vocab = hf_tokenizer.get_vocab()
        V = len(vocab)
        if sorted(vocab.values()) != list(range(V)):
            raise CheckpointError("tokenizer: token ids are not 0 .. V-1")
        spelled: list[list[int] | None] = [None] * V
        for text, t in vocab.items():
            units = [_unit_of_codepoint(ord(ch)) for ch in text]
            if not units or min(units) < 0 or max(units) >= self.unit_vocab_size:
                raise CheckpointError(
                    f"tokenizer: token {t} is not spelled with units 0 .. {self.unit_vocab_size - 1}")
            spelled[t] = units
        singles = {tuple(s)[0] for s in spelled if len(s) == 1}
        if len(singles) != self.unit_vocab_size:
            raise CheckpointError(f"tokenizer: {self.unit_vocab_size - len(singles)} units have no "
                                  f"single-unit token (the alphabet must be complete)")
        self.vocab_size = V
        self._lengths = np.array([len(s) for s in spelled], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(self._lengths)[:-1]]).astype(np.int64)
        self._flat = np.array([u for s in spelled for u in s], dtype=np.int64)

    # -------------------------------------------------------------------------- inspection
    def token_units(self, token: int) -> list[int]:
        """The unit ids token ``token`` spells, in order."""
        s = int(self._starts[token])
        return self._flat[s:s + int(self._lengths[token])].tolist()

    @property
    def token_lengths(self) -> np.ndarray:
        """Units per token: ``[V] int64``."""
        return self._lengths.copy()

    # -------------------------------------------------------------------------- encode
    def _text(self, units: torch.Tensor) -> str:
        return self._codes[units.numpy()].tobytes().decode("utf-32-le")

    def _check_units(self, u: Units) -> None:
        if u.vocab_size is not None and u.vocab_size != self.unit_vocab_size:
            raise UnitsFormatError(f"{u.id or 'units'}: vocab_size {u.vocab_size}, the tokenizer "
                                   f"has {self.unit_vocab_size} units")
        if len(u) and int(u.units.max()) >= self.unit_vocab_size:
            raise UnitsFormatError(f"{u.id or 'units'}: unit id {int(u.units.max())} >= "
                                   f"{self.unit_vocab_size}, the tokenizer's units")

    def _tokens(self, u: Units, units: torch.Tensor, frames: torch.Tensor, ids: list[int]) -> Tokens:
        ids_t = torch.tensor(ids, dtype=torch.long)
        lengths = self._lengths[ids_t.numpy()] if ids else np.zeros(0, dtype=np.int64)
        if int(lengths.sum()) != len(units):  # a unit BPE could not spell: never silently drop
            raise UnitsFormatError(f"{u.id or 'units'}: tokenization lost units")
        keep_none = u.durations is None and len(units) == len(u)
        tok_frames = (np.add.reduceat(frames.numpy(), np.cumsum(lengths) - lengths)
                      if ids else np.zeros(0, dtype=np.int64))
        return Tokens(ids_t, torch.from_numpy(tok_frames.astype(np.int64)),
                      None if keep_none else frames, self.vocab_size, u.frame_rate, u.model, u.id)

    def encode(self, units: Units) -> Tokens:
        """Tokenize one utterance (deduplicated first: runs become one unit with their frames).

        ``units.units: [N]`` -> ``Tokens.ids: [M]``, ``M <= N``. Token durations (frames) are
        sums of unit durations (one frame per unit without durations).
        """
        return self.encode_batch([units])[0]

    def encode_batch(self, utterances: Sequence[Units]) -> list[Tokens]:
        """:meth:`encode` of many utterances in one call of the Rust tokenizer (multi-threaded)."""
        for u in utterances:
            self._check_units(u)
        runs = [dedup(u.units, u.durations) for u in utterances]
        encs = self._hf.encode_batch([self._text(units) for units, _ in runs],
                                     add_special_tokens=False)
        return [self._tokens(u, units, frames, e.ids)
                for u, (units, frames), e in zip(utterances, runs, encs)]

    def encode_ids(self, units: torch.Tensor) -> torch.Tensor:
        """Token ids of a unit id sequence ``[N]`` (deduplicated first) -> ``[M] int64``."""
        return self.encode(Units(units)).ids

    # -------------------------------------------------------------------------- decode
    def decode_ids(self, ids: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Unit ids spelled by token ids: ``[M] -> [N] int64`` (concatenated, not deduplicated:
        two sampled tokens may meet on the same unit)."""
        ids = np.asarray(torch.as_tensor(ids, dtype=torch.long).reshape(-1))
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise UnitsFormatError(f"token id outside 0 .. {self.vocab_size - 1}")
        lengths = self._lengths[ids]
        ends = np.cumsum(lengths)
        pos = np.repeat(self._starts[ids] - (ends - lengths), lengths) + np.arange(int(ends[-1]) if
                                                                                  ids.size else 0)
        return torch.from_numpy(self._flat[pos])

    def decode(self, tokens: Tokens | torch.Tensor | Sequence[int]) -> Units:
        """Units of a :class:`Tokens` value (with its unit durations: the exact inverse of
        :meth:`encode`) or of bare token ids (no durations, ``vocab_size`` = K)."""
        if not isinstance(tokens, Tokens):
            return Units(self.decode_ids(tokens), vocab_size=self.unit_vocab_size)
        units = self.decode_ids(tokens.ids)
        return Units(units, tokens.unit_durations, frame_rate=tokens.frame_rate,
                     vocab_size=self.unit_vocab_size, model=tokens.model, id=tokens.id)

    # -------------------------------------------------------------------------- files
    def to_dict(self) -> dict:
        return {"format_version": FORMAT_VERSION, "kind": KIND,
                "unit_vocab_size": self.unit_vocab_size, "vocab_size": self.vocab_size,
                "min_frequency": self.min_frequency, "model": self.model,
                "hf_tokenizer": json.loads(self._hf.to_str())}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the tokenizer as JSON, atomically."""
        with atomic_open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=True, sort_keys=True)
            f.write("\n")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tokenizer":
        """Read a file written by :meth:`save`; :class:`CheckpointError` naming the problem."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no such tokenizer file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: not a tokenizer JSON file ({e})") from None
        return cls.from_dict(d, str(path))

    @classmethod
    def from_dict(cls, d: dict, where: str = "tokenizer") -> "Tokenizer":
        from tokenizers import Tokenizer as HFTokenizer

        if not isinstance(d, dict):
            raise CheckpointError(f"{where}: expected a JSON object")
        unknown, missing = set(d) - _KEYS, _KEYS - set(d)
        if unknown or missing:
            raise CheckpointError(f"{where}: unknown keys {sorted(unknown)}, missing keys "
                                  f"{sorted(missing)}")
        if d["kind"] != KIND or d["format_version"] != FORMAT_VERSION:
            raise CheckpointError(f"{where}: a {d['kind']!r} file of format version "
                                  f"{d['format_version']}, not {KIND!r} version {FORMAT_VERSION}")
        try:
            hf = HFTokenizer.from_str(json.dumps(d["hf_tokenizer"]))
        except Exception as e:  # the library raises a bare Exception on a malformed model
            raise CheckpointError(f"{where}: malformed hf_tokenizer ({e})") from None
        if hf.pre_tokenizer is not None or hf.normalizer is not None:
            raise CheckpointError(f"{where}: a unit tokenizer has no normalizer or pre-tokenizer")
        tok = cls(hf, d["unit_vocab_size"], d["min_frequency"], d["model"])
        if tok.vocab_size != d["vocab_size"]:
            raise CheckpointError(f"{where}: vocab_size {d['vocab_size']} but "
                                  f"{tok.vocab_size} tokens")
        return tok


def load_tokenizer(path: str | os.PathLike) -> Tokenizer:
    """:meth:`Tokenizer.load`."""
    return Tokenizer.load(path)


def _unit_texts(utterances: Iterable[Units], codes: np.ndarray, unit_vocab_size: int,
                seen: dict) -> Iterator[str]:
    for u in utterances:
        if u.vocab_size is not None and u.vocab_size != unit_vocab_size:
            raise UnitsFormatError(f"{u.id or 'units'}: vocab_size {u.vocab_size}, not "
                                   f"{unit_vocab_size}")
        if len(u) and int(u.units.max()) >= unit_vocab_size:
            raise UnitsFormatError(f"{u.id or 'units'}: unit id {int(u.units.max())} >= "
                                   f"{unit_vocab_size}")
        seen["model"] = seen.get("model", u.model)
        seen["utterances"] = seen.get("utterances", 0) + 1
        yield codes[dedup(u.units)[0].numpy()].tobytes().decode("utf-32-le")


def train_tokenizer(utterances: Iterable[Units] | str | os.PathLike, vocab_size: int, *,
                    unit_vocab_size: int | None = None, min_frequency: int = 2) -> Tokenizer:
    """Train BPE over deduplicated unit streams; deterministic for the same input.

    ``utterances``: :class:`Units` (an iterable, consumed once) or a unit file path, streamed
    (the library keeps one count per distinct utterance, not the file). ``unit_vocab_size``
    (K) defaults to the first utterance's ``vocab_size``. ``vocab_size`` (V >= K) counts every
    token, the K single units included; ``V == K`` is "units only".
    """
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, trainers

    stream = iter(iter_units(utterances) if isinstance(utterances, (str, os.PathLike))
                  else utterances)
    first = next(stream, None)
    if first is None:
        raise UnitsFormatError("no utterances to train a tokenizer on")
    K = unit_vocab_size if unit_vocab_size is not None else first.vocab_size
    if K is None:
        raise UnitsFormatError("the units record no vocab_size: give the number of units")
    if vocab_size < K:
        raise UnitsFormatError(f"a vocabulary of {vocab_size} tokens cannot hold the {K} units")
    if min_frequency < 1:
        raise UnitsFormatError("min_frequency must be >= 1")
    codes = unit_codepoints(K)
    hf = HFTokenizer(models.BPE())
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[],
        initial_alphabet=[chr(c) for c in codes], limit_alphabet=K, show_progress=False,
    )
    seen: dict = {}
    texts = _unit_texts(_chain(first, stream), codes, K, seen)
    hf.train_from_iterator(texts, trainer=trainer)
    return Tokenizer(hf, K, min_frequency, seen.get("model"))


def _chain(first, rest):
    yield first
    yield from rest


def tokenize_utterances(tokenizer: Tokenizer, utterances: Sequence[Units],
                        batch: int = 4096) -> list[Tokens]:
    """:meth:`Tokenizer.encode_batch` in slices of ``batch`` utterances."""
    out: list[Tokens] = []
    for i in range(0, len(utterances), batch):
        out += tokenizer.encode_batch(utterances[i:i + batch])
    return out


__all__ = ["Tokenizer", "Tokens", "train_tokenizer", "load_tokenizer", "tokenize_utterances",
           "unit_codepoints"]
