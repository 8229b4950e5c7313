"""What the recipes share: logging, corpora and their units, the held-out corpus and its
alignment, ABX and ASR measurements. Every recipe imports it (``from common import ...``: the
recipes folder is on ``sys.path`` when a recipe runs as a script) instead of importing another
recipe's script.

The measurements of one candidate (``evaluate_candidate``) are cached in the work folder, so
``compare_units.py``, ``evaluate.py`` and ``model_card.py`` read the same files.
"""

from __future__ import annotations

import json
import logging
import statistics
from pathlib import Path

log = logging.getLogger("recipe")

#: Voices whose originals pocketsphinx reads this badly (word error rate) get no ratio: with
#: next to no words recognized in the original, the ratio measures noise.
MAX_REFERENCE_WER = 0.5


def setup_logging():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")


def write_json(path: Path, obj, indent: int = 2):
    """``obj`` as indented JSON, written atomically (a kill leaves the old file or none)."""
    from textless.files import atomic_open

    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=indent) + "\n")


# ----------------------------------------------------------------------------- corpora
def corpus_paths(corpus: Path) -> list[Path]:
    """The audio files of a corpus folder (its ``manifest.tsv``), in manifest order."""
    from textless.data.manifest import read_manifest

    root, entries = read_manifest(corpus / "manifest.tsv")
    return [root / rel for rel, _ in entries]


def corpus_files(corpus: Path, limit: int | None = None) -> dict[str, Path]:
    """``{stem: path}`` of a corpus folder's first ``limit`` files (all by default)."""
    return {p.stem: p for p in corpus_paths(corpus)[:limit]}


def training_sample(corpora: list[Path], n: int, seed: int) -> list[Path]:
    """``n`` audio files drawn (seeded) from ``corpora``, sorted by path."""
    import random

    paths = [p for c in corpora for p in corpus_paths(c)]
    if not paths:
        raise SystemExit(f"recipe: no audio in the corpora {[str(c) for c in corpora]}")
    return sorted(random.Random(seed).sample(paths, min(n, len(paths))))


def encode_corpora(pipe, corpora: list[Path], target: Path):
    """Frame-level units (no dedup) of every file of ``corpora`` into ``target`` (.jsonl), once."""
    from textless.progress import progress
    from textless.units import write_units

    if target.is_file():
        return
    utts = []
    for corpus in corpora:
        for path in progress(corpus_paths(corpus), desc=f"encode {corpus.name}", unit="file"):
            utts.append(pipe.encode(pipe.load(path), deduplicate=False, id=path.stem))
    write_units(target, utts)


def heldout_item(work: Path) -> Path:
    """Phone-level ``.item`` file of the held-out corpus (pocketsphinx alignment), made once."""
    from textless.data.align import align

    item = work / "eval" / "heldout.item"
    if not item.is_file():
        heldout = work / "heldout"
        align(heldout / "manifest.tsv", heldout / "transcripts.tsv", item.parent, item_name=item.stem)
    return item


# ----------------------------------------------------------------------------- ABX
def abx_scores(features: dict, item_path: Path, frame_shift_s: float) -> dict:
    """Triphone ABX error rates of ``features`` (stem -> ``[frames, D]``) on an ``.item`` file."""
    from textless.eval.abx import AbxConfig, abx
    from textless.eval.item import read_item_file

    result = abx(features, read_item_file(item_path), AbxConfig(frame_shift_s=frame_shift_s))
    return {"within": result.within, "across": result.across, "cells": result.cells}


def score_candidate(encoder, quantizer, layer, heldout_wavs: Path, item: Path) -> dict:
    """ABX of one-hot units on the held-out corpus + bitrate of its deduplicated units."""
    import torch

    from textless.eval.features import pipeline_features
    from textless.pipeline import Pipeline
    from textless.units import Units, bitrate

    pipe = Pipeline.from_parts(encoder, quantizer, name="candidate", layer=layer)
    onehot = pipeline_features(pipe, heldout_wavs, kind="units")  # stem -> [frames, K]
    scores = abx_scores(onehot, item, 1 / pipe.frame_rate)
    streams = [Units(torch.from_numpy(f.argmax(1)), None, pipe.frame_rate, quantizer.vocab_size).deduplicated()
               for f in onehot.values()]
    return {"abx_within": scores["within"], "abx_across": scores["across"],
            "bitrate_vocab": bitrate(streams, "vocab"), "bitrate_entropy": bitrate(streams, "entropy")}


def encoder_features(encoder, paths: dict[str, Path], layer: int | None = None) -> dict:
    """Continuous features of each file, stem -> ``[F, D]`` (``layer``: of an encoder with layers)."""
    import torch

    from textless.audio import load_audio
    from textless.encoders.batch import features_of

    out = {}
    for stem, path in paths.items():
        wav, _ = load_audio(path, encoder.sample_rate)
        with torch.inference_mode():
            (f,) = features_of(encoder, [wav], layer)  # [F, D] float32
        out[stem] = f.numpy()
    return out


