"""Progress bars for long work: tqdm on stderr, off when stderr is not a terminal."""

from __future__ import annotations

import os
import sys


def progress(
    iterable=None, *, total=None, desc: str | None = None, unit: str = "it", enabled: bool = True,
    **kwargs,
):
    """A tqdm bar that shows only on a terminal (``TEXTLESS_PROGRESS=1`` forces it on).

    ``enabled=False`` turns it off whatever the terminal.
    """
    from tqdm import tqdm

    forced = os.environ.get("TEXTLESS_PROGRESS", "") not in ("", "0")
    return tqdm(
        iterable, total=total, desc=desc, unit=unit, file=sys.stderr,
        disable=not enabled or not (forced or sys.stderr.isatty()), dynamic_ncols=True, **kwargs,
    )
