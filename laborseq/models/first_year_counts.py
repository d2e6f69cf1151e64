"""The distribution of a person's first observed state given covariates.

Count-based models (:class:`~laborseq.models.Marginal`,
:class:`~laborseq.models.Markov`) predict the first observed year with this
model, so that they score the same person-years as CAREER, which predicts the
first year from covariates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from laborseq.models.smoothing import backoff, weighted_counts
from laborseq.panel import YEAR, CareerPanel

_MISSING = "<NA>"


class InitialStateModel:
    """First-state distribution with hierarchical back-off over covariates.

    Parameters
    ----------
    by : sequence of str
        Covariates (or ``"year"``) to condition on, from coarsest to finest.
    smoothing : float
        Pseudo-count per state at every level of the hierarchy.

    Notes
    -----
    With covariates :math:`c_1, \\dots, c_m` (values at the first observed year),
    the estimate is the chain of Dirichlet posterior means

    .. math::

        p_0(j) = \\frac{n_j + \\lambda}{n + K\\lambda}, \\qquad
        p_m(j \\mid c_{1:m}) = \\frac{n_{c_{1:m}, j} + K\\lambda\\, p_{m-1}(j \\mid c_{1:m-1})}
                                    {n_{c_{1:m}} + K\\lambda},

    so a covariate cell with few (or no) first observations falls back on the
    coarser cell. Missing covariate values form their own level; levels not
    seen in training back off to the parent cell.
    """

    def __init__(self, by: Sequence[str], smoothing: float) -> None:
        self.by = tuple(by)
        self.smoothing = float(smoothing)

    def fit(self, panel: CareerPanel, rows: np.ndarray, weights: np.ndarray | None) -> InitialStateModel:
        """Count first states of ``rows`` (a boolean mask over panel rows)."""
        missing = [c for c in self.by if c != YEAR and c not in panel.covariates]
        if missing:
            raise ValueError(
                f"initial-state covariates {missing} are not covariates of the panel {list(panel.covariates)}"
            )
        self.n_states_ = panel.scheme.n_states
        states = panel.state_index()[rows]
        w = None if weights is None else weights[rows]
        self.levels_ = {c: sorted(set(_as_strings(panel, c)[rows])) for c in self.by}
        codes = self._codes(panel, rows)
        self.counts_ = [weighted_counts(np.zeros(len(states)), states, 1, self.n_states_, w)[0]]
        self.keys_: list[np.ndarray] = []
        for m in range(1, len(self.by) + 1):
            keys = self._keys(codes, m)
            uniq, inverse = np.unique(keys, return_inverse=True)
            self.keys_.append(uniq)
            self.counts_.append(weighted_counts(inverse, states, len(uniq), self.n_states_, w))
        return self

    def predict_proba(self, panel: CareerPanel, rows: np.ndarray) -> np.ndarray:
        """First-state distribution for the rows in the boolean mask ``rows``."""
        k = self.n_states_
        strength = self.smoothing * k
        probs = backoff(self.counts_[0], np.full(k, 1.0 / k), strength)
        probs = np.broadcast_to(probs, (int(rows.sum()), k))
        codes = self._codes(panel, rows)
        for m in range(1, len(self.by) + 1):
            keys = self._keys(codes, m)
            table = self.keys_[m - 1]
            pos = np.clip(np.searchsorted(table, keys), 0, max(len(table) - 1, 0))
            found = (table[pos] == keys) if len(table) else np.zeros(len(keys), bool)
            cell = np.where(found[:, None], self.counts_[m][pos] if len(table) else 0.0, 0.0)
            probs = backoff(cell, probs, strength)
        return np.asarray(probs)

    def _codes(self, panel: CareerPanel, rows: np.ndarray) -> np.ndarray:
        """Integer level codes, one column per covariate; unseen levels get ``len(levels)``."""
        out = np.empty((int(rows.sum()), len(self.by)), dtype=np.int64)
        for j, c in enumerate(self.by):
            levels = self.levels_[c]
            lookup = {v: i for i, v in enumerate(levels)}
            out[:, j] = [lookup.get(v, len(levels)) for v in _as_strings(panel, c)[rows]]
        return out

    def _keys(self, codes: np.ndarray, m: int) -> np.ndarray:
        """Mixed-radix key of the first ``m`` covariate codes."""
        key = np.zeros(len(codes), dtype=np.int64)
        for j in range(m):
            key = key * (len(self.levels_[self.by[j]]) + 1) + codes[:, j]
        return key

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON state and arrays for saving."""
        arrays = {f"initial_counts_{m}": c for m, c in enumerate(self.counts_)}
        arrays.update({f"initial_keys_{m + 1}": k for m, k in enumerate(self.keys_)})
        return {"by": list(self.by), "levels": self.levels_, "n_states": self.n_states_}, arrays

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray], smoothing: float) -> InitialStateModel:
        """Rebuild from :meth:`get_state` output."""
        model = cls(state["by"], smoothing)
        model.levels_ = {k: list(v) for k, v in state["levels"].items()}
        model.n_states_ = int(state["n_states"])
        model.counts_ = [arrays[f"initial_counts_{m}"] for m in range(len(model.by) + 1)]
        model.keys_ = [arrays[f"initial_keys_{m}"] for m in range(1, len(model.by) + 1)]
        return model


def _as_strings(panel: CareerPanel, column: str) -> np.ndarray:
    """Covariate values as strings, missing values as ``<NA>``."""
    values = panel.data[column] if column != YEAR else panel.data[YEAR]
    strings = values.astype(object).where(values.notna(), _MISSING)
    return np.array([str(v) for v in strings], dtype=object)
