r"""Synthetic careers over occ1990dd states from a known process, with an exact oracle likelihood.

:class:`SyntheticCareers` is a seeded career process whose true conditional
distributions are known, so the exact log-likelihood of any panel under it can
be computed: the *oracle perplexity* no model can beat in expectation. It draws
a large, annual, non-representative "resume-like" corpus and a small, gappy
"survey-like" panel from shifted populations over one state space, for
measuring how close models get to the truth and whether pretraining helps.

States
------
The first ``n_occupations`` codes of a seeded permutation of the 330 occ1990dd
codes (Dorn 2013; all of them by default), in scheme order, followed by the
status token ``unemployed`` when ``unemployment=True``. The scheme
(:meth:`SyntheticCareers.scheme`, named ``occ1990dd-synthetic``) keeps the
occ1990dd titles and groups; every panel of one process has exactly these
states in this order. :math:`g(s)` is the ``major_group`` of code :math:`s`;
``unemployed`` is a group of its own.

Covariates
----------
Static: ``gender`` (female/male, :math:`f = 1` for female), ``race``
(white/black/hispanic/other), ``region`` (northeast/north_central/south/west) and
``birth_year`` :math:`b`. Time-varying: ``education``, the laborseq
levels less_than_high_school < high_school < some_college < bachelors <
postgraduate, index :math:`e_t \in \{0..4\}`. A person attains level
:math:`e^*` (population distribution) and holds
:math:`e_t = \min(e^*, \mathrm{cap}(\mathrm{age}_t))` with age
``year - birth_year`` and caps reached at ages 18, 19, 22 and 24, so education
never falls.

Observation design (ignorable)
------------------------------
Given the population, a person's birth year, entry age, observed span and
observed years are drawn independently of types, states and parameters: first
year :math:`=b+` entry age, span :math:`1 + \mathrm{Poisson}(m - 1)` years
(clipped to the population's maximum and last calendar year); survey-like
populations observe only even years from ``biennial_from`` on and miss each
later wave with probability ``miss_prob`` (the first year is always observed).
Static covariates and :math:`e^*` are drawn from population shares
independently of each other. Hence the likelihood of the states given the years
and covariates below is exact.

Latent types
------------
Each person has a type :math:`z \in \{0..Z-1\}` with

.. math::

    P(z \mid x) \propto \exp\big(\alpha_z + \alpha^{f}_z f + A^{race}_{z,r} + A^{reg}_{z,q}
        + A^{edu}_{z,e_0} + \alpha^{coh}_z (b - 1975)/10 + \delta_{pop}\,\xi_z\big)

where :math:`e_0` is the education of the first observation and
:math:`\delta_{pop}` the population's ``type_shift`` (selection on type; 0 for
the survey population, so the resume corpus has a different type mix even at
equal covariates). The oracle therefore needs the population, which panels
record in ``metadata["synthetic"]["population"]``.

States given the type
---------------------
Utility of state :math:`s` in calendar year :math:`y` at education :math:`e`:

.. math::

    v_z(s) = \theta_{z,s} + (e - 1)\,\ell_s + f\,\omega_s + \lambda_s (y - 2000)/10
        + 1[s = u]\, A \sin\!\big(2\pi (y - 1980)/P\big),

with :math:`\theta_{z,s} = a_s + B_{z,g(s)} + C_{z,s}` (popularity, type-group
affinity, type-occupation taste; :math:`a_u` is raised by ``unemployment_level``),
:math:`\ell_s` the education loading (professional and managerial groups
positive, labourers negative), :math:`\omega_s` the female effect (by group:
clerical and health positive, trades negative), :math:`\lambda_s` the calendar
drift per decade (group trend plus occupation noise) and an unemployment cycle
of amplitude :math:`A` and period :math:`P` on the token :math:`u`.
:math:`p_z(s) = \mathrm{softmax}_s\, v_z(s)`;
:math:`p^0_z(s) = \mathrm{softmax}_s (v_z(s) + \iota_s)` (:math:`\iota_u`
centred on +1: entrants are more often unemployed). All parameters are drawn
once from ``seed``; :attr:`SyntheticCareers.params` holds them
(:class:`TrueParameters`, names as in the formulas).

*First observation* (position 0): :math:`P(y_0 = s \mid z) = p^0_z(s)` at the
first year's education and calendar year.

*Later observation* :math:`t \ge 1` with previous state :math:`c = y_{t-1}`,
tenure :math:`d \ge 1` (consecutive observations in :math:`c` up to
:math:`t - 1`) and calendar gap :math:`\Delta = \mathrm{year}_t -
\mathrm{year}_{t-1}`:

.. math::

    \pi^{stay} = \sigma\big(\kappa_z + \rho_z \log(1 + d) - \psi \log\Delta + \kappa^{state}_c\big).

(:math:`\kappa^{state}_u` centred on -1: unemployment spells are short.)

Earlier jobs :math:`H = \{y_0..y_{t-1}\} \setminus \{c\}` get weights
:math:`w_h = n_h \exp(-\mu\,(t - 1 - l_h))` (:math:`n_h` past observations in
:math:`h`, :math:`l_h` the last position in :math:`h`, both 0-based), and
:math:`\pi^{ret}_z = \sigma(r_z)` when :math:`H \ne \emptyset` (else 0). A
fresh move favours the current major group by :math:`\beta`:

.. math::

    q_z(s) = \frac{p_z(s)\, e^{\beta 1[g(s) = g(c)]}}{\sum_{s' \ne c} p_z(s')\, e^{\beta 1[g(s') = g(c)]}},
    \quad s \ne c,

evaluated at year :math:`t`'s education and calendar year. Then

.. math::

    P(y_t = s \mid y_{<t}, z) = \pi^{stay} 1[s = c] + (1 - \pi^{stay})
        \Big(\pi^{ret}_z \frac{w_s 1[s \in H]}{\sum_h w_h} + (1 - \pi^{ret}_z)\, q_z(s)\Big).

Sampling
--------
Persons are simulated in chunks, all persons of a chunk position by position
(numpy, no loop over persons); chunk ``k`` draws from the ``k``-th child of
``SeedSequence(rng)``, so :meth:`SyntheticCareers.sample` and
:meth:`SyntheticCareers.write_parquet` with equal ``rng``, ``n_persons`` and
``chunk_size`` give the same panel. Fresh moves are drawn exactly with one
uniform each, by inverting the boosted cumulative distribution with the
current state cut out.

Oracle
------
:math:`P(y_t \mid y_{<t}, x) = \sum_z P(z \mid y_{<t}, x)\, P(y_t \mid y_{<t}, z)`,
with the type posterior forward-filtered over the person's rows (context rows
update it without being scored). The oracle assumes each person's first row in
the panel is the first observation of the career (true of generated panels and
of their ``split_at_year`` future panels).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from laborseq._util.random import RNGLike, seed_sequence
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel, PanelValidationError
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
UNEMPLOYED = "unemployed"
SCHEME_NAME = "occ1990dd-synthetic"
CYCLE_ORIGIN, DRIFT_ORIGIN, COHORT_ORIGIN = 1980, 2000, 1975


_PROBA_CELLS = 4_000_000
"""Rows times states of the predictive distributions computed at once in :meth:`SyntheticCareers.predict_proba`."""

# Education loading and female effect of each occ1990dd major group (before noise).
_GROUP_SKILL = {
    "Managerial specialty": 0.9,
    "Professional specialty and technical support": 1.2,
    "Sales": 0.3,
    "Clerical, administrative support": 0.2,
    "Health services": 0.0,
    "Personal services": -0.4,
    "Service: protection": -0.2,
    "Service: food preparation": -0.6,
    "Service: private household, cleaning and building": -0.7,
    "Farming, forestry, fishing": -0.6,
    "Mechanics and repair": -0.3,
    "Construction trades and extractive": -0.4,
    "Precision production": -0.4,
    "Operators: machine": -0.7,
    "Operators: transport": -0.6,
    "Operators: handlers, helpers, laborers": -0.8,
    UNEMPLOYED: -0.6,
}
_GROUP_FEMALE = {
    "Clerical, administrative support": 0.8,
    "Health services": 0.8,
    "Personal services": 0.5,
    "Service: private household, cleaning and building": 0.6,
    "Professional specialty and technical support": 0.2,
    "Sales": 0.1,
    "Service: food preparation": 0.2,
    "Construction trades and extractive": -1.0,
    "Mechanics and repair": -1.0,
    "Operators: transport": -0.7,
    "Service: protection": -0.5,
    "Precision production": -0.5,
    "Operators: handlers, helpers, laborers": -0.4,
    "Farming, forestry, fishing": -0.4,
    "Operators: machine": -0.2,
}


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


@dataclass(frozen=True)
class TrueParameters:
    """The drawn parameters of a :class:`SyntheticCareers` process (see the module docstring).

    ``Z`` types, ``K`` states, ``R`` races, ``Q`` regions, ``E`` education levels.
    """

    group: np.ndarray  # (K,) int: group id of each state (unemployed: its own)
    preference: np.ndarray  # (Z, K): theta
    education_loading: np.ndarray  # (K,): ell
    female_effect: np.ndarray  # (K,): omega
    drift: np.ndarray  # (K,): lambda, per decade
    initial_offset: np.ndarray  # (K,): iota
    stay_type: np.ndarray  # (Z,): kappa
    tenure_type: np.ndarray  # (Z,): rho
    stay_state: np.ndarray  # (K,): kappa^state
    return_type: np.ndarray  # (Z,): r
    type_intercept: np.ndarray  # (Z,): alpha
    type_female: np.ndarray  # (Z,): alpha^f
    type_race: np.ndarray  # (Z, R)
    type_region: np.ndarray  # (Z, Q)
    type_education: np.ndarray  # (Z, E)
    type_cohort: np.ndarray  # (Z,): per decade of birth after 1975
    type_selection: np.ndarray  # (Z,): xi

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The parameters by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SyntheticCareers:
    """A seeded career process with known truth (see the module docstring for the formulas).

    Parameters
    ----------
    seed : int
        Seed of the parameters (and of the subset of occupations).
    n_occupations : int
        Number of occ1990dd codes (1-330).
    n_types : int
        Number of latent types :math:`Z`.
    unemployment : bool
        Include the status token ``unemployed``.
    popularity_scale, type_group_scale, type_occ_scale : float
        Standard deviations of :math:`a_s`, :math:`B_{z,g}`, :math:`C_{z,s}`.
    education_effect, gender_effect : float
        Multipliers of the group education loadings and female effects.
    drift_scale : float
        Standard deviation of the group calendar drift per decade (occupations
        add half as much again).
    related_boost : float
        :math:`\\beta`, log-odds bonus of moves within the current major group.
    stay_intercept, stay_spread : float
        Mean and spread of :math:`\\kappa_z`.
    tenure_effect : (float, float)
        Range of :math:`\\rho_z` (uniform).
    gap_effect : float
        :math:`\\psi`.
    return_intercept, return_spread : float
        Mean and spread of :math:`r_z`.
    recency : float
        :math:`\\mu`.
    unemployment_level : float
        Added to the popularity :math:`a_u` of ``unemployed``.
    cycle_amplitude, cycle_period : float
        Unemployment cycle :math:`A` and :math:`P` (years).
    type_scale : float
        Standard deviation of the covariate effects on types.
    populations : tuple of Population
        Sampling designs by name (default: :data:`SURVEY`, :data:`RESUME`).
    variant : {"dorn2013"}
        occ1990dd family.
    """

    seed: int = 0
    n_occupations: int = 330
    n_types: int = 4
    unemployment: bool = True
    popularity_scale: float = 1.0
    type_group_scale: float = 1.0
    type_occ_scale: float = 0.5
    education_effect: float = 0.6
    gender_effect: float = 1.0
    drift_scale: float = 0.25
    related_boost: float = 2.0
    stay_intercept: float = 1.0
    stay_spread: float = 0.5
    tenure_effect: tuple[float, float] = (0.3, 0.9)
    gap_effect: float = 0.5
    return_intercept: float = -0.5
    return_spread: float = 0.7
    recency: float = 0.3
    unemployment_level: float = 2.5
    cycle_amplitude: float = 0.4
    cycle_period: float = 8.0
    type_scale: float = 0.7
    populations: tuple[Population, ...] = (SURVEY, RESUME)
    variant: Literal["dorn2013"] = "dorn2013"
    params: TrueParameters = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tenure_effect", tuple(self.tenure_effect))
        pops = tuple(p if isinstance(p, Population) else Population(**p) for p in self.populations)
        object.__setattr__(self, "populations", pops)
        n_codes = len(occ1990dd(self.variant).codes)
        if not 1 <= self.n_occupations <= n_codes:
            raise ValueError(f"n_occupations must be between 1 and {n_codes}, got {self.n_occupations}")
        if self.n_types < 1:
            raise ValueError(f"n_types must be >= 1, got {self.n_types}")
        if self.n_occupations + int(self.unemployment) < 2:
            raise ValueError("the process needs at least two states")
        names = [p.name for p in pops]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"population names must be unique and non-empty, got {names}")
        object.__setattr__(self, "params", self._draw())

    # ------------------------------------------------------------------ configuration
    def config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-native (inverse of :meth:`from_config`)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if f.name == "populations":
                value = [p.to_dict() for p in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SyntheticCareers:
        """Rebuild a process from :meth:`config` (parameters are redrawn from the seed)."""
        kwargs = dict(config)
        if "populations" in kwargs:
            kwargs["populations"] = tuple(
                p if isinstance(p, Population) else Population(**p) for p in kwargs["populations"]
            )
        return cls(**kwargs)

    def with_parameters(self, params: TrueParameters | Mapping[str, np.ndarray]) -> SyntheticCareers:
        """A copy of the process with the given parameter arrays (shapes are checked)."""
        if not isinstance(params, TrueParameters):
            params = TrueParameters(**{k: np.asarray(v) for k, v in params.items()})
        for name, old in self.params.to_arrays().items():
            if getattr(params, name).shape != old.shape:
                raise ValueError(f"parameter {name!r} has shape {getattr(params, name).shape}, expected {old.shape}")
        new = dataclasses.replace(self)
        object.__setattr__(new, "params", params)
        return new

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValueError(f"unknown population {name!r}; this process has {[p.name for p in self.populations]}")

    # ------------------------------------------------------------------ state space
    @cached_property
    def scheme(self) -> OccupationScheme:
        """The scheme of every panel of this process: the chosen codes, then ``unemployed``."""
        full = occ1990dd(self.variant)
        chosen = set(np.random.default_rng([self.seed, 0]).permutation(full.codes)[: self.n_occupations])
        codes = tuple(c for c in full.codes if c in chosen)
        tokens = (UNEMPLOYED,) if self.unemployment else ()
        states = set(codes) | set(tokens)
        return OccupationScheme(
            name=SCHEME_NAME,
            codes=codes,
            titles={c: full.titles[c] for c in codes if c in full.titles},
            groups={lvl: {s: g for s, g in m.items() if s in states} for lvl, m in full.groups.items()},
            status_tokens=tokens,
            variant=full.variant,
            source=f"synthetic careers over {full.name} (seed {self.seed}); {full.source}",
        )

    @property
    def states(self) -> tuple[str, ...]:
        """States in model column order."""
        return self.scheme.states

    # ------------------------------------------------------------------ parameters
    def _draw(self) -> TrueParameters:
        rng = np.random.default_rng([self.seed, 1])
        scheme = self.scheme
        names = [scheme.group_of(s, "major_group") for s in scheme.states]
        group_ids = {g: i for i, g in enumerate(dict.fromkeys(names))}
        group = np.array([group_ids[g] for g in names], dtype=np.int64)
        k, z, n_groups = scheme.n_states, self.n_types, len(group_ids)
        skill = np.array([_GROUP_SKILL.get(g, 0.0) for g in group_ids])
        female = np.array([_GROUP_FEMALE.get(g, 0.0) for g in group_ids])
        is_unemp = np.array([s == UNEMPLOYED for s in scheme.states])
        popularity = rng.normal(0.0, self.popularity_scale, k) + self.unemployment_level * is_unemp
        type_group = rng.normal(0.0, self.type_group_scale, (z, n_groups))
        type_occ = rng.normal(0.0, self.type_occ_scale, (z, k))
        stay_state = rng.normal(0.0, 0.3, k) - 1.0 * is_unemp
        initial = rng.normal(0.0, 0.3, k) + 1.0 * is_unemp
        group_drift = rng.normal(0.0, self.drift_scale, n_groups)
        ts = self.type_scale
        lo, hi = self.tenure_effect
        return TrueParameters(
            group=group,
            preference=popularity[None, :] + type_group[:, group] + type_occ,
            education_loading=self.education_effect * (skill[group] + rng.normal(0.0, 0.3, k)),
            female_effect=self.gender_effect * (female[group] + rng.normal(0.0, 0.3, k)),
            drift=group_drift[group] + rng.normal(0.0, self.drift_scale / 2, k),
            initial_offset=initial,
            stay_type=self.stay_intercept + rng.normal(0.0, self.stay_spread, z),
            tenure_type=rng.uniform(lo, hi, z),
            stay_state=stay_state,
            return_type=self.return_intercept + rng.normal(0.0, self.return_spread, z),
            type_intercept=rng.normal(0.0, 0.5, z),
            type_female=rng.normal(0.0, ts, z),
            type_race=rng.normal(0.0, ts, (z, len(RACES))),
            type_region=rng.normal(0.0, ts / 2, (z, len(REGIONS))),
            type_education=rng.normal(0.0, ts, (z, len(EDUCATION_LEVELS))),
            type_cohort=rng.normal(0.0, ts / 2, z),
            type_selection=rng.normal(0.0, 1.0, z),
        )

    # ------------------------------------------------------------------ building blocks
    def type_log_prior(
        self,
        population: str,
        female: np.ndarray,
        race: np.ndarray,
        region: np.ndarray,
        birth: np.ndarray,
        edu0: np.ndarray,
    ) -> np.ndarray:
        """Log :math:`P(z \\mid x)` per person, shape ``(n, Z)`` (covariates as level indices)."""
        p = self.params
        shift = self.population(population).type_shift
        logits = (
            p.type_intercept[None, :]
            + female[:, None] * p.type_female[None, :]
            + p.type_race.T[race]
            + p.type_region.T[region]
            + p.type_education.T[edu0]
            + ((birth[:, None] - COHORT_ORIGIN) / 10.0) * p.type_cohort[None, :]
            + shift * p.type_selection[None, :]
        )
        return logits - _logsumexp(logits, axis=1)[:, None]

    def _utilities(self, years: np.ndarray) -> np.ndarray:
        """:math:`v_z(s)` for all education levels, genders (female first), years: shape (E, 2, Y, Z, K)."""
        p = self.params
        edu = np.arange(len(EDUCATION_LEVELS), dtype=float) - 1.0
        fem = np.array([1.0, 0.0])  # GENDERS order: female, male
        years = years.astype(float)
        calendar = ((years[:, None] - DRIFT_ORIGIN) / 10.0) * p.drift[None, :]
        if self.unemployment:
            cycle = self.cycle_amplitude * np.sin(2 * np.pi * (years - CYCLE_ORIGIN) / self.cycle_period)
            calendar[:, -1] += cycle
        return (
            p.preference[None, None, None, :, :]
            + (edu[:, None] * p.education_loading[None, :])[:, None, None, None, :]
            + (fem[:, None] * p.female_effect[None, :])[None, :, None, None, :]
            + calendar[None, None, :, None, :]
        )

    def _tables(self, year_lo: int, year_hi: int) -> _Tables:
        years = np.arange(year_lo, year_hi + 1)
        v = self._utilities(years)
        move = _softmax(v)
        init = _softmax(v + self.params.initial_offset)
        return _Tables(year_lo, move, init, self.params.group, self.related_boost)

    def _stay_logit(
        self, z: np.ndarray | slice, current: np.ndarray, tenure: np.ndarray, gap: np.ndarray
    ) -> np.ndarray:
        """Stay log-odds; ``z`` a per-row type index (shape (m,)) or ``slice(None)`` for all types (m, Z)."""
        p = self.params
        rest = -self.gap_effect * np.log(gap) + p.stay_state[current]
        if isinstance(z, slice):
            return p.stay_type[None, :] + p.tenure_type[None, :] * np.log1p(tenure)[:, None] + rest[:, None]
        return p.stay_type[z] + p.tenure_type[z] * np.log1p(tenure) + rest

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n_persons: int,
        population: str = "survey",
        rng: RNGLike = None,
        *,
        chunk_size: int = 100_000,
    ) -> CareerPanel:
        """Draw a panel of ``n_persons`` careers.

        Parameters
        ----------
        n_persons : int
            Number of persons.
        population : str
            Sampling design (``"survey"`` or ``"resume"`` by default).
        rng : int, SeedSequence or Generator, optional
            Seed of the persons. Chunk ``k`` of ``chunk_size`` persons uses the
            ``k``-th child of ``SeedSequence(rng)`` (a Generator contributes one
            draw as the root seed), so the panel depends on ``rng``,
            ``n_persons`` and ``chunk_size`` only.
        chunk_size : int
            Persons simulated at once; :meth:`write_parquet` with the same
            ``chunk_size`` writes the same panel.

        Returns
        -------
        CareerPanel
            Person ids ``1..n_persons``; covariates :data:`COVARIATES`;
            ``metadata["synthetic"]`` records the population and process.
        """
        frames = [frame for frame in self._chunks(n_persons, population, rng, chunk_size)]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return self._panel(frame, population, n_persons, rng)

    def write_parquet(
        self,
        path: str | os.PathLike[str],
        n_persons: int,
        population: str = "survey",
        rng: RNGLike = None,
        *,
        chunk_size: int = 100_000,
    ) -> Path:
        """Stream a panel of ``n_persons`` to one parquet file, chunk by chunk, atomically.

        The file is what :meth:`sample` with the same arguments returns, written
        as :meth:`CareerPanel.to_parquet` would (``CareerPanel.read_parquet``
        reads it back); memory stays at one chunk.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        writer: pq.ParquetWriter | None = None
        try:
            for frame in self._chunks(n_persons, population, rng, chunk_size):
                table = self._panel(frame, population, n_persons, rng).to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            if writer is not None:
                writer.close()
                writer = None
            os.replace(tmp, path)
        except BaseException:
            if writer is not None:
                writer.close()
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _chunks(self, n_persons: int, population: str, rng: RNGLike, chunk_size: int) -> Iterator[pd.DataFrame]:
        if n_persons < 1 or chunk_size < 1:
            raise ValueError(f"n_persons and chunk_size must be >= 1, got {n_persons} and {chunk_size}")
        pop = self.population(population)
        starts = range(0, n_persons, chunk_size)
        for start, seq in zip(starts, seed_sequence(rng).spawn(len(starts)), strict=True):
            n = min(chunk_size, n_persons - start)
            yield self._simulate(n, pop, np.random.default_rng(seq), first_id=start + 1)

    def _panel(self, frame: pd.DataFrame, population: str, n_persons: int, rng: RNGLike) -> CareerPanel:
        meta = {
            "synthetic": {
                "population": population,
                "n_persons": int(n_persons),
                "rng": int(rng) if isinstance(rng, int | np.integer) else None,
                "process": self.config(),
            }
        }
        return CareerPanel(
            frame,
            covariates=list(COVARIATES),
            static=list(STATIC),
            scheme=self.scheme,
            name=f"synthetic-{population}",
            metadata=meta,
        )

    def _simulate(self, n: int, pop: Population, rng: np.random.Generator, first_id: int) -> pd.DataFrame:
        """One chunk of persons as a canonical long frame."""
        female = (rng.random(n) < pop.gender[0]).astype(np.int64)
        race = _draw_categorical(rng, np.asarray(pop.race), n)
        region = _draw_categorical(rng, np.asarray(pop.region), n)
        birth = rng.integers(pop.birth_years[0], pop.birth_years[1] + 1, n)
        years, lengths = _observation_years(pop, birth, rng)
        attained = _draw_categorical(rng, np.asarray(pop.education), n)
        edu = np.minimum(attained[:, None], _education_cap(years - birth[:, None]))
        log_prior = self.type_log_prior(pop.name, female, race, region, birth, edu[:, 0])
        types = _sample_rows(np.exp(log_prior), rng.random(n))
        states = self._simulate_states(types, female, years, edu, lengths, rng)
        mask = np.arange(years.shape[1])[None, :] < lengths[:, None]
        person = np.repeat(np.arange(first_id, first_id + n, dtype=np.int64), lengths)
        return pd.DataFrame(
            {
                PERSON: person,
                YEAR: years[mask].astype(np.int16),
                OCC: pd.Categorical.from_codes(states[mask], categories=list(self.states)),
                GENDER: pd.Categorical.from_codes(np.repeat(1 - female, lengths), categories=list(GENDERS)),
                RACE: pd.Categorical.from_codes(np.repeat(race, lengths), categories=list(RACES)),
                REGION: pd.Categorical.from_codes(np.repeat(region, lengths), categories=list(REGIONS)),
                BIRTH_YEAR: np.repeat(birth, lengths).astype(np.int16),
                EDUCATION: pd.Categorical.from_codes(edu[mask], categories=list(EDUCATION_LEVELS)),
            }
        )

    def _simulate_states(
        self,
        types: np.ndarray,
        female: np.ndarray,
        years: np.ndarray,
        edu: np.ndarray,
        lengths: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """States, shape (n, width), simulated position by position for all persons at once."""
        n, width = years.shape
        mask = np.arange(width)[None, :] < lengths[:, None]
        tab = self._tables(int(years[mask].min()), int(years[mask].max()))
        hist = _History(n, width)
        out = np.zeros((n, width), dtype=np.int32)
        gender = 1 - female
        for t in range(width):
            idx = np.flatnonzero(lengths > t)
            z, yi, e, g = types[idx], years[idx, t] - tab.year0, edu[idx, t], gender[idx]
            u = rng.random((len(idx), 4))
            if t == 0:
                y = tab.sample_initial(e, g, yi, z, u[:, 0])
            else:
                gap = (years[idx, t] - years[idx, t - 1]).astype(float)
                y = self._sample_next(tab, hist, idx, t, (z, e, g, yi), gap, u)
            out[idx, t] = y
            hist.update(idx, y, t)
        return out

    def _sample_next(
        self,
        tab: _Tables,
        hist: _History,
        idx: np.ndarray,
        t: int,
        cell: tuple[np.ndarray, ...],
        gap: np.ndarray,
        u: np.ndarray,
    ) -> np.ndarray:
        z, e, g, yi = cell
        current = hist.current[idx]
        stay = u[:, 0] < _sigmoid(self._stay_logit(z, current, hist.tenure[idx], gap))
        y = current.copy()
        movers = np.flatnonzero(~stay)
        cand, weights = hist.return_weights(idx[movers], t, self.recency)
        total = weights.sum(axis=1)
        ret = (total > 0) & (u[movers, 1] < _sigmoid(self.params.return_type[z[movers]]))
        r = movers[ret]
        y[r] = cand[ret, _pick_weighted(weights[ret], u[r, 2])]
        f = movers[~ret]
        y[f] = tab.sample_move(e[f], g[f], yi[f], z[f], current[f], u[f, 3])
        return y

    # ------------------------------------------------------------------ likelihood
    def log_likelihood(self, panel: CareerPanel, population: str | None = None) -> np.ndarray:
        """Exact log-probability of every target row's state, aligned with ``panel.targets()``.

        Parameters
        ----------
        panel : CareerPanel
            A panel over this process's states with its covariates.
        population : str, optional
            Population the persons come from (it sets the type mix); default
            ``panel.metadata["synthetic"]["population"]``.

        Returns
        -------
        numpy.ndarray
            :math:`\\log P(y_t \\mid y_{<t}, \\mathrm{years}, x)` with the latent
            type marginalised by forward filtering over all of the person's rows
            (context rows included).

        Raises
        ------
        PanelValidationError
            When a state, covariate value or column does not fit the process
            (the message names the column).
        """
        data = self._encode(panel, population)
        out = np.empty(len(data.states))
        for chunk in data.chunks():
            self._filter(chunk, ll_out=out)
        return out[data.target]

    def predict_proba(self, panel: CareerPanel, population: str | None = None) -> np.ndarray:
        """Exact next-state distribution of every target row, shape ``(panel.n_targets, len(panel.states))``.

        Columns follow ``panel.states``; they must include every state of the
        process (states the process never produces get probability 0).
        """
        data = self._encode(panel, population)
        columns = _column_map(self.states, panel.states)
        k = len(self.states)
        rows = np.full(len(data.states), -1, dtype=np.int64)
        rows[data.target] = np.arange(int(data.target.sum()))
        out = np.zeros((int(data.target.sum()), len(panel.states)))
        for chunk in data.chunks(max(1, _PROBA_CELLS // k)):
            self._filter(chunk, proba_rows=rows, proba_out=out, columns=columns)
        return out

    def oracle_perplexity(self, panel: CareerPanel, population: str | None = None) -> float:
        """``exp(-mean log_likelihood)`` over the target rows of ``panel``."""
        return float(np.exp(-np.mean(self.log_likelihood(panel, population))))

    def _encode(self, panel: CareerPanel, population: str | None) -> _Encoded:
        if not isinstance(panel, CareerPanel):
            raise TypeError(f"expected a CareerPanel, got {type(panel).__name__}")
        if population is None:
            population = (panel.metadata.get("synthetic") or {}).get("population")
            if population is None:
                raise ValueError(
                    "the panel's metadata do not name its synthetic population; pass population='survey' or 'resume'"
                )
        self.population(population)
        return _Encoded.from_panel(self, panel, population)

    def _filter(
        self,
        data: _Encoded,
        *,
        ll_out: np.ndarray | None = None,
        proba_rows: np.ndarray | None = None,
        proba_out: np.ndarray | None = None,
        columns: np.ndarray | None = None,
    ) -> None:
        """Forward filter over the persons of ``data``, position by position.

        Writes the log-likelihood of every row into ``ll_out[data.row0 + row]``
        and/or the predictive distribution of target rows into
        ``proba_out[proba_rows[...]][:, columns]``.
        """
        lengths = data.lengths
        log_alpha = self.type_log_prior(data.population, data.female, data.race, data.region, data.birth, data.edu0)
        tab = self._tables(int(data.years.min()), int(data.years.max()))
        hist = _History(len(lengths), int(lengths.max()))
        for t in range(int(lengths.max())):
            idx = np.flatnonzero(lengths > t)
            rows = data.offsets[idx] + t
            y = data.states[rows]
            cell = (data.edu[rows], data.gender[idx], data.years[rows] - tab.year0)
            gap = None if t == 0 else (data.years[rows] - data.years[rows - 1]).astype(float)
            if proba_out is not None:
                sel = np.flatnonzero(proba_rows[data.row0 + rows] >= 0)
                if len(sel):
                    alpha = np.exp(log_alpha[idx[sel]])
                    dist = self._step_distribution(
                        tab, hist, idx[sel], t, [c[sel] for c in cell], None if gap is None else gap[sel], alpha
                    )
                    proba_out[np.ix_(proba_rows[data.row0 + rows[sel]], columns)] = dist
            logp = self._step_log_prob(tab, hist, idx, t, cell, gap, y)
            joint = log_alpha[idx] + logp
            ll = _logsumexp(joint, axis=1)
            log_alpha[idx] = joint - ll[:, None]
            if ll_out is not None:
                ll_out[data.row0 + rows] = ll
            hist.update(idx, y, t)

    def _step_log_prob(
        self,
        tab: _Tables,
        hist: _History,
        idx: np.ndarray,
        t: int,
        cell: tuple[np.ndarray, ...],
        gap: np.ndarray | None,
        y: np.ndarray,
    ) -> np.ndarray:
        """:math:`\\log P(y_t \\mid y_{<t}, z)` for every type, shape (m, Z)."""
        e, g, yi = cell
        if t == 0:
            with np.errstate(divide="ignore"):
                return np.log(tab.init[e, g, yi, :, y])
        current = hist.current[idx]
        stay_logit = self._stay_logit(slice(None), current, hist.tenure[idx], gap)
        cand, weights = hist.return_weights(idx, t, self.recency)
        total = weights.sum(axis=1)
        has = total > 0
        w_y = np.where(cand == y[:, None], weights, 0.0).sum(axis=1) / np.where(has, total, 1.0)
        p_ret = _sigmoid(self.params.return_type)[None, :] * has[:, None]
        move = p_ret * w_y[:, None] + (1 - p_ret) * tab.fresh(e, g, yi, current, y)
        with np.errstate(divide="ignore"):
            return np.where((y == current)[:, None], _log_sigmoid(stay_logit), _log_sigmoid(-stay_logit) + np.log(move))

    def _step_distribution(
        self,
        tab: _Tables,
        hist: _History,
        idx: np.ndarray,
        t: int,
        cell: Sequence[np.ndarray],
        gap: np.ndarray | None,
        alpha: np.ndarray,
    ) -> np.ndarray:
        """:math:`\\sum_z \\alpha_z P(\\cdot \\mid y_{<t}, z)` for m rows, shape (m, K)."""
        e, g, yi = cell
        m, k = len(idx), len(self.states)
        if t == 0:
            return np.einsum("mzk,mz->mk", tab.init[e, g, yi], alpha)
        current = hist.current[idx]
        stay = _sigmoid(self._stay_logit(slice(None), current, hist.tenure[idx], gap))
        cand, weights = hist.return_weights(idx, t, self.recency)
        total = weights.sum(axis=1)
        has = total > 0
        ret = np.zeros((m, k))
        valid = cand >= 0
        np.add.at(ret, (np.nonzero(valid)[0], cand[valid]), (weights / np.where(has, total, 1.0)[:, None])[valid])
        p_ret = _sigmoid(self.params.return_type)[None, :] * has[:, None]
        out = np.zeros((m, k))
        rows = np.arange(m)
        for z in range(self.n_types):
            dist = (1 - stay[:, z, None]) * (
                p_ret[:, z, None] * ret + (1 - p_ret[:, z, None]) * tab.fresh_all(e, g, yi, z, current)
            )
            dist[rows, current] = stay[:, z]
            out += alpha[:, z, None] * dist
        return out


# ---------------------------------------------------------------------- tables of the process
class _Tables:
    """Move and initial distributions for every (education, gender, year, type), with samplers.

    ``move`` and ``init`` have shape (E, 2, Y, Z, K); gender index 0 is female.
    """

    def __init__(self, year0: int, move: np.ndarray, init: np.ndarray, group: np.ndarray, boost: float) -> None:
        self.year0 = year0
        self.move = move
        self.init = init
        self.group = group
        self.boost = float(np.exp(boost))
        n_groups = int(group.max()) + 1
        onehot = np.zeros((len(group), n_groups))
        onehot[np.arange(len(group)), group] = 1.0
        self.group_mass = move @ onehot  # (E, 2, Y, Z, G)
        # samplers: states sorted by group so that each group is one segment of the cumulative sums
        self.order = np.argsort(group, kind="stable")
        self.position = np.argsort(self.order)
        sorted_group = group[self.order]
        self.seg_start = np.searchsorted(sorted_group, np.arange(n_groups), side="left")
        self.seg_end = np.searchsorted(sorted_group, np.arange(n_groups), side="right")
        k = len(group)
        self.move_cum = np.cumsum(move[..., self.order], axis=-1).reshape(-1, k)
        self.init_cum = np.cumsum(init, axis=-1).reshape(-1, k)
        self.shape = move.shape[:4]

    def _cell(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index((e, g, yi, z), self.shape)

    def _denominator(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, current: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{s' \\ne c} p(s') e^{\\beta 1[g(s')=g(c)]}` for every type, (m, Z)."""
        mass = self.group_mass[e, g, yi, :, self.group[current]]
        p_c = self.move[e, g, yi, :, current]
        return (1.0 - mass) + self.boost * (mass - p_c)

    def fresh(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, current: np.ndarray, y: np.ndarray) -> np.ndarray:
        """:math:`q_z(y)` for every type, (m, Z) (0 where ``y`` is the current state)."""
        p_y = self.move[e, g, yi, :, y]
        factor = np.where(self.group[y] == self.group[current], self.boost, 1.0) * (y != current)
        return p_y * factor[:, None] / self._denominator(e, g, yi, current)

    def fresh_all(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: int, current: np.ndarray) -> np.ndarray:
        """:math:`q_z(\\cdot)` of type ``z`` for m rows, shape (m, K)."""
        p = self.move[e, g, yi, z]
        factor = np.where(self.group[None, :] == self.group[current][:, None], self.boost, 1.0)
        factor[np.arange(len(current)), current] = 0.0
        return p * factor / self._denominator(e, g, yi, current)[:, z, None]

    def sample_initial(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Draw first states by inverse CDF."""
        cell = self._cell(e, g, yi, z)
        return _search(self.init_cum, cell, u * self.init_cum[cell, -1])

    def sample_move(
        self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray, current: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Draw fresh moves from :math:`q_z` by inverse CDF over group-sorted states, skipping the current one.

        The boosted cumulative distribution is the monotone map
        :math:`T(x) = x + (e^\\beta - 1)(\\mathrm{clip}(x, lo, hi) - lo)` of the
        plain one, where ``[lo, hi)`` is the current group's segment; the current
        state's interval is cut out of the target and the draw mapped back by
        :math:`T^{-1}`. One uniform per draw, no rejection.
        """
        if len(current) == 0:
            return np.zeros(0, dtype=np.int32)
        cell = self._cell(e, g, yi, z)
        cum = self.move_cum
        grp = self.group[current]
        start, end = self.seg_start[grp], self.seg_end[grp]
        lo = np.where(start > 0, cum[cell, np.maximum(start - 1, 0)], 0.0)
        hi = cum[cell, end - 1]
        pos = self.position[current]
        c_lo = np.where(pos > 0, cum[cell, np.maximum(pos - 1, 0)], 0.0)
        c_hi = cum[cell, pos]
        b = self.boost

        def boosted(x: np.ndarray) -> np.ndarray:
            return x + (b - 1.0) * (np.clip(x, lo, hi) - lo)

        cut_lo, cut_hi = boosted(c_lo), boosted(c_hi)
        v = u * (boosted(cum[cell, -1]) - (cut_hi - cut_lo))
        shifted = v >= cut_lo
        v = np.where(shifted, v + (cut_hi - cut_lo), v)
        x = np.where(v < lo, v, np.where(v < lo + b * (hi - lo), lo + (v - lo) / b, v - (b - 1.0) * (hi - lo)))
        x = np.where(shifted, np.maximum(x, c_hi), x)
        y = self.order[_search(cum, cell, x)]
        stuck = np.flatnonzero(y == current)  # only by rounding at the very top of the distribution
        for i in stuck:
            q = self.fresh_all(e[i : i + 1], g[i : i + 1], yi[i : i + 1], int(z[i]), current[i : i + 1])[0]
            y[i] = min(int(np.searchsorted(np.cumsum(q), u[i] * q.sum(), side="right")), len(q) - 1)
        return y


def _search(cum: np.ndarray, cell: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, the first index ``j`` with ``cum[cell, j] > x`` (the last one if none): vectorised bisection."""
    k = cum.shape[1]
    lo = np.zeros(len(cell), dtype=np.int64)
    hi = np.full(len(cell), k - 1, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo.astype(np.int32)
        mid = (lo + hi) // 2
        right = cum[cell, mid] <= x
        lo = np.where(active & right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


# ---------------------------------------------------------------------- histories
class _History:
    """Per-person career history: current state, tenure and the distinct earlier states."""

    def __init__(self, n: int, width: int) -> None:
        self.current = np.full(n, -1, dtype=np.int32)
        self.tenure = np.zeros(n, dtype=np.int64)
        self.states = np.full((n, width), -1, dtype=np.int32)
        self.counts = np.zeros((n, width), dtype=np.int32)
        self.last = np.zeros((n, width), dtype=np.int32)
        self.size = np.zeros(n, dtype=np.int64)

    def return_weights(self, idx: np.ndarray, t: int, recency: float) -> tuple[np.ndarray, np.ndarray]:
        """Candidate states and weights :math:`n_h e^{-\\mu (t-1-l_h)}` (0 for the current state and padding)."""
        cand = self.states[idx]
        weights = self.counts[idx] * np.exp(-recency * (t - 1 - self.last[idx]))
        weights[(cand < 0) | (cand == self.current[idx][:, None])] = 0.0
        return cand, weights

    def update(self, idx: np.ndarray, y: np.ndarray, t: int) -> None:
        """Record state ``y`` at position ``t`` for persons ``idx``."""
        same = self.current[idx] == y
        self.tenure[idx] = np.where(same, self.tenure[idx] + 1, 1)
        self.current[idx] = y
        match = self.states[idx] == y[:, None]
        found = match.any(axis=1)
        slot = np.where(found, match.argmax(axis=1), self.size[idx])
        self.states[idx, slot] = y
        self.counts[idx, slot] += 1
        self.last[idx, slot] = t
        self.size[idx] += ~found


# ---------------------------------------------------------------------- encoded panels
@dataclass
class _Encoded:
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
        return np.diff(self.offsets)

    @property
    def edu0(self) -> np.ndarray:
        return self.edu[self.offsets[:-1]]

    @classmethod
    def from_panel(cls, process: SyntheticCareers, panel: CareerPanel, population: str) -> _Encoded:
        seq = panel.sequences()
        lookup = _column_map(panel.states, process.states, missing_ok=True)
        states = lookup[seq.states] if len(seq.states) else seq.states
        if (states < 0).any():
            bad = sorted({panel.states[i] for i in np.unique(seq.states[states < 0])})
            raise PanelValidationError(
                f"column {OCC!r}: state(s) {bad[:10]} are not states of the synthetic process "
                f"(scheme {SCHEME_NAME!r}, {len(process.states)} states)",
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

    def chunks(self, size: int = 50_000) -> Iterator[_Encoded]:
        """Consecutive blocks of ``size`` persons (rows are addressed through ``row0``)."""
        n = len(self.offsets) - 1
        for start in range(0, n, size):
            stop = min(n, start + size)
            r0, r1 = self.offsets[start], self.offsets[stop]
            yield _Encoded(
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


def _column_map(source: Sequence[str], target: Sequence[str], missing_ok: bool = False) -> np.ndarray:
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
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any() or (numeric != np.floor(numeric)).any():
        raise PanelValidationError(f"column {BIRTH_YEAR!r}: birth years must be whole numbers", column=BIRTH_YEAR)
    return numeric.to_numpy(dtype=np.int64)


def _check_static(column: str, values: np.ndarray, offsets: np.ndarray, persons: np.ndarray) -> None:
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


# ---------------------------------------------------------------------- sampling helpers
def _draw_categorical(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(np.cumsum(shares), rng.random(n) * shares.sum(), side="right"), len(shares) - 1)


def _sample_rows(proba: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(proba, axis=1)
    return np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), proba.shape[1] - 1)


def _pick_weighted(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, a column drawn with probability proportional to ``weights`` (some positive per row)."""
    cum = np.cumsum(weights, axis=1)
    j = (cum <= (u * cum[:, -1])[:, None]).sum(axis=1)
    last = weights.shape[1] - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    return np.minimum(j, last)


def _observation_years(pop: Population, birth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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


def _education_cap(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(EDUCATION_CAP_AGES), age, side="right") - 1


# ---------------------------------------------------------------------- numerics
def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)
