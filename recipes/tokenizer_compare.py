"""Unit tokenization measured: units only vs. BPE vocabularies, at equal unit-LM training compute.

    .venv/bin/python recipes/tokenizer_compare.py --work work/v3 --model work/v3/bundle_E \
        --units work/v3/units_E.jsonl --vocab 500 1000 2000

For the units of ``--model`` (a pipeline folder: encoder + quantizer) and each vocabulary
(``K`` = units only, then every ``--vocab``):

* a BPE tokenizer trained on the deduplicated training units ``--units`` (frame-level JSONL of the
  training corpora; ``textless.tokenizer.train_tokenizer``);
* a unit LM of the same architecture and schedule for every vocabulary (``--layers``/``--dim``,
  ``--steps`` steps of ``--max-tokens`` padded tokens each: equal compute; a BPE token covers
  more speech, so a BPE LM sees more speech for the same compute);
* on the held-out voices (``WORK/heldout``, encoded once): exact round trips (decode(encode(u))
  == u, units and durations), tokens per second, bitrate (log2 V and entropy conventions), and the LM's bits per second of speech
  ``-sum(log2 p(sequence)) / seconds`` (every sequence's closing eos included), which is
  comparable across vocabularies where per-token perplexity is not;
* sWUGGY-like and sBLIMP-like accuracy on ``WORK/zr`` (held-out voices; ``recipes/evaluate.py``
  makes it), the stimuli encoded once and scored by every LM.

Writes ``OUT/results.json`` and ``OUT/table.md`` (default ``OUT = WORK/tokenizer_compare``) and
prints the table. Trained runs are reused: a killed run resumes (the unit LM trainer resumes
mid-training); delete a vocabulary's folder to train it again.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from common import encode_corpora, log, setup_logging, write_json


def heldout_units(work: Path, pipe, out: Path) -> list:
    """Units of every held-out utterance (frame level, cached in ``out``)."""
    from textless.units import read_units

    encode_corpora(pipe, [work / "heldout"], out)
    return read_units(out)


def zr_units(work: Path, pipe, out: Path) -> dict:
    """``{task: (gold rows, {filename: unit ids})}`` of the ZeroSpeech-layout sets in WORK/zr."""
    from textless.eval.lexical import LEXICAL_REQUIRED, SYNTACTIC_REQUIRED, read_gold, split_dir
    from textless.progress import progress
    from textless.units import read_units, write_units

    sets = {}
    for task, columns in (("lexical", LEXICAL_REQUIRED), ("syntactic", SYNTACTIC_REQUIRED)):
        folder = split_dir(work / "zr", task)
        gold = read_gold(folder / "gold.csv", columns)
        cache = out / f"zr_{task}.jsonl"
        if not cache.is_file():
            paths = [folder / f"{r['filename']}.wav" for r in gold]
            write_units(cache, [pipe.encode_file(p) for p in progress(paths, desc=f"encode {task}")])
        sets[task] = (gold, {u.id: u.units for u in read_units(cache)})
    return sets


def train_lm(units: Path, run: Path, tokenizer: Path | None, args) -> Path:
    from textless.ulm.data import load_sequences
    from textless.ulm.model import UnitLMConfig
    from textless.ulm.train import TrainConfig, train_ulm

    _, vocab, _ = load_sequences(units, True, tokenizer)
    model = UnitLMConfig(vocab_size=vocab, num_layers=args.layers, dim=args.dim, num_heads=args.heads,
                         ffn_dim=4 * args.dim)
    train_ulm(TrainConfig(train=str(units), out_dir=str(run), max_tokens=args.max_tokens, steps=args.steps,
                          warmup_steps=args.warmup_steps, save_every=50, valid_every=100, seed=args.seed,
                          tokenizer=str(tokenizer) if tokenizer else None), model)
    return run / "ulm_best.safetensors"


def measure(name: str, lm, heldout: list, zr: dict, tokenizer) -> dict:
    """Rates, bits per second of speech and sWUGGY/sBLIMP-like accuracy of one vocabulary."""
    import torch

    from textless.eval.bitrate import _rates
    from textless.eval.lexical import lexical_accuracy, syntactic_accuracy
    from textless.tokenizer import tokenize_utterances
    from textless.ulm.score import score_sequences

    units = [u.deduplicated() for u in heldout]
    tokens = tokenize_utterances(tokenizer, units) if tokenizer else None
    rates = _rates([t.as_units() for t in tokens] if tokenizer else units)
    exact = len(units) if not tokenizer else sum(
        torch.equal(b.units, u.units) and torch.equal(b.durations, u.durations)
        for b, u in zip((tokenizer.decode(t) for t in tokens), units))
    scores = score_sequences(lm, [u.units for u in units])
    bits = -sum(lp for lp, _ in scores) / math.log(2)
    result = {"name": name, "vocab": lm.lm.vocab_size if tokenizer else lm.vocab_size,
              "tokens_per_s": rates["tokens_per_s"], "bitrate_vocab": rates["vocab_bps"],
              "bitrate_entropy": rates["entropy_bps"], "lm_bits_per_s": bits / rates["duration_s"],
              "lm_bits_per_token": bits / sum(n for _, n in scores),
              "round_trip_exact": f"{exact}/{len(units)}"}
    for task, accuracy in (("lexical", lexical_accuracy), ("syntactic", syntactic_accuracy)):
        gold, seqs = zr[task]
        names = sorted(seqs)
        scored = score_sequences(lm, [seqs[n] for n in names])
        result[task] = accuracy(gold, {n: lp for n, (lp, _) in zip(names, scored)})["all"]
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder (heldout/, zr/)")
    ap.add_argument("--model", type=Path, required=True, help="pipeline folder whose units are compared")
    ap.add_argument("--units", type=Path, required=True, help="frame-level training units (.jsonl) of --model")
    ap.add_argument("--vocab", type=int, nargs="+", default=[500, 1000, 2000], help="BPE vocabularies")
    ap.add_argument("--out", type=Path, help="output folder (default WORK/tokenizer_compare)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--max-tokens", type=int, default=2048)
    ap.add_argument("--warmup-steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    setup_logging()

    from textless.pipeline import Pipeline
    from textless.components import load_component
    from textless.tokenizer import load_tokenizer, train_tokenizer
    from textless.ulm.tokenized import with_tokenizer

    out = args.out or args.work / "tokenizer_compare"
    out.mkdir(parents=True, exist_ok=True)
    pipe = Pipeline.from_files(args.model / "quantizer.safetensors", encoder=args.model / "encoder.safetensors")
    K = pipe.quantizer.vocab_size
    heldout = heldout_units(args.work, pipe, out / "heldout_units.jsonl")
    zr = zr_units(args.work, pipe, out)
    results = []
    for vocab in [K, *args.vocab]:
        name = "units" if vocab == K else f"bpe{vocab}"
        tok_path = None
        if vocab != K:
            tok_path = out / f"{name}.tokenizer.json"
            if not tok_path.is_file():
                train_tokenizer(args.units, vocab, unit_vocab_size=K).save(tok_path)
        lm = load_component(train_lm(args.units, out / name, tok_path, args))
        tokenizer = load_tokenizer(tok_path) if tok_path else None
        if tokenizer:
            lm = with_tokenizer(lm, tok_path)
        results.append(measure(name, lm, heldout, zr, tokenizer))
        log.info("%s", results[-1])

    rows = ["| vocabulary | tokens/s | bitrate log2 V (bit/s) | bitrate entropy (bit/s) | LM bits/s of speech "
            "| LM bits/token | sWUGGY-like | sBLIMP-like | exact round trips |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['name']} ({r['vocab']}) | {r['tokens_per_s']:.1f} | {r['bitrate_vocab']:.0f} | "
                    f"{r['bitrate_entropy']:.0f} | {r['lm_bits_per_s']:.1f} | {r['lm_bits_per_token']:.2f} | "
                    f"{100 * r['lexical']:.1f} % | {100 * r['syntactic']:.1f} % | {r['round_trip_exact']} |")
    write_json(out / "results.json", {"args": {k: str(v) for k, v in vars(args).items()}, "results": results})
    (out / "table.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
