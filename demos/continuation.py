"""Launcher of the Gradio continuation demo, which lives in the package (:mod:`textless.demo`).

``python demos/continuation.py [--model M]... [--host H] [--port P]`` runs ``textless demo ...``.
"""

import sys

from textless.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["demo", *sys.argv[1:]]))
