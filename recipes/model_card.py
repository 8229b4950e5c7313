"""Write the bundle's MODEL_CARD.md from the recipe's measurements (nothing typed by hand).

    .venv/bin/python recipes/model_card.py --work work/default --bundle textless/assets/default
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _last(path: Path, key: str):
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get(key) is not None]
    return rows[-1] if rows else None


def render(work: Path, bundle: Path, notes: str) -> str:
    spec = json.loads((bundle / "pipeline.json").read_text())
    r = json.loads((work / "eval" / "results.json").read_text())
    train = (work / "train" / "manifest.tsv").read_text().splitlines()
    voices = json.loads((work / "train" / "voices.json").read_text())
    held = json.loads((work / "heldout" / "voices.json").read_text())
    ulm_valid = _last(work / "ulm" / "log.jsonl", "valid_loss")
    ulm_last = _last(work / "ulm" / "log.jsonl", "loss")
    voc_last = _last(work / "vocoder" / "log.jsonl", "step")
    size_mb = sum(f.stat().st_size for f in bundle.glob("*.safetensors")) / 1e6
    w = r["wer"]
    lines = [
        f"# Model card: `{spec['name']}` bundle",
        "",
        f"{spec.get('description', '')}. {size_mb:.1f} MB of safetensors weights.",
        "",
        "## What it was trained on",
        "",
        f"Synthetic English only: {len(train) - 1} sentences from textless's built-in grammar "
        f"(see docs/data.md), spoken by these voices: {', '.join(_names(voices))}. "
        "No natural speech, no other language, no noise or reverberation.",
        "",
        "## Measured on held-out voices",
        "",
        f"Held-out voices (never in training): {', '.join(_names(held))}; "
        f"{r['heldout_utterances']} utterances. Command: `recipes/evaluate.py --model "
        f"{bundle} --work {work}`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| ABX within speaker, bundle units (one-hot) | {_pct(r['abx_units']['within'])} |",
        f"| ABX across speaker, bundle units (one-hot) | {_pct(r['abx_units']['across'])} |",
        f"| ABX within speaker, MFCC 39-d 100 Hz | {_pct(r['abx_mfcc']['within'])} |",
        f"| ABX across speaker, MFCC 39-d 100 Hz | {_pct(r['abx_mfcc']['across'])} |",
        f"| pocketsphinx WER, original audio | {_pct(w['wer_reference'])} |",
        f"| pocketsphinx WER, resynthesized audio | {_pct(w['wer_resynthesis'])} |",
        f"| word accuracy of resynthesis / of original | {r['word_accuracy_ratio']:.2f} |" if r.get("word_accuracy_ratio") is not None else "| word accuracy ratio | n/a |",
        f"| bitrate (tokens/s x log2 V) | {r['bitrate_vocab']:.0f} bit/s |",
        f"| bitrate (unigram entropy x tokens/s) | {r['bitrate_entropy']:.0f} bit/s |",
    ]
    for key, label in (("lexical", "sWUGGY-like accuracy"), ("syntactic", "sBLIMP-like accuracy")):
        if key in r:
            lines.append(f"| {label} | {_pct(r[key])} |")
    lines += ["", "Training: "
              + (f"unit LM last train loss {ulm_last['loss']:.3f} at step {ulm_last['step']}" if ulm_last else "unit LM log missing")
              + (f", best validation loss {ulm_valid['valid_loss']:.3f}" if ulm_valid else "")
              + (f"; vocoder {voc_last['step']} steps" if voc_last else "") + ".",
              "", "## What the continuations sound like", "",
              "pocketsphinx transcripts of continuations of held-out prompts (4 s, temperature 0.7, seed 0):", ""]
    lines += [f"- `{c['prompt']}`: \"{c['asr']}\"" for c in r.get("continuations", [])]
    lines += ["", "## Limitations", "", notes.strip(), ""]
    return "\n".join(lines)


def _names(voices) -> list[str]:
    """Voice specs from a corpus's voices.json (``{"voices": {speaker: spec}}``)."""
    return list(voices["voices"].values())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--notes", type=Path, help="Markdown file: limitations, in plain words")
    args = ap.parse_args(argv)
    notes = args.notes.read_text() if args.notes else "See the numbers above."
    (args.bundle / "MODEL_CARD.md").write_text(render(args.work, args.bundle, notes))
    print(args.bundle / "MODEL_CARD.md")


if __name__ == "__main__":
    main()
