"""Panels as indices of a synthetic process: the validated, encoded input of its exact likelihood.

:class:`EncodedPanel` turns a :class:`~laborseq.panel.CareerPanel` into arrays
of process indices (states, years, education per row; static covariates per
person), raising :class:`~laborseq.panel.PanelValidationError` naming the
column when a state, level or column does not fit the process.
:func:`state_positions` maps one state list onto another.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import OCC, CareerPanel, PanelValidationError
from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.synthetic.population import (
    BIRTH_YEAR,
    COVARIATES,
    EDUCATION,
    GENDER,
    GENDERS,
    RACE,
    RACES,
    REGION,
    REGIONS,
)


@dataclass
class EncodedPanel:
    """A panel as process indices: per row states/years/education, per person covariates."""

    population: str
    states: np.ndarray
    years: np.ndarray
    edu: np.ndarray
    target: np.ndarray
    offsets: np.ndarray
    female: np.ndarray
    gender: np.ndarray
    race: np.ndarray
    region: np.ndarray
    birth: np.ndarray
    row0: int = 0

    @property
    def lengths(self) -> np.ndarray:
        """Rows per person."""
        return np.diff(self.offsets)

    @property
    def edu0(self) -> np.ndarray:
        """Education (level index) of each person's first row."""
        return self.edu[self.offsets[:-1]]

    @classmethod
    def from_panel(cls, panel: CareerPanel, scheme: OccupationScheme, population: str) -> EncodedPanel:
        """Encode ``panel`` against the states of ``scheme`` (the process's), for persons of ``population``."""
        seq = panel.sequences()
        lookup = state_positions(panel.states, scheme.states, missing_ok=True)
        states = lookup[seq.states] if len(seq.states) else seq.states
        if (states < 0).any():
            bad = sorted({panel.states[i] for i in np.unique(seq.states[states < 0])})
            raise PanelValidationError(
                f"column {OCC!r}: state(s) {bad[:10]} are not states of the synthetic process "
                f"(scheme {scheme.name!r}, {len(scheme.states)} states)",
                column=OCC,
            )
        data = panel.data
        missing = [c for c in COVARIATES if c not in data.columns]
        if missing:
            raise PanelValidationError(
                f"column(s) {missing} missing: the synthetic process needs {COVARIATES}", column=missing[0]
            )
        first = seq.offsets[:-1]
        gender = _level_codes(data[GENDER], GENDER, GENDERS)
        codes = {name: _level_codes(data[name], name, levels) for name, levels in ((RACE, RACES), (REGION, REGIONS))}
        birth = _birth_years(data[BIRTH_YEAR])
        for name, values in ((GENDER, gender), (RACE, codes[RACE]), (REGION, codes[REGION]), (BIRTH_YEAR, birth)):
            _check_static(name, values, seq.offsets, seq.person_ids)
        return cls(
            population=population,
            states=states.astype(np.int32),
            years=seq.years.astype(np.int64),
            edu=_level_codes(data[EDUCATION], EDUCATION, EDUCATION_LEVELS),
            target=seq.target,
            offsets=seq.offsets,
            female=(gender[first] == 0).astype(np.int64),
            gender=gender[first],
            race=codes[RACE][first],
            region=codes[REGION][first],
            birth=birth[first],
        )

    def chunks(self, size: int = 50_000) -> Iterator[EncodedPanel]:
        """Consecutive blocks of ``size`` persons (rows are addressed through ``row0``)."""
        n = len(self.offsets) - 1
        for start in range(0, n, size):
            stop = min(n, start + size)
            r0, r1 = self.offsets[start], self.offsets[stop]
            yield EncodedPanel(
                population=self.population,
                states=self.states[r0:r1],
                years=self.years[r0:r1],
                edu=self.edu[r0:r1],
                target=self.target[r0:r1],
                offsets=self.offsets[start : stop + 1] - r0,
                female=self.female[start:stop],
                gender=self.gender[start:stop],
                race=self.race[start:stop],
                region=self.region[start:stop],
                birth=self.birth[start:stop],
                row0=int(r0),
            )


def state_positions(source: Sequence[str], target: Sequence[str], missing_ok: bool = False) -> np.ndarray:
    """Index in ``target`` of every state of ``source`` (-1 where absent, or raise)."""
    where = {s: i for i, s in enumerate(target)}
    out = np.array([where.get(s, -1) for s in source], dtype=np.int64)
    if not missing_ok and (out < 0).any():
        absent = [s for s, i in zip(source, out, strict=True) if i < 0]
        raise PanelValidationError(
            f"column {OCC!r}: the panel's scheme lacks state(s) {absent[:10]} of the synthetic process, "
            "so its distributions cannot be written in the panel's columns",
            column=OCC,
        )
    return out


def _level_codes(values: pd.Series, column: str, levels: Sequence[str]) -> np.ndarray:
    """Covariate values as indices into ``levels``; missing or unknown values raise."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise PanelValidationError(f"column {column!r}: {int((codes < 0).sum())} missing value(s)", column=column)
    where = {v: i for i, v in enumerate(levels)}
    lookup = np.array([where.get(str(u), -1) for u in uniques], dtype=np.int64)
    if (lookup < 0).any():
        bad = [str(u) for u, i in zip(uniques, lookup, strict=True) if i < 0]
        raise PanelValidationError(
            f"column {column!r}: level(s) {bad[:10]} unknown to the synthetic process, which knows {list(levels)}",
            column=column,
        )
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def _birth_years(values: pd.Series) -> np.ndarray:
    """Birth years as integers; missing or fractional values raise."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any() or (numeric != np.floor(numeric)).any():
        raise PanelValidationError(f"column {BIRTH_YEAR!r}: birth years must be whole numbers", column=BIRTH_YEAR)
    return numeric.to_numpy(dtype=np.int64)


def _check_static(column: str, values: np.ndarray, offsets: np.ndarray, persons: np.ndarray) -> None:
    """Raise when ``values`` vary within a person (``offsets`` delimit persons)."""
    if len(values) == 0:
        return
    first = np.repeat(values[offsets[:-1]], np.diff(offsets))
    varying = values != first
    if varying.any():
        who = np.unique(np.repeat(persons, np.diff(offsets))[varying])
        raise PanelValidationError(
            f"column {column!r}: the synthetic process needs it constant within a person; "
            f"it varies for {len(who)} person(s), e.g. {who[:5].tolist()}",
            column=column,
        )
