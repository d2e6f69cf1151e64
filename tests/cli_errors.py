"""The one-line error of a ``laborseq`` command, as users see it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from laborseq.cli import main


def error_line(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> str:
    """Run ``laborseq argv`` and return its one error line; fails unless the exit status is 2 and nothing else
    (no traceback) is printed to standard error."""
    capsys.readouterr()
    status = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, f"exit status {status}, stderr {err}"
    assert len(err) == 1, err
    assert err[0].startswith("laborseq: error: "), err[0]
    return err[0]
