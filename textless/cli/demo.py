"""Subcommands of this stage (not written yet)."""


def register(commands, groups):
    pass
