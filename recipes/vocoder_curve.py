"""Intelligibility of resynthesis against vocoder training steps (the model card's curve).

    .venv/bin/python recipes/vocoder_curve.py --model textless/assets/default --work work/default \\
        --snapshots work/default/vocoder/snapshots --utterances 40

For every ``step_<N>.safetensors`` generator in ``--snapshots`` (what ``textless train vocoder
--snapshot-every N`` keeps; the recipe's presets set it), resynthesizes the first ``--utterances``
held-out utterances with the ``--model`` pipeline's encoder and quantizer and that generator, and
measures pocketsphinx WER against the originals (as ``textless eval wer --no-phones``). Writes ``WORK/eval/vocoder_curve.json``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from common import corpus_files, link_references, log, score_vocoder, setup_logging


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="pipeline folder or name (encoder + quantizer)")
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder")
    ap.add_argument("--snapshots", type=Path, required=True, help="folder of step_<N>.safetensors")
    ap.add_argument("--utterances", type=int, default=40)
    ap.add_argument("--steps", type=int, nargs="*", help="only these snapshots (default: all)")
    args = ap.parse_args(argv)
    setup_logging()

    from textless.pipeline import load_pipeline

    out = args.work / "eval" / "vocoder_curve"
    base = load_pipeline(args.model)
    paths = corpus_files(args.work / "heldout", args.utterances)
    reference = link_references(paths, out / "reference")
    units = {stem: base.encode_file(path) for stem, path in paths.items()}

    snapshots = sorted((int(re.findall(r"\d+", p.stem)[0]), p)
                       for p in args.snapshots.glob("step_*.safetensors"))
    curve = []
    for step, snap in snapshots:
        if args.steps and step not in args.steps:
            continue
        curve.append({"step": step, **score_vocoder(base, snap, units, reference,
                                                    args.work / "heldout" / "transcripts.tsv", out / f"step_{step}")})
        log.info("%s", curve[-1])
        (args.work / "eval" / "vocoder_curve.json").write_text(  # after each point: a kill loses none
            json.dumps({"utterances": len(paths), "curve": curve}, indent=2) + "\n")
    print(json.dumps(curve, indent=2))


if __name__ == "__main__":
    main()
