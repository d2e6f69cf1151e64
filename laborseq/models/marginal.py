"""The marginal baseline: the next state ignores history."""

from __future__ import annotations

from typing import Any

import numpy as np

from laborseq.models.base import RNGLike
from laborseq.models.counting import CountModel
from laborseq.models.smoothing import backoff, weighted_counts
from laborseq.models.stepper import LastStatesStepper
from laborseq.panel import CareerPanel


class Marginal(CountModel):
    """Next state drawn from the marginal distribution of states, ignoring history.

    Parameters
    ----------
    smoothing : float, default 1.0
        Pseudo-count added to every state (additive / Lidstone smoothing).
    initial_by : sequence of str, optional
        Covariates the first-year distribution conditions on; default: all
        covariates of the training panel.

    Notes
    -----
    For a transition (any year after a person's first),
    :math:`p(j) = (n_j + \\lambda) / (n + K\\lambda)`, where :math:`n_j` counts
    the (weighted) training transitions into :math:`j`. The first observed year
    comes from :class:`~laborseq.models.first_year_counts.InitialStateModel`.
    """

    def __init__(self, smoothing: float = 1.0, initial_by: tuple[str, ...] | None = None) -> None:
        self.smoothing = smoothing
        self.initial_by = initial_by

    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        self._fit_initial(panel, weights)
        _, trans = self._transition_rows(panel)
        states = panel.state_index()[trans]
        w = None if weights is None else weights[trans]
        self.counts_ = weighted_counts(np.zeros(len(states)), states, 1, panel.scheme.n_states, w)[0]

    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        first, trans = self._transition_rows(panel)
        out = np.empty((len(panel), len(self.counts_)))
        out[trans] = self._transition_proba()
        out[first] = self.initial_.predict_proba(panel, first)
        return out[panel.target_mask]

    def _transition_proba(self) -> np.ndarray:
        """The smoothed distribution of a state after a person's first year, shape ``(K,)``."""
        k = len(self.counts_)
        return backoff(self.counts_, np.full(k, 1.0 / k), self.smoothing * k)

    def _stepper(self, history: CareerPanel, n_samples: int) -> LastStatesStepper:
        """Forecast stepper: every path's next state has the transition marginal."""
        proba = self._transition_proba()
        return LastStatesStepper(
            lambda prev1, prev2: np.broadcast_to(proba, (len(prev1), len(proba))),
            history,
            n_samples,
            len(proba),
            order=0,
        )

    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._initial_state()
        return {"initial": state}, {**arrays, "counts": self.counts_}

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._restore_initial(state["initial"], arrays)
        self.counts_ = arrays["counts"]
