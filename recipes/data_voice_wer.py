"""Measure pocketsphinx's WER on each voice: which voices are clear enough to align.

    .venv/bin/python recipes/data_voice_wer.py [VOICE ...]   (default: TRAIN + HELDOUT voices)

Each voice speaks the same 8 grammar sentences (seed 123). Two decoders: the bundled en-us LM
(news text, unfair to grammar sentences) and an in-domain bigram LM from 20000 grammar
sentences (seed 0), which measures the voice rather than the LM.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from textless.audio import load_audio
from textless.data.align import new_decoder, recognize, word_error_rate, write_bigram_lm
from textless.data.text import generate_sentences
from textless.data.voices import HELDOUT_VOICES, TRAIN_VOICES, parse_voice, synthesize


def measure(args):
    spec, lm = args
    sentences = generate_sentences(8, seed=123)
    decoders = {"bundled": new_decoder(), "in-domain": new_decoder(lm)}
    errors = dict.fromkeys(decoders, 0.0)
    words = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(sentences):
            path = Path(tmp) / f"{i}.wav"
            synthesize(parse_voice(spec), path, s)
            wav, _ = load_audio(path)
            for name, d in decoders.items():
                errors[name] += word_error_rate(s, recognize(wav, d)) * len(s.split())
            words += len(s.split())
    return spec, {k: v / words for k, v in errors.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("voices", nargs="*", metavar="VOICE", help="voice specs (default: TRAIN + HELDOUT voices)")
    specs = ap.parse_args(argv).voices or list(TRAIN_VOICES + HELDOUT_VOICES)
    with tempfile.TemporaryDirectory() as tmp:
        lm = write_bigram_lm(generate_sentences(20000, seed=0), Path(tmp) / "lm.arpa")
        print(f"{'voice':40s} {'WER bundled LM':>15s} {'WER in-domain LM':>17s}")
        with ProcessPoolExecutor(2) as pool:
            for spec, wer in pool.map(measure, [(s, lm) for s in specs]):
                print(f"{spec:40s} {wer['bundled']:15.3f} {wer['in-domain']:17.3f}", flush=True)


if __name__ == "__main__":
    main()
