"""Compare unit encoders on held-out voices: ABX, bitrate and per-voice intelligibility.

    .venv/bin/python recipes/compare_units.py --work work/v3 --vocoder textless/assets/default \
        --candidate mfcc-k50=textless/assets/default --candidate cross-voice=work/v3/enc_B

A candidate is ``NAME=DIR`` where DIR holds ``encoder.safetensors`` + ``quantizer.safetensors``
(a ``textless train encoder`` run folder or a pipeline folder). Every candidate's units are
resynthesized by the same vocoder (``--vocoder``: a pipeline folder with ``vocoder.safetensors``
whose vocabulary matches), so the comparison isolates the units. Measured on ``WORK/heldout``
(voices no training corpus uses):

* ABX (triphone, within / across speaker) of one-hot units on the pocketsphinx alignment
  ``WORK/eval/heldout.item`` (``textless data align``), and of 39-d MFCC at 100 Hz;
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
import json
import logging
import statistics
from pathlib import Path

log = logging.getLogger("recipe")


def lm_without_test_sentences(work: Path, train_transcripts: list[Path]) -> Path:
    """Bigram ARPA LM of the training sentences, held-out sentences removed."""
    from textless.data.align import write_bigram_lm
    from textless.data.manifest import read_table

    path = work / "eval" / "lm_without_test.arpa"
    if not path.is_file():
        test = set(read_table(work / "heldout" / "transcripts.tsv").values())
        text = sorted({s for t in train_transcripts for s in read_table(t).values()} - test)
        write_bigram_lm(text, path)
        log.info("LM of %d training sentences (held-out ones removed): %s", len(text), path)
    return path


def _asr(lm: Path):
    from textless.eval.asr import PocketSphinx

    return PocketSphinx(lm=lm)


def reference_transcripts(work: Path, paths: dict[str, Path], asr) -> dict[str, str]:
    """ASR of the original held-out audio (cached in WORK/eval/reference_asr.json)."""
    from textless.audio import load_audio
    from textless.progress import progress

    cache = work / "eval" / "reference_asr.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    out = {}
    for stem, p in progress(paths.items(), desc="ASR originals", unit="utt"):
        out[stem] = asr.transcribe(load_audio(p, asr.sample_rate)[0])
    cache.write_text(json.dumps(out, indent=1) + "\n")
    return out


#: Voices whose originals pocketsphinx reads this badly (word error rate) get no ratio: with
#: next to no words recognized in the original, the ratio measures noise.
MAX_REFERENCE_WER = 0.5


def per_voice(texts: dict[str, str], speakers: dict[str, str], ref_hyp: dict[str, str],
              syn_hyp: dict[str, str]) -> dict[str, dict]:
    """Per speaker: WER of originals and resynthesis, and the word-accuracy ratio (None where the
    original's WER exceeds :data:`MAX_REFERENCE_WER`)."""
    from textless.eval.asr import error_rate, normalize_text

    rows = {}
    for spk in sorted(set(speakers.values())):
        ids = [u for u in syn_hyp if speakers[u] == spk]
        truth = [normalize_text(texts[u]).split() for u in ids]
        w_ref = error_rate(truth, [ref_hyp[u].split() for u in ids])
        w_syn = error_rate(truth, [syn_hyp[u].split() for u in ids])
        rows[spk] = {"utterances": len(ids), "wer_reference": w_ref, "wer_resynthesis": w_syn,
                     "ratio": (1 - w_syn) / (1 - w_ref) if w_ref <= MAX_REFERENCE_WER else None}
    return rows


def evaluate_candidate(name: str, folder: Path, vocoder, work: Path, asr, item: Path) -> dict:
    """Measure one candidate (cached in ``WORK/compare/NAME.json``: ABX, bitrate, transcripts of
    the resynthesis); the WER statistics are derived from the cached transcripts on every call."""
    from textless.audio import load_audio, write_audio
    from textless.components import load_component
    from textless.data.manifest import read_manifest, read_table
    from textless.pipeline import Pipeline
    from textless.progress import progress

    from encoder_choice import score_candidate

    heldout = work / "heldout"
    root, entries = read_manifest(heldout / "manifest.tsv")
    paths = {Path(rel).stem: root / rel for rel, _ in entries}
    out_json = work / "compare" / f"{name}.json"
    if out_json.is_file():
        result = json.loads(out_json.read_text())
    else:
        encoder = load_component(folder / "encoder.safetensors")
        quantizer = load_component(folder / "quantizer.safetensors")
        result = {"name": name, "folder": str(folder),
                  **score_candidate(encoder, quantizer, None, heldout / "wav", item)}
        pipe = Pipeline.from_parts(encoder, quantizer, vocoder=vocoder, name=name)
        resynth, syn_hyp = work / "compare" / name, {}
        for stem, p in progress(paths.items(), desc=f"resynthesize + ASR {name}", unit="utt"):
            original = pipe.load(p)
            wav = pipe.resynthesize(pipe.encode(original, id=stem), wav=original)  # F0 from the input
            write_audio(resynth / f"{stem}.wav", wav, vocoder.sample_rate)
            syn_hyp[stem] = asr.transcribe(load_audio(resynth / f"{stem}.wav", asr.sample_rate)[0])
        result["transcripts"] = syn_hyp
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(result, indent=1) + "\n")
    syn_hyp = result["transcripts"]
    ref_hyp = reference_transcripts(work, paths, asr)
    texts, speakers = read_table(heldout / "transcripts.tsv"), read_table(heldout / "speakers.tsv")
    voices = per_voice(texts, speakers, ref_hyp, syn_hyp)
    ratios = [v["ratio"] for v in voices.values() if v["ratio"] is not None]
    everyone = per_voice(texts, {u: "all" for u in speakers}, ref_hyp, syn_hyp)["all"]
    result.update(voices=voices, median_ratio=statistics.median(ratios), worst_ratio=min(ratios),
                  wer_reference=everyone["wer_reference"], wer_resynthesis=everyone["wer_resynthesis"],
                  ratio_all=everyone["ratio"])
    return result


