"""Multi-year forecasts of careers: simulated paths, projected state shares and their scores.

A forecast conditions on each person's history up to an origin year and projects
the distribution of states in later calendar years, by Monte Carlo simulation of
career paths (or exactly, for models whose marginals can be computed in closed
form). :class:`~laborseq.forecast.result.ForecastResult` holds what a forecast
produces (the mean predicted distribution p̄ of every person and year, and the
sampled paths); :mod:`laborseq.forecast.scoring` scores it against what was later
observed, as in the CAREER forecasting evaluation (perplexity of p̄ and binary
events with ROC AUC, from :mod:`laborseq.evaluation.metrics`);
:mod:`laborseq.forecast.shares` projects state shares,
:mod:`laborseq.forecast.persistence` saves and loads forecasts and
:mod:`laborseq.forecast.plots` draws fan charts of projected shares.
"""

from laborseq.evaluation.metrics import roc_auc
from laborseq.forecast.comparison import ForecastComparison, forecast_compare, forecast_grid
from laborseq.forecast.result import ForecastResult
from laborseq.forecast.scoring import ForecastScore
from laborseq.models.stepper import PanelStepper, Stepper

__all__ = [
    "ForecastComparison",
    "ForecastResult",
    "ForecastScore",
    "PanelStepper",
    "Stepper",
    "forecast_compare",
    "forecast_grid",
    "roc_auc",
]
