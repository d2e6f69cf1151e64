"""The forecasting engine: Monte Carlo simulation of careers past a calendar origin.

:func:`forecast` follows the reference protocol (CAREER paper, forecasting
section): at each forecast year every sampled history is run through the model,
the predicted distributions are averaged over a person's samples (``p̄``, the
forecast recorded for that year), and each path then draws its next state from
its own distribution and appends it. The model side is a
:class:`~laborseq.models.stepper.Stepper` from ``model._stepper``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq._util.random import RNGLike, seed_int
from laborseq.forecast.covariates import CovariatePolicy, future_covariates, held_covariates, policy_name
from laborseq.forecast.result import ForecastResult
from laborseq.models.stepper import last_states
from laborseq.panel import PERSON, YEAR, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.base import SequenceModel

__all__ = ["METHODS", "forecast", "sample_indexed", "sample_states", "years_after"]

METHODS = ("simulate", "exact")
"""Forecast methods: Monte Carlo simulation, or exact marginals (Markov models)."""

MAX_PATHS = 1_000_000
"""Default cap on the paths (persons x samples) simulated at once."""

MAX_CELLS = 2**25
"""Default cap on paths x states per chunk (the ``(n_paths, K)`` probability array: 256 MiB)."""

_FEW_ROWS = 16
"""Up to this many distinct distributions, sampling runs one ``searchsorted`` per distribution."""

_DENSE_ROWS = 2048
"""Up to this many distinct distributions, p̄ is one dense matrix product per block of persons."""


def forecast(
    model: SequenceModel,
    panel: CareerPanel,
    *,
    origin: int,
    horizon: int | None = None,
    until: int | None = None,
    years: Sequence[int] | None = None,
    n_samples: int = 1000,
    covariates: CovariatePolicy = "hold",
    method: str = "simulate",
    rng: RNGLike = None,
    batch_size: int | None = None,
) -> ForecastResult:
    """Forecast every person's career in calendar years after ``origin``.

    Parameters
    ----------
    model : SequenceModel
        A fitted model.
    panel : CareerPanel
        Persons to forecast: those with at least one row at or before
        ``origin``. Their rows up to ``origin`` are the history; later rows are
        read only by ``covariates="observed"``.
    origin : int
        Last calendar year of the history.
    horizon, until, years
        Exactly one: ``horizon`` years (``origin + 1 .. origin + horizon``),
        every year up to ``until`` (``origin + 1 .. until``), or explicit
        ``years`` after ``origin`` (e.g. a survey's biennial waves).
    n_samples : int, default 1000
        Simulated paths per person (the reference uses 1,000).
    covariates : "hold", "observed" or callable
        Covariates of the future years (:mod:`laborseq.forecast.covariates`):
        ``"hold"`` keeps the last values at or before ``origin``;
        ``"observed"`` uses later observed values where present (leaks future
        information, as the reference does); a callable maps the held frame
        (``person_id``, ``year``, covariates) to the values to use.
    method : {"simulate", "exact"}
        Monte Carlo simulation, or the exact marginal distributions
        (:class:`~laborseq.models.Markov` only; no paths).
    rng : int or numpy.random.Generator, optional
        Seed. The same seed gives the same paths, whatever ``batch_size``.
    batch_size : int, optional
        Persons simulated at once. Default: as many as keep a chunk within
        :data:`MAX_PATHS` paths and, for steppers that return full
        ``(n_paths, K)`` arrays, :data:`MAX_CELLS` path-state probabilities.

    Returns
    -------
    ForecastResult
        ``probabilities[p, h]`` is person ``p``'s ``p̄`` for ``years[h]`` (the
        mean over samples of the predicted distributions; exact marginals for
        ``method="exact"``) and ``paths[p, s, h]`` the state sampled by path
        ``s``.

    Notes
    -----
    One step is simulated per forecast year: with explicit ``years`` that skip
    calendar years, the simulated path has a gap there, as survey data do.
    Calendar years beyond those seen in training are handled by the model: the
    count models ignore the year; the logit and CAREER use the nearest trained
    year.

    Seeding: a root :class:`numpy.random.SeedSequence` is built from ``rng``
    (an int is used as is; a Generator, or fresh entropy for ``None``, gives
    one 63-bit draw) and is recorded as the result's ``seed``. Person ``p`` (its
    position among the forecast persons) draws all its uniforms, ``years x
    n_samples``, from its own stream ``SeedSequence(seed, spawn_key=(p,))``, so
    the paths do not depend on how persons are chunked (``p̄`` only up to
    floating-point rounding, ~1e-16, as a chunk's means are matrix products).
    A path draws its state by inverse CDF with one uniform per year.
    """
    model._check_panel(panel)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {list(METHODS)}")
    if method == "exact" and not hasattr(model, "_forecast_exact"):
        raise ValueError(
            f"method='exact' needs a model with exact marginals (Markov); {type(model).__name__} can only simulate"
        )
    n_samples = _positive_int(n_samples, "n_samples")
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    name = policy_name(covariates)
    target_years = years_after(origin, horizon=horizon, until=until, years=years)

    data = panel.data
    past = data[YEAR].to_numpy() <= origin
    if not past.any():
        raise ValueError(f"no person has a row at or before origin={origin}; nothing to forecast")
    history = CareerPanel._from_canonical(panel, data[past], np.zeros(int(past.sum()), dtype=bool))
    groups = held_covariates(history)
    persons = groups.index.to_numpy()
    last_state, _, last_year = last_states(history)
    n_years = len(target_years)

    seed = seed_int(rng)
    if method == "exact":
        probabilities = np.asarray(model._forecast_exact(history, n_years), dtype=np.float64)
        paths = None
    else:
        future = future_covariates(panel, history, target_years, covariates)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            probabilities, paths = _simulate(model, history, future, target_years, n_samples, seed, batch_size)
        _reissue_once(caught)
    return ForecastResult(
        classes=tuple(model.classes_),
        persons=persons,
        years=target_years,
        origin=int(origin),
        last_state=last_state,
        last_year=last_year,
        probabilities=probabilities,
        paths=paths,
        groups=groups,
        scheme=model.scheme_,
        model=type(model).__name__,
        method=method,
        covariates=name,
        seed=seed,
        time_unit=panel.time_unit,
    )


def years_after(
    origin: int, *, horizon: int | None = None, until: int | None = None, years: Sequence[int] | None = None
) -> np.ndarray:
    """The forecast years from exactly one of ``horizon``, ``until`` or ``years`` (int64, increasing)."""
    given = [k for k, v in {"horizon": horizon, "until": until, "years": years}.items() if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"give exactly one of horizon, until or years (got {given or 'none'}): e.g. horizon=5 for "
            f"{origin + 1}-{origin + 5}, until={origin + 5}, or years=[{origin + 2}, {origin + 4}]"
        )
    if horizon is not None:
        horizon = _positive_int(horizon, "horizon")
        return np.arange(origin + 1, origin + horizon + 1, dtype=np.int64)
    if until is not None:
        if int(until) <= origin:
            raise ValueError(f"until={until} must be after origin={origin}")
        return np.arange(origin + 1, int(until) + 1, dtype=np.int64)
    out = np.asarray(list(years), dtype=np.int64)
    if out.ndim != 1 or len(out) == 0:
        raise ValueError("years must be a non-empty sequence of calendar years")
    if (out <= origin).any():
        raise ValueError(f"years must all be after origin={origin}, got {out[out <= origin].tolist()}")
    if (np.diff(out) <= 0).any():
        raise ValueError(f"years must be strictly increasing, got {out.tolist()}")
    return out


def sample_states(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: row ``i`` of ``probs`` sampled with the uniform ``uniforms[i]`` in ``[0, 1)``.

    Rows need not be exactly normalised (the uniform is scaled by the row total);
    a state with zero probability is never drawn.
    """
    cdf = np.cumsum(probs, axis=1)
    threshold = uniforms * cdf[:, -1]
    states = (cdf <= threshold[:, None]).sum(axis=1)
    return np.minimum(states, probs.shape[1] - 1)


def sample_indexed(
    table: np.ndarray, index: np.ndarray, uniforms: np.ndarray, cdf: np.ndarray | None = None
) -> np.ndarray:
    """:func:`sample_states` of ``table[index]`` without building it (the same draws, exactly).

    A vectorised binary search of each path's threshold in its row's CDF,
    ``ceil(log2(K + 1))`` passes over the paths instead of ``K`` (with a
    handful of distinct rows, one ``searchsorted`` per row instead).

    Parameters
    ----------
    table : numpy.ndarray
        ``(U, K)`` distinct distributions.
    index : numpy.ndarray
        Row of ``table`` of each path.
    uniforms : numpy.ndarray
        One uniform in ``[0, 1)`` per path.
    cdf : numpy.ndarray, optional
        ``numpy.cumsum(table, axis=1)``, when already computed.
    """
    k = table.shape[1]
    if cdf is None:
        cdf = np.cumsum(table, axis=1)
    flat = cdf.reshape(-1)
    base = np.asarray(index, dtype=np.int64) * k
    threshold = uniforms * flat[base + k - 1]
    if len(table) <= _FEW_ROWS:  # one searchsorted per distinct row
        states = np.empty(len(base), dtype=np.int64)
        for row in range(len(table)):
            paths = np.flatnonzero(base == row * k)
            states[paths] = np.searchsorted(cdf[row], threshold[paths], side="right")
        return np.minimum(states, k - 1)
    lo = np.zeros(len(base), dtype=np.int64)  # answer: number of CDF entries <= threshold, in [lo, hi]
    hi = np.full(len(base), k, dtype=np.int64)
    for _ in range(int(np.ceil(np.log2(k + 1)))):
        mid = (lo + hi) // 2
        below = flat[base + np.minimum(mid, k - 1)] <= threshold
        open_ = lo < hi
        lo = np.where(open_ & below, mid + 1, lo)
        hi = np.where(open_ & ~below, mid, hi)
    return np.minimum(lo, k - 1)


def _person_means(table: np.ndarray, index: np.ndarray, n_persons: int, n_samples: int) -> np.ndarray:
    """Mean of ``table[index]`` over each person's consecutive ``n_samples`` paths, without building it.

    With few distinct rows: per block of persons, the dense ``(persons, U)``
    matrix of row counts times ``table`` (one matrix product). With many (an
    order-2 chain over hundreds of states): each person's distinct rows and
    their counts, summed with ``reduceat`` in blocks.
    """
    n_rows, k = table.shape
    out = np.empty((n_persons, k))
    if n_rows <= _DENSE_ROWS:
        block = max(1, (MAX_CELLS // 8) // max(n_rows, 1))
        for lo in range(0, n_persons, block):
            hi = min(n_persons, lo + block)
            key = np.repeat(np.arange(hi - lo, dtype=np.int64) * n_rows, n_samples)
            key += index[lo * n_samples : hi * n_samples]
            counts = np.bincount(key, minlength=(hi - lo) * n_rows).reshape(hi - lo, n_rows)
            out[lo:hi] = (counts.astype(np.float64) @ table) / n_samples
        return out
    block = max(1, (MAX_CELLS // 16) // (k * n_samples))  # persons per block: at most block * S pairs
    for lo in range(0, n_persons, block):
        hi = min(n_persons, lo + block)
        key = np.repeat(np.arange(hi - lo, dtype=np.int64) * n_rows, n_samples)
        key += index[lo * n_samples : hi * n_samples]
        key.sort()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        counts = np.diff(np.r_[starts, len(key)]).astype(np.float64)
        owner = key[starts] // n_rows
        weighted = table[key[starts] % n_rows] * counts[:, None]
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        out[lo:hi] = np.add.reduceat(weighted, first, axis=0) / n_samples
    return out


def _simulate(
    model: SequenceModel,
    history: CareerPanel,
    future: pd.DataFrame,
    years: np.ndarray,
    n_samples: int,
    seed: int,
    batch_size: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate all persons in chunks of ``batch_size``; return ``p̄`` (P, H, K) and paths (P, S, H)."""
    k = len(model.classes_)
    n_years = len(years)
    data = history.data
    bounds = history.person_offsets()
    n_persons = len(bounds) - 1
    probabilities = np.empty((n_persons, n_years, k))
    paths = np.empty((n_persons, n_samples, n_years), dtype=np.int16 if k <= np.iinfo(np.int16).max else np.int32)
    covs = [c for c in future.columns if c not in (PERSON, YEAR)]
    indexed = False  # until the first stepper says otherwise: the first chunk is sized for full arrays
    lo = 0
    while lo < n_persons:
        hi = min(n_persons, lo + (batch_size or _default_batch(n_samples, k, indexed, model._forecast_max_paths())))
        rows = slice(bounds[lo], bounds[hi])
        chunk = CareerPanel._from_canonical(history, data.iloc[rows], np.zeros(bounds[hi] - bounds[lo], dtype=bool))
        stepper = model._stepper(chunk, n_samples)
        indexed = hasattr(stepper, "step_indexed")
        cdfs = _RowCdf(k)
        uniforms = _uniforms(seed, lo, hi, n_years, n_samples)
        for h, year in enumerate(years):
            at = np.repeat(np.arange(lo, hi) * n_years + h, n_samples)
            year_covariates = future[covs].iloc[at].reset_index(drop=True)
            u = uniforms[:, h, :].reshape(-1)
            if indexed:
                table, index = stepper.step_indexed(int(year), year_covariates)
                table = np.asarray(table, dtype=np.float64)
                _check_step(model, table, len(table), k)
                cdf = cdfs(table) if getattr(stepper, "table_grows", True) else None
                index = np.asarray(index, dtype=np.int64)
                if index.shape != (len(at),) or (len(index) and (index.min() < 0 or index.max() >= len(table))):
                    raise ValueError(f"{type(model).__name__} stepper returned an invalid index for {len(at)} paths")
                probabilities[lo:hi, h] = _person_means(np.asarray(table, dtype=np.float64), index, hi - lo, n_samples)
                states = sample_indexed(table, index, u, cdf)
            else:
                probs = np.asarray(stepper.step(int(year), year_covariates), dtype=np.float64)
                _check_step(model, probs, len(at), k)
                probabilities[lo:hi, h] = probs.reshape(hi - lo, n_samples, k).mean(axis=1)
                states = sample_states(probs, u)
            paths[lo:hi, :, h] = states.reshape(hi - lo, n_samples)
            stepper.append(states)
        lo = hi
    return probabilities, paths


class _RowCdf:
    """Row-wise cumulative sums of an indexed stepper's table, computed once per row as rows are appended."""

    def __init__(self, n_states: int) -> None:
        self._buffer = np.empty((0, n_states))
        self._n = 0

    def __call__(self, table: np.ndarray) -> np.ndarray:
        n = len(table)
        if n < self._n:
            self._n = 0
        if n > self._n:
            if n > len(self._buffer):
                grown = np.empty((max(n, 2 * len(self._buffer)), table.shape[1]))
                grown[: self._n] = self._buffer[: self._n]
                self._buffer = grown
            self._buffer[self._n : n] = np.cumsum(table[self._n :], axis=1)
            self._n = n
        return self._buffer[:n]


def _check_step(model: SequenceModel, probs: np.ndarray, n_rows: int, k: int) -> None:
    if probs.shape != (n_rows, k):
        raise ValueError(
            f"{type(model).__name__} stepper returned shape {probs.shape} for {n_rows} rows and {k} states"
        )


def _uniforms(seed: int, lo: int, hi: int, n_years: int, n_samples: int) -> np.ndarray:
    """Uniforms of persons ``lo .. hi - 1``, shape ``(hi - lo, years, samples)``, one stream per person."""
    out = np.empty((hi - lo, n_years, n_samples))
    for i, person in enumerate(range(lo, hi)):
        stream = np.random.SeedSequence(seed, spawn_key=(person,))
        out[i] = np.random.Generator(np.random.PCG64(stream)).random((n_years, n_samples))
    return out


def _reissue_once(caught: list[warnings.WarningMessage], limit: int = 3) -> None:
    """Warn once per kind about what the model warned of while stepping (each year and chunk repeats it)."""
    seen: dict[tuple[type[Warning], str], int] = {}
    for w in caught:
        key = (w.category, re.sub(r"\d+", "#", str(w.message)))  # the same warning with other counts is one kind
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1 and len(seen) <= limit:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if len(seen) > limit:
        warnings.warn(f"forecast: {len(seen) - limit} more kinds of warnings while simulating", stacklevel=3)


def _default_batch(n_samples: int, n_states: int, indexed: bool, model_max_paths: int | None = None) -> int:
    """Persons per chunk: at most :data:`MAX_PATHS` paths (or the model's own cap), and :data:`MAX_CELLS`
    path-state cells unless indexed."""
    paths = MAX_PATHS if indexed else min(MAX_PATHS, MAX_CELLS // max(n_states, 1))
    if model_max_paths is not None:
        paths = min(paths, model_max_paths)
    return max(1, paths // n_samples)


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
