"""The ``textless`` command: a thin layer over the Python API.

Each module in :data:`COMMAND_MODULES` has ``register(commands, groups)``: it adds its
subcommands to ``commands`` (top level) or to a group (``groups["train"]``, ``groups["data"]``,
``groups["eval"]``, ``groups["models"]``), each with ``set_defaults(func=handler)`` where
``handler(args) -> int | None``. Errors a user can cause are :class:`TextlessError`: printed as
one line ``textless: error: ...`` with exit status 2, no traceback. Every ``--seed`` of every
command is checked by :func:`check_seed` before its handler runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from ..errors import TextlessError

COMMAND_MODULES = ("models", "encode", "encoder", "data", "ulm", "tokenizer", "vocoder", "evaluate",
                   "demo")
GROUPS = {
    "models": "list, inspect, download and import model bundles",
    "train": "train encoders, k-means, unit LMs, prompts and vocoders",
    "data": "synthesize corpora, align them, build evaluation sets",
    "eval": "ABX, sWUGGY/sBLIMP, ASR-based WER/PER, bitrate, reports",
}


#: The largest ``--seed``: every consumer accepts [0, SEED_MAX] (``torch.manual_seed`` takes
#: 64 bits, but faiss's k-means seed is a C ``int`` and trainers derive per-step seeds such as
#: ``seed * 1_000_003 + step``, which must stay within torch's range).
SEED_MAX = 2**31 - 1


def check_seed(args) -> None:
    """Raise :class:`TextlessError` when ``args.seed`` (if the command has one) is outside
    ``[0, SEED_MAX]``, instead of a traceback from torch, numpy or faiss later on."""
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise TextlessError(f"--seed {seed}: must be an integer in [0, {SEED_MAX}]")


def one_line(message: str) -> str:
    """``message`` with its lines joined: a user error is always printed as one line."""
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit status 2, and whose ``--help`` leaves
    out deprecated spellings (:mod:`textless.cli.flags`)."""

    def __init__(self, *args, **kwargs):
        from .flags import Formatter

        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"textless: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="textless",
        description="Textless spoken-language processing: speech -> units -> speech.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    groups = {}
    for name, help in GROUPS.items():
        p = commands.add_parser(name, help=help, description=help)
        groups[name] = p.add_subparsers(dest=f"{name}_command", metavar="COMMAND", parser_class=Parser)
        groups[name].required = True
    for module in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{module}").register(commands, groups)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        check_seed(args)
        return int(args.func(args) or 0)
    except TextlessError as e:
        print(f"textless: error: {one_line(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `textless models list | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("textless: interrupted", file=sys.stderr)
        return 130
