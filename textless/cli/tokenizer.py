"""``textless train tokenizer``: BPE over deduplicated unit streams (textless.tokenizer)."""

from __future__ import annotations

from .flags import add_output


def register(commands, groups):
    p = groups["train"].add_parser(
        "tokenizer", help="train a BPE tokenizer over deduplicated unit streams (acoustic BPE)",
        description="Streams the unit file, deduplicates each utterance and trains BPE whose "
        "alphabet is the K units; --vocab counts every token (K singles included; --vocab K: "
        "units only). Deterministic, one pass (not a trainer with steps: no run folder). Writes a "
        "JSON file for `train ulm --tokenizer`.",
    )
    p.add_argument("--units", required=True, help="unit file (.jsonl or fairseq id|units)")
    p.add_argument("--vocab", type=int, required=True, help="tokens in the vocabulary (>= units)")
    p.add_argument("--unit-vocab-size", type=int,
                   help="K, for unit files that do not record vocab_size")
    p.add_argument("--min-frequency", type=int, default=2, help="least count of a merged pair")
    add_output(p, "tokenizer JSON file", required=True)
    p.set_defaults(func=cmd_train_tokenizer)


def cmd_train_tokenizer(args):
    from ..tokenizer import train_tokenizer

    tok = train_tokenizer(args.units, args.vocab, unit_vocab_size=args.unit_vocab_size,
                          min_frequency=args.min_frequency)
    tok.save(args.output)
    print(f"{tok.unit_vocab_size} units -> {tok.vocab_size} tokens "
          f"(longest {int(tok.token_lengths.max())} units) -> {args.output}")
