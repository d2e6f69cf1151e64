"""Average marginal effects of the multinomial logit and their Jacobian, in torch.

For every contrast (:mod:`laborseq.models.contrasts`) of a fitted
:class:`~laborseq.models.MNLogit` (a level of a categorical feature against its
reference level, a 0/1 numeric feature switched from 0 to 1, or the derivative with
respect to a numeric feature),
:func:`average_effects` computes the (weighted) average over the given transitions
of the change in each predicted quantity:

- ``"probability"``: :math:`P(y_t = j \\mid x_t)`, for every outcome state :math:`j`;
- with the two-stage head also ``"move"``, :math:`P(y_t \\ne y_{t-1} \\mid x_t)`, and
  ``"destination"``, the share :math:`P(y_t = j \\mid x_t, y_t \\ne y_{t-1})`.

Discrete changes are counterfactual: every transition's feature is set to the
level (or to 1) and to the reference (or to 0), the other features kept as
observed, and the two predictions differ. The derivative is
:math:`\\partial q / \\partial x_k` at the observed values, by forward-mode
differentiation of the head in the direction of the feature's coefficients.

The Jacobian of each average effect with respect to the stacked parameters
(outcome by outcome, as :attr:`MNLogitResults.cov <laborseq.models.results.MNLogitResults.cov>`
orders them) is taken by reverse-mode automatic differentiation; with the
parameters' covariance :math:`V` it gives the delta-method covariance
:math:`J V J^\\top` of the effects. Like Stata's ``margins`` and statsmodels'
``get_margeff``, this treats the transitions averaged over as fixed; the person
bootstrap (:mod:`laborseq.models.person_bootstrap`) also resamples them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from laborseq.models.contrasts import Contrast
from laborseq.models.features import EncodedFeatures

if TYPE_CHECKING:
    from laborseq.models.loglinear import LogLinear

__all__ = ["average_effects"]

_ELEMENTS_PER_CHUNK = 2**24
"""Rows of a chunk times outputs times logits: bounds the memory of one Jacobian pass (about 128 MB in float64)."""


# ======================================================================= the predicted quantities
def _quantities(model: LogLinear, eta: torch.Tensor, prev: torch.Tensor | None) -> torch.Tensor:
    """Predicted probabilities of every outcome; with the two-stage head also P(move) and the destination shares.

    Returns shape ``(n, K)`` or ``(n, 2K + 1)``: probabilities, move, destinations.
    """
    probs = model.head_log_probs(eta, prev).exp()
    if not model.two_stage:
        return probs
    move, stay = eta[:, :-1], eta[:, -1]
    if model.base_class:
        move = torch.cat([torch.zeros_like(move[:, :1]), move], dim=1)
    is_prev = F.one_hot(prev.clamp(min=0), move.shape[1]).bool() & (prev >= 0).unsqueeze(1)
    destination = torch.softmax(move.masked_fill(is_prev, float("-inf")), dim=1)
    return torch.cat([probs, torch.sigmoid(-stay).unsqueeze(1), destination], dim=1)


def _split(theta: torch.Tensor, model: LogLinear) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """The flat parameter matrix (terms x logits) as intercept, level tables and numeric coefficients."""
    tables, row = [], 1
    for table in model.level_tables():
        tables.append(theta[row : row + table.shape[0]])
        row += table.shape[0]
    return theta[0], tables, theta[row:]


def _level_rows(table: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Each row's coefficients of a categorical feature (zero at the reference level)."""
    padded = torch.cat([torch.zeros_like(table[:1]), table])
    return padded[codes]


def _effect_function(
    model: LogLinear,
    contrast: Contrast,
    codes: dict[str, torch.Tensor],
    numeric: torch.Tensor,
    prev: torch.Tensor | None,
    weights: torch.Tensor,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The weighted sum over rows of one contrast's effect on every quantity, as a function of the parameters."""
    names = list(model.names)

    def effect(theta: torch.Tensor) -> torch.Tensor:
        intercept, tables, coef = _split(theta, model)
        eta = intercept + numeric @ coef
        for name, table in zip(names, tables, strict=True):
            eta = eta + _level_rows(table, codes[name])
        if contrast.kind == "level":
            table = tables[names.index(contrast.variable)]
            base = eta - _level_rows(table, codes[contrast.variable])
            diff = _quantities(model, base + table[contrast.index - 1], prev) - _quantities(model, base, prev)
        elif contrast.kind == "change":
            base = eta - numeric[:, contrast.index : contrast.index + 1] * coef[contrast.index]
            diff = _quantities(model, base + coef[contrast.index], prev) - _quantities(model, base, prev)
        else:
            direction = coef[contrast.index].expand_as(eta)
            _, diff = torch.func.jvp(lambda e: _quantities(model, e, prev), (eta,), (direction,))
        return weights @ diff

    return effect


def _row_chunks(n: int, n_outputs: int, width: int, jacobian: bool) -> list[slice]:
    per_row = max(1, width * (n_outputs if jacobian else 4))
    size = max(256, _ELEMENTS_PER_CHUNK // per_row)
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def average_effects(
    model: LogLinear,
    x: EncodedFeatures,
    prev: np.ndarray | None,
    weights: np.ndarray | None,
    effects: Sequence[Contrast],
    *,
    jacobian: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Average marginal effects over the rows of ``x``, and optionally their Jacobian.

    Parameters
    ----------
    model : LogLinear
        The fitted transition model.
    x : EncodedFeatures
        The transitions averaged over.
    prev : numpy.ndarray, optional
        Their previous states (the two-stage head needs them).
    weights : numpy.ndarray, optional
        Their weights (``None``: equal).
    effects : sequence of Contrast
        The contrasts (:func:`contrasts`).
    jacobian : bool
        Also return the Jacobian with respect to the stacked parameters.

    Returns
    -------
    effects : numpy.ndarray
        Shape ``(len(effects), Q)``: ``Q = K`` probabilities, or ``2K + 1`` with the
        two-stage head (probabilities, P(move), destination shares).
    jacobian : numpy.ndarray or None
        Shape ``(len(effects), Q, P)``, ``P`` the parameters stacked outcome by outcome
        (the layout of :attr:`MNLogitResults.cov <laborseq.models.results.MNLogitResults.cov>`).
    """
    dtype = torch.float64
    with torch.no_grad():
        theta = torch.as_tensor(model.flat_parameters(), dtype=dtype)
    n, (n_terms, width) = len(x), theta.shape
    n_out = 2 * model.n_classes + 1 if model.two_stage else model.n_classes
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    total = float(w.sum())
    values = np.zeros((len(effects), n_out))
    jac = np.zeros((len(effects), n_out, n_terms * width)) if jacobian else None
    for rows in _row_chunks(n, n_out, width, jacobian):
        codes = {k: torch.as_tensor(v[rows], dtype=torch.long) for k, v in x.codes.items()}
        numeric = torch.as_tensor(x.numeric[rows], dtype=dtype)
        prev_t = None if prev is None else torch.as_tensor(prev[rows], dtype=torch.long)
        w_t = torch.as_tensor(w[rows], dtype=dtype)
        for i, contrast in enumerate(effects):
            function = _effect_function(model, contrast, codes, numeric, prev_t, w_t)
            if jac is None:
                with torch.no_grad():
                    values[i] += function(theta).numpy()
                continue
            grads = torch.func.jacrev(function)(theta)  # (Q, terms, logits)
            values[i] += function(theta).detach().numpy()
            jac[i] += grads.transpose(1, 2).reshape(n_out, -1).numpy()  # stacked outcome by outcome
    values /= total
    if jac is not None:
        jac /= total
    return values, jac
