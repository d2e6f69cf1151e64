"""Panels as token arrays for sequence models: vocabularies, encoding and padded batches.

A :class:`CareerVocabulary` holds the states and one :class:`CovariateVocab`
per covariate input (the calendar year, the gap since the previous
observation, and the panel's covariates). Code 0 of every covariate means
"nothing known" (an unseen level, a missing gap at the first observation, a
padded position): its embedding is fixed at zero. :class:`EncodedPanel` holds
a whole panel as flat integer arrays (one segment per person) and cuts padded
batches from it for training and prediction.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from laborseq.nn.accelerator import to_device
from laborseq.panel import YEAR, CareerPanel

YEAR_INPUT = "year"
"""Name of the calendar-year input."""

GAP_INPUT = "gap_years"
"""Name of the input giving the years since the previous observation."""

MAX_GAP = 5
"""Gaps of this many years or more share one embedding."""

COHORT_WIDTH = 5
"""A numeric ``birth_year`` covariate enters as birth cohorts of this many years."""

MAX_NUMERIC_LEVELS = 32
"""A numeric covariate with at most this many distinct values is used as categorical; otherwise in deciles."""

MISSING = "<NA>"

Kind = Literal["year", "gap", "categorical", "cohort", "binned"]


@dataclass
class CovariateVocab:
    """How one input is turned into embedding indices.

    Attributes
    ----------
    name : str
        Input name: ``"year"``, ``"gap_years"`` or a panel covariate.
    kind : {"year", "gap", "categorical", "cohort", "binned"}
        ``year``: calendar years ``first..last`` (years outside use the nearest
        end, so forecasts beyond the training window reuse the last trained
        year). ``gap``: years since the previous observation, capped at
        :data:`MAX_GAP`. ``categorical``: the training levels as strings
        (missing values are the level ``"<NA>"``). ``cohort``: birth years in
        :data:`COHORT_WIDTH`-year cohorts. ``binned``: a numeric covariate in
        training deciles.
    levels : list of str
        Level labels; level ``i`` has index ``i + 1``.
    edges : list of float
        Inner bin edges of a ``binned`` covariate.
    """

    name: str
    kind: Kind
    levels: list[str] = field(default_factory=list)
    edges: list[float] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Rows of the embedding table (index 0 included)."""
        return len(self.levels) + 1

    @classmethod
    def fit(cls, name: str, values: pd.Series) -> CovariateVocab:
        """Learn the levels of covariate ``name`` from training ``values``."""
        numeric = pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)
        if not numeric:
            return cls(name, "categorical", _sorted_unique(as_strings(values)))
        present = values.dropna().to_numpy(dtype=float)
        if name == "birth_year":
            labels = cohort_labels(values)
            return cls(name, "cohort", _sorted_unique(labels))
        if len(np.unique(present)) <= MAX_NUMERIC_LEVELS:
            return cls(name, "categorical", _sorted_unique(as_strings(values)))
        edges = np.unique(np.quantile(present, np.linspace(0.1, 0.9, 9))).tolist()
        levels = [f"bin{i}" for i in range(len(edges) + 1)] + ([MISSING] if values.isna().any() else [])
        return cls(name, "binned", levels, edges)

    @classmethod
    def calendar_year(cls, years: np.ndarray) -> CovariateVocab:
        """The calendar-year input over the range of ``years``."""
        first, last = int(np.min(years)), int(np.max(years))
        return cls(YEAR_INPUT, "year", [str(y) for y in range(first, last + 1)])

    @classmethod
    def gap(cls) -> CovariateVocab:
        """The gap input: 1, 2, ..., :data:`MAX_GAP` or more years since the previous observation."""
        return cls(GAP_INPUT, "gap", [str(g) for g in range(1, MAX_GAP + 1)])

    def labels(self, covariates: pd.DataFrame, years: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        """The level label of every row (before lookup).

        Parameters
        ----------
        covariates : pandas.DataFrame
            Covariate columns, one row per person-year.
        years : numpy.ndarray
            Calendar year of every row.
        gaps : numpy.ndarray
            Years since the person's previous observation (0 at a first observation).
        """
        if self.kind == "year":
            first, last = int(self.levels[0]), int(self.levels[-1])
            return np.clip(np.asarray(years, dtype=np.int64), first, last).astype(str).astype(object)
        if self.kind == "gap":
            gaps = np.minimum(np.asarray(gaps, dtype=np.int64), MAX_GAP)
            return np.where(gaps > 0, gaps.astype(str), "").astype(object)
        if self.name not in covariates.columns:
            raise ValueError(f"the panel has no covariate {self.name!r}, which the model was trained with")
        values = covariates[self.name]
        if self.kind == "cohort":
            return cohort_labels(values)
        if self.kind == "binned":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            labels = np.array([f"bin{i}" for i in np.searchsorted(self.edges, numbers, side="right")], dtype=object)
            return np.where(np.isnan(numbers), MISSING, labels)
        return as_strings(values)

    def encode(self, covariates: pd.DataFrame, years: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        """Embedding index of every row (0 for a gap at a first observation or an unseen level); see :meth:`labels`."""
        labels = self.labels(covariates, years, gaps)
        index = pd.Index(self.levels).get_indexer(labels) + 1
        if self.kind == "gap":
            return index.astype(np.int64)  # first observations map to 0 by construction
        unseen = index == 0
        if unseen.any():
            examples = sorted(set(labels[unseen].tolist()))[:5]
            warnings.warn(
                f"covariate {self.name!r}: {int(unseen.sum())} row(s) have level(s) not seen in training "
                f"(e.g. {examples}); they get the neutral (zero) embedding",
                stacklevel=3,
            )
        return index.astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"name": self.name, "kind": self.kind, "levels": list(self.levels), "edges": list(self.edges)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CovariateVocab:
        """Inverse of :meth:`to_dict`."""
        return cls(data["name"], data["kind"], list(data["levels"]), [float(e) for e in data["edges"]])


@dataclass
class CareerVocabulary:
    """The states and covariate inputs of a sequence model."""

    states: tuple[str, ...]
    inputs: list[CovariateVocab]

    @classmethod
    def fit(cls, panel: CareerPanel, covariates: Sequence[str] | None = None, *, gap: bool = True) -> CareerVocabulary:
        """Vocabulary of ``panel``: its states, the calendar year, the gap and the chosen covariates.

        Parameters
        ----------
        panel : CareerPanel
            Training panel.
        covariates : sequence of str, optional
            Panel covariates to use (default: all of them).
        gap : bool
            Include the years-since-previous-observation input.
        """
        chosen = list(panel.covariates) if covariates is None else list(covariates)
        check_covariates(panel, chosen)
        inputs = [CovariateVocab.calendar_year(panel.years)]
        if gap:
            inputs.append(CovariateVocab.gap())
        inputs += [CovariateVocab.fit(name, panel.data[name]) for name in chosen]
        return cls(tuple(panel.states), inputs)

    @property
    def names(self) -> list[str]:
        """Input names in embedding order."""
        return [v.name for v in self.inputs]

    def encode(self, panel: CareerPanel, weights: np.ndarray | None = None) -> EncodedPanel:
        """Encode ``panel`` (its states must be :attr:`states`)."""
        if tuple(panel.states) != self.states:
            raise ValueError(
                f"the panel's {len(panel.states)} states (scheme {panel.scheme.name!r}) differ from the model's "
                f"{len(self.states)} states; harmonize both panels to one scheme"
            )
        seqs = panel.sequences()
        row_weight = np.ones(len(panel)) if weights is None else np.asarray(weights, dtype=float)
        row_weight = np.where(panel.target_mask, row_weight, 0.0)
        codes = self.encode_rows(panel.data, panel.data[YEAR].to_numpy(), _gaps(panel))
        return EncodedPanel(
            offsets=seqs.offsets.astype(np.int64),
            states=seqs.states.astype(np.int64),
            codes=codes,
            weight=row_weight.astype(np.float32),
            n_states=len(self.states),
        )

    def encode_rows(self, covariates: pd.DataFrame, years: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        """Input codes, shape ``(n_rows, n_inputs)``, of rows given by their covariates, years and gaps."""
        if not self.inputs:
            return np.zeros((len(years), 0), dtype=np.int64)
        return np.stack([v.encode(covariates, years, gaps) for v in self.inputs], axis=1).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"states": list(self.states), "inputs": [v.to_dict() for v in self.inputs]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CareerVocabulary:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(data["states"]), [CovariateVocab.from_dict(v) for v in data["inputs"]])


@dataclass
class EncodedPanel:
    """A panel as flat arrays, one segment per person, cut into padded batches on demand.

    Attributes
    ----------
    offsets : numpy.ndarray
        Person ``i`` owns rows ``offsets[i]:offsets[i + 1]`` (panel row order).
    states : numpy.ndarray
        State index of every row.
    codes : numpy.ndarray
        Shape ``(n_rows, n_inputs)``: embedding index of every input.
    weight : numpy.ndarray
        Loss weight of every row (0 for context rows).
    n_states : int
        Number of states; index ``n_states`` is the start-of-career input token.
    """

    offsets: np.ndarray
    states: np.ndarray
    codes: np.ndarray
    weight: np.ndarray
    n_states: int

    def lengths(self) -> np.ndarray:
        """Number of person-years of every person."""
        return np.diff(self.offsets)

    def collate(self, index: np.ndarray, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Padded batch of the persons ``index``.

        Returns
        -------
        dict of torch.Tensor
            ``inputs`` (B, T): the state of the previous observation, the
            start token at ``t = 0`` and on padding; ``prev`` (B, T): the previous
            state or ``-1``; ``targets`` (B, T): the observed state or ``-1`` on
            padding; ``covariates`` (B, T, C): input codes of the year being
            predicted (0 on padding); ``weight`` (B, T): loss weights (0 on
            padding and context rows); ``rows`` (B, T): panel row of each
            position or ``-1``.
        """
        index = np.asarray(index, dtype=np.int64)
        lengths = self.offsets[index + 1] - self.offsets[index]
        width = int(lengths.max())
        steps = np.arange(width)
        valid = steps[None, :] < lengths[:, None]
        rows = np.where(valid, self.offsets[index][:, None] + steps[None, :], -1)
        safe = np.maximum(rows, 0)
        states = np.where(valid, self.states[safe], -1).astype(np.int64, copy=False)
        prev = np.full_like(states, -1)
        prev[:, 1:] = states[:, :-1]
        prev[~valid] = -1
        batch = {
            "inputs": np.where(prev >= 0, prev, self.n_states),
            "prev": prev,
            "targets": states,
            "covariates": np.where(valid[:, :, None], self.codes[safe], 0).astype(np.int64, copy=False),
            "weight": np.where(valid, self.weight[safe], 0.0).astype(np.float32),
            "rows": rows,
        }
        return {key: to_device(torch.from_numpy(np.ascontiguousarray(value)), device) for key, value in batch.items()}


def check_covariates(panel: CareerPanel, chosen: Sequence[str]) -> None:
    """Refuse covariates the panel lacks, or named like the model's own inputs."""
    unknown = [c for c in chosen if c not in panel.covariates]
    if unknown:
        raise ValueError(f"covariate(s) {unknown} are not in the panel (it has {list(panel.covariates)})")
    clash = [c for c in chosen if c in (YEAR_INPUT, GAP_INPUT)]
    if clash:
        raise ValueError(f"covariate name(s) {clash} clash with the model's own inputs; rename them")


def as_strings(values: pd.Series) -> np.ndarray:
    """Values as strings, missing ones as :data:`MISSING`."""
    strings = values.astype(object).where(values.notna(), MISSING)
    return np.array([str(v) for v in strings], dtype=object)


def cohort_labels(values: pd.Series) -> np.ndarray:
    """Birth years as the first year of their :data:`COHORT_WIDTH`-year cohort (missing: :data:`MISSING`)."""
    years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    missing = np.isnan(years)
    cohorts = (np.floor(np.where(missing, 0.0, years) / COHORT_WIDTH) * COHORT_WIDTH).astype(np.int64)
    return np.where(missing, MISSING, cohorts.astype(str)).astype(object)


def _gaps(panel: CareerPanel) -> np.ndarray:
    """Years since each row's previous observation of the same person (0 at a first observation)."""
    years = panel.data[YEAR].to_numpy(dtype=np.int64)
    gap = np.zeros(len(years), dtype=np.int64)
    gap[1:] = years[1:] - years[:-1]
    gap[panel.person_offsets()[:-1]] = 0
    return gap


def _sorted_unique(labels: np.ndarray) -> list[str]:
    return sorted(set(labels.tolist()))
