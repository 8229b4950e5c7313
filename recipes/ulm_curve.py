"""sWUGGY/sBLIMP-like accuracy of a unit LM against its training time.

One schedule of ``--steps``, paused at each ``--at`` step to score a copy of the model on the
held-out pairs:

    .venv/bin/python recipes/ulm_curve.py --model work/q1/bundle --like work/q1/ulm --work work/v3 \\
        --units work/q1/units/train.jsonl --out work/q1/ulm_curve --steps 6000 --at 1500,3000,6000

The unit LM trains on ``--units`` (``textless encode --no-dedup`` JSON Lines of the training
voices: the ULM stage's file) with the architecture of ``--model``'s own unit LM and the
training settings of ``--like`` (the run that trained it: its ``state.pt``; batch, learning rate,
seed...), the schedule (and its warm-up) stretched to ``--steps``. At each ``--at`` step its best
checkpoint so far (by validation perplexity on held-out training utterances) replaces the unit
LM of ``--model`` and is scored as ``recipes/evaluate.py`` scores a bundle (WORK/zr, written by
it). Snapshots of a cosine schedule are not the same as shorter schedules: this is one run's
curve, the cost of a point is the wall time up to it. Resumes after a kill. Results:
``OUT/curve.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from common import log, setup_logging, write_json, zr_scores


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="pipeline folder whose encoder/quantizer made --units")
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder (WORK/zr: held-out pairs)")
    ap.add_argument("--units", type=Path, required=True, help="training units (frame level, JSON Lines)")
    ap.add_argument("--out", type=Path, required=True, help="run folder")
    ap.add_argument("--steps", type=int, default=6000, help="the schedule's length")
    ap.add_argument("--at", default="1500,3000,6000", help="comma-separated steps to score at")
    ap.add_argument("--like", type=Path, required=True,
                    help="the unit LM's training run (its state.pt): every training setting but the schedule's length")
    args = ap.parse_args(argv)
    setup_logging()

    from textless.checkpoint import load_torch_file
    from textless.components import load_component
    from textless.pipeline import load_pipeline
    from textless.ulm.data import load_sequences
    from textless.ulm.train import TrainConfig, train_ulm

    try:
        points = sorted(int(s) for s in args.at.split(","))
    except ValueError:
        ap.error(f"--at: expected comma-separated whole steps, got {args.at!r}")
    if points[-1] > args.steps or points[0] <= 0:
        ap.error(f"--at steps must lie in 1..{args.steps}")
    _, vocab, _ = load_sequences(args.units)
    pipe = load_pipeline(str(args.model))
    if pipe.ulm is None:
        ap.error(f"{args.model} has no unit LM to take the architecture from")
    arch = replace(pipe.ulm.config, vocab_size=vocab)
    run = args.out / "ulm"
    saved = load_torch_file(args.like / "state.pt", "a unit LM training state")["train_config"]
    like = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    cfg = replace(like, train=str(args.units), out_dir=str(run), steps=args.steps, stop_at_step=None,
                  warmup_steps=round(like.warmup_steps * args.steps / like.steps))
    if points[0] < cfg.valid_every:
        ap.error(f"--at steps must be >= {cfg.valid_every}, the run's validation interval (the best checkpoint is scored)")
    curve_file = args.out / "curve.json"
    curve = json.loads(curve_file.read_text()) if curve_file.is_file() else []
    done = {row["step"] for row in curve}
    for step in points:
        if step in done:
            continue
        start = time.monotonic()
        train_ulm(replace(cfg, stop_at_step=step), arch)
        minutes = (time.monotonic() - start) / 60
        snapshot = args.out / f"ulm_step{step}.safetensors"
        shutil.copyfile(run / "ulm_best.safetensors", snapshot)
        pipe.ulm = load_component(snapshot)
        scores = zr_scores(args.work, pipe, f"{args.out.name}-{step}")
        ppl = [json.loads(line).get("valid_ppl") for line in (run / "log.jsonl").open()]
        curve.append({"step": step, "train_minutes_this_leg": round(minutes, 1),
                      "valid_ppl": min(x for x in ppl if x is not None),
                      "lexical": scores["lexical"]["all"], "syntactic": scores["syntactic"]["all"]})
        write_json(curve_file, curve)
        log.info("step %d: %s", step, curve[-1])
    print(json.dumps(curve, indent=2))


if __name__ == "__main__":
    main()
