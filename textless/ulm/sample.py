"""Sampling continuations of a unit prompt: temperature, top-k, top-p, seeds, KV cache.

As in GSLM, the model reads ``[eos, u_1 .. u_n]`` (the prompt deduplicated) and samples new
units until ``max_new_tokens`` or, if allowed, an end-of-sequence. Unlike fairseq, which can
sample ``<unk>``, ``<s>`` or ``madeupword`` padding symbols, only units (and eos) are sampled.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import torch

from ..errors import TextlessError
from ..units import Units, dedup
from .model import UnitLM

log = logging.getLogger(__name__)


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Keep the ``top_k`` largest and the smallest set with probability >= ``top_p``.

    ``logits: [B, N]`` -> ``[B, N]`` with filtered entries at ``-inf`` (the best always stays).

    >>> filter_logits(torch.tensor([[0.0, 2.0, 1.0]]), top_k=2).tolist()
    [[-inf, 2.0, 1.0]]
    """
    if top_k and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, idx = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(-1)
        # drop a token when the mass before it already reaches top_p
        drop = probs.cumsum(-1) - probs >= top_p
        drop[..., 0] = False
        logits = logits.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
    return logits


@torch.inference_mode()
def generate(
    model: UnitLM, prompt_tokens: torch.Tensor, *, num_samples: int = 1, max_new_tokens: int = 100,
    temperature: float = 0.7, top_k: int = 0, top_p: float = 1.0, allowed: torch.Tensor | None = None,
    stop_at_eos: bool = True, generator: torch.Generator | None = None, use_cache: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``num_samples`` continuations of ``prompt_tokens: [T]`` token indices (the opening
    eos included) as one batch.

    ``allowed: [n_tokens] bool`` restricts what may be sampled (eos is added when
    ``stop_at_eos``). ``temperature == 0`` is greedy. ``use_cache=False`` recomputes the whole
    prefix at every step (slow; for benchmarks and tests).
    Returns ``(new_tokens [num_samples, max_new_tokens], lengths [num_samples])``: row ``b``
    holds ``lengths[b]`` sampled tokens before its eos (the rest is padding).
    """
    device = model.device
    prompt = prompt_tokens.to(device).reshape(1, -1)
    B, P = num_samples, prompt.shape[1]
    allowed = (torch.ones(model.config.n_tokens, dtype=torch.bool, device=device)
               if allowed is None else allowed.to(device).clone())
    allowed[model.pad] = False
    allowed[model.eos] = stop_at_eos
    out = torch.full((B, max_new_tokens), model.pad, dtype=torch.long, device=device)
    lengths = torch.full((B,), max_new_tokens, dtype=torch.long, device=device)
    if max_new_tokens == 0:
        return out, lengths
    if use_cache:
        cache = model.new_cache(1, P + max_new_tokens)
        logits = model(prompt, cache)[:, -1]
        cache.k = [k.expand(B, -1, -1, -1).contiguous() for k in cache.k]
        cache.v = [v.expand(B, -1, -1, -1).contiguous() for v in cache.v]
        logits = logits.expand(B, -1)
    else:
        seq = prompt.expand(B, -1)
        logits = model(seq)[:, -1]
    done = torch.zeros(B, dtype=torch.bool, device=device)
    for step in range(max_new_tokens):
        logits = logits.float().masked_fill(~allowed, float("-inf"))
        if step == 0 and stop_at_eos:  # at least one unit (fairseq's min_len=1)
            logits[:, model.eos] = float("-inf")
        if temperature <= 0:
            nxt = logits.argmax(-1)
        else:
            probs = filter_logits(logits / temperature, top_k, top_p).softmax(-1)
            nxt = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        nxt = torch.where(done, torch.full_like(nxt, model.pad), nxt)
        out[:, step] = nxt
        ended = (nxt == model.eos) & ~done
        lengths[ended] = step
        done |= ended
        if bool(done.all()) or step == max_new_tokens - 1:
            break
        inp = torch.where(done, torch.full_like(nxt, model.eos), nxt).unsqueeze(1)
        if use_cache:
            logits = model(inp, cache)[:, -1]
        else:
            seq = torch.cat([seq, inp], dim=1)
            logits = model(seq)[:, -1]
    return out, lengths


def continue_units(
    model: UnitLM, prompt: Units, *, num_samples: int = 1, max_new_tokens: int | None = None,
    duration_s: float | None = None, temperature: float = 0.7, top_k: int = 0, top_p: float = 1.0,
    seed: int | None = None, stop_at_eos: bool = True, deduplicate: bool = True,
) -> list[Units]:
    """Continue ``prompt`` ``num_samples`` times; returns only the continuations.

    The prompt is deduplicated first (GSLM's convention). Length: ``max_new_tokens`` units, or
    ``duration_s`` seconds converted with the prompt's ``frame_rate`` and its mean unit duration
    (one frame per unit when it has no durations). Each result has deduplicated ids,
    ``durations=None`` (a vocoder's duration predictor or the caller decides them) and the
    prompt's ``frame_rate``, ``vocab_size`` and ``model``. ``seed`` makes the draw repeatable.

    A :class:`~textless.ulm.tokenized.TokenizedLM` reads the prompt as BPE tokens, samples
    tokens (``max_new_tokens`` counts tokens; ``duration_s`` uses the mean token duration)
    and returns their units, deduplicated. ``deduplicate=False`` keeps repeated ids in the
    prompt and the samples (how the token LM's tokens pass through: a repeated token is
    two tokens).
    """
    from .tokenized import TokenizedLM

    if isinstance(model, TokenizedLM):  # units -> tokens in, sampled tokens -> units out
        tok = model.tokenizer
        if prompt.vocab_size is not None and prompt.vocab_size != tok.unit_vocab_size:
            raise TextlessError(f"prompt units have vocab_size {prompt.vocab_size}, the "
                                f"tokenizer {tok.unit_vocab_size}")
        outs = continue_units(
            model.lm, tok.encode(prompt).as_units(), num_samples=num_samples,
            max_new_tokens=max_new_tokens, duration_s=duration_s, temperature=temperature,
            top_k=top_k, top_p=top_p, seed=seed, stop_at_eos=stop_at_eos, deduplicate=False)
        return [replace(prompt, units=dedup(tok.decode_ids(o.units))[0], durations=None,
                        vocab_size=tok.unit_vocab_size, id=o.id) for o in outs]
    if (max_new_tokens is None) == (duration_s is None):
        raise TextlessError("give exactly one of max_new_tokens and duration_s")
    if num_samples < 1:
        raise TextlessError("num_samples must be >= 1")
    if temperature < 0 or not 0 < top_p <= 1 or top_k < 0:
        raise TextlessError("need temperature >= 0, 0 < top_p <= 1, top_k >= 0")
    if prompt.vocab_size is not None and prompt.vocab_size != model.vocab_size:
        raise TextlessError(
            f"prompt units have vocab_size {prompt.vocab_size}, the LM {model.vocab_size}"
        )
    units, durations = (dedup(prompt.units, prompt.durations) if deduplicate
                        else (prompt.units, prompt.durations))
    if duration_s is not None:
        if not prompt.frame_rate:
            raise TextlessError("duration_s needs a prompt with a frame_rate")
        frames_per_unit = (float(durations.float().mean()) if prompt.durations is not None
                           and len(units) else 1.0)
        max_new_tokens = max(1, round(duration_s * prompt.frame_rate / frames_per_unit))
    room = model.config.max_positions - 1 - max_new_tokens
    if room < 0:
        raise TextlessError(f"max_new_tokens {max_new_tokens} exceeds the LM's "
                            f"{model.config.max_positions - 1} positions")
    if len(units) > room:
        log.warning("prompt of %d units cropped to its last %d to fit the LM", len(units), room)
        units = units[len(units) - room:]
    tokens = torch.cat([torch.tensor([model.eos]), model.tokens_of(units).cpu()])
    generator = torch.Generator(device=model.device)
    generator.manual_seed(seed if seed is not None else int(torch.seed()))
    new, lengths = generate(
        model, tokens, num_samples=num_samples, max_new_tokens=max_new_tokens,
        temperature=temperature, top_k=top_k, top_p=top_p, allowed=model.unit_token_mask(),
        stop_at_eos=stop_at_eos, generator=generator,
    )
    token_to_unit = torch.full((model.config.n_tokens,), -1, dtype=torch.long)
    valid = model.unit_to_token.cpu() >= 0
    token_to_unit[model.unit_to_token.cpu()[valid]] = torch.arange(model.vocab_size)[valid]
    results = []
    for b in range(num_samples):
        ids = token_to_unit[new[b, : int(lengths[b])].cpu()]
        if deduplicate:
            ids, _ = dedup(ids)
        results.append(replace(
            prompt, units=ids, durations=None, vocab_size=model.vocab_size,
            id=None if prompt.id is None else f"{prompt.id}-{b}",
        ))
    return results
