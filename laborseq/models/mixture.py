"""Mixtures of fitted sequence models: weights fitted on held-out persons, a forecast stepper, persistence.

A *per-step mixture* of models :math:`m_1, \\dots, m_J` with weights
:math:`\\pi` predicts every target person-year with
:math:`\\sum_j \\pi_j \\, p_j(y_t \\mid \\text{history}_t)`. The product of these
conditionals is a proper distribution of whole careers, so one-step scores and
simulated forecasts (which draw each year from the mixed conditional, given the
path drawn so far) describe the same model. A deep ensemble is the mixture of
several fits of one network with equal weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq._util.rows import distinct_rows
from laborseq.models.base import SequenceModel, json_tuples, model_class, params_record

if TYPE_CHECKING:
    from laborseq.models.stepper import Stepper

__all__ = ["MixtureStepper", "fit_mixture_weights", "pack_models", "unpack_models"]

MIXTURE_TOL = 1e-12
"""EM stops when an iteration raises the mean log-likelihood by less than this (the weights then move by
too little to matter, also when an optimum on the simplex's edge makes them creep)."""


def fit_mixture_weights(
    likelihoods: np.ndarray, weights: np.ndarray | None = None, *, max_iter: int = 5_000
) -> np.ndarray:
    """Mixture weights that maximise the (weighted) log-likelihood of held-out targets, by EM.

    Parameters
    ----------
    likelihoods : numpy.ndarray
        ``(n, J)``: probability that component ``j`` gives the observed state of target ``i``.
    weights : numpy.ndarray, optional
        ``(n,)`` non-negative target weights (survey weights).
    max_iter : int
        EM iterations at most.

    Returns
    -------
    numpy.ndarray
        ``(J,)`` weights on the simplex. The objective is concave in the weights, so EM
        (each step a closed-form reweighting) climbs to the global maximum.

    Examples
    --------
    >>> import numpy as np
    >>> fit_mixture_weights(np.array([[0.9, 0.1], [0.9, 0.1]])).round(6).tolist()
    [1.0, 0.0]
    """
    p = np.asarray(likelihoods, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError(f"likelihoods must be (n_targets, n_components), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("likelihoods must be finite and non-negative")
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = (p.sum(axis=1) > 0) & (w > 0)  # a target no component can explain has no say in the weights
    p, w = p[keep], w[keep] / w[keep].sum() if keep.any() else w[keep]
    pi = np.full(p.shape[1], 1.0 / p.shape[1])
    if not len(p):
        return pi
    mixed = p @ pi
    loglik = w @ np.log(mixed)
    for _ in range(max_iter):
        pi = w @ (p * pi / mixed[:, None])
        pi /= pi.sum()
        mixed = p @ pi
        new = w @ np.log(mixed)
        if new - loglik < MIXTURE_TOL:
            return pi
        loglik = new
    warnings.warn(
        f"mixture weights: EM stopped after {max_iter} iterations, still gaining more than {MIXTURE_TOL} in mean "
        "log-likelihood per iteration",
        stacklevel=2,
    )
    return pi


class MixtureStepper:
    """Forecast stepper of a per-step mixture: the components' steppers, advanced together.

    Parameters
    ----------
    steppers : sequence of Stepper
        One stepper per component, over the same paths.
    weights : numpy.ndarray
        Mixture weights (sum to one).

    Notes
    -----
    Paths whose components return the same rows share one mixed distribution:
    the mixed table has a row per distinct combination of the components' rows
    (:meth:`step_indexed`), so a step costs the components' steps plus a
    grouping linear in the paths. Every step returns a new table.
    """

    table_grows = False

    def __init__(self, steppers: Sequence[Stepper], weights: np.ndarray) -> None:
        if len(steppers) != len(weights):
            raise ValueError(f"{len(steppers)} steppers but {len(weights)} weights")
        self._steppers = list(steppers)
        self._weights = np.asarray(weights, dtype=np.float64)

    def step_indexed(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The distinct mixed distributions of this step and each path's row in them."""
        parts = []
        for stepper in self._steppers:
            if hasattr(stepper, "step_indexed"):
                table, index = stepper.step_indexed(year, covariates)
            else:
                table = stepper.step(year, covariates)
                index = np.arange(len(table))
            parts.append((np.asarray(table, dtype=np.float64), np.asarray(index, dtype=np.int64)))
        first, inverse = distinct_rows([index for _, index in parts])
        mixed = sum(w * table[index[first]] for w, (table, index) in zip(self._weights, parts, strict=True))
        return np.asarray(mixed), inverse

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Mixed distribution of the state in ``year`` of every path."""
        table, index = self.step_indexed(year, covariates)
        return table[index]

    def append(self, states: np.ndarray) -> None:
        """Extend every component's paths with the sampled states."""
        for stepper in self._steppers:
            stepper.append(states)


def pack_models(models: Sequence[SequenceModel]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Fitted models as one JSON-able record per model and one dict of arrays, to save them inside another.

    Parameters
    ----------
    models : sequence of SequenceModel
        Fitted models.

    Returns
    -------
    records : list of dict
        Per model: its class, parameters (a fitted model given as a parameter is named, not kept),
        fitted state and number of covariates.
    arrays : dict of str to numpy.ndarray
        Every model's arrays, keys prefixed ``"{i}/"``.
    """
    records, arrays = [], {}
    for i, model in enumerate(models):
        state, own = model._get_fitted()
        records.append(
            {
                "model": f"{type(model).__module__}.{type(model).__qualname__}",
                "params": params_record(model.get_params()),
                "fitted": state,
                "n_features_in": model.n_features_in_,
            }
        )
        arrays.update({f"{i}/{key}": value for key, value in own.items()})
    return records, arrays


def unpack_models(
    records: Sequence[dict[str, Any]], arrays: dict[str, np.ndarray], classes: Sequence[str], scheme: Any
) -> list[SequenceModel]:
    """The fitted models written by :func:`pack_models` (classes from ``laborseq.models`` only).

    Parameters
    ----------
    records, arrays
        What :func:`pack_models` returned (read back from JSON and ``.npz``).
    classes : sequence of str
        The states the models were fitted on.
    scheme : OccupationScheme
        Their occupation scheme.

    Returns
    -------
    list of SequenceModel
        Fitted, in the order they were packed.
    """
    models = []
    for i, record in enumerate(records):
        cls = model_class(record["model"], f"mixture component {i}")
        params = {k: json_tuples(v) for k, v in record["params"].items()}
        params = {k: None if isinstance(v, str) and v.startswith("<fitted ") else v for k, v in params.items()}
        model = cls(**params)
        prefix = f"{i}/"
        model._set_fitted(record["fitted"], {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
        model.classes_ = tuple(classes)
        model.scheme_ = scheme
        model.n_features_in_ = record["n_features_in"]
        models.append(model)
    return models
