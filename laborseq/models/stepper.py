"""Steppers: next-state distributions of many simulated career paths, one forecast year at a time.

A forecast simulates ``n_samples`` paths per person. A :class:`Stepper` holds
the paths' histories and, for each forecast year, returns every path's
distribution of the state in that year (:meth:`Stepper.step`) and is then told
which state each path drew (:meth:`Stepper.append`). Paths are person-major:
path ``p`` belongs to person ``p // n_samples`` of the history panel, its
persons in panel order.

A model provides its stepper through ``SequenceModel._stepper(history,
n_samples)``. :class:`PanelStepper` works for every model (it reruns
``predict_proba`` on the histories); :class:`LastStatesStepper` serves models
whose next state depends only on the last one or two observed states (the
count models), reading their fitted tables directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from laborseq._util.rows import distinct_rows
from laborseq.panel import OCC, PERSON, WEIGHT, YEAR, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.base import SequenceModel

__all__ = ["IndexedStepper", "LastStatesStepper", "PanelStepper", "Stepper", "last_states"]


class Stepper(Protocol):
    """Next-state distributions of many simulated paths, one forecast year at a time. Paths are person-major:
    path p belongs to person p // n_samples of the history panel (its persons in panel order)."""

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of the state in ``year`` of every path.

        Parameters
        ----------
        year : int
            The calendar year being predicted.
        covariates : pandas.DataFrame
            One row per path, columns = the panel's covariates, values for ``year``.

        Returns
        -------
        numpy.ndarray
            ``(n_paths, K)`` float64 probabilities of the state in ``year``.
        """
        ...

    def append(self, states: np.ndarray) -> None:
        """Extend every path with its sampled state (int array, ``n_paths``) for the year just predicted."""
        ...


class IndexedStepper(Stepper, Protocol):
    """Optional extension: a stepper whose paths share few distinct distributions.

    The engine prefers :meth:`step_indexed` when a stepper has it: it never
    materialises the ``(n_paths, K)`` array, so the cost of a step is linear in
    the number of paths rather than in paths x states.
    """

    def step_indexed(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(table, index)``: path ``p``'s distribution is ``table[index[p]]``; ``step`` is ``table[index]``.

        ``table`` is ``(U, K)`` float64. Rows, once returned, keep their
        position and values; later steps may return a longer table with new
        rows appended, and the engine caches what it derives from each row.
        A stepper whose every step returns a new table says so with a class
        attribute ``table_grows = False``.
        """
        ...


