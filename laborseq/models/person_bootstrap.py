"""The person bootstrap of the multinomial logit: resample persons, refit, align, summarise.

:meth:`MNLogitResults.bootstrap <laborseq.models.results.MNLogitResults.bootstrap>`
draws persons of the training panel with replacement (a person drawn twice counts as
two persons), refits the model with the same settings on every draw
(:func:`bootstrap_draws`) and turns the spread of the estimates into standard errors
(:func:`bootstrap_covariance`). A refit's parameters are put on the grid of the
results being bootstrapped (:func:`aligned_parameters`): its design terms and outcome
columns, relative to its base outcome.

The labels of a fitted model's parameters (:func:`outcome_codes`,
:func:`parameter_labels`, :func:`design_terms`) live here too, as the bootstrap labels
every refit with them; :mod:`laborseq.models.inference` labels the estimates with them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq.models.covariance import MAX_ANALYTIC_PARAMS
from laborseq.panel import PERSON, WEIGHT, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.mnlogit import MNLogit

STAY = "<stay>"
"""Label of the stay-logit column of the two-stage head."""


# ======================================================================= labels of a fitted model
def outcome_codes(model: MNLogit) -> list[str]:
    """State codes of a fitted model's outcomes (``outcomes_``), in order.

    Parameters
    ----------
    model : MNLogit
        A fitted model.

    Returns
    -------
    list of str
        One state code per outcome, the base outcome first.
    """
    states = list(model.classes_)
    return [states[i] for i in model.outcomes_]


def parameter_labels(model: MNLogit) -> tuple[list[str], str | None]:
    """Outcome column labels of ``model_.flat_parameters()`` and the base outcome.

    Parameters
    ----------
    model : MNLogit
        A fitted model.

    Returns
    -------
    labels : list of str
        State codes of the free outcomes (and :data:`STAY` for the two-stage head).
    base : str or None
        State code of the base outcome; ``None`` when every outcome is free.
    """
    codes = outcome_codes(model)
    base = model.model_.base_class
    labels = codes[1:] if base else list(codes)
    if model.two_stage:
        labels.append(STAY)
    return labels, codes[0] if base else None


def design_terms(model: MNLogit) -> list[str]:
    """Design terms of a fitted model (the rows of ``model_.flat_parameters()``).

    Parameters
    ----------
    model : MNLogit
        A fitted model.

    Returns
    -------
    list of str
        ``const``, the non-reference levels as ``feature[level]``, the numeric features.
    """
    return model.encoder_.column_names


# ======================================================================= resampling and refitting
@dataclass(frozen=True)
class RefitSource:
    """What a bootstrap needs to refit the model: its class, settings and training data.

    Attributes
    ----------
    model_class : type
        The model's class.
    params : dict
        Its settings (``get_params()``).
    panel : CareerPanel
        The training panel.
    weights : numpy.ndarray, optional
        Its row weights (``None``: unweighted).
    """

    model_class: type
    params: dict[str, Any]
    panel: CareerPanel
    weights: np.ndarray | None


def resample_persons(panel: CareerPanel, weights: np.ndarray | None, gen: np.random.Generator) -> CareerPanel:
    """A panel of persons drawn with replacement, each draw a distinct person.

    Parameters
    ----------
    panel : CareerPanel
        The training panel.
    weights : numpy.ndarray, optional
        Its row weights, carried along as the weight column.
    gen : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    CareerPanel
        As many draws as ``panel`` has persons, numbered ``0, 1, ...``.
    """
    frame = panel.data.drop(columns=[WEIGHT], errors="ignore")
    frame["is_target"] = panel.target_mask
    if weights is not None:
        frame[WEIGHT] = weights
    offsets = panel.person_offsets()
    starts, lengths = offsets[:-1], np.diff(offsets)
    draw = gen.integers(0, len(starts), size=len(starts))
    rows = np.concatenate([np.arange(starts[d], starts[d] + lengths[d]) for d in draw])
    sample = frame.iloc[rows].reset_index(drop=True)
    sample[PERSON] = np.repeat(np.arange(len(draw)), lengths[draw])
    return CareerPanel(
        sample,
        covariates=list(panel.covariates),
        static=list(panel.static_covariates),
        weight=WEIGHT if weights is not None else None,
        scheme=panel.scheme,
        name=panel.name,
        target="is_target",
        time_unit=panel.time_unit,
    )


def aligned_parameters(model: MNLogit, terms: list[str], columns: list[str], base_outcome: str | None) -> np.ndarray:
    """A refit's parameters on the original (outcome, term) grid; NaN where it has none.

    Parameters
    ----------
    model : MNLogit
        A refit.
    terms : list of str
        Design terms of the results being bootstrapped (rows of their ``params``).
    columns : list of str
        Their outcome columns (columns of their ``params``).
    base_outcome : str, optional
        Their base outcome.

    Returns
    -------
    numpy.ndarray
        The refit's parameters stacked outcome by outcome, relative to ``base_outcome``.
    """
    labels, base = parameter_labels(model)
    frame = pd.DataFrame(model.model_.flat_parameters(), index=design_terms(model), columns=labels)
    if base is not None:
        frame[base] = 0.0
        if base_outcome is not None and base_outcome != base:
            if base_outcome not in frame.columns:
                return np.full(len(terms) * len(columns), np.nan)
            outcomes = [c for c in frame.columns if c != STAY]
            frame[outcomes] = frame[outcomes].sub(frame[base_outcome], axis=0)
    aligned = frame.reindex(index=terms, columns=columns)
    return aligned.to_numpy().T.ravel()


def bootstrap_draws(
    source: RefitSource,
    summarize: Callable[[MNLogit, CareerPanel], np.ndarray],
    size: int,
    n_boot: int,
    gen: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Refit the model on ``n_boot`` person resamples and summarise each refit.

    Parameters
    ----------
    source : RefitSource
        The model class, settings and training data.
    summarize : callable
        ``summarize(refit, sample)``: the statistics of one refit on its resample, a
        vector of length ``size`` (NaN where the refit has none), e.g. its parameters on
        the original grid (:func:`aligned_parameters`) or its average marginal effects.
    size : int
        Length of that vector.
    n_boot : int
        Number of refits.
    gen : numpy.random.Generator
        Source of the person draws and of the refits' seeds.

    Returns
    -------
    draws : numpy.ndarray
        ``(n_boot, size)`` statistics; NaN rows for failed refits.
    n_failed : int
        Number of refits that raised.
    """
    draws = np.full((n_boot, size), np.nan)
    failed = 0
    for b in range(n_boot):
        sample = resample_persons(source.panel, source.weights, gen)
        model = source.model_class(**source.params)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(sample, weights=None if source.weights is None else WEIGHT, rng=gen)
        except (RuntimeError, ValueError):
            failed += 1
            continue
        draws[b] = summarize(model, sample)
    return draws, failed


