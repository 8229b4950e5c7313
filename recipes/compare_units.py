"""Compare unit encoders on held-out voices: ABX, bitrate and per-voice intelligibility.

    .venv/bin/python recipes/compare_units.py --work work/v3 --vocoder textless/assets/default \
        --candidate mfcc-k50=textless/assets/default --candidate cross-voice=work/v3/enc_B

A candidate is ``NAME=DIR`` where DIR holds ``encoder.safetensors`` + ``quantizer.safetensors``
(a ``textless train encoder`` run folder or a pipeline folder). Every candidate's units are
resynthesized by the same vocoder (``--vocoder``: a pipeline folder with ``vocoder.safetensors``
whose vocabulary matches), so the comparison isolates the units. Measured on ``WORK/heldout``
(voices no training corpus uses):

* ABX (triphone, within / across speaker) of one-hot units on the pocketsphinx alignment
  ``WORK/eval/heldout.item`` (made once, as ``textless data align`` does), and of 39-d MFCC at 100 Hz;
* bitrate of the deduplicated held-out units (log2 V and entropy conventions);
* pocketsphinx WER of the originals and of the resynthesis with a bigram LM of the training
  sentences **minus every held-out sentence**; per voice: word accuracy of the resynthesis over
  that of the original (the ratio the targets are set on), their median and worst (voices whose
  originals pocketsphinx cannot read, WER > 50 %, are shown without a ratio).

Writes ``WORK/compare/NAME.json`` (reused when present: delete to measure again) and prints a
Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import evaluate_candidate, heldout_item, lm_without_test_sentences, log, mfcc_abx, setup_logging


def table(results: list[dict]) -> str:
    pct = lambda x: f"{100 * x:.1f} %"  # noqa: E731
    lines = ["| units | ABX within | ABX across | bitrate (log2 V) | WER resynthesis | median voice ratio | worst voice ratio |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['name']} | {pct(r['abx_within'])} | {pct(r['abx_across'])} | {r['bitrate_vocab']:.0f} | "
                     f"{pct(r['wer_resynthesis'])} | {r['median_ratio']:.2f} | {r['worst_ratio']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--vocoder", type=Path, required=True, help="pipeline folder with vocoder.safetensors")
    ap.add_argument("--candidate", action="append", required=True, metavar="NAME=DIR")
    ap.add_argument("--train-transcripts", type=Path, nargs="+", default=None,
                    help="transcripts.tsv of the training corpora (default: WORK/canonical*/)")
    args = ap.parse_args(argv)
    setup_logging()
    from textless.components import load_component
    from textless.eval.asr import PocketSphinx

    item = heldout_item(args.work)
    lm = lm_without_test_sentences(args.work, args.train_transcripts or sorted(args.work.glob("canonical*/transcripts.tsv")))
    asr = PocketSphinx(lm=lm)
    vocoder = load_component(args.vocoder / "vocoder.safetensors")
    results = []
    for spec in args.candidate:
        name, _, folder = spec.partition("=")
        results.append(evaluate_candidate(name, Path(folder), vocoder, args.work, asr, item))
        log.info("%s: %s", name, {k: v for k, v in results[-1].items() if k not in ("voices", "transcripts")})
    m = mfcc_abx(args.work, item)
    print(table(results))
    print(f"\nMFCC 39-d at 100 Hz on the same item file: ABX within {100 * m['within']:.1f} %, "
          f"across {100 * m['across']:.1f} %")


if __name__ == "__main__":
    main()
