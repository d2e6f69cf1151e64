"""Forecast comparison: fit on the years up to an origin, forecast the later years, score against what happened."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from laborseq._util.json import to_jsonable
from laborseq._util.latex import latex_table
from laborseq._util.random import RNGLike, seed_record
from laborseq.forecast.result import ForecastResult
from laborseq.forecast.scoring import ForecastScore
from laborseq.models.base import SequenceModel, clone, params_record
from laborseq.panel import YEAR, CareerPanel
from laborseq.panel.periods import period_label

YearGrid = Literal["waves", "annual"]


@dataclass
class ForecastComparison:
    """Forecasts of several models from one origin (the last year of history), with their scores.

    Built by :func:`forecast_compare`.
    """

    origin: int
    years: np.ndarray
    results: dict[str, ForecastResult]
    scores: dict[str, ForecastScore]
    fit_seconds: dict[str, float]
    forecast_seconds: dict[str, float]
    n_samples: int
    covariates: str
    seed: Any
    train_persons: int
    valid_persons: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, SequenceModel] = field(default_factory=dict)
    """The fitted models (clones of those given)."""
    time_unit: str = "year"
    """What ``origin`` and ``years`` count: the panel's time unit."""

    def label(self, period: int) -> str:
        """How a period of this forecast reads (``1993`` or ``1993-07``)."""
        return period_label(period, self.time_unit)

    def intervals(self) -> pd.DataFrame | None:
        """Per-horizon person-bootstrap intervals, columns ``(model, "low" | "high")`` (``None`` without draws)."""
        if not all("perplexity_low" in s.by_horizon for s in self.scores.values()):
            return None
        frames = {}
        for name, score in self.scores.items():
            table = score.by_horizon.set_index("year")[["perplexity_low", "perplexity_high"]]
            table.loc[f"all {self.time_unit}s"] = [score.overall["perplexity_low"], score.overall["perplexity_high"]]
            frames[name] = table.set_axis(["low", "high"], axis=1)
        return pd.concat(frames, axis=1)

    def by_horizon(self) -> pd.DataFrame:
        """Per-horizon perplexity, one column per model (rows: forecast years)."""
        columns = {name: s.by_horizon.set_index("year")["perplexity"] for name, s in self.scores.items()}
        table = pd.DataFrame(columns)
        table.insert(0, "horizon", table.index.to_numpy() - self.origin)
        table.loc[f"all {self.time_unit}s"] = [np.nan, *(s.overall["perplexity"] for s in self.scores.values())]
        return table

    def horizon_table(self) -> pd.DataFrame:
        """:meth:`by_horizon` formatted: perplexities with their intervals (when scored with a bootstrap), rows
        labelled by period (``1999`` or ``1999-01``).

        Returns
        -------
        pandas.DataFrame
            Cells as strings; the index named by the time unit.
        """
        table = self.by_horizon()
        out = table.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        intervals = self.intervals()
        if intervals is not None:
            for name in self.scores:
                low, high = intervals[(name, "low")], intervals[(name, "high")]
                out[name] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in zip(table[name], low, high, strict=True)]
        if "horizon" in table:
            out["horizon"] = [("" if pd.isna(v) else f"{int(v)}") for v in table["horizon"]]
        out.index = [self.label(y) if isinstance(y, int | np.integer) else y for y in out.index]
        out.index.name = self.time_unit
        return out

    def to_latex(self, *, label: str | None = "tab:laborseq-forecast") -> str:
        """Forecast perplexity by horizon as a LaTeX float (``booktabs``), intervals in brackets below.

        Parameters
        ----------
        label : str, optional
            The table's ``\\label``.

        Returns
        -------
        str
            A ``table`` float, with notes on the persons, the simulated paths and the bootstrap.
        """
        score = next(iter(self.scores.values()))
        overall = score.overall
        unit = self.time_unit
        notes = [
            f"Perplexity of the observed {unit}s under each model's forecast from {self.label(self.origin)} "
            f"({self.n_samples:,} simulated paths per person; {overall['n_persons']:,} persons, "
            f"{overall['n_person_years']:,} person-{unit}s" + (", survey-weighted)." if score.weighted else ")."),
        ]
        if score.n_boot:
            notes.append(
                f"{round(100 * score.level)}% person-bootstrap intervals in brackets ({score.n_boot:,} draws)."
            )
        caption = f"Forecast perplexity by {unit} from {self.label(self.origin)}"
        return latex_table(self.horizon_table(), caption=caption, label=label, notes=notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable summary (the ``models`` part of the forecast report's ``results.json``)."""
        return {
            "origin": self.origin,
            "years": [int(y) for y in self.years],
            "n_samples": self.n_samples,
            "covariates": self.covariates,
            "seed": self.seed,
            "train_persons": self.train_persons,
            "valid_persons": self.valid_persons,
            "models": {
                name: {
                    **self.scores[name].to_dict(),
                    "fit_seconds": self.fit_seconds[name],
                    "forecast_seconds": self.forecast_seconds[name],
                    "params": self.params.get(name, {}),
                }
                for name in self.results
            },
        }


def forecast_grid(
    panel: CareerPanel, origin: int, horizon: int, grid: YearGrid | Sequence[int] = "waves"
) -> np.ndarray:
    """The calendar years to forecast after ``origin``, up to ``origin + horizon``.

    ``"waves"``: the years in which the panel has observations (a biennial survey
    gives its interview years; knowing the survey calendar reveals nothing about
    careers); ``"annual"``: every year; or explicit years.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 year, got {horizon}")
    if isinstance(grid, str):
        if grid == "annual":
            return np.arange(origin + 1, origin + horizon + 1)
        if grid != "waves":
            raise ValueError(f"years must be 'waves', 'annual' or a list of years, got {grid!r}")
        years = np.unique(panel.data[YEAR].to_numpy())
        years = years[(years > origin) & (years <= origin + horizon)].astype(np.int64)
    else:
        years = np.unique(np.asarray(grid, dtype=np.int64))
    if len(years) == 0 or years.min() <= origin:
        raise ValueError(f"no forecast years after the origin {origin} within {horizon} years")
    return years


def forecast_compare(
    models: Mapping[str, SequenceModel],
    panel: CareerPanel,
    *,
    origin: int,
    horizon: int,
    years: YearGrid | Sequence[int] = "waves",
    n_samples: int = 1_000,
    covariates: str = "hold",
    valid_fraction: float = 0.1,
    weighted: bool = True,
    n_boot: int = 1_000,
    rng: RNGLike = 0,
    progress: bool = False,
) -> ForecastComparison:
    """Fit every model on the years up to ``origin`` and forecast the years after it.

    Parameters
    ----------
    models : mapping of name to model
        The models to forecast with; each is cloned (:func:`~laborseq.models.clone`) and the clone fitted
        on the history (the models passed are left as they were; the fitted ones are in ``result.models``).
    panel : CareerPanel
        The whole panel. Rows up to ``origin`` are split by person into training
        and validation parts (``valid_fraction``); rows after it are never seen
        in fitting and are what the forecasts are scored against.
    origin : int
        The forecast origin: the last year of history.
    horizon : int
        Forecast up to ``origin + horizon``.
    years : {"waves", "annual"} or sequence of int
        The forecast grid (see :func:`forecast_grid`).
    n_samples : int
        Simulated paths per person.
    covariates : {"hold", "observed"}
        Covariates of future years: the last value at the origin, or the
        observed one (leaks the future; the reference protocol's choice).
    valid_fraction : float
        Share of persons held out of training for early stopping.
    weighted : bool
        Score with the panel's survey weights (when it has them).
    n_boot : int
        Person-bootstrap draws of the forecast perplexities' intervals (0: none).
    rng : int or numpy.random.Generator
        Seed of the split, the fits and the simulations.
    progress : bool
        Show a progress bar.

    Notes
    -----
    Every person with an observation up to the origin is forecast, training
    and validation persons alike (the reference protocol forecasts all persons:
    the future years are unseen for everyone). Scores use persons observed in
    the last forecast year (:meth:`ForecastResult.score`).
    """
    grid = forecast_grid(panel, origin, horizon, years)
    history, _ = panel.split_at_year(origin)
    if history.n_persons < 2:
        raise ValueError(f"fewer than two persons are observed up to the origin {origin}")
    train, valid = history.split_persons((1 - valid_fraction, valid_fraction), rng=rng)
    results, scores, fit_s, forecast_s, params = {}, {}, {}, {}, {}
    fitted_models: dict[str, SequenceModel] = {}
    bar = tqdm(models.items(), desc="fit and forecast", disable=not progress, unit="model")
    for name, model in bar:
        bar.set_postfix_str(name)
        started = time.perf_counter()
        model = fitted_models[name] = clone(model).fit(train, valid=valid, rng=rng)
        fitted = time.perf_counter()
        result = model.forecast(panel, origin=origin, years=grid, n_samples=n_samples, covariates=covariates, rng=rng)
        result.model = name
        forecast_s[name] = time.perf_counter() - fitted
        fit_s[name] = fitted - started
        results[name] = result
        scores[name] = result.score(panel, weighted=weighted, n_boot=n_boot, rng=rng)
        params[name] = to_jsonable(params_record(model.get_params()))
    return ForecastComparison(
        origin=origin,
        years=grid,
        results=results,
        scores=scores,
        fit_seconds=fit_s,
        forecast_seconds=forecast_s,
        n_samples=n_samples,
        covariates=covariates,
        seed=seed_record(rng),
        train_persons=train.n_persons,
        valid_persons=valid.n_persons,
        params=params,
        models=fitted_models,
        time_unit=panel.time_unit,
    )
