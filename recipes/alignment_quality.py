"""How well DTW lines up two voices saying the same sentence: MFCCs against an encoder's posteriors.

    .venv/bin/python recipes/alignment_quality.py --work work/v3 --aligner enc_E=work/v3/enc_E

The cross-voice targets of ``textless train encoder --canonical`` are the canonical voice's units
moved onto another voice's frames by DTW (:mod:`textless.encoders.targets`): on MFCCs, or with
``--align-with RUN`` on the unit posteriors of an earlier run. This measures that alignment
against pocketsphinx's forced alignment of both recordings: every 20 ms frame of the other
voice is matched to a canonical frame exactly as the trainer matches it, and counts as right when
the two frames lie in the same phone (silence included) of the same transcript. Taken on the
first ``--sentences`` sentences of ``WORK/canonical2`` (training sentences: the alignment is a
training-time step, not a held-out measure) with every voice of ``WORK/parallel2`` that says them.

Writes ``WORK/alignment_quality.json`` (per aligner: overall and per-voice phone agreement) and
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
from common import log, setup_logging, write_json


def frame_phones(words, frames: int, hop_s: float = 0.02, win_s: float = 0.025) -> list[str]:
    """The phone (``SIL`` outside every segment) at the centre of each of ``frames`` frames."""
    phones = [p for w in words for p in w.phones if p.offset > p.onset]
    centres = np.arange(frames) * hop_s + win_s / 2
    onsets = np.array([p.onset for p in phones])
    out = []
    for t in centres:
        i = int(np.searchsorted(onsets, t, side="right")) - 1
        out.append(phones[i].phone if i >= 0 and t < phones[i].offset else "SIL")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="work folder with canonical2 and parallel2")
    ap.add_argument("--aligner", action="append", default=[], metavar="NAME=RUN",
                    help="an encoder run folder (encoder + quantizer) whose posteriors DTW aligns")
    ap.add_argument("--sentences", type=int, default=60, help="canonical sentences to take")
    ap.add_argument("--canonical", default="flite-rms", help="speaker id of the canonical voice")
    args = ap.parse_args(argv)
    setup_logging()

    import torch

    from textless.audio import load_audio
    from textless.components import load_component
    from textless.data.align import align_utterance, new_decoder
    from textless.data.manifest import read_items
    from textless.encoders.logmel import LogMelEncoderConfig
    from textless.encoders.train_data import alignment_mfcc, load_aligner
    from textless.encoders.targets import transfer_labels
    from textless.progress import progress

    canon = [it for it in read_items(args.work / "canonical2" / "manifest.tsv")
             if it.speaker == args.canonical][: args.sentences]
    texts = {it.text for it in canon}
    others = [it for it in read_items(args.work / "parallel2" / "manifest.tsv") if it.text in texts]
    front = LogMelEncoderConfig()  # the trainer's default front-end: 25 ms windows every 20 ms
    aligners = {}
    for spec in args.aligner:
        name, _, folder = spec.partition("=")
        enc = load_component(Path(folder) / "encoder.safetensors", role="encoder")
        aligners[name] = (enc, load_aligner(folder, enc.cfg))

    decoder = new_decoder()
    feats, phones = {}, {}
    with torch.inference_mode():
        for it in progress(canon + others, desc="features + forced alignment", unit="utt"):
            wav, _ = load_audio(it.path, front.sample_rate, min_samples=front.n_fft)
            views = {"mfcc": alignment_mfcc(wav, front)}
            for name, (enc, posteriors) in aligners.items():
                mel, frames = enc.mel(torch.from_numpy(wav)[None])
                views[name] = posteriors(mel[0, : int(frames[0])].numpy())
            words = align_utterance(wav, it.text, decoder)
            if words is None:
                continue
            feats[it.id] = views
            phones[it.id] = frame_phones(words, len(views["mfcc"]))

    by_text = {it.text: it for it in canon if it.id in phones}
    result = {"sentences": len(by_text), "pairs": 0, "aligners": {}}
    for method in ["mfcc", *aligners]:
        per_voice: dict[str, list[float]] = {}
        for it in others:
            ref = by_text.get(it.text)
            if ref is None or it.id not in phones:
                continue
            q, r = feats[it.id][method], feats[ref.id][method]
            n = min(len(q), len(phones[it.id]))
            matched = transfer_labels(r, np.arange(len(r)), q[:n])  # canonical frame of each frame
            right = [phones[it.id][i] == phones[ref.id][min(j, len(phones[ref.id]) - 1)]
                     for i, j in enumerate(matched)]
            per_voice.setdefault(it.speaker, []).append(float(np.mean(right)))
        result["pairs"] = sum(map(len, per_voice.values()))
        result["aligners"][method] = {
            "phone_agreement": statistics.fmean(x for v in per_voice.values() for x in v),
            "per_voice": {v: statistics.fmean(x) for v, x in sorted(per_voice.items())}}
    write_json(args.work / "alignment_quality.json", result)
    log.info("%d sentences, %d pairs", result["sentences"], result["pairs"])
    names = list(result["aligners"])
    print("| voice | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    voices = sorted(result["aligners"]["mfcc"]["per_voice"])
    for v in voices:
        print(f"| {v} | " + " | ".join(f"{result['aligners'][m]['per_voice'][v]:.1%}" for m in names) + " |")
    print("| **all** | " + " | ".join(f"{result['aligners'][m]['phone_agreement']:.1%}" for m in names) + " |")


if __name__ == "__main__":
    main()
