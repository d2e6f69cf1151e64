"""The ``laborseq`` command line: argparse, then one library call per sub-command.

The studies themselves live in :mod:`laborseq.pipeline`; :mod:`laborseq.cli.parser`
builds the parser, :mod:`laborseq.cli.inputs` turns arguments into data and models,
:mod:`laborseq.cli.commands` runs each sub-command. A bad argument or input ends the
command with one line on standard error and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from laborseq.cli.commands import (
    describe,
    run_compare,
    run_forecast_command,
    run_harmonize,
    run_predict_command,
    run_pretrain_command,
    run_rationalize,
    run_wages_command,
)
from laborseq.cli.inputs import READERS, CommandError, load_data
from laborseq.cli.parser import build_parser

__all__ = ["EXPECTED_ERRORS", "READERS", "CommandError", "build_parser", "load_data", "main"]

_COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    "compare": run_compare,
    "forecast": run_forecast_command,
    "wages": run_wages_command,
    "rationalize": run_rationalize,
    "harmonize": lambda args, argv: run_harmonize(args),
    "describe": describe,
    "predict": run_predict_command,
    "pretrain": run_pretrain_command,
}


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (CommandError, ValueError, OSError)
"""Errors that come from the user's input or files (bad values, unreadable or missing files), not from a bug."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborseq`` console script.

    An expected error (a bad option value, a file that cannot be read, input
    the library refuses: :data:`EXPECTED_ERRORS`) ends the command with one
    line, ``laborseq: error: <what is wrong and how to fix it>``, on standard
    error and exit status 2, as argparse does for a bad option; ``--traceback``
    shows the full trace instead. Anything else is a bug and keeps its trace.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, argv)
    except EXPECTED_ERRORS as err:
        if getattr(args, "traceback", False):
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"laborseq: error: {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