def last_states(history: CareerPanel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last observed state, the one before it (``-1`` where none) and the last year, per person in panel order.

    Parameters
    ----------
    history : CareerPanel
        A panel in which every person has at least one row.

    Returns
    -------
    prev1, prev2, year : numpy.ndarray
        Each of shape ``(n_persons,)``.
    """
    seq = history.sequences()
    last = seq.offsets[1:] - 1
    prev1 = seq.states[last].astype(np.int64)
    has_two = seq.lengths >= 2
    prev2 = np.where(has_two, seq.states[np.where(has_two, last - 1, last)], -1).astype(np.int64)
    return prev1, prev2, seq.years[last].astype(np.int64)


# ---------------------------------------------------------------------- count models
class LastStatesStepper:
    """Stepper of a model whose next state depends only on the last ``order`` observed states.

    Parameters
    ----------
    proba : callable
        ``proba(prev1, prev2)`` -> ``(n, K)`` distributions given the last state
        ``prev1`` and the one before, ``prev2`` (``-1`` where there is none);
        the model's own prediction internals, so that the stepper and
        ``predict_proba`` agree exactly.
    history : CareerPanel
        The persons' observed rows up to the forecast origin (every person has
        at least one).
    n_samples : int
        Paths per person.
    n_states : int
        ``K``.
    order : {0, 1, 2}
        How many last states matter (0: none, as for the marginal model).

    Notes
    -----
    Each path carries only its last one or two states. The distributions of the
    at most ``(K + 1) K`` distinct contexts are computed lazily, once, and
    cached, so a step costs one table look-up per path;
    :meth:`step_indexed` returns the table and the look-up without gathering. Calendar year and
    covariates are ignored (the count models' transitions do not depend on them).
    """

    def __init__(
        self,
        proba: Callable[[np.ndarray, np.ndarray], np.ndarray],
        history: CareerPanel,
        n_samples: int,
        n_states: int,
        order: int,
    ) -> None:
        if order not in (0, 1, 2):
            raise ValueError(f"order must be 0, 1 or 2, got {order!r}")
        self._proba = proba
        self._k = int(n_states)
        self._order = order
        prev1, prev2, _ = last_states(history)
        self._prev1 = np.repeat(prev1, n_samples)
        self._prev2 = np.repeat(prev2, n_samples)
        self._lookup = np.full((self._k + 1) * self._k, -1, dtype=np.int64)
        self._buffer = np.empty((64, self._k))
        self._n_rows = 0
        self._table = self._buffer[:0]

    @property
    def n_paths(self) -> int:
        """Number of simulated paths."""
        return len(self._prev1)

    def _keys(self) -> np.ndarray:
        if self._order == 0:
            return np.zeros(self.n_paths, dtype=np.int64)
        if self._order == 1:
            return self._prev1
        return (self._prev2 + 1) * self._k + self._prev1

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of the state in ``year`` of every path (``year`` and ``covariates`` are not used)."""
        table, index = self.step_indexed(year, covariates)
        return table[index]

    def step_indexed(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The distinct distributions computed so far and each path's row in them."""
        keys = self._keys()
        rows = self._lookup[keys]
        missing = rows < 0
        if missing.any():
            new = np.unique(keys[missing])
            prev1, prev2 = new % self._k, new // self._k - 1
            if self._order < 2:
                prev2 = np.full(len(new), -1, dtype=np.int64)
            probs = np.asarray(self._proba(prev1, prev2), dtype=np.float64).reshape(len(new), self._k)
            n_old = self._n_rows
            if n_old + len(new) > len(self._buffer):  # grow geometrically; rows already handed out never change
                grown = np.empty((max(2 * len(self._buffer), n_old + len(new)), self._k))
                grown[:n_old] = self._buffer[:n_old]
                self._buffer = grown
            self._buffer[n_old : n_old + len(new)] = probs
            self._lookup[new] = n_old + np.arange(len(new))
            self._n_rows = n_old + len(new)
            self._table = self._buffer[: self._n_rows]
            rows = self._lookup[keys]
        return self._table, rows

    def append(self, states: np.ndarray) -> None:
        """Shift each path's last states by its sampled state."""
        states = np.asarray(states, dtype=np.int64)
        if states.shape != self._prev1.shape:
            raise ValueError(f"append expects {self.n_paths} states, got shape {states.shape}")
        self._prev2 = self._prev1
        self._prev1 = states


# ---------------------------------------------------------------------- any model
class PanelStepper:
    """Generic stepper: runs ``model.predict_proba`` on each path's history plus one target row.

    Parameters
    ----------
    model : SequenceModel
        A fitted model.
    history : CareerPanel
        The persons' observed rows up to the forecast origin (all context).
    n_samples : int
        Paths per person.

    Notes
    -----
    Correct for every model, since it only uses the estimator contract, but it
    reruns the history at each step. Paths that share their whole past (the
    person, the states drawn so far and the covariates used so far) and the
    current covariates get the same distribution, so each step predicts once
    per *distinct* path and repeats: the first step costs one prediction per
    person, and a sticky chain keeps the number of distinct paths small. The
    expanded panel is assembled with vectorised numpy and
    :meth:`CareerPanel._from_canonical` (no re-validation); each distinct path
    becomes one pseudo-person (integer key) whose history rows and earlier
    simulated rows are context and whose row for ``year`` is the only target.
    The target row's state is a placeholder (state 0): ``predict_proba``
    conditions on earlier rows only. A survey-weight column, if any, is 1.
    """

    def __init__(self, model: SequenceModel, history: CareerPanel, n_samples: int) -> None:
        self._model = model
        self._history = history
        data = history.data
        offsets = history.person_offsets()
        starts = offsets[:-1]
        self._starts = starts.astype(np.int64)
        self._lengths = np.diff(offsets).astype(np.int64)
        self._data = data
        self._codes = history.state_index().astype(np.int64)
        self._years_hist = data[YEAR].to_numpy().astype(np.int64)
        n_persons = len(starts)
        self._person = np.repeat(np.arange(n_persons), n_samples)
        self._group = self._person.copy()
        self._pending: tuple[int, pd.DataFrame, np.ndarray] | None = None
        self._states: list[np.ndarray] = []
        self._years: list[int] = []
        self._covariates: list[pd.DataFrame] = []

    @property
    def n_paths(self) -> int:
        """Number of simulated paths."""
        return len(self._person)

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of the state in ``year`` of every path (one ``predict_proba`` call)."""
        covs = list(self._history.covariates)
        if len(covariates) != self.n_paths:
            raise ValueError(f"step expects covariates for {self.n_paths} paths, got {len(covariates)} rows")
        missing = [c for c in covs if c not in covariates.columns]
        if missing:
            raise ValueError(f"step: covariate column(s) {missing} missing")
        covariates = covariates[covs].reset_index(drop=True)
        columns = [self._group]
        if self._states:
            columns.append(self._states[-1])
        columns += [pd.factorize(covariates[c], use_na_sentinel=False)[0] for c in covs]
        first, inverse = distinct_rows(columns)
        self._pending = (int(year), covariates, inverse)
        panel = self._expanded_panel(first, int(year), covariates)
        probs = np.asarray(self._model.predict_proba(panel), dtype=np.float64)
        return probs[inverse]

    def append(self, states: np.ndarray) -> None:
        """Extend every path with its sampled state for the year last passed to :meth:`step`."""
        if self._pending is None:
            raise RuntimeError("append called before step")
        states = np.asarray(states, dtype=np.int64)
        if states.shape != (self.n_paths,):
            raise ValueError(f"append expects {self.n_paths} states, got shape {states.shape}")
        year, covariates, inverse = self._pending
        self._years.append(year)
        self._covariates.append(covariates)
        self._states.append(states)
        self._group = inverse
        self._pending = None

    def _expanded_panel(self, paths: np.ndarray, year: int, covariates: pd.DataFrame) -> CareerPanel:
        """One pseudo-person per path in ``paths``: history + simulated rows as context, ``year`` as target."""
        n_sim = len(self._states)
        person = self._person[paths]
        lens = self._lengths[person]
        n_hist = int(lens.sum())
        per_path = lens + n_sim + 1
        out_start = np.cumsum(per_path) - per_path
        # source rows of the history part, and where they go
        within = np.arange(n_hist) - np.repeat(np.cumsum(lens) - lens, lens)
        hist_rows = np.repeat(self._starts[person], lens) + within
        dest = [np.repeat(out_start, lens) + within]
        dest += [out_start + lens + s for s in range(n_sim + 1)]
        order = np.empty(n_hist + len(paths) * (n_sim + 1), dtype=np.int64)
        order[np.concatenate(dest)] = np.arange(len(order))

        years = np.concatenate([self._years_hist[hist_rows], *(np.full(len(paths), y) for y in [*self._years, year])])
        codes = np.concatenate(
            [self._codes[hist_rows], *(s[paths] for s in self._states), np.zeros(len(paths), dtype=np.int64)]
        )
        frame = {
            PERSON: np.repeat(np.arange(len(paths), dtype=np.int64), per_path),
            YEAR: years[order].astype(np.int16),
            OCC: pd.Categorical.from_codes(codes[order].astype(np.int32), categories=list(self._history.states)),
        }
        for c in self._history.covariates:
            pieces = [self._data[c].iloc[hist_rows]]
            pieces += [cov[c].iloc[paths] for cov in [*self._covariates, covariates]]
            frame[c] = _combine(pieces, order)
        if self._history.has_weight:
            frame[WEIGHT] = np.ones(len(order))
        table = pd.DataFrame(frame)[list(self._data.columns)]
        target = np.zeros(len(order), dtype=bool)
        target[dest[-1]] = True
        return CareerPanel._from_canonical(self._history, table, target)


def _combine(pieces: list[pd.Series], order: np.ndarray) -> pd.Series:
    """Concatenate one covariate's pieces and put the values in ``order`` (categoricals stay categorical)."""
    if all(isinstance(p.dtype, pd.CategoricalDtype) for p in pieces):
        values = union_categoricals([p.array for p in pieces], ignore_order=True)  # ordered levels stay labels
        return pd.Series(values[order])
    joined = pd.concat([p.reset_index(drop=True) for p in pieces], ignore_index=True).iloc[order]
    if isinstance(pieces[0].dtype, pd.CategoricalDtype):
        joined = joined.astype("category")
    return joined.reset_index(drop=True)
