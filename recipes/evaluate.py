"""Measure a pipeline folder on the held-out voices: the numbers of the model card.

    .venv/bin/python recipes/evaluate.py --model textless/assets/default --work work/v3 --name v3

Needs the held-out corpus of ``recipes/default.py`` (``WORK/heldout``: voices no training corpus
uses). Writes ``WORK/eval/results_NAME.json`` and prints it. Everything already measured is reused
(delete it to measure again):

* units (``recipes/compare_units.py``, saved as ``WORK/compare/NAME.json``): ABX of the one-hot
  units (triphone, within / across speaker) on a pocketsphinx alignment of the held-out corpus,
  bitrate, and per voice the pocketsphinx WER of originals and resynthesis with a bigram LM of the
  training sentences without the held-out ones, with the word-accuracy ratio;
* ABX of 39-d MFCC at 100 Hz on the same ``.item`` file;
* sWUGGY/sBLIMP-like accuracy with held-out voices, scored by the pipeline's unit LM;
* ASR transcripts of a few continuations.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import (evaluate_candidate, heldout_item, corpus_files, lm_without_test_sentences, mfcc_abx,
                    setup_logging, zr_scores)


def training_transcripts(work: Path) -> list[Path]:
    """The training corpora's transcripts: the parallel corpus' canonical folders, else ``train``."""
    return sorted(work.glob("canonical*/transcripts.tsv")) or [work / "train" / "transcripts.tsv"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="pipeline folder")
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder")
    ap.add_argument("--name", default="bundle", help="name of its results in WORK/compare/")
    ap.add_argument("--continuations", type=int, default=3)
    args = ap.parse_args(argv)
    setup_logging()

    from textless.audio import write_audio
    from textless.eval.asr import PocketSphinx
    from textless.pipeline import load_pipeline

    out = args.work / "eval"
    out.mkdir(parents=True, exist_ok=True)
    pipe = load_pipeline(str(args.model))
    paths = corpus_files(args.work / "heldout")
    results = {"model": str(args.model), "heldout_utterances": len(paths)}

    item = heldout_item(args.work)
    asr = PocketSphinx(lm=lm_without_test_sentences(args.work, training_transcripts(args.work)))
    results["units"] = evaluate_candidate(args.name, args.model, pipe.vocoder, args.work, asr, item)
    results["abx_mfcc"] = mfcc_abx(args.work, item)

    # sWUGGY / sBLIMP-like pairs spoken by held-out voices, scored by the pipeline's unit LM
    results.update(zr_scores(args.work, pipe, args.name))

    # Continuations, transcribed with pocketsphinx's bundled (news) LM: they are not grammar text
    import soxr

    news = PocketSphinx()
    results["continuations"] = []
    for stem in list(paths)[: args.continuations]:
        r = pipe.continue_speech(pipe.load(paths[stem]), duration_s=4.0, seed=0, stop_at_eos=False)
        wav = r.continuation_wavs[0]
        write_audio(out / f"continuations_{args.name}" / f"{stem}.wav", wav, r.sample_rate)
        w16 = soxr.resample(wav.numpy(), r.sample_rate, news.sample_rate) if r.sample_rate != news.sample_rate else wav.numpy()
        results["continuations"].append({"prompt": stem, "asr": news.transcribe(w16)})

    (out / f"results_{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "units"}, indent=2))


if __name__ == "__main__":
    main()
