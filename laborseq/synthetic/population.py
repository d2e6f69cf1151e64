"""Who is observed, when and how often: the covariates and sampling designs of synthetic careers.

A :class:`Population` is an ignorable observation design: birth years, entry
ages, observed spans and waves, and the shares of static covariates and
attained education, all drawn independently of latent types, states and
parameters (see :mod:`laborseq.synthetic.process` for the process itself).
:data:`SURVEY` is a representative, biennial, gappy survey panel and
:data:`RESUME` an annual resume-like corpus selected on type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from laborseq.panel.education import EDUCATION_LEVELS

GENDER, RACE, REGION, BIRTH_YEAR, EDUCATION = "gender", "race", "region", "birth_year", "education"
COVARIATES: tuple[str, ...] = (GENDER, RACE, REGION, BIRTH_YEAR, EDUCATION)
"""Covariate columns of every synthetic panel (all static except ``education``)."""
STATIC: tuple[str, ...] = (GENDER, RACE, REGION, BIRTH_YEAR)
GENDERS: tuple[str, ...] = ("female", "male")
RACES: tuple[str, ...] = ("white", "black", "hispanic", "other")
REGIONS: tuple[str, ...] = ("northeast", "north_central", "south", "west")
EDUCATION_CAP_AGES: tuple[int, ...] = (0, 18, 19, 22, 24)
"""Minimum age of each education level (``EDUCATION_LEVELS`` order)."""


@dataclass(frozen=True)
class Population:
    """Who is observed, when and how often: a sampling design of persons.

    Parameters
    ----------
    name : str
        Identifier (``"survey"``, ``"resume"``), stored in panel metadata.
    birth_years : (int, int)
        Inclusive range of birth years (uniform).
    entry_age : (int, int)
        Inclusive range of the age at the first observation (uniform, >= 18).
    last_year : int
        Last calendar year anyone is observed.
    mean_span : float
        Mean number of calendar years from the first to the last observation
        (``1 + Poisson(mean_span - 1)``, clipped).
    max_span : int
        Longest span in years.
    biennial_from : int or None
        From this year on only even years are observed (except a first year).
    miss_prob : float
        Probability of missing each wave after the first.
    education : sequence of float
        Shares of attained education, ``EDUCATION_LEVELS`` order.
    gender, race, region : sequence of float
        Shares of ``GENDERS``, ``RACES`` and ``REGIONS``.
    type_shift : float
        Selection on the latent type: log-odds shift :math:`\\delta` times the
        process's direction :math:`\\xi`.
    """

    name: str
    birth_years: tuple[int, int]
    entry_age: tuple[int, int]
    last_year: int
    mean_span: float
    max_span: int
    biennial_from: int | None
    miss_prob: float
    education: tuple[float, ...]
    gender: tuple[float, ...]
    race: tuple[float, ...]
    region: tuple[float, ...]
    type_shift: float = 0.0

    def __post_init__(self) -> None:
        for name in ("birth_years", "entry_age", "education", "gender", "race", "region"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.entry_age[0] < 18 or self.entry_age[0] > self.entry_age[1]:
            raise ValueError(f"Population {self.name!r}: entry_age must be an increasing range from 18 up")
        if self.birth_years[0] > self.birth_years[1]:
            raise ValueError(f"Population {self.name!r}: birth_years must be an increasing range")
        if self.birth_years[1] + self.entry_age[1] > self.last_year:
            raise ValueError(f"Population {self.name!r}: the youngest would start after last_year")
        if self.mean_span < 1 or self.max_span < 1 or not 0 <= self.miss_prob < 1:
            raise ValueError(f"Population {self.name!r}: need mean_span >= 1, max_span >= 1, 0 <= miss_prob < 1")
        for name, levels in (("education", EDUCATION_LEVELS), ("gender", GENDERS), ("race", RACES)):
            _check_shares(self.name, name, getattr(self, name), len(levels))
        _check_shares(self.name, "region", self.region, len(REGIONS))

    @property
    def first_years(self) -> tuple[int, int]:
        """Range of calendar years of first observations."""
        return self.birth_years[0] + self.entry_age[0], self.birth_years[1] + self.entry_age[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def _check_shares(pop: str, name: str, shares: tuple[float, ...], n: int) -> None:
    arr = np.asarray(shares, dtype=float)
    if arr.shape != (n,) or (arr < 0).any() or not np.isclose(arr.sum(), 1.0):
        raise ValueError(f"Population {pop!r}: {name} needs {n} non-negative shares summing to 1, got {shares}")


SURVEY = Population(
    name="survey",
    birth_years=(1957, 1984),
    entry_age=(18, 26),
    last_year=2018,
    mean_span=14.0,
    max_span=30,
    biennial_from=1994,
    miss_prob=0.1,
    education=(0.10, 0.35, 0.27, 0.19, 0.09),
    gender=(0.5, 0.5),
    race=(0.62, 0.14, 0.17, 0.07),
    region=(0.18, 0.23, 0.37, 0.22),
    type_shift=0.0,
)
"""A representative survey panel (NLSY-like): biennial from 1994, missed waves."""

RESUME = Population(
    name="resume",
    birth_years=(1965, 1995),
    entry_age=(21, 27),
    last_year=2022,
    mean_span=9.0,
    max_span=30,
    biennial_from=None,
    miss_prob=0.0,
    education=(0.02, 0.10, 0.20, 0.43, 0.25),
    gender=(0.45, 0.55),
    race=(0.68, 0.10, 0.10, 0.12),
    region=(0.22, 0.18, 0.28, 0.32),
    type_shift=1.0,
)
"""A resume-like corpus: annual, later, more educated, selected on type."""


def observation_years(pop: Population, birth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Observed years, shape (n, max_span) left-aligned (padding repeats the last year), and counts."""
    n = len(birth)
    first = birth + rng.integers(pop.entry_age[0], pop.entry_age[1] + 1, n)
    span = 1 + rng.poisson(pop.mean_span - 1, n)
    span = np.clip(span, 1, np.minimum(pop.max_span, pop.last_year - first + 1))
    offset = np.arange(pop.max_span)[None, :]
    year = first[:, None] + offset
    keep = offset < span[:, None]
    later = offset > 0
    if pop.biennial_from is not None:
        keep &= ~later | (year < pop.biennial_from) | ((year - pop.biennial_from) % 2 == 0)
    if pop.miss_prob > 0:
        keep &= ~later | (rng.random(keep.shape) >= pop.miss_prob)
    order = np.argsort(~keep, axis=1, kind="stable")
    years = np.take_along_axis(year, order, axis=1)
    lengths = keep.sum(axis=1)
    width = int(lengths.max())
    years = years[:, :width]
    pad = np.arange(width)[None, :] >= lengths[:, None]
    years = np.where(pad, years[np.arange(n), lengths - 1][:, None], years)
    return years, lengths


def education_cap(age: np.ndarray) -> np.ndarray:
    """Highest education level (index) reachable at each ``age``."""
    return np.searchsorted(np.asarray(EDUCATION_CAP_AGES), age, side="right") - 1