def mfcc_features(paths: dict[str, Path]) -> dict:
    """Baseline: 13 MFCC + deltas + delta-deltas at 100 Hz (no normalisation), stem -> ``[F, 39]``."""
    from textless.encoders.spectral import SpectralEncoder, mfcc_config

    return encoder_features(SpectralEncoder(mfcc_config()).eval(), paths)


def mfcc_abx(work: Path, item: Path) -> dict:
    """ABX of the MFCC baseline on the held-out item file (cached in WORK/compare/mfcc_abx.json)."""
    path = work / "compare" / "mfcc_abx.json"
    if not path.is_file():
        scores = abx_scores(mfcc_features(corpus_files(work / "heldout")), item, 0.01)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(scores, indent=1) + "\n")
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- ASR
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


def link_references(paths: dict[str, Path], folder: Path) -> Path:
    """``folder/<stem>.wav`` -> each original, so that :func:`resynthesis_wer` pairs them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, path in paths.items():
        link = folder / f"{stem}.wav"
        if not link.exists():
            link.symlink_to(path.resolve())
    return folder


def resynthesis_wer(reference: Path, resynthesis: Path, transcripts: Path, result: Path) -> dict:
    """Pocketsphinx WER (bundled LM, no PER) of ``reference/X.wav`` and ``resynthesis/X.wav``
    against ``transcripts``, written to ``result`` (what ``textless eval wer --no-phones -o``
    writes)."""
    from textless.eval import asr

    utts = asr.pair_folders(reference, resynthesis, asr.read_transcripts(transcripts))
    wer = asr.intelligibility(utts, asr.get_backend("pocketsphinx"), phones=False)
    write_json(result, wer)
    return wer


def word_accuracy_ratio(wer: dict) -> float | None:
    """Word accuracy of the resynthesis over that of the original (None if the original has none)."""
    acc_ref, acc_syn = 1 - wer["wer_reference"], 1 - wer["wer_resynthesis"]
    return acc_syn / acc_ref if acc_ref > 0 else None


def score_vocoder(base, generator: Path, units: dict, reference: Path, transcripts: Path, syn: Path) -> dict:
    """Resynthesize ``units`` (stem -> units of ``base``'s encoder + quantizer) with the vocoder
    file ``generator`` into ``syn/<stem>.wav`` (files already there are kept) and score them with
    :func:`resynthesis_wer` against ``reference`` (``syn/wer.json``, read back when present):
    ``{wer_reference, wer_resynthesis, word_accuracy_ratio}``."""
    from textless.audio import write_audio
    from textless.components import load_component
    from textless.pipeline import Pipeline

    result = syn / "wer.json"
    if result.is_file():
        wer = json.loads(result.read_text())
    else:
        pipe = Pipeline(base.encoder, base.quantizer, vocoder=load_component(generator).eval(),
                        layer=base.layer, name=base.name)
        for stem, u in units.items():
            if not (syn / f"{stem}.wav").is_file():
                write_audio(syn / f"{stem}.wav", pipe.resynthesize(u), pipe.vocoder.sample_rate)
        wer = resynthesis_wer(reference, syn, transcripts, result)
    return {"wer_reference": wer["wer_reference"], "wer_resynthesis": wer["wer_resynthesis"],
            "word_accuracy_ratio": word_accuracy_ratio(wer)}


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
    from textless.data.manifest import read_table
    from textless.pipeline import Pipeline
    from textless.progress import progress

    heldout = work / "heldout"
    paths = corpus_files(work / "heldout")
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


def zr_sets(zr: Path):
    """``textless data lexical --max-words 300`` and ``textless data syntactic`` into ``zr``, once."""
    from textless.data.lexical import build_lexical_set, sample_words
    from textless.data.syntactic import build_syntactic_set
    from textless.data.text import generate_sentences, vocabulary

    if not (zr / "lexical").is_dir():
        build_lexical_set(zr, sample_words(sorted(vocabulary()), 300), text=generate_sentences(6500, 0))
    if not (zr / "syntactic").is_dir():
        build_syntactic_set(zr)


def zr_scores(work: Path, pipe, name: str) -> dict:
    """``{task: accuracy}`` of ``pipe``'s unit LM on WORK/zr (``textless eval lexical|syntactic``),
    cached in ``WORK/eval/TASK_NAME.json``; submissions in ``WORK/eval/zr_NAME/``."""
    from textless.eval.lexical import evaluate_split

    if pipe.ulm is None:
        raise SystemExit(f"evaluate: {pipe.name} has no unit LM")
    zr, out, results = work / "zr", work / "eval", {}
    zr_sets(zr)
    for task in ("lexical", "syntactic"):
        scores = out / f"{task}_{name}.json"
        if not scores.is_file():
            write_json(scores, evaluate_split(task, zr, pipe, pipe.ulm, out / f"zr_{name}"))
        results[task] = json.loads(scores.read_text())
    return results