def mfcc_features(paths: dict[str, Path]) -> dict:
    """Baseline: 13 MFCC + deltas + delta-deltas at 100 Hz (no normalisation), stem -> ``[F, 39]``."""
    import torch

    from textless.audio import load_audio
    from textless.encoders.spectral import SpectralEncoder, mfcc_config

    enc = SpectralEncoder(mfcc_config()).eval()
    out = {}
    for stem, path in paths.items():
        wav, _ = load_audio(path, enc.sample_rate)
        with torch.inference_mode():
            f, n = enc.features(torch.from_numpy(wav)[None])
        out[stem] = f[0, : int(n[0])].numpy()
    return out


def mfcc_abx(work: Path, item: Path) -> dict:
    """ABX of the MFCC baseline on the held-out item file (cached in WORK/compare/mfcc_abx.json)."""
    from encoder_choice import abx_scores
    from textless.data.manifest import read_manifest

    path = work / "compare" / "mfcc_abx.json"
    if not path.is_file():
        root, entries = read_manifest(work / "heldout" / "manifest.tsv")
        scores = abx_scores(mfcc_features({Path(rel).stem: root / rel for rel, _ in entries}), item, 0.01)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(scores, indent=1) + "\n")
    return json.loads(path.read_text())


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from textless.components import load_component

    item = args.work / "eval" / "heldout.item"
    if not item.is_file():
        raise SystemExit(f"{item} is missing: textless data align --manifest WORK/heldout/manifest.tsv "
                         "--out WORK/eval --item-name heldout")
    lm = lm_without_test_sentences(args.work, args.train_transcripts or sorted(args.work.glob("canonical*/transcripts.tsv")))
    asr = _asr(lm)
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
