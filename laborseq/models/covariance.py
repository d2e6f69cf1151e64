"""Covariance of the multinomial logit: closed-form score, Hessian and sandwich estimators.

Notation: :math:`x_i` is the dummy-coded design row of transition :math:`i`
(:attr:`~laborseq.models.features.EncodedFeatures.column_names`), :math:`w_i` its
weight (1 when unweighted), :math:`p_i` the fitted probabilities of the free outcomes
and :math:`e_{y_i}` the indicator of the observed one. Parameters are stacked
outcome by outcome (:math:`\\theta = (\\beta_{j_1}, \\beta_{j_2}, \\ldots)`, the
order of statsmodels). The score and Hessian of the log-likelihood are

.. math::

    s_i = w_i\\,(e_{y_i} - p_i) \\otimes x_i, \\qquad
    H = -\\sum_i w_i\\,(\\operatorname{diag}(p_i) - p_i p_i^\\top) \\otimes x_i x_i^\\top .

``"nonrobust"`` is :math:`(-H)^{-1}`; ``"robust"`` the sandwich
:math:`(-H)^{-1} (\\sum_i s_i s_i^\\top) (-H)^{-1}` (statsmodels' ``HC0``);
``"cluster"`` the sandwich with the scores summed within person, times
:math:`\\frac{G}{G-1}\\frac{N-1}{N-K}` (:math:`G` persons, :math:`N` transitions,
:math:`K` parameters), exactly as statsmodels' ``cov_type="cluster"``. With a
penalty :math:`\\alpha > 0` the Hessian of the penalised objective adds
:math:`-W\\alpha D` (:math:`W` the total weight, :math:`D` the penalty's diagonal:
1 for dummies, the squared training standard deviation for numeric features, 0 for
intercepts) and is inverted with the pseudo-inverse: intercepts are identified only up
to a common constant when every outcome has free parameters. Penalised standard
errors are approximate (they ignore the shrinkage bias).

The score blocks are formed in chunks of persons, so memory stays bounded; the cost
grows as transitions times parameters squared, hence :data:`MAX_ANALYTIC_PARAMS`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from laborseq.models.features import EncodedFeatures

CovType = Literal["cluster", "robust", "nonrobust"]
COV_TYPES: tuple[str, ...] = ("cluster", "robust", "nonrobust")

MAX_ANALYTIC_PARAMS = 5_000
"""Largest number of free parameters (design columns times free outcomes) for which the
analytic covariance is formed; above it
:meth:`~laborseq.models.results.MNLogitResults.bootstrap_se` is the way.
The cost grows as transitions times parameters squared (dense design, on the CPU): at the
limit, about a minute per 20,000 transitions on two cores."""

_CHUNK_ELEMENTS = 1 << 22  # rows per chunk times parameters: bounds the memory of the score blocks


class CovarianceUnavailableError(ValueError):
    """Raised when a results object has no (analytic) covariance, with the reason and the alternative."""


@dataclass(frozen=True)
class Transitions:
    """The transitions a fitted MNLogit is scored on, with the fitted log-probabilities.

    Attributes
    ----------
    features : EncodedFeatures
        Encoded features of the transitions (the rows of the design matrix).
    y : numpy.ndarray
        Observed outcome of each transition, as an index into the model's ``outcomes_``.
    weights : numpy.ndarray
        Weight of each transition (ones when unweighted).
    groups : numpy.ndarray
        Person code of each transition, ``0, 1, ...``, contiguous by person.
    log_probs : numpy.ndarray
        Fitted log-probabilities, shape ``(n, n_outcomes)``.
    """

    features: EncodedFeatures
    y: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    log_probs: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    @property
    def n_groups(self) -> int:
        """Number of persons (clusters)."""
        return int(self.groups.max()) + 1


def person_starts(persons: np.ndarray) -> np.ndarray:
    """Row index at which each run of equal person codes starts.

    Parameters
    ----------
    persons : numpy.ndarray
        Person code of each row, contiguous by person.

    Returns
    -------
    numpy.ndarray
        Increasing start indices, the first one 0.
    """
    return np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]])


def _slice_features(x: EncodedFeatures, rows: slice) -> EncodedFeatures:
    """The encoded features of a range of rows.

    Parameters
    ----------
    x : EncodedFeatures
        Encoded features of all rows.
    rows : slice
        The rows to keep.

    Returns
    -------
    EncodedFeatures
        Same levels and numeric names, those rows only.
    """
    return EncodedFeatures({k: v[rows] for k, v in x.codes.items()}, x.levels, x.numeric_names, x.numeric[rows])


def _person_chunks(groups: np.ndarray, rows_per_chunk: int) -> Iterator[slice]:
    """Consecutive row ranges of about ``rows_per_chunk`` rows that never split a person.

    Parameters
    ----------
    groups : numpy.ndarray
        Person code of each row, contiguous by person.
    rows_per_chunk : int
        Target number of rows per range.

    Yields
    ------
    slice
        Ranges covering every row once, in order.
    """
    n = len(groups)
    bounds = np.r_[person_starts(groups), n]
    targets = np.arange(rows_per_chunk, n, rows_per_chunk)
    cuts = np.unique(np.r_[0, bounds[np.searchsorted(bounds, targets)], n])
    for start, stop in itertools.pairwise(cuts):
        yield slice(int(start), int(stop))


def penalty_diagonal(data: Transitions) -> np.ndarray:
    """Diagonal of the L2 penalty per design column, on the raw scale of the numeric features.

    The torch fit penalises coefficients of standardised numeric features (weighted
    mean and standard deviation of the training rows), so a raw numeric coefficient
    carries its squared standard deviation; dummies carry 1 and the intercept 0.

    Parameters
    ----------
    data : Transitions
        The training transitions.

    Returns
    -------
    numpy.ndarray
        One entry per design column (``const``, dummies, numeric features).
    """
    x = data.features
    w = data.weights / data.weights.sum()
    mean = w @ x.numeric
    scale = np.sqrt(w @ (x.numeric - mean) ** 2)
    scale = np.where(scale > 0, scale, 1.0)
    n_dummies = sum(max(len(v) - 1, 0) for v in x.levels.values())
    return np.r_[0.0, np.ones(n_dummies), scale**2]


def score_and_hessian(
    data: Transitions, free: np.ndarray, cov_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Total score, negative Hessian and meat of the log-likelihood (no penalty).

    Parameters
    ----------
    data : Transitions
        Transitions with fitted log-probabilities.
    free : numpy.ndarray
        Indices (into the model's outcomes) of the outcomes with free parameters.
    cov_type : str
        ``"cluster"``: meat from person sums of the scores; otherwise from the
        per-transition scores.

    Returns
    -------
    score : (K,) array
    neg_hessian : (K, K) array
    meat : (K, K) array
        Zero for ``"nonrobust"``.
    n_groups : int
    """
    p = len(data.features.column_names)
    n_free = len(free)
    k = p * n_free
    score = np.zeros(k)
    neg_h = np.zeros((k, k))
    meat = np.zeros((k, k))
    rows_per_chunk = max(64, _CHUNK_ELEMENTS // max(k, 1))
    for rows in _person_chunks(data.groups, rows_per_chunk):
        xc = _slice_features(data.features, rows).design_matrix()
        wc = data.weights[rows]
        pc = np.exp(data.log_probs[rows][:, free])
        ec = (data.y[rows][:, None] == free[None, :]).astype(float)
        for j in range(n_free):
            block = slice(j * p, (j + 1) * p)
            neg_h[block, block] += (xc * (wc * pc[:, j])[:, None]).T @ xc
        outer = ((np.sqrt(wc)[:, None] * pc)[:, :, None] * xc[:, None, :]).reshape(len(wc), k)
        neg_h -= outer.T @ outer
        scores = ((wc[:, None] * (ec - pc))[:, :, None] * xc[:, None, :]).reshape(len(wc), k)
        score += scores.sum(axis=0)
        if cov_type == "nonrobust":
            continue  # no meat needed
        if cov_type == "cluster":
            scores = np.add.reduceat(scores, person_starts(data.groups[rows]), axis=0)
        meat += scores.T @ scores
    return score, neg_h, meat, data.n_groups


IDENTIFIED_RCOND = 1e-10
"""Relative eigenvalue below which a direction of the (scaled) Hessian counts as not identified, where
:func:`mnlogit_covariance` is asked for the identified part only."""


def _identified_inverse(neg_h: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of the negative Hessian restricted to its identified directions.

    The Hessian is first scaled to unit diagonal (so that a covariate's units do not
    count as ill-conditioning); eigenvalues below :data:`IDENTIFIED_RCOND` times the
    largest are directions the likelihood does not identify (collinear dummies), and the
    pseudo-inverse leaves them out. Identified functions of the parameters, such as
    predicted probabilities and average marginal effects, have Jacobians orthogonal to
    those directions, so their delta-method variance is unchanged by dropping them,
    and it no longer drowns in the rounding errors of a near-singular inverse.
    """
    diagonal = np.diag(neg_h).copy()
    scale = np.where(diagonal > 0, 1 / np.sqrt(np.where(diagonal > 0, diagonal, 1)), 0.0)
    scaled = neg_h * scale[:, None] * scale[None, :]
    return np.linalg.pinv(scaled, rtol=IDENTIFIED_RCOND, hermitian=True) * scale[:, None] * scale[None, :]


def mnlogit_covariance(
    data: Transitions, free: np.ndarray, cov_type: str, alpha: float, *, identified: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Covariance of the stacked free parameters (see the module docstring for the formulas).

    Parameters
    ----------
    data : Transitions
        The training transitions with fitted log-probabilities.
    free : numpy.ndarray
        Indices (into the model's outcomes) of the outcomes with free parameters.
    cov_type : {"cluster", "robust", "nonrobust"}
        Estimator of the covariance.
    alpha : float
        L2 penalty of the fit (0: maximum likelihood).
    identified : bool
        Also return the same estimator with the unpenalised Hessian inverted on its
        identified directions only (:func:`_identified_inverse`), from the same pass over
        the data: for the delta method of identified functions of the parameters (average
        marginal effects), not for the parameters' own standard errors.

    Returns
    -------
    cov : numpy.ndarray
        Symmetric ``(K, K)`` covariance, parameters stacked outcome by outcome.
    identified_cov : numpy.ndarray or None
        Its identified-directions version (``None`` unless asked for; with a penalty, ``cov`` itself).

    Raises
    ------
    CovarianceUnavailableError
        When the unpenalised Hessian is singular, or a clustered covariance has
        fewer than two persons.
    """
    _, neg_h, meat, n_groups = score_and_hessian(data, free, cov_type)
    k = neg_h.shape[0]
    n = len(data)
    if cov_type == "cluster" and n_groups < 2:
        raise CovarianceUnavailableError("cluster-robust covariance needs at least two persons")

    def sandwich(bread: np.ndarray) -> np.ndarray:
        cov = bread if cov_type == "nonrobust" else bread @ meat @ bread
        if cov_type == "cluster":
            cov = cov * (n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k))
        return (cov + cov.T) / 2

    if alpha > 0:
        penalty = data.weights.sum() * alpha * np.tile(penalty_diagonal(data), len(free))
        cov = sandwich(np.linalg.pinv(neg_h + np.diag(penalty), hermitian=True))
        return cov, cov if identified else None
    try:
        bread = np.linalg.inv(neg_h)
    except np.linalg.LinAlgError as err:
        raise CovarianceUnavailableError(
            "the Hessian of the log-likelihood is singular: some parameter is not identified "
            "(a design column without variation, or a level never seen with some outcome); "
            "use fewer features or alpha > 0"
        ) from err
    return sandwich(bread), sandwich(_identified_inverse(neg_h)) if identified else None
