"""``textless demo`` (the Gradio continuation demo) and ``textless example`` (what make run does)."""

from __future__ import annotations

from pathlib import Path


def register(commands, groups):
    p = commands.add_parser(
        "demo", help="the Gradio speech-continuation demo in a browser",
        description="Serve the demo (upload or record speech, continue it). Several users are "
        "queued; prompts up to 30 s, uploads up to 20 MB (bigger ones are refused), seeds 0 to "
        "2**32-1. Needs the [demo] extra: pip install 'textless[demo]'.",
    )
    p.add_argument("--model", action="append", help="pipeline name or folder (repeatable; default: default)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860; 0: the first free one from 7860)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
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
    from ..demo import launch, require_gradio

    require_gradio()  # a missing extra is a one-line error before any model loads
    launch(args.model or ["default"], args.device, server_name=args.host,
           server_port=args.port or None)


def cmd_example(args):
    from ..example import run_example

    report = run_example(args.model, Path(args.out), seed=args.seed, duration_s=args.duration)
    for line in report:
        print(line)
