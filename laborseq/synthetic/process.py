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
current state cut out (:mod:`laborseq.synthetic.simulation`).

Oracle
------
:math:`P(y_t \mid y_{<t}, x) = \sum_z P(z \mid y_{<t}, x)\, P(y_t \mid y_{<t}, z)`,
with the type posterior forward-filtered over the person's rows (context rows
update it without being scored). The oracle assumes each person's first row in
the panel is the first observation of the career (true of generated panels and
of their ``split_at_year`` future panels). :mod:`laborseq.synthetic.likelihood`
runs the filter.

Populations (:mod:`laborseq.synthetic.population`) and parameters
(:mod:`laborseq.synthetic.parameters`) live in modules of their own; this one
defines the process and its conditional distributions.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.io import atomic_file
from laborseq._util.random import RNGLike, seed_sequence
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel
from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.synthetic._math import logsumexp, softmax
from laborseq.synthetic.encoding import EncodedPanel
from laborseq.synthetic.likelihood import target_distributions, target_log_likelihood
from laborseq.synthetic.parameters import UNEMPLOYED, TrueParameters, draw_parameters
from laborseq.synthetic.population import COVARIATES, RESUME, STATIC, SURVEY, Population
from laborseq.synthetic.simulation import simulate_chunks
from laborseq.synthetic.spells import DATES_KEY, SPELL_SCHEMA, SpellOptions, spells_from_careers
from laborseq.synthetic.transitions import TransitionTables

SCHEME_NAME = "occ1990dd-synthetic"
CYCLE_ORIGIN, DRIFT_ORIGIN, COHORT_ORIGIN = 1980, 2000, 1975
"""Calendar origins of the unemployment cycle and the drift, and birth-year origin of the type cohort effect."""


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
        object.__setattr__(self, "params", draw_parameters(self))

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
        return logits - logsumexp(logits, axis=1)[:, None]

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

    def _tables(self, year_lo: int, year_hi: int) -> TransitionTables:
        """:math:`p_z` and :math:`p^0_z` of every cell for calendar years ``year_lo..year_hi``, with samplers."""
        years = np.arange(year_lo, year_hi + 1)
        v = self._utilities(years)
        move = softmax(v)
        init = softmax(v + self.params.initial_offset)
        return TransitionTables(year_lo, move, init, self.params.group, self.related_boost)

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
        frames = [frame for frame in simulate_chunks(self, n_persons, population, rng, chunk_size)]
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
        chunks = simulate_chunks(self, n_persons, population, rng, chunk_size)
        return _write_tables(path, (self._panel(frame, population, n_persons, rng).to_arrow() for frame in chunks))

    def write_spells(
        self,
        path: str | os.PathLike[str],
        n_persons: int,
        population: str = "resume",
        rng: RNGLike = None,
        *,
        chunk_size: int = 100_000,
        options: SpellOptions | None = None,
    ) -> Path:
        """Stream ``n_persons`` careers to one parquet file of resume job spells, chunk by chunk, atomically.

        The careers are those of :meth:`sample` with the same arguments, written
        as :func:`~laborseq.synthetic.spells.spells_from_careers` describes
        (spells, ongoing last spells, overlapping side jobs, gap years); the
        dates of chunk ``k`` come from a seed sequence of their own (spawn key
        ``(DATES_KEY, k)`` under the root), so the careers are those of
        :meth:`sample`. Memory stays at one chunk.

        Returns
        -------
        pathlib.Path
            The file, with columns :data:`~laborseq.synthetic.spells.SPELL_COLUMNS`.
        """
        if n_persons < 1 or chunk_size < 1:
            raise ValueError(f"n_persons and chunk_size must be >= 1, got {n_persons} and {chunk_size}")
        options = options or SpellOptions()
        if options.final_year is None:  # the careers' last year, the same in every chunk
            options = dataclasses.replace(options, final_year=self.population(population).last_year)
        root = seed_sequence(rng)  # the careers of sample(rng): root's children; the dates: a key of their own
        n_chunks = -(-n_persons // chunk_size)
        seeds = [
            np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, DATES_KEY, k)) for k in range(n_chunks)
        ]
        chunks = zip(simulate_chunks(self, n_persons, population, root, chunk_size), seeds, strict=True)
        tables = (
            pa.Table.from_pandas(spells_from_careers(frame, np.random.default_rng(seed), options)[0]).cast(SPELL_SCHEMA)
            for frame, seed in chunks
        )
        return _write_tables(path, tables)

    def _panel(self, frame: pd.DataFrame, population: str, n_persons: int, rng: RNGLike) -> CareerPanel:
        """A chunk of persons as a panel of this process, its draw recorded in ``metadata["synthetic"]``."""
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
        return target_log_likelihood(self, self._encode(panel, population))

    def predict_proba(self, panel: CareerPanel, population: str | None = None) -> np.ndarray:
        """Exact next-state distribution of every target row, shape ``(panel.n_targets, len(panel.states))``.

        Columns follow ``panel.states``; they must include every state of the
        process (states the process never produces get probability 0).
        """
        return target_distributions(self, self._encode(panel, population), panel.states)

    def oracle_perplexity(self, panel: CareerPanel, population: str | None = None) -> float:
        """``exp(-mean log_likelihood)`` over the target rows of ``panel``."""
        return float(np.exp(-np.mean(self.log_likelihood(panel, population))))

    def _encode(self, panel: CareerPanel, population: str | None) -> EncodedPanel:
        """``panel`` encoded against this process, its population checked (default: the panel's metadata)."""
        if not isinstance(panel, CareerPanel):
            raise TypeError(f"expected a CareerPanel, got {type(panel).__name__}")
        if population is None:
            population = (panel.metadata.get("synthetic") or {}).get("population")
            if population is None:
                raise ValueError(
                    "the panel's metadata do not name its synthetic population; pass population='survey' or 'resume'"
                )
        self.population(population)
        return EncodedPanel.from_panel(panel, self.scheme, population)


def _write_tables(path: str | os.PathLike[str], tables: Iterator[pa.Table]) -> Path:
    """Stream Arrow tables of one schema into one parquet file, atomically (memory: one table)."""
    path = Path(path)
    with atomic_file(path) as tmp:
        writer: pq.ParquetWriter | None = None
        try:
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return path
