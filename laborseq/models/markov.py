"""Markov chains of order 1 and 2 over observed states, with back-off smoothing."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from laborseq.models.base import RNGLike
from laborseq.models.counting import CountModel
from laborseq.models.smoothing import backoff, beta_backoff, weighted_counts
from laborseq.models.stepper import LastStatesStepper, last_states
from laborseq.models.two_stage import two_stage_proba
from laborseq.panel import CareerPanel

_EXACT_CHUNK = 2**24
"""Elements of the joint distribution (persons x contexts x states) propagated at once by exact forecasts."""


class Markov(CountModel):
    """Markov chain of order 1 or 2 over observed states, with back-off smoothing.

    Parameters
    ----------
    order : {1, 2}, default 1
        Number of previous observations the next state depends on.
    smoothing : float, default 1.0
        Pseudo-count per state. Every distribution is shrunk towards the
        next-coarser one (order 2 towards order 1, order 1 towards the marginal
        of transitions, the marginal towards uniform) with prior strength
        ``smoothing * K``.
    two_stage : bool, default False
        Estimate the probability of staying and the distribution of moves
        separately and combine them with the shared two-stage head
        (:func:`~laborseq.nn.heads.two_stage_log_probs`).
    initial_by : sequence of str, optional
        Covariates the first-year distribution conditions on; default: all
        covariates of the training panel.

    Notes
    -----
    Transitions link consecutive *observed* rows of a person; a calendar gap
    between them is ignored (the chain is over observations, as in the
    reference baselines). With counts :math:`n_{ij}` of transitions
    :math:`i \\to j` and the marginal :math:`m_j` of transitions,

    .. math::

        p(j \\mid i) = \\frac{n_{ij} + K\\lambda\\, m_j}{n_i + K\\lambda}, \\qquad
        p(j \\mid h, i) = \\frac{n_{hij} + K\\lambda\\, p(j \\mid i)}{n_{hi} + K\\lambda}.

    A history never seen in training therefore backs off to the lower order.
    The second observation of a person (no state two back) uses order 1.

    With ``two_stage=True`` the stay probability is
    :math:`s_i = (n_{ii} + 2\\lambda \\bar s) / (n_i + 2\\lambda)` (:math:`\\bar s`
    the pooled stay rate; order 2 shrinks towards :math:`s_i`) and the move
    distribution over :math:`j \\ne i` is smoothed towards the marginal (order 2
    towards the order-1 moves).

    The first observed year comes from
    :class:`~laborseq.models.first_year_counts.InitialStateModel`.
    """

    def __init__(
        self,
        order: Literal[1, 2] = 1,
        smoothing: float = 1.0,
        two_stage: bool = False,
        initial_by: tuple[str, ...] | None = None,
    ) -> None:
        self.order = order
        self.smoothing = smoothing
        self.two_stage = two_stage
        self.initial_by = initial_by

    def _check_params(self) -> None:
        super()._check_params()
        if self.order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {self.order!r}")

    # ------------------------------------------------------------------ fitting
    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        self._fit_initial(panel, weights)
        k = panel.scheme.n_states
        _, trans = self._transition_rows(panel)
        states = panel.state_index()
        prev1 = panel.lagged_states(1)
        w = None if weights is None else weights[trans]
        self.counts_ = weighted_counts(prev1[trans], states[trans], k, k, w)
        self.context_keys_ = np.zeros(0, dtype=np.int64)
        self.context_counts_ = np.zeros((0, k))
        if self.order == 2:
            prev2 = panel.lagged_states(2)
            rows = trans & (prev2 >= 0)
            keys = prev2[rows].astype(np.int64) * k + prev1[rows]
            self.context_keys_, inverse = np.unique(keys, return_inverse=True)
            wr = None if weights is None else weights[rows]
            self.context_counts_ = weighted_counts(inverse, states[rows], len(self.context_keys_), k, wr)

    # ------------------------------------------------------------------ probabilities
    def transition_matrix(self) -> np.ndarray:
        """First-order transition probabilities ``P[i, j] = p(j | i)`` (order-1 part of the model)."""
        self._check_fitted()
        if self.two_stage:
            stay, move = self._order1_stay_move()
            k = len(stay)
            return two_stage_proba(stay, move, np.arange(k))
        return self._order1()

    def _marginal(self) -> np.ndarray:
        k = self.counts_.shape[0]
        return backoff(self.counts_.sum(axis=0), np.full(k, 1.0 / k), self.smoothing * k)

    def _order1(self) -> np.ndarray:
        k = self.counts_.shape[0]
        return backoff(self.counts_, self._marginal(), self.smoothing * k)

    def _order1_stay_move(self) -> tuple[np.ndarray, np.ndarray]:
        k = self.counts_.shape[0]
        diag = np.diag(self.counts_)
        total = self.counts_.sum(axis=1)
        pooled = (
            (diag.sum() + self.smoothing) / (total.sum() + 2 * self.smoothing)
            if self.smoothing
            else (diag.sum() / max(total.sum(), 1e-300))
        )
        stay = beta_backoff(diag, total, pooled, 2 * self.smoothing)
        return stay, self._move_backoff(self.counts_, np.arange(k), np.broadcast_to(self._marginal(), (k, k)))

    def _move_backoff(self, counts: np.ndarray, prev: np.ndarray, parent: np.ndarray) -> np.ndarray:
        """Move distributions (zero at ``prev``), each row shrunk towards ``parent`` restricted to moves."""
        k = counts.shape[1]
        rows = np.arange(len(prev))
        moves = counts.copy()
        moves[rows, prev] = 0.0
        par = parent.copy()
        par[rows, prev] = 0.0
        par /= np.maximum(par.sum(axis=1, keepdims=True), 1e-300)
        return backoff(moves, par, self.smoothing * (k - 1))

    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        first, trans = self._transition_rows(panel)
        k = self.counts_.shape[0]
        out = np.empty((len(panel), k))
        out[first] = self.initial_.predict_proba(panel, first)
        prev2 = panel.lagged_states(2)[trans] if self.order == 2 else None
        out[trans] = self._next_proba(panel.lagged_states(1)[trans], prev2)
        return out[panel.target_mask]

    def _next_proba(self, prev1: np.ndarray, prev2: np.ndarray | None = None) -> np.ndarray:
        """Next-state distributions given the last observed state(s).

        Parameters
        ----------
        prev1 : numpy.ndarray
            Index of the last observed state (``>= 0``), shape ``(n,)``.
        prev2 : numpy.ndarray, optional
            Index of the state two observations back, ``-1`` where there is none
            (then order 2 uses order 1); ignored by order 1.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, K)``, rows summing to one.
        """
        k = self.counts_.shape[0]
        ctx_counts, has_ctx = self._context_counts(prev1, prev2)
        if self.two_stage:
            stay1, move1 = self._order1_stay_move()
            stay, move = stay1[prev1], move1[prev1]
            if self.order == 2:
                n_ctx = ctx_counts.sum(axis=1)
                stay = beta_backoff(ctx_counts[np.arange(len(prev1)), prev1], n_ctx, stay, 2 * self.smoothing)
                move = self._move_backoff(ctx_counts, prev1, move)
            return two_stage_proba(stay, move, prev1)
        probs = self._order1()[prev1]
        if self.order == 2:
            probs = np.where(has_ctx[:, None], backoff(ctx_counts, probs, self.smoothing * k), probs)
        return probs

    def _context_counts(self, prev1: np.ndarray, prev2: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Order-2 counts of each context ``(prev2, prev1)`` (zeros where unseen or ``prev2`` is ``-1``)."""
        k = self.counts_.shape[0]
        n = len(prev1)
        if self.order == 1 or prev2 is None or len(self.context_keys_) == 0:
            return np.zeros((n, k)), np.zeros(n, dtype=bool)
        keys = prev2.astype(np.int64) * k + prev1
        pos = np.clip(np.searchsorted(self.context_keys_, keys), 0, len(self.context_keys_) - 1)
        found = (self.context_keys_[pos] == keys) & (prev2 >= 0)
        counts = np.where(found[:, None], self.context_counts_[pos], 0.0)
        return counts, found

    # ------------------------------------------------------------------ forecasting
    def _stepper(self, history: CareerPanel, n_samples: int) -> LastStatesStepper:
        """Forecast stepper: tracks each path's last one or two states and reads the fitted tables."""
        return LastStatesStepper(self._next_proba, history, n_samples, self.counts_.shape[0], self.order)

    def _forecast_exact(self, history: CareerPanel, n_steps: int) -> np.ndarray:
        """Exact marginal distribution of each person's next ``n_steps`` observed states.

        Parameters
        ----------
        history : CareerPanel
            Observed rows up to the forecast origin; every person has at least one.
        n_steps : int
            Number of future observations (one per forecast year).

        Returns
        -------
        numpy.ndarray
            Shape ``(n_persons, n_steps, K)``, persons in panel order.

        Notes
        -----
        Order 1 propagates the distribution of the last state,
        :math:`d_{t+1} = d_t P`. Order 2 propagates the joint distribution of the
        last two states, :math:`J_{t+1}(i, j) = \\sum_h J_t(h, i)\\, p(j \\mid h, i)`,
        where :math:`h` may be "none" (a person observed once, whose next state
        uses order 1); the marginal is :math:`\\sum_i J_{t+1}(i, j)`. Order 2
        builds the full ``K x (K + 1) x K`` table and costs about
        :math:`P K^3` multiply-adds per step (batched matrix products), so
        for hundreds of states simulation is cheaper.
        """
        self._check_fitted()
        k = self.counts_.shape[0]
        prev1, prev2, _ = last_states(history)
        n = len(prev1)
        out = np.empty((n, n_steps, k))
        if self.order == 1:
            table = self._next_proba(np.arange(k))
            dist = np.zeros((n, k))
            dist[np.arange(n), prev1] = 1.0
            for t in range(n_steps):
                dist = dist @ table
                out[:, t] = dist
            return out
        # table[i, h + 1, j] = p(j | prev2 = h, prev1 = i), h = -1 meaning no state two back
        table = np.empty((k, k + 1, k))
        for h in range(-1, k):
            table[:, h + 1] = self._next_proba(np.arange(k), np.full(k, h))
        chunk = max(1, _EXACT_CHUNK // ((k + 1) * k))
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            joint = np.zeros((k, hi - lo, k + 1))  # joint[i, p, h + 1] = P(prev1 = i, prev2 = h)
            joint[prev1[lo:hi], np.arange(hi - lo), prev2[lo:hi] + 1] = 1.0
            for t in range(n_steps):
                nxt = np.matmul(joint, table)  # nxt[i, p, j] = P(prev2' = i, prev1' = j)
                out[lo:hi, t] = nxt.sum(axis=0)
                joint = np.zeros((k, hi - lo, k + 1))
                joint[:, :, 1:] = nxt.transpose(2, 1, 0)
        return out

    # ------------------------------------------------------------------ persistence
    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._initial_state()
        arrays = {
            **arrays,
            "counts": self.counts_,
            "context_keys": self.context_keys_,
            "context_counts": self.context_counts_,
        }
        return {"initial": state}, arrays

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._restore_initial(state["initial"], arrays)
        self.counts_ = arrays["counts"]
        self.context_keys_ = arrays["context_keys"]
        self.context_counts_ = arrays["context_counts"]
