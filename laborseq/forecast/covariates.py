"""Covariate policies of forecasts: the covariate values a model sees in the simulated future years.

A policy turns the observed panel into one row per forecast person and
forecast year (person-major: all years of the first person, then the next):

``"hold"`` (default)
    Every covariate keeps its last non-missing value at or before the origin
    (static covariates are constant anyway). Never reads rows after the origin,
    so the forecast is a genuine ex-ante forecast.
``"observed"``
    The panel's observed value in the forecast year where the person has a row
    there (and the value is not missing), else the held value. This leaks
    future information (e.g. education completed after the origin), as the
    reference forecasting protocol does; use it to reproduce that protocol.
callable
    ``f(frame) -> frame``: receives the held frame (``person_id``, ``year`` and
    the covariates) and returns the covariates to use, either in the same row
    order or with ``person_id`` and ``year`` columns identifying the rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from laborseq.panel import PERSON, YEAR, CareerPanel

__all__ = ["POLICIES", "CovariatePolicy", "future_covariates", "held_covariates", "policy_name"]

POLICIES = ("hold", "observed")
"""The named covariate policies."""

CovariatePolicy = str | Callable[[pd.DataFrame], pd.DataFrame]


def policy_name(policy: CovariatePolicy) -> str:
    """``"hold"``, ``"observed"`` or ``"callable"``; raises ``ValueError`` for anything else."""
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(f"covariates={policy!r}: expected one of {list(POLICIES)} or a callable")
        return policy
    if callable(policy):
        return "callable"
    raise TypeError(f"covariates must be one of {list(POLICIES)} or a callable, got {type(policy).__name__}")


def held_covariates(history: CareerPanel) -> pd.DataFrame:
    """Each person's last non-missing value of every covariate in ``history``.

    Returns
    -------
    pandas.DataFrame
        Indexed by person key (panel order), one column per covariate, with the
        panel's dtypes (categoricals keep their categories).
    """
    data = history.data
    covs = list(history.covariates)
    persons = history.persons
    if not covs:
        return pd.DataFrame(index=pd.Index(persons, name=PERSON))
    held = data.groupby(PERSON, sort=False)[covs].last()
    held = held.reindex(persons)
    held.index.name = PERSON
    for c in covs:
        held[c] = _like(held[c], data[c])
    return held


def future_covariates(
    panel: CareerPanel,
    history: CareerPanel,
    years: np.ndarray,
    policy: CovariatePolicy,
) -> pd.DataFrame:
    """Covariates of every forecast person in every forecast year under ``policy``.

    Parameters
    ----------
    panel : CareerPanel
        The full panel (read after the origin only by ``"observed"``).
    history : CareerPanel
        The forecast persons' rows at or before the origin.
    years : numpy.ndarray
        Forecast years, increasing.
    policy : "hold", "observed" or callable
        See the module documentation.

    Returns
    -------
    pandas.DataFrame
        ``n_persons * len(years)`` rows, person-major (row ``p * H + h`` is person
        ``p``, year ``years[h]``), columns ``person_id``, ``year`` and the
        covariates; default integer index.
    """
    name = policy_name(policy)
    held = held_covariates(history)
    persons = held.index.to_numpy()
    n_years = len(years)
    frame = held.iloc[np.repeat(np.arange(len(persons)), n_years)].reset_index()
    frame.insert(1, YEAR, np.tile(np.asarray(years, dtype=np.int64), len(persons)))
    covs = list(history.covariates)
    if name == "hold" or not covs:
        out = frame
    elif name == "observed":
        out = _observed(panel, frame, persons, np.asarray(years), covs)
    else:
        out = _apply_callable(policy, frame, covs, history)
    return out.reset_index(drop=True)


def _observed(panel: CareerPanel, frame: pd.DataFrame, persons: np.ndarray, years: np.ndarray, covs: list[str]):
    """Overwrite held values with the panel's non-missing observed values in the forecast years."""
    data = panel.data
    person_pos = pd.Index(persons).get_indexer(data[PERSON])
    year_values = data[YEAR].to_numpy().astype(np.int64)
    year_pos = np.clip(np.searchsorted(years, year_values), 0, len(years) - 1)
    rows = (person_pos >= 0) & (years[year_pos] == year_values)
    where = person_pos[rows] * len(years) + year_pos[rows]
    out = frame.copy()
    for c in covs:
        values = data[c][rows]
        present = values.notna().to_numpy()
        column = out[c].copy()
        if isinstance(column.dtype, pd.CategoricalDtype):
            new = pd.Index(values[present].astype(object).unique()).difference(column.cat.categories)
            if len(new):
                column = column.cat.add_categories(list(new))
        column.iloc[where[present]] = values[present].to_numpy()
        out[c] = column
    return out


def _apply_callable(policy, frame: pd.DataFrame, covs: list[str], history: CareerPanel) -> pd.DataFrame:
    """Run a user policy on the held frame and check and align what it returns."""
    result = policy(frame.copy())
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"the covariate callable must return a DataFrame, got {type(result).__name__}")
    missing = [c for c in covs if c not in result.columns]
    if missing:
        raise ValueError(f"the covariate callable's result lacks covariate column(s) {missing}")
    if PERSON in result.columns and YEAR in result.columns:
        wanted = pd.MultiIndex.from_arrays([frame[PERSON], frame[YEAR].astype(np.int64)])
        given = pd.MultiIndex.from_arrays([result[PERSON], pd.to_numeric(result[YEAR]).astype(np.int64)])
        if given.has_duplicates:
            raise ValueError("the covariate callable returned a (person_id, year) more than once")
        pos = given.get_indexer(wanted)
        if (pos < 0).any():
            lost = wanted[pos < 0][:5].tolist()
            raise ValueError(f"the covariate callable's result lacks rows for (person_id, year) {lost}")
        result = result.iloc[pos]
    elif len(result) != len(frame):
        raise ValueError(
            f"the covariate callable returned {len(result)} rows for {len(frame)} person-years and no "
            f"{PERSON!r} / {YEAR!r} columns to align them"
        )
    out = frame[[PERSON, YEAR]].copy()
    data = history.data
    for c in covs:
        out[c] = _like(result[c].reset_index(drop=True), data[c])
    return out


def _like(values: pd.Series, reference: pd.Series) -> pd.Series:
    """``values`` as categorical when ``reference`` is (keeping its categories, adding new levels)."""
    if not isinstance(reference.dtype, pd.CategoricalDtype):
        return values
    categories = reference.cat.categories
    present = values.dropna()
    new = pd.Index(present.astype(object).unique()).difference(categories) if len(present) else pd.Index([])
    return pd.Series(
        pd.Categorical(values.astype(object), categories=categories.append(new) if len(new) else categories),
        index=values.index,
    )