def bootstrap_covariance(draws: np.ndarray, n_failed: int) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """Standard errors and covariance of the parameters from their bootstrap draws.

    Refits that failed or lack a parameter are left out of that parameter's standard
    error, with a warning; a parameter with the same value in every refit (not moved by
    the data) gets NaN.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(n_boot, n_params)`` estimates from :func:`bootstrap_draws`.
    n_failed : int
        Number of refits that failed.

    Returns
    -------
    std_errors : numpy.ndarray
        Standard deviations of the draws (NaN with fewer than two valid draws).
    cov : numpy.ndarray or None
        Covariance of pairwise complete draws, up to :data:`MAX_ANALYTIC_PARAMS` parameters.
    note : str or None
        Why there is no covariance.
    """
    n_boot, n_params = draws.shape
    valid = np.isfinite(draws).sum(axis=0)
    if n_failed or (valid < n_boot).any():
        warnings.warn(
            f"bootstrap: {n_failed} of {n_boot} refits failed and {int((valid < n_boot).sum())} parameters are "
            f"missing from some refits (as few as {int(valid.min())} valid draws)",
            stacklevel=3,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.where(valid >= 2, np.nanstd(draws, axis=0, ddof=1), np.nan)
    se[se == 0] = np.nan  # the same value in every refit: a parameter the data do not move (not identified)
    if n_params > MAX_ANALYTIC_PARAMS:
        return se, None, f"the full covariance of {n_params:,} parameters is not formed; std_errors are available"
    cov = np.array(pd.DataFrame(draws).cov())  # pairwise complete draws
    cov[np.diag_indices_from(cov)] = se**2
    return se, cov, None
