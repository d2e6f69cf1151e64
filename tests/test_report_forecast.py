"""The forecast section flags models that forecast worse than a uniform guess."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from laborseq.report.forecast import _uniform_warning


def _comparison(table: pd.DataFrame, n_states: int) -> SimpleNamespace:
    result = SimpleNamespace(scheme=SimpleNamespace(n_states=n_states))
    return SimpleNamespace(results={"a": result}, by_horizon=lambda: table, time_unit="year", label=str)


def test_models_worse_than_uniform_are_named_with_their_years():
    table = pd.DataFrame(
        {"horizon": [1.0, 2.0, None], "good": [3.0, 4.0, 3.5], "bad": [5.0, 12.0, 8.0]},
        index=pd.Index(["1983", "1984", "all years"], name="year"),
    )
    (note,) = _uniform_warning(_comparison(table, n_states=9))
    assert "**bad** in 1984" in note.text and "good" not in note.text
    assert _uniform_warning(_comparison(table, n_states=20)) == []
