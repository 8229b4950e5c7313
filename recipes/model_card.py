"""Write the bundle's MODEL_CARD.md from the recipe's measurements (nothing typed by hand).

    cd recipes && ../.venv/bin/python model_card.py --work ../work/v3 --bundle ../textless/assets/default \
        --name combined --compare v2-mfcc-k50 perturb-masked cross-voice combined \
        --notes model_card_notes.md

Reads ``WORK/eval/results_NAME.json`` (``recipes/evaluate.py``), ``WORK/compare/*.json``
(``recipes/compare_units.py``), the corpora's ``voices.json`` and the trainers' ``log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# issue 17's targets on held-out voices
TARGET_MEDIAN, TARGET_WORST, TARGET_LEXICAL, TARGET_SYNTACTIC, TARGET_BITRATE = 0.85, 0.7, 0.7, 0.6, 250


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _log(path: Path, key: str) -> list[dict]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get(key) is not None]


def _voices(work: Path, pattern: str) -> tuple[dict, float, int]:
    """``({speaker: spec}, hours, utterances)`` over the corpora matching ``pattern``."""
    specs, hours, utts = {}, 0.0, 0
    for path in sorted(work.glob(f"{pattern}/voices.json")):
        v = json.loads(path.read_text())
        specs.update(v["voices"])
        hours += v["hours"]
        utts += v["utterances"]
    return specs, hours, utts


def _ratio(x):
    return "n/a" if x is None else f"{x:.2f}"


def _compare_table(cmp: dict) -> list[str]:
    lines = ["| units | ABX within | ABX across | bitrate (log2 V) | WER resynthesis | median voice ratio | worst voice ratio |",
             "|---|---|---|---|---|---|---|"]
    return lines + [f"| {n} | {_pct(c['abx_within'])} | {_pct(c['abx_across'])} | {c['bitrate_vocab']:.0f} | "
                    f"{_pct(c['wer_resynthesis'])} | {c['median_ratio']:.2f} | {c['worst_ratio']:.2f} |"
                    for n, c in cmp.items()]


def render(work: Path, bundle: Path, name: str, compare: list[str], notes: str, *, encoder_run: Path,
           ulm_run: Path, compare_vocoder: str = "this bundle's", own_vocoder: tuple = (),
           ulm_curve: Path | None = None) -> str:
    spec = json.loads((bundle / "pipeline.json").read_text())
    r = json.loads((work / "eval" / f"results_{name}.json").read_text())
    u = r["units"]
    from common import evaluate_candidate  # measured before: reads WORK/compare/NAME.json

    cmp = {n: evaluate_candidate(n, None, None, work, None, None) for n in compare}
    own = {n: evaluate_candidate(n, None, None, work, None, None) for n in own_vocoder}
    base = cmp.get(compare[0]) if compare else None
    mfcc = r["abx_mfcc"]
    size_mb = sum(f.stat().st_size for f in bundle.glob("*.safetensors")) / 1e6
    par, par_h, par_n = _voices(work, "parallel*")
    can, can_h, can_n = _voices(work, "canonical*")
    held, held_h, held_n = _voices(work, "heldout")
    enc_log = _log(encoder_run / "log.jsonl", "valid_acc")
    ulm_valid = _log(ulm_run / "log.jsonl", "valid_ppl")
    lines = [
        f"# Model card: `{spec['name']}` bundle (v3)", "",
        *([f"Its units are the `{name}` row of the comparison below.", ""] if name in compare + list(own_vocoder) else []),
        f"{spec.get('description', '')}. {size_mb:.1f} MB of safetensors weights.", "",
        "## What it was trained on", "",
        f"Synthetic English only, from textless's built-in grammar (docs/data.md). The encoder and "
        f"the unit LM: a parallel corpus of {par_n + can_n} utterances ({par_h + can_h:.1f} h), every "
        f"sentence spoken by the canonical voice ({', '.join(can.values())}, {can_n} utterances) and "
        f"by 6 of these {len(par)} voices: {', '.join(par.values())} "
        f"({len(par) + len(can)} speakers in all; `pitch` is a sox pitch shift that moves the "
        "formants too, `formant` Praat's \"Change gender\", `tempo` a sox tempo change).",
        "",
        "**Weak supervision.** The encoder learned to output, for every voice, the units of the "
        "canonical voice saying the same sentence (MFCC k-means units, aligned by DTW). Parallel "
        "recordings of one text by many synthetic voices are a form of supervision that natural "
        "speech corpora do not give for free: no transcript is used, but the pairing of "
        "utterances by sentence is.", "",
        "The vocoder learned one voice (the canonical one) and speaks every input in it.", "",
        "## Measured on held-out voices", "",
        f"Held-out voices (never in any training corpus): {', '.join(held.values())}; "
        f"{held_n} utterances ({held_h:.2f} h). Command: `recipes/evaluate.py --model {r['model']} "
        f"--work {work} --name {name}`. ASR: pocketsphinx with a bigram LM of the training "
        "sentences from which every held-out sentence was removed.", "",
        "| voice | utterances | WER original | WER resynthesis | word-accuracy ratio |"
        + (f" ratio of {compare[0]} |" if base else ""),
        "|---|---|---|---|---|" + ("---|" if base else ""),
    ]
    for spk, v in u["voices"].items():
        lines.append(f"| {held.get(spk, spk)} | {v['utterances']} | {_pct(v['wer_reference'])} | "
                     f"{_pct(v['wer_resynthesis'])} | {_ratio(v['ratio'])} |"
                     + (f" {_ratio(base['voices'][spk]['ratio'])} |" if base else ""))
    lines += [
        f"| **all** | {held_n} | {_pct(u['wer_reference'])} | {_pct(u['wer_resynthesis'])} | "
        f"{_ratio(u['ratio_all'])} |" + (f" {_ratio(base['ratio_all'])} |" if base else ""), "",
        "| measure | value |", "|---|---|",
        f"| median / worst per-voice word-accuracy ratio | {u['median_ratio']:.2f} / {u['worst_ratio']:.2f} |",
        f"| ABX within speaker, units (one-hot, frame level) | {_pct(u['abx_within'])} |",
        f"| ABX across speaker, units | {_pct(u['abx_across'])} |",
        f"| ABX within / across speaker, MFCC 39-d 100 Hz | {_pct(mfcc['within'])} / {_pct(mfcc['across'])} |",
        f"| bitrate (tokens/s x log2 V) | {u['bitrate_vocab']:.0f} bit/s |",
        f"| bitrate (unigram entropy x tokens/s) | {u['bitrate_entropy']:.0f} bit/s |",
    ]
    for key, label in (("lexical", "sWUGGY-like accuracy"), ("syntactic", "sBLIMP-like accuracy")):
        if key in r:
            lines.append(f"| {label} ({r[key]['pairs']} pairs, held-out voices; chance 50 %) | {_pct(r[key]['all'])} |")
    lines += _targets(u, mfcc, r)
    if cmp:
        lines += ["", "## Which training signal", "",
                  f"Every candidate resynthesized by the same vocoder ({compare_vocoder}), on the same "
                  "held-out files, alignment and LM (`recipes/compare_units.py`):", "", *_compare_table(cmp)]
    if own:
        lines += ["", "### Each with a vocoder trained on its own units", "",
                  "The same held-out files, alignment and LM; every candidate resynthesized by a vocoder "
                  "trained on its units of the canonical voice:", "", *_compare_table(own)]
    if enc_log:
        lines += ["", "### Encoder training curve", "",
                  "Frame accuracy of the head on held-out sentences of the parallel corpus (its targets):", "",
                  "| step | valid frame accuracy |", "|---|---|"]
        lines += [f"| {row['step']} | {_pct(row['valid_acc'])} |" for row in enc_log]
    if ulm_valid:
        last = ulm_valid[-1]
        lines += ["", f"Unit LM: validation perplexity {last['valid_ppl']:.2f} at step {last['step']}."]
    if ulm_curve is not None:
        lines += ["", "### Unit LM: sWUGGY/sBLIMP-like accuracy against training time", "",
                  f"One run of `recipes/ulm_curve.py` (this bundle's units, architecture and training settings; `{ulm_curve}`), "
                  "scored at each step on the held-out pairs above; minutes on 2 CPU cores:", "",
                  "| step | minutes | validation perplexity | sWUGGY-like | sBLIMP-like |", "|---|---|---|---|---|"]
        minutes = 0.0
        for row in json.loads(ulm_curve.read_text()):
            minutes += row["train_minutes_this_leg"]
            lines.append(f"| {row['step']} | {minutes:.0f} | {row['valid_ppl']:.2f} | {_pct(row['lexical'])} | "
                         f"{_pct(row['syntactic'])} |")
    lines += ["", "## What the continuations sound like", "",
              "pocketsphinx transcripts (its bundled news LM) of 4 s continuations of held-out prompts "
              "(temperature 0.7, seed 0, not stopped at end-of-sentence):", ""]
    lines += [f"- `{c['prompt']}`: \"{c['asr']}\"" for c in r.get("continuations", [])]
    lines += ["", "## Limitations", "", notes.strip(), ""]
    return "\n".join(lines)


def _targets(u: dict, mfcc: dict, r: dict) -> list[str]:
    rows = [
        (f"median per-voice word-accuracy ratio >= {TARGET_MEDIAN}", f"{u['median_ratio']:.2f}",
         u["median_ratio"] >= TARGET_MEDIAN),
        (f"worst voice >= {TARGET_WORST}", f"{u['worst_ratio']:.2f}", u["worst_ratio"] >= TARGET_WORST),
        ("ABX across: units <= MFCC / 2", f"{_pct(u['abx_across'])} vs {_pct(mfcc['across'] / 2)}",
         u["abx_across"] <= mfcc["across"] / 2),
        ("ABX within: units <= MFCC + 2 points", f"{_pct(u['abx_within'])} vs {_pct(mfcc['within'] + 0.02)}",
         u["abx_within"] <= mfcc["within"] + 0.02),
        (f"bitrate <= {TARGET_BITRATE} bit/s", f"{u['bitrate_vocab']:.0f}", u["bitrate_vocab"] <= TARGET_BITRATE),
    ]
    for key, target, label in (("lexical", TARGET_LEXICAL, "sWUGGY-like"), ("syntactic", TARGET_SYNTACTIC, "sBLIMP-like")):
        if key in r:
            rows.append((f"{label} >= {100 * target:.0f} %", _pct(r[key]["all"]), r[key]["all"] >= target))
    return ["", "### Targets", "", "| target | reached | met |", "|---|---|---|"] + [
        f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--name", required=True, help="the bundle's name in WORK/compare/ (evaluate.py --name)")
    ap.add_argument("--compare", nargs="*", default=[],
                    help="other candidates of WORK/compare/ for the comparison table (the first is "
                    "the baseline column of the per-voice table)")
    ap.add_argument("--compare-vocoder", default="this bundle's",
                    help="which vocoder resynthesized the comparison's candidates (words for the card)")
    ap.add_argument("--compare-own-vocoder", nargs="*", default=[], metavar="NAME",
                    help="candidates of WORK/compare/ each measured with a vocoder trained on its own units "
                    "(a second table)")
    ap.add_argument("--encoder-run", type=Path, help="the encoder's training run (default WORK/invariant)")
    ap.add_argument("--ulm-run", type=Path, help="the unit LM's training run (default WORK/ulm)")
    ap.add_argument("--ulm-curve", type=Path, help="recipes/ulm_curve.py's curve.json (a table)")
    ap.add_argument("--notes", type=Path, help="Markdown file: limitations, in plain words")
    args = ap.parse_args(argv)
    notes = args.notes.read_text() if args.notes else "See the numbers above."
    card = render(args.work, args.bundle, args.name, args.compare, notes,
                  encoder_run=args.encoder_run or args.work / "invariant", ulm_run=args.ulm_run or args.work / "ulm",
                  compare_vocoder=args.compare_vocoder, own_vocoder=tuple(args.compare_own_vocoder),
                  ulm_curve=args.ulm_curve)
    (args.bundle / "MODEL_CARD.md").write_text(card)
    print(args.bundle / "MODEL_CARD.md")


if __name__ == "__main__":
    main()
