"""A :class:`~laborseq.nn.encoding.CareerVocabulary` learnt from a panel that arrives in chunks.

:meth:`CareerVocabulary.fit` needs the whole training panel; a resume corpus
streams. :class:`VocabularyBuilder` sees the chunks one by one and keeps only
what the vocabulary rules need: the first and last calendar year, the level
labels of every categorical covariate and birth cohort, and, for a numeric
covariate with more than :data:`~laborseq.nn.encoding.MAX_NUMERIC_LEVELS`
values, a uniform sample of its values for the decile edges (all of them up to
``sample_size``, so that a corpus of that many rows gets exactly the edges of
:meth:`CareerVocabulary.fit`; a larger one gets the edges of a seeded uniform
reservoir sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from laborseq.nn.encoding import (
    MAX_NUMERIC_LEVELS,
    MISSING,
    CareerVocabulary,
    CovariateVocab,
    as_strings,
    check_covariates,
    cohort_labels,
)
from laborseq.panel import YEAR, CareerPanel

__all__ = ["VocabularyBuilder"]


@dataclass
class _Column:
    """What one covariate's vocabulary needs, accumulated over chunks."""

    numeric: bool
    labels: set[str] = field(default_factory=set)
    values: set[float] = field(default_factory=set)
    sample: list[np.ndarray] = field(default_factory=list)
    seen: int = 0
    missing: bool = False


class VocabularyBuilder:
    """Learn a vocabulary chunk by chunk; :meth:`finish` gives what :meth:`CareerVocabulary.fit` gives.

    Parameters
    ----------
    covariates : sequence of str, optional
        Covariates to use (default: all of the first chunk's).
    gap : bool
        Include the years-since-previous-observation input.
    sample_size : int
        Values kept per many-valued numeric covariate for its decile edges.
    seed : int
        Seed of the reservoir sample.
    """

    def __init__(
        self, covariates: Sequence[str] | None = None, *, gap: bool = True, sample_size: int = 2_000_000, seed: int = 0
    ) -> None:
        self.covariates = None if covariates is None else list(covariates)
        self.gap = gap
        self.sample_size = sample_size
        self._gen = np.random.default_rng(seed)
        self._states: tuple[str, ...] | None = None
        self._years: tuple[int, int] | None = None
        self._columns: dict[str, _Column] = {}

    def add(self, panel: CareerPanel) -> None:
        """Take in one chunk (its states must be those of the first chunk)."""
        if self._states is None:
            self._states = tuple(panel.states)
            if self.covariates is None:
                self.covariates = list(panel.covariates)
            check_covariates(panel, self.covariates)
        elif tuple(panel.states) != self._states:
            raise ValueError("the chunks of one corpus must share one scheme (their states differ)")
        if len(panel) == 0:
            return
        years = panel.data[YEAR].to_numpy()
        low, high = int(years.min()), int(years.max())
        self._years = (low, high) if self._years is None else (min(low, self._years[0]), max(high, self._years[1]))
        for name in self.covariates or []:
            self._add_column(name, panel.data[name])

    def _add_column(self, name: str, values: pd.Series) -> None:
        numeric = pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
        column = self._columns.setdefault(name, _Column(numeric=numeric))
        if not column.numeric or not numeric:
            column.numeric = False
            column.labels.update(as_strings(values).tolist())
            return
        if name == "birth_year":
            column.labels.update(cohort_labels(values).tolist())
            return
        column.missing |= bool(values.isna().any())
        present = values.dropna().to_numpy(dtype=float)
        if len(column.values) <= MAX_NUMERIC_LEVELS:  # few levels so far: they may be categories
            column.values.update(np.unique(present).tolist())
            column.labels.update(as_strings(values).tolist())
        self._reservoir(column, present)

    def _reservoir(self, column: _Column, values: np.ndarray) -> None:
        """Keep a uniform sample of at most ``sample_size`` of the values seen (all of them until then)."""
        kept = sum(len(s) for s in column.sample)
        room = max(self.sample_size - kept, 0)
        column.sample.append(values[:room])
        rest = values[room:]
        seen_before = column.seen + min(room, len(values))
        column.seen += len(values)
        if len(rest):  # Algorithm R, vectorised: value i (0-based overall) replaces a kept one with p = size / (i+1)
            pool = np.concatenate(column.sample)
            positions = self._gen.integers(0, seen_before + np.arange(1, len(rest) + 1))
            hit = positions < self.sample_size
            pool[positions[hit]] = rest[hit]
            column.sample = [pool]

    def finish(self) -> CareerVocabulary:
        """The vocabulary of everything added."""
        if self._states is None or self._years is None:
            raise ValueError("the corpus has no person-years")
        inputs = [CovariateVocab.calendar_year(np.array(self._years))]
        if self.gap:
            inputs.append(CovariateVocab.gap())
        for name in self.covariates or []:
            inputs.append(self._finish_column(name, self._columns[name]))
        return CareerVocabulary(self._states, inputs)

    def _finish_column(self, name: str, column: _Column) -> CovariateVocab:
        if not column.numeric:
            return CovariateVocab(name, "categorical", sorted(column.labels))
        if name == "birth_year":
            return CovariateVocab(name, "cohort", sorted(column.labels))
        if len(column.values) <= MAX_NUMERIC_LEVELS:
            return CovariateVocab(name, "categorical", sorted(column.labels))
        sample = np.concatenate(column.sample) if column.sample else np.zeros(0)
        edges = np.unique(np.quantile(sample, np.linspace(0.1, 0.9, 9))).tolist()
        levels = [f"bin{i}" for i in range(len(edges) + 1)] + ([MISSING] if column.missing else [])
        return CovariateVocab(name, "binned", levels, edges)
