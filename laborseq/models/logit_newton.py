"""Trust-region Newton-CG fits of the log-linear models on a dense dummy-coded design.

For the small-panel logits (tens of states, a few thousand parameters) a
second-order solver converges in a handful of iterations where L-BFGS takes
hundreds: each Newton step solves ``H d = -g`` by conjugate gradients inside a
trust region (:func:`scipy.optimize.minimize`, ``method="trust-ncg"``), with
exact Hessian-vector products in closed form (each row's curvature in its
logits, carried through the design). The design is the dense dummy-coded
matrix, which bounds the problems this solver takes (:func:`fits_dense`).

The parameters are the rows of :meth:`~laborseq.models.loglinear.LogLinear.flat_parameters`
(intercept, the non-reference levels of each categorical feature, the numeric
features) times the model's free outcome columns, and the objective is that of
:func:`~laborseq.models.loglinear.fit_loglinear`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize

if TYPE_CHECKING:
    from laborseq.models.loglinear import LogLinear, TorchData

DENSE_CELLS = 30_000_000
"""Largest dense design (rows x columns) the Newton solver builds: 240 MB in float64."""

NEWTON_PARAMETERS = 20_000
"""Largest number of parameters the Newton solver takes (beyond it, conjugate gradients need too many products)."""

NEWTON_OUTCOMES = 64
"""Most outcome columns the Newton solver takes: with hundreds of states (occ1990dd's 330) every Hessian
product costs rows x states and conjugate gradients need hundreds of them; L-BFGS is faster there."""

__all__ = ["DENSE_CELLS", "NEWTON_OUTCOMES", "NEWTON_PARAMETERS", "dense_design", "fits_dense", "newton_fit"]


def fits_dense(model: LogLinear, n_rows: int) -> bool:
    """Whether a problem of ``n_rows`` rows is small enough for :func:`newton_fit`."""
    n_columns = 1 + sum(t.shape[0] for t in model.tables.values()) + model.numeric.shape[0]
    small = n_rows * n_columns <= DENSE_CELLS and n_columns * model.width <= NEWTON_PARAMETERS
    return small and model.width <= NEWTON_OUTCOMES


def dense_design(model: LogLinear, data: TorchData) -> torch.Tensor:
    """The ``(n, p)`` dummy-coded design of ``data``, its columns in the order of ``flat_parameters``."""
    n = len(data)
    blocks = [torch.ones((n, 1), dtype=data.numeric.dtype, device=data.numeric.device)]
    for name, table in zip(model.names, model.level_tables(), strict=True):
        levels = table.shape[0]
        code = data.codes[name]
        block = F.one_hot(code, levels + 1)[:, 1:] if levels else code.new_zeros((n, 0))
        blocks.append(block.to(data.numeric.dtype))
    blocks.append(data.numeric)
    return torch.cat(blocks, dim=1)


@dataclass(frozen=True)
class _Rows:
    """Per-row quantities of the likelihood at one parameter value (see :func:`_rows`)."""

    nll: torch.Tensor
    """Negative log-likelihood of every row, ``(n,)``."""
    grad: torch.Tensor
    """Its gradient with respect to the free logits, ``(n, width)``."""
    move_probs: torch.Tensor
    """Probabilities of the (move) softmax over all ``K`` outcomes, zero where excluded, ``(n, K)``."""
    move_rows: torch.Tensor
    """1 where the row's outcome is drawn from that softmax (every row of a one-stage model), ``(n,)``."""
    stay_curvature: torch.Tensor
    """``s (1 - s)`` of the stay probability ``s`` where the row has a previous state (two-stage), else 0."""


def _full(model: LogLinear, free: torch.Tensor) -> torch.Tensor:
    """The free move or one-stage columns with the base outcome's zero column put back, ``(n, K)``."""
    move = free[:, : model.n_classes - int(model.base_class)]
    if model.base_class:
        move = torch.cat([torch.zeros_like(move[:, :1]), move], dim=1)
    return move


def _free(model: LogLinear, move: torch.Tensor, stay: torch.Tensor | None) -> torch.Tensor:
    """Back to the free columns: drop the base outcome, append the stay column (two-stage)."""
    parts = [move[:, 1:] if model.base_class else move]
    if model.two_stage:
        parts.append(stay.unsqueeze(1))
    return torch.cat(parts, dim=1)


def _rows(model: LogLinear, eta: torch.Tensor, y: torch.Tensor, prev: torch.Tensor | None) -> _Rows:
    """Likelihood, gradient and curvature of every row at the free logits ``eta``.

    One-stage: :math:`-\\log q_y` with :math:`q = \\operatorname{softmax}(z)`. Two-stage with previous
    state :math:`i` and stay probability :math:`s = \\sigma(\\eta)`: :math:`-\\log s` if :math:`y = i`, else
    :math:`-\\log(1 - s) - \\log q_y` with :math:`q` the softmax over the outcomes other than :math:`i`
    (as :func:`~laborseq.nn.heads.two_stage_log_probs`, which also treats rows without a previous state).
    """
    move = _full(model, eta)
    one_hot = y if y.ndim == 2 else F.one_hot(y, model.n_classes).to(eta.dtype)  # outcome shares, or outcomes
    if not model.two_stage:
        log_q = torch.log_softmax(move, dim=1)
        q = log_q.exp()
        nll = -(log_q * one_hot).sum(1)
        ones = torch.ones_like(nll)
        return _Rows(nll, _free(model, q - one_hot, None), q, ones, torch.zeros_like(nll))
    stay = eta[:, -1]
    has_prev = prev >= 0
    is_prev = F.one_hot(prev.clamp(min=0), model.n_classes).bool() & has_prev.unsqueeze(1)
    stayed = (y == prev) & has_prev
    log_q = torch.log_softmax(move.masked_fill(is_prev, float("-inf")), dim=1)
    q = log_q.exp()
    moved = (~stayed).to(eta.dtype)
    log_qy = torch.where(stayed, torch.zeros_like(stay), log_q.gather(1, y.unsqueeze(1)).squeeze(1))
    s = torch.sigmoid(stay)
    nll = torch.where(stayed, -F.logsigmoid(stay), -log_qy - torch.where(has_prev, F.logsigmoid(-stay), 0.0))
    grad_stay = torch.where(has_prev, s - stayed.to(eta.dtype), 0.0)
    grad_move = moved.unsqueeze(1) * (q - one_hot)
    curvature = torch.where(has_prev, s * (1 - s), 0.0)
    return _Rows(nll, _free(model, grad_move, grad_stay), q, moved, curvature)


def _curvature_product(model: LogLinear, rows: _Rows, direction: torch.Tensor) -> torch.Tensor:
    """Every row's Hessian (with respect to its free logits) times ``direction``'s row, ``(n, width)``."""
    u = _full(model, direction)
    q = rows.move_probs
    move = rows.move_rows.unsqueeze(1) * (q * u - q * (q * u).sum(1, keepdim=True))
    stay = rows.stay_curvature * direction[:, -1] if model.two_stage else None
    return _free(model, move, stay)


def newton_fit(
    model: LogLinear, data: TorchData, total_weight: float, alpha: float, max_iter: int, tol: float
) -> dict[str, float]:
    """Minimise the penalised mean negative log-likelihood of ``model`` on ``data`` in place.

    Parameters
    ----------
    model : LogLinear
        The model; its current parameters are the starting point.
    data : TorchData
        Rows with standardised numeric features.
    total_weight : float
        Sum of the row weights (the objective is a weighted mean).
    alpha : float
        L2 penalty on everything but the intercepts.
    max_iter : int
        Newton iterations at most.
    tol : float
        Gradient tolerance: the fit has converged when no gradient entry exceeds ``max(1e3 * tol, 1e-6)``.

    Returns
    -------
    dict
        ``objective``, ``iterations``, ``converged`` (as :func:`~laborseq.models.loglinear.fit_loglinear`).

    Notes
    -----
    A penalised fit runs in contrasts of the outcome columns (:func:`_contrast_basis`).
    """
    design = dense_design(model, data)
    dtype, device = design.dtype, design.device
    shape = (design.shape[1], model.width)
    weights = (data.weights / total_weight).unsqueeze(1)
    penalty = torch.full(shape, alpha, dtype=dtype, device=device)
    penalty[0] = 0.0  # intercepts are not penalised
    basis = _contrast_basis(model, dtype, device)
    start = torch.as_tensor(model.flat_parameters(), dtype=dtype, device=device)
    left, right = _kronecker_factors(model, design, weights, _rows(model, design @ start, data.y, data.prev), alpha)
    left_root, left_inverse = _roots(left)
    right_root, right_inverse = _roots(basis.T @ right @ basis)
    cache: dict[str, object] = {}

    def coefficients(z: np.ndarray) -> torch.Tensor:
        matrix = torch.as_tensor(z, dtype=dtype, device=device).view(shape[0], -1)
        return left_inverse @ matrix @ right_inverse @ basis.T

    def contrasts(coef_like: torch.Tensor) -> torch.Tensor:
        return left_inverse @ coef_like @ basis @ right_inverse

    def rows_at(z: np.ndarray) -> tuple[torch.Tensor, _Rows]:
        if cache.get("z") is None or not np.array_equal(cache["z"], z):
            coef = coefficients(z)
            cache.update(z=z.copy(), coef=coef, rows=_rows(model, design @ coef, data.y, data.prev))
        return cache["coef"], cache["rows"]

    def objective(z: np.ndarray) -> tuple[float, torch.Tensor]:
        """The objective and its gradient in every coefficient (not only the contrasts)."""
        coef, rows = rows_at(z)
        value = (weights.squeeze(1) * rows.nll).sum() + 0.5 * (penalty * coef**2).sum()
        return float(value), design.T @ (weights * rows.grad) + penalty * coef

    def value_and_gradient(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(z)
        return value, contrasts(grad).reshape(-1).cpu().numpy()

    def hessian_product(z: np.ndarray, v: np.ndarray) -> np.ndarray:
        _, rows = rows_at(z)
        direction = coefficients(v)
        product = design.T @ (weights * _curvature_product(model, rows, design @ direction))
        return contrasts(product + penalty * direction).reshape(-1).cpu().numpy()

    start = left_root @ start @ basis @ right_root
    threshold = max(tol * 1e3, 1e-6)
    result = minimize(
        value_and_gradient,
        start.reshape(-1).cpu().numpy(),
        jac=True,
        hessp=hessian_product,
        method="trust-ncg",
        options={"gtol": min(tol * 1e3, 1e-6), "maxiter": max_iter},  # quadratic convergence: tight is cheap
    )
    coef, _ = rows_at(result.x)
    model.load_flat_parameters(coef.cpu().numpy())
    final, gradient = objective(result.x)
    largest = float(gradient.abs().max()) if gradient.numel() else 0.0
    return {"objective": final, "iterations": int(result.nit), "converged": largest <= threshold}


def _kronecker_factors(
    model: LogLinear, design: torch.Tensor, weights: torch.Tensor, rows: _Rows, alpha: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(A, B)`` with the Hessian about ``A ⊗ B``: the preconditioner of the conjugate gradients.

    The Hessian is :math:`\\sum_i w_i\\, x_i x_i^\\top \\otimes M_i` with :math:`M_i` the curvature of row
    :math:`i`'s likelihood in its logits. With :math:`c_i` the mean diagonal of :math:`M_i`,
    :math:`A = \\sum_i w_i c_i x_i x_i^\\top` (plus the penalty) captures how the design's columns go
    together (a level and the intercept, correlated features) and :math:`B = \\bar M / \\bar c` how
    the outcomes do. Solving in the variables :math:`A^{1/2} \\beta B^{1/2}` leaves conjugate gradients
    a nearly well-conditioned system.
    """
    q = rows.move_probs
    moved = weights.squeeze(1) * rows.move_rows
    move = torch.diag(moved @ q) - (q * moved.unsqueeze(1)).T @ q  # sum_i w_i (diag(q_i) - q_i q_i')
    curvature = rows.move_rows * (q * (1 - q)).sum(1)
    if model.two_stage:
        stay = (weights.squeeze(1) * rows.stay_curvature).sum()
        move = torch.block_diag(move, stay.reshape(1, 1))
        curvature = curvature + rows.stay_curvature
    free = torch.arange(int(model.base_class), move.shape[0], device=move.device)
    outcomes = move[free][:, free]
    per_row = curvature / model.width
    mean = float((weights.squeeze(1) * per_row).sum())
    columns = design.T @ (design * (weights * per_row.unsqueeze(1)))
    ridge = torch.full((design.shape[1],), alpha, dtype=design.dtype, device=design.device)
    ridge[0] = 0.0
    return columns + torch.diag(ridge), outcomes / max(mean, 1e-12)


def _roots(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Square root of a symmetric positive semi-definite matrix and of its (regularised) inverse."""
    values, vectors = torch.linalg.eigh(matrix)
    floor = 1e-10 * float(values.abs().max()) if values.numel() else 0.0
    values = values.clamp(min=max(floor, 1e-300))
    return (vectors * values.sqrt()) @ vectors.T, (vectors * values.rsqrt()) @ vectors.T


def _contrast_basis(model: LogLinear, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Orthonormal columns spanning the identified directions of a coefficient row, ``(width, free)``.

    Without a base outcome (a penalised fit) the likelihood does not change when the same constant is
    added to every outcome's (move) logit, so those directions carry only the penalty's curvature and
    the optimum has rows that sum to zero over the outcomes: the fit runs in the orthogonal complement
    (conjugate gradients would otherwise crawl along them). With a base outcome, the identity.
    """
    if model.base_class:
        return torch.eye(model.width, dtype=dtype, device=device)
    k = model.n_classes
    centred = torch.eye(k, dtype=dtype) - 1.0 / k
    basis, _, _ = torch.linalg.svd(centred)
    contrasts = basis[:, : k - 1]
    if model.two_stage:
        contrasts = torch.block_diag(contrasts, torch.ones((1, 1), dtype=dtype))
    return contrasts.to(device)
