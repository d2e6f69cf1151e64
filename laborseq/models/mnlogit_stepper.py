"""Incremental forecasts of :class:`~laborseq.models.MNLogit`: features updated per simulated year, not rebuilt.

The hand-built features of the logit (:mod:`laborseq.models.features`) depend
on a path's history only through a few numbers: the last two states, how long
the last state has lasted, how many observations there were, the year and the
education of the last one. :class:`MNLogitStepper` keeps these per path,
computes each simulated year's features from them and the year's covariates,
and scores each distinct feature row once (paths of a person that drew the same
states share it). Features it cannot update this way (formula terms) make the
model fall back to the generic :class:`~laborseq.models.stepper.PanelStepper`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq._util.rows import distinct_rows
from laborseq.models import logit_engine
from laborseq.models.features import FULL_FEATURES, NONE_LEVEL, EncodedFeatures, static_levels
from laborseq.models.stepper import last_states
from laborseq.panel import CareerPanel

if TYPE_CHECKING:
    from laborseq.models.mnlogit import MNLogit

UPDATED = frozenset(FULL_FEATURES) - {"static"}
"""Features the stepper updates from a path's summary (besides the ``static:`` covariates): the regression's."""


def updatable(model: MNLogit) -> bool:
    """Whether :class:`MNLogitStepper` can forecast with ``model`` (no formula terms)."""
    encoder = model.encoder_
    names = [*encoder.categorical_, *encoder.numeric_]
    return not encoder.formula and all(n in UPDATED or n.startswith("static:") for n in names)


class MNLogitStepper:
    """Forecast stepper of a fitted :class:`~laborseq.models.MNLogit` (an indexed stepper, a new table per year).

    Parameters
    ----------
    model : MNLogit
        The fitted model (see :func:`updatable`).
    history : CareerPanel
        The persons' observed rows up to the forecast origin.
    n_samples : int
        Paths per person (person-major).
    """

    table_grows = False

    def __init__(self, model: MNLogit, history: CareerPanel, n_samples: int) -> None:
        self.model = model
        self.encoder = model.encoder_
        self.states = np.asarray(history.states, dtype=object)
        prev1, prev2, last_year = last_states(history)
        seq = history.sequences()
        last = seq.offsets[1:] - 1
        same = np.zeros(len(seq.states), dtype=bool)
        same[1:] = seq.states[1:] == seq.states[:-1]
        same[seq.offsets[:-1]] = False
        run = _trailing_run(same, seq.offsets)
        self.prev1 = np.repeat(prev1, n_samples)
        self.prev2 = np.repeat(prev2, n_samples)
        self.run = np.repeat(run, n_samples).astype(float)
        self.position = np.repeat(seq.lengths, n_samples).astype(float)
        self.last_year = np.repeat(last_year, n_samples)
        self._education_ids: dict[str, int] = {}  # education levels as integers, to compare years quickly
        self.last_education = None
        if "education" in history.covariates:
            self.last_education = np.repeat(self._education(history.data["education"].iloc[last]), n_samples)
        self._pending: tuple[int, np.ndarray | None] | None = None

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of every path's state in ``year``, ``(n_paths, K)``."""
        table, index = self.step_indexed(year, covariates)
        return table[index]

    def step_indexed(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(table, index)``: the distribution of each distinct feature row in ``year`` and every path's row."""
        if self._pending is not None:
            raise RuntimeError("step: the paths of the last year were not appended yet")
        n_paths = len(self.prev1)
        if len(covariates) != n_paths:
            raise ValueError(f"step: {len(covariates)} covariate rows for {n_paths} paths")
        covariates = covariates.reset_index(drop=True)
        education = None
        if self.last_education is not None:
            education = self._education(covariates["education"])
        codes = {name: self._codes(name, year, covariates) for name in self.encoder.categorical_}
        numeric = np.column_stack(
            [self._numeric(name, year, education) for name in self.encoder.numeric_] or [np.zeros((n_paths, 0))]
        )
        # the numeric features are counts and indicators: integers, usable as keys as they are
        columns = [*codes.values(), *numeric.T.astype(np.int64), self.prev1]
        first, index = distinct_rows(columns)
        levels = {name: self.encoder.levels_[name] for name in self.encoder.categorical_}
        rows = EncodedFeatures(
            {k: v[first] for k, v in codes.items()}, levels, list(self.encoder.numeric_), numeric[first]
        )
        prev = self.prev1[first] if self.model.two_stage else None
        log_probs = logit_engine.predict_encoded(self.model.model_, rows, prev, device=self.model.device)
        table = np.zeros((len(first), len(self.states)))
        table[:, self.model.outcomes_] = np.exp(log_probs)
        self._pending = (int(year), education)
        return table / table.sum(axis=1, keepdims=True), index

    def append(self, states: np.ndarray) -> None:
        """Extend every path with its state in the year of the last :meth:`step_indexed`."""
        if self._pending is None:
            raise RuntimeError("append: call step(year, covariates) first")
        year, education = self._pending
        states = np.asarray(states, dtype=np.int64)
        self.run = np.where(states == self.prev1, self.run + 1, 0.0)
        self.prev2, self.prev1 = self.prev1, states
        self.position = self.position + 1
        self.last_year = np.full_like(self.last_year, year)
        if education is not None:
            self.last_education = education
        self._pending = None

    # ------------------------------------------------------------------ one feature per call
    @staticmethod
    def _levels(values: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The levels of a covariate's distinct ``values`` (as its feature sees them) and each value's position
        among them (the levels are computed for the distinct values only)."""
        index, uniques = pd.factorize(values, use_na_sentinel=False)
        return static_levels(pd.Series(uniques, dtype=values.dtype), column), index

    def _education(self, values: pd.Series) -> np.ndarray:
        """Education of every path as an integer, numbered consistently across years (to compare them)."""
        levels, index = self._levels(values, "education")
        ids = [self._education_ids.setdefault(level, len(self._education_ids)) for level in levels]
        return np.asarray(ids, dtype=np.int64)[index]

    def _codes(self, name: str, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Codes of categorical feature ``name`` for every path, each distinct value encoded once."""
        if name == "previous_state":
            values, index = self.states, self.prev1
        elif name == "second_previous":
            values = np.append(self.states, NONE_LEVEL)
            index = np.where(self.prev2 >= 0, self.prev2, len(self.states))
        elif name == "calendar_year":
            values, index = np.array([str(year)], dtype=object), np.zeros(len(self.prev1), dtype=np.int64)
        elif name == "education" or name.startswith("static:"):
            column = name.split(":", 1)[-1]
            if column not in covariates.columns:
                raise ValueError(f"the panel lacks covariate {column!r} that the model was fitted with")
            values, index = self._levels(covariates[column], column)
        else:  # pragma: no cover - see updatable()
            raise ValueError(f"feature {name!r} cannot be updated step by step")
        return self.encoder.encode_values(name, np.asarray(values, dtype=object))[index]

    def _numeric(self, name: str, year: int, education: np.ndarray | None) -> np.ndarray:
        """Numeric feature ``name`` for every path."""
        if name == "years_in_state":
            return self.run
        if name == "years_observed":
            return self.position
        if name == "gap":
            return (year - self.last_year != 1).astype(float)
        if name == "education_change":
            return (education != self.last_education).astype(float)
        raise ValueError(f"feature {name!r} cannot be updated step by step")  # pragma: no cover - see updatable()


def _trailing_run(same: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per person: consecutive observations at the end in the last state, minus one (``same[i]``: row ``i`` has
    the state of row ``i - 1`` of the same person)."""
    idx = np.arange(len(same))
    reset = np.where(~same, idx, 0)
    np.maximum.accumulate(reset, out=reset)
    last = offsets[1:] - 1
    return (idx - reset)[last]
