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
        *_vocoder_voice(work),
        "",
        "## Measured on held-out voices",
        "",
        f"Held-out voices (never in training): {', '.join(_names(held))}; "
        f"{r['heldout_utterances']} utterances. Command: `recipes/evaluate.py --model "
        f"{r['model']} --work {work}`"
        + (" (these files, evaluated before they were copied here)." if r["model"] != str(bundle) else "."),
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
        *_in_domain_rows(r),
        f"| bitrate (tokens/s x log2 V) | {r['bitrate_vocab']:.0f} bit/s |",
        f"| bitrate (unigram entropy x tokens/s) | {r['bitrate_entropy']:.0f} bit/s |",
    ]
    for key, label in (("lexical", "sWUGGY-like accuracy"), ("syntactic", "sBLIMP-like accuracy")):
        if key in r:
            lines.append(f"| {label} ({r[key]['pairs']} pairs; chance 50 %) | {_pct(r[key]['all'])} |")
    lines += _targets(r)
    lines += _selection(work)
    lines += _vocoder_curve(work)
    lines += ["", "Training: "
              + (f"unit LM last train loss {ulm_last['loss']:.3f} at step {ulm_last['step']}" if ulm_last else "unit LM log missing")
              + (f", best validation loss {ulm_valid['valid_loss']:.3f}" if ulm_valid else "")
              + (f"; vocoder {voc_last['step']} steps" if voc_last else "") + ".",
              "", "## What the continuations sound like", "",
              "pocketsphinx transcripts (bundled LM) of 4 s continuations of held-out prompts (temperature 0.7, seed 0, not stopped at end-of-sentence):", ""]
    lines += [f"- `{c['prompt']}`: \"{c['asr']}\"" for c in r.get("continuations", [])]
    lines += ["", "## Limitations", "", notes.strip(), ""]
    return "\n".join(lines)


def _vocoder_voice(work: Path) -> list[str]:
    path = work / "vocoder_voice" / "voices.json"
    if not path.is_file():
        return []
    v = json.loads(path.read_text())
    return [f"The vocoder learned one voice ({', '.join(_names(v))}, {v['utterances']} utterances, "
            f"{v['hours']:.2f} h) and speaks every input in it, whoever the speaker was."]


def _in_domain_rows(r: dict) -> list[str]:
    w, ratio = r.get("wer_in_domain_lm"), r.get("word_accuracy_ratio_in_domain_lm")
    if w is None:
        return []
    return [f"| pocketsphinx WER with a bigram LM of the training transcripts, original | {_pct(w['wer_reference'])} |",
            f"| same, resynthesized | {_pct(w['wer_resynthesis'])} |",
            f"| word accuracy ratio with that LM | {'n/a' if ratio is None else f'{ratio:.2f}'} |"]


def _targets(r: dict) -> list[str]:
    """Issue 8's quality targets next to what this bundle reached."""
    ratio, units, mfcc = r.get("word_accuracy_ratio"), r["abx_units"], r["abx_mfcc"]
    rows = [
        ("word accuracy ratio >= 0.80 (bundled LM)", "n/a" if ratio is None else f"{ratio:.2f}",
         ratio is not None and ratio >= 0.8),
        *[("word accuracy ratio >= 0.80 (in-domain bigram LM)", f"{r2:.2f}", r2 >= 0.8)
          for r2 in [r.get("word_accuracy_ratio_in_domain_lm")] if r2 is not None],
        ("ABX within: units < MFCC", f"{_pct(units['within'])} vs {_pct(mfcc['within'])}",
         units["within"] < mfcc["within"]),
        ("ABX across: units <= MFCC / 2", f"{_pct(units['across'])} vs {_pct(mfcc['across'] / 2)}",
         units["across"] <= mfcc["across"] / 2),
    ]
    return ["", "### Quality targets", "", "| target | reached | met |", "|---|---|---|"] + [
        f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows]


def _selection(work: Path) -> list[str]:
    """The encoder / K comparison of the recipe's ``encoder`` stage, when it ran."""
    path = work / "components" / "selection.json"
    if not path.is_file():
        return []
    sel = json.loads(path.read_text())
    lines = ["", "### Encoder and K, chosen by held-out ABX", "",
             f"Rule: {sel['rule']}. Chosen: **{sel['chosen']}**. HuBERT iteration 1 was pre-trained "
             f"for {sel['hubert_steps']} steps.", "",
             "| candidate | ABX within | ABX across | bitrate (log2 V) | bitrate (entropy) |",
             "|---|---|---|---|---|"]
    lines += [f"| {c['name']} | {_pct(c['abx_within'])} | {_pct(c['abx_across'])} | "
              f"{c['bitrate_vocab']:.0f} | {c['bitrate_entropy']:.0f} |" for c in sel["candidates"]]
    return lines


def _vocoder_curve(work: Path) -> list[str]:
    """Validation mel-L1 of the vocoder against training steps (its log.jsonl), with the held-out
    WER of ``recipes/vocoder_curve.py`` where it measured that step."""
    log_path = work / "vocoder" / "log.jsonl"
    if not log_path.is_file():
        return []
    rows = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "valid_mel_l1" in r]
    curve_path = work / "eval" / "vocoder_curve.json"
    curve = json.loads(curve_path.read_text()) if curve_path.is_file() else {"utterances": 0, "curve": []}
    wer = {c["step"]: c for c in curve["curve"]}
    every = max(1, len(rows) // 12)
    picked = [r for i, r in enumerate(rows) if i % every == 0 or r is rows[-1] or r["step"] in wer]
    n = curve["utterances"]
    return ["", "### Vocoder training curve", "",
            "Validation mel-L1 (log-mel of the vocoder's own voice, lower is better; adversarial "
            f"losses are 0 during the mel-only warm-up) and pocketsphinx WER (bundled LM) of the "
            f"resynthesis of the first {n} held-out utterances (`recipes/vocoder_curve.py`).", "",
            "| step | valid mel-L1 | adversarial | WER resynthesis | WER original |", "|---|---|---|---|---|"] + [
        f"| {r['step']} | {r['valid_mel_l1']:.3f} | {'yes' if r.get('loss_d') else 'no'} | "
        + (f"{_pct(wer[r['step']]['wer_resynthesis'])} | {_pct(wer[r['step']]['wer_reference'])} |"
           if r["step"] in wer else "| |") for r in picked]


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
