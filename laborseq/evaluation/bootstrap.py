"""Person-bootstrap intervals of perplexities (ratio estimators resampled by person).

A perplexity is ``exp(sum_t w_t (-log p_t) / sum_t w_t)`` over a set of target
person-years. Targets of one person are dependent, so intervals resample
persons with replacement and keep each person's targets together; every model
and every subset of targets is recomputed on the same draws, which makes the
differences between models paired.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np

__all__ = ["PerplexityDraws", "bootstrap_ratios", "percentile_interval", "perplexity_draws"]


def bootstrap_ratios(
    numerators: np.ndarray, denominators: np.ndarray, n_boot: int, gen: np.random.Generator
) -> np.ndarray:
    """Person-bootstrap draws of ``sum(numerators) / sum(denominators)`` for every column.

    Parameters
    ----------
    numerators, denominators : numpy.ndarray
        Per-person totals, shape ``(n_persons, n_columns)``.
    n_boot : int
        Number of draws.
    gen : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_boot, n_columns)``. Draws are made in chunks so that memory
        stays bounded for large test panels.
    """
    n_persons = numerators.shape[0]
    chunk = max(1, int(2e7 // max(n_persons, 1)))
    out = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        counts = gen.multinomial(n_persons, np.full(n_persons, 1.0 / n_persons), size=size).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append((counts @ numerators) / (counts @ denominators))
    return np.concatenate(out, axis=0)


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of the finite ``samples`` (``(nan, nan)`` when there are none)."""
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return (float(lo), float(hi))


class PerplexityDraws:
    """Point perplexities and their bootstrap draws, keyed by ``(subset, model)``.

    Built by :func:`perplexity_draws`.

    Attributes
    ----------
    point : dict
        Perplexity of every ``(subset, model)``.
    draws : dict
        Its ``n_boot`` bootstrap draws.
    n_targets, n_persons : dict
        Targets and persons in every subset.
    """

    def __init__(
        self,
        point: dict[tuple[Hashable, str], float],
        draws: dict[tuple[Hashable, str], np.ndarray],
        n_targets: dict[Hashable, int],
        n_persons: dict[Hashable, int],
    ) -> None:
        self.point = point
        self.draws = draws
        self.n_targets = n_targets
        self.n_persons = n_persons

    def interval(self, subset: Hashable, model: str, level: float) -> tuple[float, float]:
        """Percentile interval of one perplexity."""
        return percentile_interval(self.draws[subset, model], level)

    def difference(
        self, subset: Hashable, model: str, reference: str, level: float
    ) -> tuple[float, tuple[float, float]]:
        """``model``'s perplexity minus ``reference``'s, with the paired interval."""
        diff = self.point[subset, model] - self.point[subset, reference]
        return diff, percentile_interval(self.draws[subset, model] - self.draws[subset, reference], level)


def perplexity_draws(
    log_likelihoods: Mapping[str, np.ndarray],
    persons: np.ndarray,
    subsets: Mapping[Hashable, np.ndarray],
    *,
    weights: np.ndarray | None = None,
    n_boot: int = 1000,
    gen: np.random.Generator,
) -> PerplexityDraws:
    """Perplexity of every model on every subset of targets, with person-bootstrap draws.

    Parameters
    ----------
    log_likelihoods : mapping of model name to array
        Log-probability of every target's observed state (all models score the
        same targets, in the same order).
    persons : numpy.ndarray
        Person code (``0 .. n_persons - 1``) of every target.
    subsets : mapping of key to boolean array
        Subsets of targets (e.g. all, transitions only, one calendar year).
    weights : numpy.ndarray, optional
        Survey weight of every target (perplexities become weighted means).
    n_boot : int
        Bootstrap draws; all subsets and models share them.
    gen : numpy.random.Generator
        Source of the draws.
    """
    n_persons = int(persons.max()) + 1 if len(persons) else 0
    w = np.ones(len(persons)) if weights is None else np.asarray(weights, dtype=float)
    keys = [(subset, name) for subset in subsets for name in log_likelihoods]
    numerators = np.column_stack(
        [
            np.bincount(persons[subsets[s]], weights=(-w * log_likelihoods[n])[subsets[s]], minlength=n_persons)
            for s, n in keys
        ]
    )
    denominators = np.column_stack(
        [np.bincount(persons[subsets[s]], weights=w[subsets[s]], minlength=n_persons) for s, _ in keys]
    )
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        point = dict(zip(keys, np.exp(numerators.sum(0) / denominators.sum(0)), strict=True))
        samples = np.exp(bootstrap_ratios(numerators, denominators, n_boot, gen))
    draws = {key: samples[:, j] for j, key in enumerate(keys)}
    counts = {s: int(mask.sum()) for s, mask in subsets.items()}
    persons_in = {s: len(np.unique(persons[mask])) for s, mask in subsets.items()}
    return PerplexityDraws({k: float(v) for k, v in point.items()}, draws, counts, persons_in)
