"""sWUGGY/sBLIMP-like accuracy of a unit LM against its training time.

One schedule of ``--steps``, paused at each ``--at`` step to score a copy of the model on the
held-out pairs:

    .venv/bin/python recipes/ulm_curve.py --model textless/assets/default --work work/v3 \\
        --units work/v3/units_Hk50.jsonl --out work/v3/ulm_curve --steps 6000 --at 1500,3000,6000

The unit LM trains on ``--units`` (``textless encode --no-dedup`` JSON Lines of the training
voices: the ULM stage's file) with the quick preset's architecture and batch
(``recipes/default.py``), the schedule stretched to ``--steps``. At each ``--at`` step its best
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

from common import log, setup_logging, write_json
from default import PRESETS
from evaluate import zr_scores


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="pipeline folder whose encoder/quantizer made --units")
    ap.add_argument("--work", type=Path, required=True, help="the recipe's working folder (WORK/zr: held-out pairs)")
    ap.add_argument("--units", type=Path, required=True, help="training units (frame level, JSON Lines)")
    ap.add_argument("--out", type=Path, required=True, help="run folder")
    ap.add_argument("--steps", type=int, default=6000, help="the schedule's length")
    ap.add_argument("--at", default="1500,3000,6000", help="comma-separated steps to score at")
    ap.add_argument("--preset", choices=PRESETS, default="quick", help="architecture and batch")
    args = ap.parse_args(argv)
    setup_logging()

    from textless.components import load_component
    from textless.pipeline import load_pipeline
    from textless.ulm.data import load_sequences
    from textless.ulm.train import train_ulm

    points = sorted(int(s) for s in args.at.split(","))
    if points[-1] > args.steps or points[0] <= 0:
        ap.error(f"--at steps must lie in 1..{args.steps}")
    p = PRESETS[args.preset]
    _, vocab, _ = load_sequences(args.units)
    run = args.out / "ulm"
    cfg = replace(p.ulm, train=str(args.units), out_dir=str(run), steps=args.steps,
                  warmup_steps=round(p.ulm.warmup_steps * args.steps / p.ulm.steps))
    curve_file = args.out / "curve.json"
    curve = json.loads(curve_file.read_text()) if curve_file.is_file() else []
    done = {row["step"] for row in curve}
    pipe = load_pipeline(str(args.model))
    for step in points:
        if step in done:
            continue
        start = time.monotonic()
        train_ulm(replace(cfg, stop_at_step=step), replace(p.ulm_model, vocab_size=vocab))
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
