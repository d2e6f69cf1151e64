"""Monthly panels: periods, validation, parquet, gaps and forecasts follow the time unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborseq import CareerPanel, OccupationScheme
from laborseq.forecast.comparison import forecast_compare
from laborseq.models import Markov
from laborseq.panel import PanelValidationError
from laborseq.panel.periods import calendar_year, month_period, period_label

SCHEME = OccupationScheme(name="ab", codes=("a", "b"))


def monthly_panel(n_persons: int = 60, months: int = 24, seed: int = 0) -> CareerPanel:
    """Sticky two-state careers observed monthly from 2001-11, every third month missing for odd persons."""
    rng = np.random.default_rng(seed)
    first = int(month_period(2001, 11))
    rows = []
    for person in range(n_persons):
        state = rng.choice(["a", "b"])
        for t in range(months):
            if rng.random() < 0.1:
                state = "b" if state == "a" else "a"
            if person % 2 and t % 3 == 2:
                continue
            rows.append((person, first + t, state))
    frame = pd.DataFrame(rows, columns=["person_id", "year", "occ"])
    return CareerPanel(frame, scheme=SCHEME, name="monthly", time_unit="month")


def test_month_periods_and_labels():
    assert month_period(1993, 7) == 12 * 1993 + 6
    assert period_label(month_period(1999, 12), "month") == "1999-12"
    assert period_label(1988, "year") == "1988"
    np.testing.assert_array_equal(
        calendar_year(np.array([month_period(2000, 1), month_period(2000, 12)]), "month"), [2000, 2000]
    )
    with pytest.raises(ValueError, match="months must be between 1 and 12"):
        month_period(2000, 13)
    with pytest.raises(ValueError, match="time_unit must be one of"):
        period_label(2000, "week")


def test_monthly_panels_validate_their_periods_and_keep_the_unit(tmp_path):
    panel = monthly_panel()
    assert panel.time_unit == "month" and "2001-11 to 2003-10" in panel.describe().format()
    gaps = panel.describe().gap_counts
    assert set(gaps) == {1, 2}  # months, not years: every third month is missing for odd persons
    path = panel.to_parquet(tmp_path / "m.parquet")
    assert CareerPanel.read_parquet(path).time_unit == "month"
    history, future = panel.split_at_year(int(month_period(2002, 12)))
    assert history.time_unit == future.time_unit == "month" and history.years.max() == month_period(2002, 12)
    frame = pd.DataFrame({"person_id": [1], "year": [2001], "occ": ["a"]})
    with pytest.raises(PanelValidationError, match=r"12 \* year \+ month - 1"):
        CareerPanel(frame, scheme=SCHEME, time_unit="month")
    with pytest.raises(ValueError, match="time_unit"):
        CareerPanel(frame, scheme=SCHEME, time_unit="day")


def test_forecasts_of_a_monthly_panel_count_months():
    panel = monthly_panel()
    origin = int(month_period(2003, 4))
    comparison = forecast_compare({"markov1": Markov(order=1)}, panel, origin=origin, horizon=6, n_samples=50, rng=0)
    result = comparison.results["markov1"]
    assert result.time_unit == "month" and comparison.time_unit == "month"
    assert result.years.tolist() == list(range(origin + 1, origin + 7))
    assert comparison.label(origin) == "2003-04"
    assert "all months" in comparison.by_horizon().index
    assert comparison.scores["markov1"].by_horizon["horizon"].tolist() == [1, 2, 3, 4, 5, 6]


def test_periods_parse_as_reports_write_them():
    from laborseq.panel.periods import parse_period
    from laborseq.pipeline import check_forecast_origin

    assert parse_period("1999-01", "month") == month_period(1999, 1)
    assert parse_period(str(month_period(1999, 1)), "month") == month_period(1999, 1)
    assert parse_period("1988", "year") == 1988
    with pytest.raises(ValueError, match="such as 1999-01"):
        parse_period("Jan 1999", "month")
    panel = monthly_panel()
    assert check_forecast_origin("2003-04", panel) == month_period(2003, 4)
    with pytest.raises(
        ValueError, match="forecast origin 2005-01 leaves nothing to forecast: the panel covers 2001-11"
    ):
        check_forecast_origin("2005-01", panel)
