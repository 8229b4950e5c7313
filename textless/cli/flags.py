"""Flags shared by commands, so that one thing has one spelling everywhere.

* a folder a command writes is ``--out DIR``; a single file is ``-o/--output FILE``;
* a vocoder speaker (or style) is ``--speaker NAME|INDEX``;
* every trainer takes ``--steps --save-every --valid-every --device --seed``
  (:func:`add_trainer_flags`; the run folder and resume rules are :mod:`textless.trainer`).

Old spellings stay accepted as hidden aliases (:func:`add_flag` with ``deprecated=``): they set
the same ``dest``, print a one-line warning on stderr, and are left out of ``--help``.
"""

from __future__ import annotations

import argparse
import sys


class Formatter(argparse.HelpFormatter):
    """``--help`` without the deprecated spellings of a flag."""

    def _format_action_invocation(self, action):
        hidden = getattr(action, "deprecated", ())
        if not hidden:
            return super()._format_action_invocation(action)
        shown = argparse.Action([s for s in action.option_strings if s not in hidden], action.dest,
                                nargs=action.nargs, metavar=action.metavar)
        return super()._format_action_invocation(shown)


class _Store(argparse._StoreAction):
    """``store`` that warns when the flag is given by one of its ``deprecated`` spellings."""

    deprecated: tuple[str, ...] = ()

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string in self.deprecated:
            new = next(s for s in self.option_strings if s not in self.deprecated and s.startswith("--"))
            print(f"textless: warning: {option_string} is deprecated, use {new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_flag(parser, *names: str, deprecated: tuple[str, ...] = (), **kwargs) -> argparse.Action:
    """``parser.add_argument(*names, ...)`` that also accepts the ``deprecated`` spellings (same
    ``dest``, named after the first long spelling of ``names``; a warning when used; hidden)."""
    if not deprecated:
        return parser.add_argument(*names, **kwargs)
    if "dest" not in kwargs:
        kwargs["dest"] = next(n for n in names if n.startswith("--"))[2:].replace("-", "_")
    action = parser.add_argument(*names, *deprecated, action=_Store, **kwargs)
    action.deprecated = tuple(deprecated)
    return action


def add_output(parser, help: str, *, required: bool = False, deprecated=("--out",)) -> argparse.Action:
    """``-o/--output FILE``: the single file a command writes (``--out``: its old spelling)."""
    return add_flag(parser, "-o", "--output", deprecated=deprecated, required=required,
                    metavar="FILE", help=help)


def add_speaker(parser, styles: bool = False) -> None:
    """``--speaker NAME|INDEX`` (and ``--style NAME|INDEX``) of a vocoder with speakers (styles)."""
    parser.add_argument("--speaker", metavar="NAME|INDEX",
                        help="vocoder speaker: a name or an index (vocoders with speakers)")
    if styles:
        parser.add_argument("--style", metavar="NAME|INDEX",
                            help="vocoder style: a name or an index (vocoders with styles)")


TRAINER_FLAGS = ("--steps", "--save-every", "--valid-every", "--device", "--seed")


def add_trainer_flags(parser, *, steps: int, save_every: int, valid_every: int | None, seed: int = 0,
                      unit: str = "optimizer steps", save_unit: str | None = None,
                      deprecated: dict[str, tuple[str, ...]] | None = None):
    """The common flags of ``textless train X`` (:data:`TRAINER_FLAGS`), with the same help in
    every trainer. ``unit`` names what a step is for this trainer (``save_unit``: what
    ``--save-every`` counts, when not steps); ``valid_every=None``: the trainer has no
    validation and no ``--valid-every``. ``deprecated``: old spellings per flag. Returns the
    argument group."""
    old = deprecated or {}
    g = parser.add_argument_group("training run (the same in every trainer)")
    add_flag(g, "--steps", deprecated=old.get("--steps", ()), type=int, default=steps, metavar="N",
             help=f"length of the run: N {unit} (default %(default)s)")
    add_flag(g, "--save-every", deprecated=old.get("--save-every", ()), type=int, default=save_every,
             metavar="N", help=f"write OUT/state.pt every N {save_unit or 'steps'} and at the end; "
             "rerunning the same command resumes from it exactly (default %(default)s)")
    if valid_every is not None:
        add_flag(g, "--valid-every", deprecated=old.get("--valid-every", ()), type=int,
                 default=valid_every, metavar="N",
                 help="validate every N steps and at the end; results go to OUT/log.jsonl (default %(default)s)")
    g.add_argument("--device", default="cpu",
                   help="cpu, cuda or cuda:N (under torchrun each process takes cuda:LOCAL_RANK) (default cpu)")
    g.add_argument("--seed", type=int, default=seed,
                   help="seed of the initialisation and of every random draw of the run (default %(default)s)")
    return g


def check_positive(args, *names: str) -> None:
    """Raise :class:`TextlessError` when one of the integer flags ``names`` (dests) is below 1."""
    from ..errors import TextlessError

    for name in names:
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise TextlessError(f"--{name.replace('_', '-')} must be at least 1")


def check_device(device: str) -> None:
    """Raise :class:`TextlessError` when ``--device`` asks for CUDA on a machine without it."""
    if device.startswith("cuda"):
        import torch

        from ..errors import TextlessError

        if not torch.cuda.is_available():
            raise TextlessError(f"--device {device}: no CUDA device is available")
