"""``textless demo`` (the Gradio continuation demo) and ``textless example`` (what make run does)."""

from __future__ import annotations

import runpy
from pathlib import Path

from ..errors import TextlessError

DEMO_SCRIPT = Path(__file__).resolve().parents[2] / "demos" / "continuation.py"


def register(commands, groups):
    p = commands.add_parser(
        "demo", help="the Gradio speech-continuation demo in a browser",
        description="Serve the demo (upload or record speech, continue it). Several users are "
        "queued; prompts up to 30 s, uploads up to 20 MB (bigger ones are refused), seeds 0 to "
        "2**32-1. Needs the [demo] extra and a source checkout (demos/continuation.py).",
    )
    p.add_argument("--model", action="append", help="pipeline name or folder (repeatable; default: default)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_demo)

    p = commands.add_parser(
        "example", help="resynthesize and continue the bundled example utterance",
        description="Speak the example sentence (flite), encode it with the pipeline, "
        "resynthesize it and continue it; print the units, timings and written wav paths.",
    )
    p.add_argument("--model", default="default", help="pipeline name or folder (default: default)")
    p.add_argument("--out", default="out/example", help="output folder (default out/example)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=4.0, help="continuation length in seconds")
    p.set_defaults(func=cmd_example)


def cmd_demo(args):
    if not DEMO_SCRIPT.is_file():
        raise TextlessError(f"{DEMO_SCRIPT} not found: the demo runs from a source checkout")
    demo = runpy.run_path(str(DEMO_SCRIPT))
    argv = ["--host", args.host, "--port", str(args.port)]
    for m in args.model or []:
        argv += ["--model", m]
    demo["main"](argv)


def cmd_example(args):
    from ..example import run_example

    report = run_example(args.model, Path(args.out), seed=args.seed, duration_s=args.duration)
    for line in report:
        print(line)
