"""Sequence log-probabilities with fairseq's convention (the basis of sWUGGY / sBLIMP).

For units ``u_1 .. u_n`` the model reads ``[eos, u_1, .., u_n]`` and the score is
``sum_i log p(u_i | eos, u_<i) + log p(eos | eos, u_1..u_n)`` (natural log), over ``n + 1``
tokens: what fairseq's ``SequenceScorer`` gives for a ``language_modeling`` task with
``sample_break_mode=eos`` and ``add_bos_token=False``.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .model import UnitLM


@torch.inference_mode()
def score_sequences(
    model: UnitLM, sequences: Sequence[torch.Tensor], batch_size: int = 32,
    max_tokens: int | None = None,
) -> list[tuple[float, int]]:
    """``[(logprob, num_tokens)]`` per sequence of unit ids, in input order.

    ``num_tokens = len(units) + 1`` (the closing eos counts). Sequences are sorted by length and
    right-padded in batches of at most ``batch_size`` (and ``max_tokens`` padded tokens); padding
    cannot change a score since attention is causal. Log-softmax in float32.
    A :class:`~textless.ulm.tokenized.TokenizedLM` scores the BPE tokens of the deduplicated
    units: ``num_tokens = len(tokens) + 1``.
    """
    from .tokenized import TokenizedLM

    if isinstance(model, TokenizedLM):  # score the token sequences of the units
        sequences = [model.tokenizer.encode_ids(torch.as_tensor(s).reshape(-1)) for s in sequences]
        model = model.lm
    model_was_training = model.training
    model.eval()
    device = model.device
    tokens = [model.tokens_of(torch.as_tensor(s).reshape(-1)) for s in sequences]
    too_long = [len(t) + 1 for t in tokens if len(t) + 1 > model.config.max_positions]
    if too_long:
        from ..errors import UnitsFormatError

        raise UnitsFormatError(
            f"a sequence of {too_long[0] - 1} units exceeds the LM's {model.config.max_positions} positions"
        )
    order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
    results: list[tuple[float, int]] = [(0.0, 0)] * len(tokens)
    i = 0
    while i < len(order):
        batch = [order[i]]
        while (
            i + len(batch) < len(order) and len(batch) < batch_size
            and (max_tokens is None
                 or (len(batch) + 1) * (len(tokens[order[i + len(batch)]]) + 1) <= max_tokens)
        ):
            batch.append(order[i + len(batch)])
        i += len(batch)
        T = max(len(tokens[j]) for j in batch) + 1
        inp = torch.full((len(batch), T), model.pad, dtype=torch.long, device=device)
        tgt = torch.full((len(batch), T), -100, dtype=torch.long, device=device)
        for row, j in enumerate(batch):
            t = tokens[j].to(device)
            n = len(t)
            inp[row, 0] = model.eos
            inp[row, 1:n + 1] = t
            tgt[row, :n] = t
            tgt[row, n] = model.eos
        logp = F.log_softmax(model(inp), dim=-1)
        valid = tgt >= 0
        picked = logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * valid
        # float64 sums, like summing per-token scores in Python
        sums = picked.double().sum(-1).tolist()
        for row, j in enumerate(batch):
            results[j] = (float(sums[row]), len(tokens[j]) + 1)
    model.train(model_was_training)
    return results


def score_units(model: UnitLM, utterances, batch_size: int = 32) -> list[dict]:
    """``[{"id", "logprob", "num_tokens"}]`` for :class:`~textless.units.Units` utterances."""
    scores = score_sequences(model, [u.units for u in utterances], batch_size=batch_size)
    return [
        {"id": u.id, "logprob": lp, "num_tokens": n} for u, (lp, n) in zip(utterances, scores)
    ]
