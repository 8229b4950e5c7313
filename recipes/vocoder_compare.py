"""Equal-budget vocoder comparison: ``small`` HiFi-GAN against UnitVocos for the same wall time.

    .venv/bin/python recipes/vocoder_compare.py --work work/default --budget-min 120 --points 6

Trains each architecture (``textless.vocoders.train.train_vocoder``, ``--arch hifigan`` with
``--config small`` and ``--arch vocos`` with ``--vocos-config small``) on the same audio and
units, with the same batch, segment, learning rate, warm-up and discriminator width, in rounds of
``--round-steps`` steps until its wall-clock budget is spent (the clock counts whole
``train_vocoder`` calls: corpus loading, steps, checkpoints with validation mel-L1, for both alike;
the two runs take turns round by round, so load from other jobs on the machine hits both). At
``--points`` equal fractions of the budget the generator is kept as ``OUT/<arch>/points/p<k>.safetensors``
with its step, time, adversarial steps so far and validation mel-L1 (2 held-out utterances of
the training voice); a round that crosses two fractions keeps one point, the later (make rounds
short against the budget: each also reloads the corpus). Then
the first ``--utterances`` utterances of the held-out corpus are encoded with ``--model``'s
encoder + quantizer, resynthesized with every kept generator, and scored with pocketsphinx
(as ``textless eval wer --no-phones``) against the originals: word-accuracy ratio = accuracy on the
resynthesis / accuracy on the originals. ``--baseline NAME=PIPELINE`` scores another
vocoder (e.g. the bundle's own) on the same units as a reference line.

``--archs hifigan`` and ``--archs vocos`` in two processes with ``--threads 1`` and their own
``--out`` train both at once, one core each (what a 2-core machine affords for 2 x 2 h).

Inputs (defaults: the layout of ``recipes/default.py --work WORK``): ``--audio``
(``WORK/vocoder_voice/wav``), ``--units`` (``WORK/units/vocoder_voice.jsonl``, undeduplicated
units of that audio), ``--heldout`` (``WORK/heldout``: ``manifest.tsv`` + ``transcripts.tsv``).
Writes ``OUT/compare.json`` (default ``OUT = WORK/vocoder_compare``) and prints it. A killed run
resumes: the trainers resume from their ``state.pt`` and the spent budget is kept in
``OUT/<arch>/budget.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path

from common import corpus_files, link_references, score_vocoder, setup_logging

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("vocoder_compare")
NEVER = 10**9  # disc_start of a warm-up that has not ended yet


def train_round(arch: str, args, run: Path, steps: int, disc_start: int):
    from textless.vocoders.train import TrainConfig, train_vocoder

    cfg = TrainConfig(arch=arch, steps=steps, batch_size=args.batch_size, segment_frames=args.segment_frames,
                      lr=args.lr, save_every=args.round_steps, valid_utterances=2,
                      disc_width=args.disc_width, disc_start=disc_start, seed=args.seed)
    preset = args.vocos_config if arch == "vocos" else args.hifigan_config
    return train_vocoder(args.audio, run, cfg, units=args.units, generator=preset, show_progress=False)


def train_both(args) -> dict:
    """Round-robin rounds until each architecture has spent its budget; returns the kept points."""
    budget_s = args.budget_min * 60
    runs = {arch: args.out / arch for arch in args.archs}
    book = {}
    for arch, run in runs.items():
        path = run / "budget.json"
        book[arch] = json.loads(path.read_text()) if path.is_file() else {"elapsed_s": 0.0, "step": 0, "points": []}
    while any(b["elapsed_s"] < budget_s for b in book.values()):
        for arch, run in runs.items():
            b = book[arch]
            if b["elapsed_s"] >= budget_s:
                continue
            disc_start = args.disc_start
            if args.disc_start_frac is not None:
                if "disc_start" not in b and b["elapsed_s"] >= args.disc_start_frac * budget_s:
                    b["disc_start"] = b["step"]  # the warm-up ends at the first round past that fraction
                disc_start = b.get("disc_start", NEVER)
            t0 = time.perf_counter()
            generator = train_round(arch, args, run, b["step"] + args.round_steps, disc_start)
            b["elapsed_s"] += time.perf_counter() - t0
            b["step"] += args.round_steps
            k = min(args.points, int(b["elapsed_s"] / budget_s * args.points))  # the fraction reached
            if k > (b["points"][-1]["point"] if b["points"] else 0):  # (a long round may skip a point)
                record = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
                (run / "points").mkdir(exist_ok=True)
                shutil.copyfile(generator, run / "points" / f"p{k}.safetensors")
                b["points"].append({"point": k, "elapsed_s": round(b["elapsed_s"], 1), "step": b["step"],
                                    "adversarial_steps": max(0, b["step"] - disc_start),
                                    "valid_mel_l1": record.get("valid_mel_l1")})
                log.info("%s point %d: %s", arch, k, b["points"][-1])
            (run / "budget.json").write_text(json.dumps(b, indent=2) + "\n")
    return {arch: b["points"] for arch, b in book.items()}


def evaluate_points(args, points: dict) -> dict:
    """Word-accuracy ratio of the held-out resynthesis for every kept generator (and for the
    ``--baseline`` vocoders under the name ``baseline``); a point already scored
    (``OUT/eval/<arch>/p<k>/wer.json``) is read back, not measured again."""
    from textless.pipeline import load_pipeline

    base = load_pipeline(args.model)
    paths = corpus_files(args.heldout, args.utterances)
    reference = link_references(paths, args.out / "eval" / "reference")
    units = {stem: base.encode_file(path) for stem, path in paths.items()}
    jobs = [(arch, p, args.out / arch / "points" / f"p{p['point']}.safetensors", args.out / "eval" / arch / f"p{p['point']}")
            for arch, kept in points.items() for p in kept]
    for spec in args.baseline:
        name, _, folder = spec.partition("=")
        p = {"name": name, "pipeline": folder}
        points.setdefault("baseline", []).append(p)
        jobs.append(("baseline", p, Path(folder) / "vocoder.safetensors", args.out / "eval" / "baseline" / name))
    for arch, p, generator, syn in jobs:
        p.update(score_vocoder(base, generator, units, reference, args.heldout / "transcripts.tsv", syn))
        log.info("%s %s", arch, p)
    return points


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, help="a recipes/default.py working folder (for the defaults below)")
    ap.add_argument("--audio", type=Path, help="training audio (folder or list); default WORK/vocoder_voice/wav")
    ap.add_argument("--units", type=Path, help="undeduplicated units JSONL; default WORK/units/vocoder_voice.jsonl")
    ap.add_argument("--heldout", type=Path, help="held-out corpus folder; default WORK/heldout")
    ap.add_argument("--model", default=str(REPO / "textless/assets/default"),
                    help="pipeline whose encoder + quantizer make the held-out units (the training units' model)")
    ap.add_argument("--out", type=Path, help="output folder; default WORK/vocoder_compare")
    ap.add_argument("--archs", nargs="+", default=["hifigan", "vocos"], choices=["hifigan", "vocos"])
    ap.add_argument("--hifigan-config", default="small")
    ap.add_argument("--vocos-config", default="small")
    ap.add_argument("--budget-min", type=float, default=120.0, help="wall-clock minutes of training per architecture")
    ap.add_argument("--points", type=int, default=6, help="evaluation points at equal fractions of the budget")
    ap.add_argument("--round-steps", type=int, default=50, help="steps per training call (and checkpoint)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--segment-frames", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--disc-width", type=float, default=0.125)
    ap.add_argument("--disc-start", type=int, default=0, help="mel-L1-only warm-up steps (both)")
    ap.add_argument("--disc-start-frac", type=float,
                    help="instead of --disc-start: end the mel-L1-only warm-up once this fraction of the budget "
                         "is spent (equal warm-up time for both, not equal steps)")
    ap.add_argument("--utterances", type=int, default=40, help="held-out utterances to resynthesize")
    ap.add_argument("--baseline", action="append", default=[], metavar="NAME=PIPELINE",
                    help="also score this pipeline folder's vocoder on the same units (e.g. the bundle's own)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    setup_logging()
    if args.work is None and None in (args.audio, args.units, args.heldout, args.out):
        ap.error("give --work, or all of --audio --units --heldout --out")
    args.audio = args.audio or args.work / "vocoder_voice" / "wav"
    args.units = args.units or args.work / "units" / "vocoder_voice.jsonl"
    args.heldout = args.heldout or args.work / "heldout"
    args.out = args.out or args.work / "vocoder_compare"
    args.out.mkdir(parents=True, exist_ok=True)
    points = evaluate_points(args, train_both(args))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result = {"settings": settings, "points": points}
    (args.out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(points, indent=2))


if __name__ == "__main__":
    main()
