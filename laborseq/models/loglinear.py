"""A weighted, optionally penalised multinomial logit in torch, for hundreds of states.

The linear predictor is written with lookup tables instead of a dense dummy
matrix: each categorical feature contributes one row of its coefficient table
(the reference level's row is fixed at zero), numeric features a matrix
product, plus an intercept. This is exactly the dummy-coded multinomial logit
of statsmodels (same parameters, same likelihood) but costs memory in the
number of observations times states only.

This is the one module of the logits that imports torch. :func:`fit_encoded`,
:func:`predict_encoded`, :func:`state_arrays` and :func:`load_state_arrays` take
and return numpy arrays, so that :class:`~laborseq.models.MNLogit` and the
first-year model import it only when they fit, predict or load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from laborseq.models.features import EncodedFeatures
from laborseq.models.logit_newton import fits_dense, newton_fit
from laborseq.nn.heads import two_stage_log_probs

Solver = Literal["auto", "newton", "lbfgs", "adam"]
"""Optimisers of :func:`fit_loglinear`."""

SMALL_PROBLEM = 2_000_000
"""Below this many logits (rows x outcomes) CPU fits run on one thread."""


class LogLinear(nn.Module):
    """Multinomial logit over ``n_classes`` outcomes with lookup-table features.

    Parameters
    ----------
    n_levels : dict of str to int
        Number of levels of each categorical feature (level 0 is the reference).
    n_numeric : int
        Number of numeric features.
    n_classes : int
        Number of outcomes.
    two_stage : bool
        Add a stay logit and use the shared two-stage head (needs the previous state).
    base_class : bool
        Fix the logits of outcome 0 at zero (identification, as in statsmodels);
        with the two-stage head this applies to the move logits.
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(
        self,
        n_levels: dict[str, int],
        n_numeric: int,
        n_classes: int,
        *,
        two_stage: bool = False,
        base_class: bool = True,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.two_stage = two_stage
        self.base_class = base_class
        width = n_classes - int(base_class) + int(two_stage)
        self.width = width
        self.intercept = nn.Parameter(torch.zeros(width, dtype=dtype))
        self.tables = nn.ParameterDict(
            {_key(k): nn.Parameter(torch.zeros(max(n - 1, 0), width, dtype=dtype)) for k, n in n_levels.items()}
        )
        self.numeric = nn.Parameter(torch.zeros(n_numeric, width, dtype=dtype))
        self.names = list(n_levels)

    def level_tables(self) -> list[torch.Tensor]:
        """The coefficient tables of the categorical features, in feature order."""
        return [self.tables[_key(name)] for name in self.names]

    def linear_predictor(self, codes: dict[str, torch.Tensor], numeric: torch.Tensor) -> torch.Tensor:
        """The free logits, shape ``(n, width)``.

        All categorical effects are summed by one ``embedding_bag`` over the
        stacked coefficient tables (a shared zero row stands for every reference
        level), which avoids one ``(n, width)`` temporary per feature.
        """
        eta = torch.addmm(self.intercept.expand(numeric.shape[0], -1), numeric, self.numeric)
        tables = self.level_tables()
        if not tables or sum(t.shape[0] for t in tables) == 0:
            return eta
        zero = torch.zeros(1, self.width, dtype=eta.dtype, device=eta.device)
        weight = torch.cat([zero, *tables])
        columns, base = [], 1
        for name, table in zip(self.names, tables, strict=True):
            code = codes[name]
            columns.append(torch.where(code > 0, code - 1 + base, 0))
            base += table.shape[0]
        return eta + F.embedding_bag(torch.stack(columns, dim=1), weight, mode="sum")

    def log_probs(
        self, codes: dict[str, torch.Tensor], numeric: torch.Tensor, prev: torch.Tensor | None
    ) -> torch.Tensor:
        """Log-probabilities over all ``n_classes`` outcomes, shape ``(n, n_classes)``."""
        return self.head_log_probs(self.linear_predictor(codes, numeric), prev)

    def head_log_probs(self, eta: torch.Tensor, prev: torch.Tensor | None) -> torch.Tensor:
        """Log-probabilities over all ``n_classes`` outcomes from the free logits ``eta``, ``(n, width)``."""
        if self.two_stage:
            move, stay = eta[:, :-1], eta[:, -1:]
            if self.base_class:
                move = torch.cat([torch.zeros_like(move[:, :1]), move], dim=1)
            if prev is None:
                raise ValueError("the two-stage head needs the previous state")
            return two_stage_log_probs(torch.cat([move, stay], dim=1), prev)
        if self.base_class:
            eta = torch.cat([torch.zeros_like(eta[:, :1]), eta], dim=1)
        return torch.log_softmax(eta, dim=1)

    def penalty(self) -> torch.Tensor:
        """Sum of squared coefficients, intercepts excluded."""
        total = (self.numeric**2).sum()
        for table in self.tables.values():
            total = total + (table**2).sum()
        return total

    def flat_parameters(self) -> np.ndarray:
        """All parameters as one vector (intercept, tables in feature order, numeric), row-major."""
        parts = [self.intercept.detach().reshape(1, -1)]
        parts += [table.detach() for table in self.level_tables()]
        parts.append(self.numeric.detach())
        return torch.cat(parts, dim=0).cpu().numpy()

    def load_flat_parameters(self, flat: np.ndarray) -> None:
        """Fill the parameters from a matrix laid out as :meth:`flat_parameters` returns it.

        Rows: intercept, the non-reference levels of each categorical feature in
        order, then the numeric features (the dummy-coded design of statsmodels).
        """
        flat_tensor = torch.as_tensor(np.asarray(flat), dtype=self.intercept.dtype, device=self.intercept.device)
        with torch.no_grad():
            self.intercept.copy_(flat_tensor[0])
            row = 1
            for table in self.level_tables():
                table.copy_(flat_tensor[row : row + table.shape[0]])
                row += table.shape[0]
            self.numeric.copy_(flat_tensor[row : row + self.numeric.shape[0]])


def _key(name: str) -> str:
    """ParameterDict keys may not contain dots."""
    return name.replace(".", "_").replace(":", "__")


@dataclass(frozen=True)
class TorchData:
    """Encoded features and outcomes as tensors on one device."""

    codes: dict[str, torch.Tensor]
    numeric: torch.Tensor
    y: torch.Tensor
    prev: torch.Tensor | None
    weights: torch.Tensor

    def __len__(self) -> int:
        return self.y.shape[0]

    def slice(self, start: int, stop: int) -> TorchData:
        """Rows ``start:stop``."""
        return TorchData(
            {k: v[start:stop] for k, v in self.codes.items()},
            self.numeric[start:stop],
            self.y[start:stop],
            None if self.prev is None else self.prev[start:stop],
            self.weights[start:stop],
        )


def to_torch(
    features: EncodedFeatures,
    y: np.ndarray,
    prev: np.ndarray | None,
    weights: np.ndarray | None,
    *,
    dtype: torch.dtype,
    device: torch.device | str,
) -> TorchData:
    """Move encoded features, outcomes, previous states and weights to ``device``."""
    n = len(features)
    w = np.ones(n) if weights is None else weights
    return TorchData(
        {k: torch.as_tensor(v, dtype=torch.long, device=device) for k, v in features.codes.items()},
        torch.as_tensor(features.numeric, dtype=dtype, device=device),
        torch.as_tensor(y, dtype=torch.long if np.ndim(y) == 1 else dtype, device=device),
        None if prev is None else torch.as_tensor(prev, dtype=torch.long, device=device),
        torch.as_tensor(w, dtype=dtype, device=device),
    )


def weighted_nll(model: LogLinear, data: TorchData) -> torch.Tensor:
    """Sum over rows of ``-w_i log p(y_i)``; with outcome shares ``y`` (rows of ``(n, K)``), of
    ``-w_i sum_j y_ij log p_j`` (rows of identical features aggregated, :func:`aggregate_rows`)."""
    if model.two_stage:
        logp = model.log_probs(data.codes, data.numeric, data.prev)
        if data.y.ndim != 1:
            raise ValueError("the two-stage head needs one outcome per row, not outcome shares")
        return -(data.weights * logp.gather(1, data.y.unsqueeze(1)).squeeze(1)).sum()
    eta = model.linear_predictor(data.codes, data.numeric)
    if model.base_class:
        eta = torch.cat([torch.zeros_like(eta[:, :1]), eta], dim=1)
    return (data.weights * F.cross_entropy(eta, data.y, reduction="none")).sum()


def fit_loglinear(
    model: LogLinear,
    data: TorchData,
    *,
    alpha: float,
    solver: Solver = "auto",
    max_iter: int = 500,
    tol: float = 1e-10,
    chunk_size: int = 65_536,
    lr: float = 0.05,
    epochs: int = 50,
    batch_size: int = 4096,
    seed: int = 0,
) -> dict[str, float]:
    """Maximise the weighted log-likelihood minus ``alpha / 2`` times the squared coefficients.

    Numeric features are standardised during the fit (better conditioning; the
    penalty applies to coefficients of standardised features, as in glmnet) and
    the coefficients are put back on the raw scale afterwards.

    The objective is :math:`\\frac{1}{W}\\sum_i w_i \\log p(y_i) - \\frac{\\alpha}{2}\\lVert\\beta\\rVert^2`
    (:math:`W` the total weight; intercepts not penalised). ``"newton"`` is a
    trust-region Newton-CG on the dense design
    (:mod:`laborseq.models.logit_newton`: a handful of iterations, for problems
    up to :data:`~laborseq.models.logit_newton.DENSE_CELLS` design cells and
    :data:`~laborseq.models.logit_newton.NEWTON_PARAMETERS` parameters);
    ``"lbfgs"`` is full batch (gradients accumulated over chunks of
    ``chunk_size`` rows, so memory stays bounded); ``"adam"`` uses shuffled
    minibatches; ``"auto"`` is ``"newton"`` where the problem fits it, else
    ``"lbfgs"``.

    Returns
    -------
    dict
        ``objective`` (final penalised mean NLL), ``iterations``, ``converged``.
    """
    total_weight = float(data.weights.sum())
    if total_weight <= 0:
        raise ValueError("the training rows have zero total weight")
    mean, scale = _standardization(data)
    data = TorchData(data.codes, (data.numeric - mean) / scale, data.y, data.prev, data.weights)
    if solver == "auto":
        solver = "newton" if fits_dense(model, len(data)) else "lbfgs"
    threads = torch.get_num_threads()
    if solver != "newton" and len(data) * model.width < SMALL_PROBLEM and data.y.device.type == "cpu":
        torch.set_num_threads(1)  # small first-order problems are latency-bound: threads only add synchronisation
    try:
        settings = (alpha, solver, max_iter, tol, chunk_size, lr, epochs, batch_size, seed)
        return _optimize(model, data, total_weight, *settings)
    finally:
        torch.set_num_threads(threads)
        with torch.no_grad():  # back to the raw scale of the numeric features
            model.numeric.div_(scale.unsqueeze(1))
            model.intercept.sub_((mean.unsqueeze(1) * model.numeric).sum(0))


def _standardization(data: TorchData) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean and standard deviation of each numeric feature (1 where it does not vary)."""
    w = data.weights / data.weights.sum()
    mean = (w.unsqueeze(1) * data.numeric).sum(0)
    var = (w.unsqueeze(1) * (data.numeric - mean) ** 2).sum(0)
    scale = torch.sqrt(var)
    return mean, torch.where(scale > 0, scale, torch.ones_like(scale))


def _optimize(
    model: LogLinear,
    data: TorchData,
    total_weight: float,
    alpha: float,
    solver: str,
    max_iter: int,
    tol: float,
    chunk_size: int,
    lr: float,
    epochs: int,
    batch_size: int,
    seed: int,
) -> dict[str, float]:
    """Run the optimiser on standardised features (see :func:`fit_loglinear`)."""
    if solver == "newton":
        return newton_fit(model, data, total_weight, alpha, max_iter, tol)

    def objective(backward: bool) -> torch.Tensor:
        value = torch.zeros((), dtype=model.intercept.dtype, device=model.intercept.device)
        for start in range(0, len(data), chunk_size):
            part = weighted_nll(model, data.slice(start, start + chunk_size)) / total_weight
            if backward:
                part.backward()
            value = value + part.detach()
        reg = 0.5 * alpha * model.penalty()
        if backward and alpha > 0:
            reg.backward()
        return value + reg.detach()

    if solver == "lbfgs":
        optimizer = torch.optim.LBFGS(
            model.parameters(),
            lr=1.0,
            max_iter=max_iter,
            tolerance_grad=tol,
            tolerance_change=tol * 1e-3,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            return objective(backward=True)

        optimizer.step(closure)
        state = optimizer.state[optimizer._params[0]]
        iterations = int(state.get("n_iter", 0))
        with torch.no_grad():
            final = float(objective(backward=False))
        grad_norm = _grad_max(model, objective)
        return {"objective": final, "iterations": iterations, "converged": bool(grad_norm <= max(tol * 1e3, 1e-6))}
    if solver == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        for _ in range(epochs):
            order = torch.randperm(len(data), generator=gen).to(data.y.device)
            for start in range(0, len(data), batch_size):
                idx = order[start : start + batch_size]
                batch = TorchData(
                    {k: v[idx] for k, v in data.codes.items()},
                    data.numeric[idx],
                    data.y[idx],
                    None if data.prev is None else data.prev[idx],
                    data.weights[idx],
                )
                optimizer.zero_grad()
                loss = weighted_nll(model, batch) / float(batch.weights.sum()) + 0.5 * alpha * model.penalty()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            final = float(objective(backward=False))
        return {"objective": final, "iterations": epochs, "converged": True}
    raise ValueError(f"solver must be 'auto', 'newton', 'lbfgs' or 'adam', got {solver!r}")


def _grad_max(model: LogLinear, objective) -> float:
    model.zero_grad()
    objective(backward=True)
    grads = [p.grad.abs().max() for p in model.parameters() if p.grad is not None and p.numel()]
    model.zero_grad()
    return float(max(grads)) if grads else 0.0


def predict_log_probs(model: LogLinear, data: TorchData, chunk_size: int = 65_536) -> np.ndarray:
    """Log-probabilities over outcomes for every row, computed in chunks."""
    out = []
    with torch.no_grad():
        for start in range(0, len(data), chunk_size):
            part = data.slice(start, start + chunk_size)
            out.append(model.log_probs(part.codes, part.numeric, part.prev).cpu().numpy())
    if not out:
        return np.zeros((0, model.n_classes))
    return np.concatenate(out, axis=0).astype(np.float64)


# ======================================================================= numpy in, numpy out
def fit_encoded(
    model: LogLinear,
    features: EncodedFeatures,
    y: np.ndarray,
    prev: np.ndarray | None,
    weights: np.ndarray | None,
    *,
    precision: Literal["float64", "float32"] = "float64",
    device: torch.device | str = "cpu",
    **settings: Any,
) -> dict[str, float]:
    """Fit ``model`` in place on encoded rows (see :func:`fit_loglinear`); the model ends in float64.

    Parameters
    ----------
    model : LogLinear
        The model to fit, on ``device``.
    features : EncodedFeatures
        Encoded features of the rows.
    y : numpy.ndarray
        Outcome of each row, an index into the model's classes; or, one-stage, ``(n, K)``
        outcome shares of rows that stand for several (rows of identical features aggregated,
        their weights the totals).
    prev : numpy.ndarray, optional
        Previous state of each row (the two-stage head).
    weights : numpy.ndarray, optional
        Row weights (``None``: unweighted).
    precision : {"float64", "float32"}
        Precision of the optimisation.
    device : str or torch.device
        Device of the data.
    **settings
        Keyword arguments of :func:`fit_loglinear` (``alpha``, ``solver``, ...).

    Returns
    -------
    dict
        The fit diagnostics of :func:`fit_loglinear`.
    """
    dtype = getattr(torch, precision)
    model.to(dtype)
    data = to_torch(features, y, prev, weights, dtype=dtype, device=device)
    info = fit_loglinear(model, data, **settings)
    model.double()
    return info


def predict_encoded(
    model: LogLinear, features: EncodedFeatures, prev: np.ndarray | None, *, device: torch.device | str = "cpu"
) -> np.ndarray:
    """Log-probabilities over the outcomes of encoded rows (float64), computed in chunks.

    Parameters
    ----------
    model : LogLinear
        A fitted model (float64).
    features : EncodedFeatures
        Encoded features of the rows.
    prev : numpy.ndarray, optional
        Previous state of each row (the two-stage head).
    device : str or torch.device
        Device of the model.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(features), model.n_classes)``.
    """
    outcomes = np.zeros(len(features), dtype=np.int64)  # not used by the prediction
    data = to_torch(features, outcomes, prev, None, dtype=torch.float64, device=device)
    return predict_log_probs(model, data)


def state_arrays(model: LogLinear, prefix: str) -> dict[str, np.ndarray]:
    """The model's parameters as numpy arrays, keys prefixed (for saving).

    Parameters
    ----------
    model : LogLinear
        The model.
    prefix : str
        Prefix of every key.

    Returns
    -------
    dict of str to numpy.ndarray
        ``prefix + name`` of each entry of the model's ``state_dict``.
    """
    return {f"{prefix}{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def load_state_arrays(model: LogLinear, arrays: dict[str, np.ndarray], prefix: str) -> LogLinear:
    """Load the parameters saved by :func:`state_arrays` (the keys starting with ``prefix``).

    Parameters
    ----------
    model : LogLinear
        A model of the same shape.
    arrays : dict of str to numpy.ndarray
        Saved arrays, possibly with other keys.
    prefix : str
        Prefix of this model's keys.

    Returns
    -------
    LogLinear
        ``model``, loaded.
    """
    state = {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
    model.load_state_dict(state)
    return model
