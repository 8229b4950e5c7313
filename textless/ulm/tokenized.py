"""A unit LM trained on BPE tokens, seen from outside in unit space (the one tokenizer hook).

:class:`TokenizedLM` pairs a :class:`~textless.ulm.model.UnitLM` whose vocabulary is the
tokenizer's ``V`` tokens with its :class:`~textless.tokenizer.Tokenizer`. It presents
``vocab_size`` = K units (so a pipeline checks it against the quantizer as before);
:func:`textless.ulm.sample.continue_units` and :func:`textless.ulm.score.score_sequences`
tokenize the units where they enter the LM and decode samples back to units where they leave.
"""

from __future__ import annotations

from ..errors import IncompatibleComponentsError
from ..tokenizer import Tokenizer
from .model import UnitLM


class TokenizedLM:
    """``lm`` (over ``tokenizer.vocab_size`` tokens) behind ``tokenizer``; ``vocab_size`` is
    the number of units K. ``config``, ``device``, ``eval()``, ``to()`` are the LM's."""

    def __init__(self, lm: UnitLM, tokenizer: Tokenizer):
        if lm.vocab_size != tokenizer.vocab_size:
            raise IncompatibleComponentsError(
                f"the unit LM has {lm.vocab_size} tokens, the tokenizer {tokenizer.vocab_size}")
        self.lm, self.tokenizer = lm, tokenizer

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.unit_vocab_size

    @property
    def config(self):
        return self.lm.config

    @property
    def device(self):
        return self.lm.device

    def eval(self) -> "TokenizedLM":
        self.lm.eval()
        return self

    def to(self, device) -> "TokenizedLM":
        self.lm.to(device)
        return self


def with_tokenizer(lm: UnitLM, tokenizer_path) -> UnitLM | TokenizedLM:
    """``lm`` behind the tokenizer file ``tokenizer_path``, or ``lm`` itself when it is None."""
    if tokenizer_path is None:
        return lm
    from ..tokenizer import load_tokenizer

    return TokenizedLM(lm, load_tokenizer(tokenizer_path))
