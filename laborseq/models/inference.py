"""Inference of a fitted multinomial logit on its training data: the results object of :meth:`MNLogit.results`.

A fitted :class:`~laborseq.models.MNLogit` keeps its estimates, not its training
data. The covariances need the score and Hessian of the training transitions, so
results are a function of the fitted model and the data it was fitted on
(:func:`mnlogit_results`): the transitions are encoded and scored again
(:func:`training_transitions`), checked against what the fit recorded (their number
and total weight), and the covariance (:mod:`laborseq.models.covariance`), fit
statistics and labels make a :class:`~laborseq.models.results.MNLogitResults`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq._util.environment import environment
from laborseq.models import logit_engine
from laborseq.models.covariance import (
    COV_TYPES,
    MAX_ANALYTIC_PARAMS,
    CovarianceUnavailableError,
    Transitions,
    mnlogit_covariance,
)
from laborseq.models.first_year_logit import split_targets
from laborseq.models.person_bootstrap import RefitSource, outcome_codes, parameter_labels
from laborseq.models.results import MNLogitResults
from laborseq.panel import PERSON, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.mnlogit import MNLogit

__all__ = ["mnlogit_results", "training_transitions"]


def _check_training_data(model: MNLogit, n_transitions: int, weights: np.ndarray | None) -> None:
    """Raise when transitions and weights are not those the model was fitted on.

    Parameters
    ----------
    model : MNLogit
        The fitted model (``n_transitions_`` and ``weight_total_`` recorded by its fit).
    n_transitions : int
        Number of transitions of the panel passed.
    weights : numpy.ndarray, optional
        Weights of those transitions (``None``: unweighted).

    Raises
    ------
    ValueError
        When the number of transitions, or the presence or total of the weights, differ from the fit's.
    """
    if n_transitions != model.n_transitions_:
        raise ValueError(
            f"results are computed on the data the model was fitted on: the panel has {n_transitions:,} "
            f"transitions, the fit had {model.n_transitions_:,}; pass the training panel"
        )
    if not hasattr(model, "weight_total_"):  # saved by a version that did not record the weights
        return
    fitted = model.weight_total_
    if fitted is None and weights is not None:
        raise ValueError("the model was fitted without weights: pass no weights")
    if fitted is not None and weights is None:
        raise ValueError("the model was fitted with weights: pass the same weights=... as to fit")
    if fitted is not None and not math.isclose(float(weights.sum()), fitted, rel_tol=1e-9):
        raise ValueError(
            f"the weights of the transitions sum to {float(weights.sum()):,.6g}, those of the fit to {fitted:,.6g}: "
            "pass the same weights=... as to fit"
        )


def training_transitions(model: MNLogit, panel: CareerPanel, weights: np.ndarray | None) -> Transitions:
    """The training transitions of a fitted model, with its fitted log-probabilities.

    Parameters
    ----------
    model : MNLogit
        The fitted model.
    panel : CareerPanel
        The panel it was fitted on.
    weights : numpy.ndarray, optional
        Row weights of ``panel`` (``None``: unweighted), those of the fit.

    Returns
    -------
    Transitions
        Encoded features, outcomes, weights, person codes and log-probabilities.

    Raises
    ------
    ValueError
        When the panel has no transitions, an outcome the model has no parameters for, or
        not the transitions and weights the model was fitted on.
    """
    _, trans = split_targets(panel)
    if not trans.any():
        raise ValueError("the panel has no transitions (persons observed twice) to compute results on")
    states = panel.state_index()[trans]
    outcomes = np.asarray(model.outcomes_)
    y = np.searchsorted(outcomes, states)
    unknown = (y >= len(outcomes)) | (outcomes[np.minimum(y, len(outcomes) - 1)] != states)
    if unknown.any():
        codes = sorted({panel.states[s] for s in states[unknown]})[:10]
        raise ValueError(
            f"the panel has outcome(s) {codes} that the model has no parameters for: results are computed on "
            "the panel the model was fitted on"
        )
    _check_training_data(model, len(y), None if weights is None else np.asarray(weights, dtype=float)[trans])
    x = model.encoder_.transform(panel, trans)
    prev = panel.lagged_states(1)[trans] if model.two_stage else None
    log_probs = logit_engine.predict_encoded(model.model_, x, prev, device=model.device)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)[trans]
    groups = pd.factorize(panel.data[PERSON].to_numpy()[trans])[0]
    return Transitions(x, y, w, groups, log_probs)


def mnlogit_results(
    model: MNLogit,
    panel: CareerPanel,
    weights: np.ndarray | None,
    cov_type: str = "cluster",
    *,
    identified: bool = False,
) -> MNLogitResults:
    """Build the results of a fitted MNLogit on its training panel (see :meth:`MNLogit.results`).

    Parameters
    ----------
    model : MNLogit
        The fitted model.
    panel : CareerPanel
        The panel it was fitted on.
    weights : numpy.ndarray, optional
        Row weights of ``panel`` (``None``: unweighted), those of the fit.
    cov_type : {"cluster", "robust", "nonrobust"}
        Covariance estimator (see :mod:`laborseq.models.covariance`).
    identified : bool
        Also form the covariance on the identified directions
        (:attr:`MNLogitResults.identified_cov <laborseq.models.results.MNLogitResults.identified_cov>`),
        from the same pass over the data, for the delta method of marginal effects.

    Returns
    -------
    MNLogitResults
        Without a covariance (the reason in its note) for the two-stage head, above
        :data:`~laborseq.models.covariance.MAX_ANALYTIC_PARAMS` parameters or when the
        Hessian is singular. They keep ``panel`` and ``weights`` for their bootstrap.
    """
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    data = training_transitions(model, panel, weights)
    matrix = np.asarray(model.model_.flat_parameters(), dtype=float)  # (terms, outcome columns)
    terms = data.features.column_names
    outcomes, base = parameter_labels(model)
    k = matrix.size
    cov, identified_cov, note = None, None, None
    if model.two_stage:
        note = "the analytic covariance of the two-stage head is not implemented; use bootstrap_se(n_boot=..., rng=...)"
    elif k > MAX_ANALYTIC_PARAMS:
        note = (
            f"the model has {k:,} free parameters ({len(terms)} terms x {matrix.shape[1]} outcomes), more than "
            f"MAX_ANALYTIC_PARAMS = {MAX_ANALYTIC_PARAMS:,} for which the analytic covariance is formed; "
            "use bootstrap_se(n_boot=..., rng=...) (a person bootstrap refitting the model) instead"
        )
    else:
        free = np.arange(1, len(model.outcomes_)) if model.model_.base_class else np.arange(len(model.outcomes_))
        try:
            cov, identified_cov = mnlogit_covariance(data, free, cov_type, model.alpha, identified=identified)
        except CovarianceUnavailableError as err:  # estimates and fit statistics stay available
            note = str(err)
    codes = outcome_codes(model)
    y_codes = np.asarray(codes, dtype=object)[data.y]
    counts = pd.Series(y_codes).value_counts().reindex(codes, fill_value=0)
    counts.index.name = "outcome"
    share = np.bincount(data.y, weights=data.weights, minlength=len(codes))
    total = float(data.weights.sum())
    positive = share[share > 0]
    stats = {
        "nobs": len(data),
        "n_persons": data.n_groups,
        "n_states": len(model.classes_),
        "n_outcomes": len(codes),
        "loglik": float(data.weights @ data.log_probs[np.arange(len(data)), data.y]),
        "loglik_null": float(positive @ np.log(positive / total)),
        "weight_total": total,
    }
    config = {
        "params": model.get_params(),
        "features": list(model.encoder_.categorical_) + list(model.encoder_.numeric_),
        "features_left_out": list(model.encoder_.constant_),
        "scheme": model.scheme_.name,
        "weighted": weights is not None,
        "fit_info": dict(model.fit_info_),
        "versions": {k: v for k, v in environment().items() if k in ("laborseq", "numpy", "torch")},
    }
    return MNLogitResults(
        params=matrix.T.ravel(),
        terms=terms,
        outcomes=outcomes,
        titles={c: model.scheme_.title(c) for c in codes},
        base_outcome=base,
        cov=cov,
        std_errors=None,
        cov_type=cov_type,
        cov_note=note,
        identified_cov=identified_cov,
        stats=stats,
        config=config,
        outcome_counts=counts,
        source=RefitSource(type(model), model.get_params(), panel, weights),
    )
