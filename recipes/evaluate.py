"""Measure a pipeline on the held-out voices: the numbers of the model card.

    .venv/bin/python recipes/evaluate.py --model textless/assets/default --work work/default

Needs the held-out corpus of ``recipes/default.py`` (``WORK/heldout``: voices the training
corpus never uses). Writes ``WORK/eval/results.json`` and prints it. Resynthesized wavs, WER and
sWUGGY/sBLIMP results already in ``WORK/eval`` are reused (delete them to measure again):

* ABX (triphone, within and across speaker, angular DTW, fixed slicing) of the pipeline's
  one-hot units and of 39-dim MFCC at 100 Hz, on the same pocketsphinx-aligned ``.item`` file;
* pocketsphinx WER of the held-out originals and of their resynthesis (and word accuracy ratio),
  with its bundled LM and with a bigram LM of the training transcripts;
* bitrate of the held-out units in both conventions;
* sWUGGY/sBLIMP-like accuracy with held-out voices;
* ASR transcripts of a few continuations.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from default import textless
from encoder_choice import abx_scores, heldout_item


def link_references(paths: dict[str, Path], folder: Path) -> Path:
    """``folder/<stem>.wav`` -> each original, so that ``textless eval wer`` pairs them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, path in paths.items():
        link = folder / f"{stem}.wav"
        if not link.exists():
            link.symlink_to(path.resolve())
    return folder


def word_accuracy_ratio(wer: dict) -> float | None:
    """Word accuracy of the resynthesis over that of the original (None if the original has none)."""
    acc_ref, acc_syn = 1 - wer["wer_reference"], 1 - wer["wer_resynthesis"]
    return acc_syn / acc_ref if acc_ref > 0 else None


def mfcc_features(paths: dict[str, Path]) -> dict:
    """Baseline: 13 MFCC + deltas + delta-deltas at 100 Hz (no normalisation)."""
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="pipeline folder or name")
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder")
    ap.add_argument("--continuations", type=int, default=3)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    from textless.audio import write_audio
    from textless.data.manifest import read_manifest
    from textless.eval.features import pipeline_features
    from textless.pipeline import load_pipeline
    from textless.units import bitrate

    heldout, out = args.work / "heldout", args.work / "eval"
    out.mkdir(parents=True, exist_ok=True)
    pipe = load_pipeline(args.model)
    root, entries = read_manifest(heldout / "manifest.tsv")
    paths = {Path(rel).stem: root / rel for rel, _ in entries}
    results = {"model": str(args.model), "heldout_utterances": len(paths)}

    # ABX on a pocketsphinx alignment of the held-out corpus
    item = heldout_item(args.work, textless)
    units = pipeline_features(pipe, heldout / "wav", kind="units")
    results["abx_units"] = abx_scores(units, item, 1 / pipe.frame_rate)
    results["abx_mfcc"] = abx_scores(mfcc_features(paths), item, 0.01)

    # Resynthesis intelligibility and bitrate
    resynth_dir, encoded = out / "resynth", []
    for stem, path in paths.items():
        u = pipe.encode_file(path)
        encoded.append(u)
        if not (resynth_dir / f"{stem}.wav").is_file():
            write_audio(resynth_dir / f"{stem}.wav", pipe.resynthesize(u), pipe.vocoder.sample_rate)
    results["bitrate_vocab"] = bitrate(encoded, "vocab")
    results["bitrate_entropy"] = bitrate(encoded, "entropy")
    reference_dir = link_references(paths, out / "reference")
    # pocketsphinx with its bundled news LM, and with a bigram LM of the training transcripts
    # (in-domain: the grammar's odd sentences are unlikely under news text)
    from textless.data.align import write_bigram_lm
    from textless.data.manifest import read_table

    lm = write_bigram_lm(list(read_table(args.work / "train" / "transcripts.tsv").values()),
                         out / "train_bigram.arpa")
    for key, extra in (("", ()), ("_in_domain_lm", ("--lm", lm))):
        if not (out / f"wer{key}.json").is_file():  # delete it to measure again
            textless("eval", "wer", reference_dir, resynth_dir, "--transcripts", heldout / "transcripts.tsv",
                     "--out", out / f"wer{key}.json", *extra)
        wer = json.loads((out / f"wer{key}.json").read_text())
        results[f"wer{key}"] = {k: wer[k] for k in wer if not k.startswith("by_")}
        results[f"word_accuracy_ratio{key}"] = word_accuracy_ratio(wer)

    # sWUGGY / sBLIMP-like pairs spoken by held-out voices, scored by the pipeline's unit LM
    zr = args.work / "zr"
    for task, size in (("lexical", ("--max-words", "300")), ("syntactic", ())):
        if not (zr / task).is_dir():
            textless("data", task, "--out", zr, *size)
        if not (out / f"{task}.json").is_file():
            textless("eval", task, zr, "--model", args.model, "--out", out / "zr", "--json", out / f"{task}.json")
        results[task] = json.loads((out / f"{task}.json").read_text())

    # Continuations, transcribed
    from textless.eval.asr import PocketSphinx

    asr = PocketSphinx()
    results["continuations"] = []
    for stem in list(paths)[: args.continuations]:
        r = pipe.continue_speech(pipe.load(paths[stem]), duration_s=4.0, seed=0, stop_at_eos=False)
        wav = r.continuation_wavs[0]
        write_audio(out / "continuations" / f"{stem}.wav", wav, r.sample_rate)
        import soxr

        w16 = soxr.resample(wav.numpy(), r.sample_rate, asr.sample_rate) if r.sample_rate != asr.sample_rate else wav.numpy()
        results["continuations"].append({"prompt": stem, "asr": asr.transcribe(w16)})

    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
