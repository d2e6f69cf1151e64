"""Simulation of synthetic careers: persons, covariates, observed years and states, chunk by chunk.

All persons of a chunk are simulated position by position with numpy (no loop
over persons). Chunk ``k`` draws from the ``k``-th child of
``SeedSequence(rng)``, so a panel depends on ``rng``, ``n_persons`` and
``chunk_size`` only. Fresh moves are drawn exactly with one uniform each by
:meth:`~laborseq.synthetic.transitions.TransitionTables.sample_move`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq._util.random import RNGLike, seed_sequence
from laborseq.panel import OCC, PERSON, YEAR
from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.synthetic._math import draw_categorical, pick_weighted, sample_rows, sigmoid
from laborseq.synthetic.population import (
    BIRTH_YEAR,
    EDUCATION,
    GENDER,
    GENDERS,
    RACE,
    RACES,
    REGION,
    REGIONS,
    Population,
    education_cap,
    observation_years,
)
from laborseq.synthetic.transitions import CareerHistory, TransitionTables

if TYPE_CHECKING:
    from laborseq.synthetic.process import SyntheticCareers


def simulate_chunks(
    process: SyntheticCareers, n_persons: int, population: str, rng: RNGLike, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Persons ``1..n_persons`` of ``population`` as canonical long frames of ``chunk_size`` persons each.

    Parameters
    ----------
    process : SyntheticCareers
        The process to draw from.
    n_persons : int
        Number of persons.
    population : str
        Name of one of the process's populations.
    rng : int, SeedSequence or Generator, optional
        Root seed; chunk ``k`` uses the ``k``-th child of ``SeedSequence(rng)``.
    chunk_size : int
        Persons simulated at once.

    Yields
    ------
    pandas.DataFrame
        One chunk of persons, rows sorted by person and year.
    """
    if n_persons < 1 or chunk_size < 1:
        raise ValueError(f"n_persons and chunk_size must be >= 1, got {n_persons} and {chunk_size}")
    pop = process.population(population)
    starts = range(0, n_persons, chunk_size)
    for start, seq in zip(starts, seed_sequence(rng).spawn(len(starts)), strict=True):
        n = min(chunk_size, n_persons - start)
        yield simulate_persons(process, n, pop, np.random.default_rng(seq), first_id=start + 1)


def simulate_persons(
    process: SyntheticCareers, n: int, pop: Population, rng: np.random.Generator, first_id: int
) -> pd.DataFrame:
    """One chunk of ``n`` persons (ids from ``first_id``) as a canonical long frame."""
    female = (rng.random(n) < pop.gender[0]).astype(np.int64)
    race = draw_categorical(rng, np.asarray(pop.race), n)
    region = draw_categorical(rng, np.asarray(pop.region), n)
    birth = rng.integers(pop.birth_years[0], pop.birth_years[1] + 1, n)
    years, lengths = observation_years(pop, birth, rng)
    attained = draw_categorical(rng, np.asarray(pop.education), n)
    edu = np.minimum(attained[:, None], education_cap(years - birth[:, None]))
    log_prior = process.type_log_prior(pop.name, female, race, region, birth, edu[:, 0])
    types = sample_rows(np.exp(log_prior), rng.random(n))
    states = _simulate_states(process, types, female, years, edu, lengths, rng)
    mask = np.arange(years.shape[1])[None, :] < lengths[:, None]
    person = np.repeat(np.arange(first_id, first_id + n, dtype=np.int64), lengths)
    return pd.DataFrame(
        {
            PERSON: person,
            YEAR: years[mask].astype(np.int16),
            OCC: pd.Categorical.from_codes(states[mask], categories=list(process.states)),
            GENDER: pd.Categorical.from_codes(np.repeat(1 - female, lengths), categories=list(GENDERS)),
            RACE: pd.Categorical.from_codes(np.repeat(race, lengths), categories=list(RACES)),
            REGION: pd.Categorical.from_codes(np.repeat(region, lengths), categories=list(REGIONS)),
            BIRTH_YEAR: np.repeat(birth, lengths).astype(np.int16),
            EDUCATION: pd.Categorical.from_codes(edu[mask], categories=list(EDUCATION_LEVELS)),
        }
    )


def _simulate_states(
    process: SyntheticCareers,
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
    tab = process._tables(int(years[mask].min()), int(years[mask].max()))
    hist = CareerHistory(n, width)
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
            y = _sample_next(process, tab, hist, idx, t, (z, e, g, yi), gap, u)
        out[idx, t] = y
        hist.update(idx, y, t)
    return out


def _sample_next(
    process: SyntheticCareers,
    tab: TransitionTables,
    hist: CareerHistory,
    idx: np.ndarray,
    t: int,
    cell: tuple[np.ndarray, ...],
    gap: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Next states of persons ``idx`` at position ``t >= 1``: stay, return to an earlier job or move fresh."""
    z, e, g, yi = cell
    current = hist.current[idx]
    stay = u[:, 0] < sigmoid(process._stay_logit(z, current, hist.tenure[idx], gap))
    y = current.copy()
    movers = np.flatnonzero(~stay)
    cand, weights = hist.return_weights(idx[movers], t, process.recency)
    total = weights.sum(axis=1)
    ret = (total > 0) & (u[movers, 1] < sigmoid(process.params.return_type[z[movers]]))
    r = movers[ret]
    y[r] = cand[ret, pick_weighted(weights[ret], u[r, 2])]
    f = movers[~ret]
    y[f] = tab.sample_move(e[f], g[f], yi[f], z[f], current[f], u[f, 3])
    return y
