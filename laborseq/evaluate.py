"""Compare models on identical held-out targets, with person-bootstrap intervals."""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from laborseq.models.base import RNGLike, SequenceModel, WeightsLike, resolve_weights
from laborseq.panel import PERSON, CareerPanel


@dataclass(frozen=True)
class ModelScore:
    """Held-out performance of one model (see :func:`compare`).

    Perplexities are ``exp`` of the (weighted) mean negative log-likelihood per
    target; intervals are person-bootstrap percentile intervals; differences are
    this model's perplexity minus the best model's, paired over the same
    bootstrap draws.
    """

    name: str
    perplexity: float
    perplexity_ci: tuple[float, float]
    perplexity_transitions: float
    perplexity_transitions_ci: tuple[float, float]
    diff_vs_best: float
    diff_vs_best_ci: tuple[float, float]
    diff_transitions_vs_best: float
    diff_transitions_vs_best_ci: tuple[float, float]
    n_targets: int
    n_transitions: int
    fit_seconds: float
    score_seconds: float
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (the per-model entry of ``results.json``)."""
        return {
            "perplexity": self.perplexity,
            "perplexity_ci": list(self.perplexity_ci),
            "perplexity_transitions": self.perplexity_transitions,
            "perplexity_transitions_ci": list(self.perplexity_transitions_ci),
            "diff_vs_best": self.diff_vs_best,
            "diff_vs_best_ci": list(self.diff_vs_best_ci),
            "diff_transitions_vs_best": self.diff_transitions_vs_best,
            "diff_transitions_vs_best_ci": list(self.diff_transitions_vs_best_ci),
            "n_targets": self.n_targets,
            "n_transitions": self.n_transitions,
            "fit_seconds": self.fit_seconds,
            "score_seconds": self.score_seconds,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()},
        }


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare`: one :class:`ModelScore` per model and the targets scored."""

    scores: dict[str, ModelScore]
    best: str
    n_boot: int
    level: float
    seed: Any
    weighted: bool
    n_test_persons: int
    log_likelihoods: dict[str, np.ndarray]
    targets: pd.DataFrame
    environment: dict[str, str]

    def table(self) -> pd.DataFrame:
        """One row per model (best first): perplexities, intervals, differences, counts, fit time."""
        rows = []
        for s in self.scores.values():
            rows.append(
                {
                    "model": s.name,
                    "perplexity": s.perplexity,
                    "ci_low": s.perplexity_ci[0],
                    "ci_high": s.perplexity_ci[1],
                    "perplexity_transitions": s.perplexity_transitions,
                    "transitions_ci_low": s.perplexity_transitions_ci[0],
                    "transitions_ci_high": s.perplexity_transitions_ci[1],
                    "diff_vs_best": s.diff_vs_best,
                    "diff_ci_low": s.diff_vs_best_ci[0],
                    "diff_ci_high": s.diff_vs_best_ci[1],
                    "n_targets": s.n_targets,
                    "n_transitions": s.n_transitions,
                    "fit_seconds": s.fit_seconds,
                }
            )
        return pd.DataFrame(rows).set_index("model").sort_values("perplexity")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable summary (models, best, bootstrap settings, environment)."""
        return {
            "models": {name: s.to_dict() for name, s in self.scores.items()},
            "best": self.best,
            "bootstrap": {"n_boot": self.n_boot, "level": self.level, "unit": "person", "seed": self.seed},
            "weighted": self.weighted,
            "n_test_persons": self.n_test_persons,
            "environment": self.environment,
        }

    def __str__(self) -> str:
        pct = round(100 * self.level)
        lines = [f"Test perplexity ({pct}% person-bootstrap intervals, {self.n_boot} draws; lower is better)"]
        header = f"{'model':<20} {'all person-years':>26} {'transitions only':>26} {'vs best':>10} {'targets':>9}"
        lines += [header, "-" * len(header)]
        for name, row in self.table().iterrows():
            lines.append(
                f"{name:<20} {row.perplexity:>8.4f} [{row.ci_low:.4f}, {row.ci_high:.4f}] "
                f"{row.perplexity_transitions:>8.4f} [{row.transitions_ci_low:.4f}, {row.transitions_ci_high:.4f}] "
                f"{row.diff_vs_best:>+10.4f} {int(row.n_targets):>9,}"
            )
        return "\n".join(lines)


def compare(
    models: Mapping[str, SequenceModel] | Sequence[SequenceModel],
    train: CareerPanel,
    test: CareerPanel,
    valid: CareerPanel | None = None,
    rng: RNGLike = 0,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    weights: WeightsLike = None,
    refit: bool = True,
    progress: bool = False,
) -> ComparisonResult:
    """Fit models on ``train`` and score them on exactly the same ``test`` targets.

    Parameters
    ----------
    models : mapping of name to model, or sequence of models
        Models to compare (a sequence is named by class, numbered on clashes).
    train, test : CareerPanel
        Training and test panels (disjoint persons for a held-out comparison).
    valid : CareerPanel, optional
        Validation panel passed to every ``fit``.
    rng : int or numpy.random.Generator
        Seed for model fitting and the bootstrap.
    n_boot : int
        Number of person-bootstrap draws.
    level : float
        Coverage of the percentile intervals.
    weights : str, array or Series, optional
        Survey weights of ``test`` rows (as in :meth:`SequenceModel.score`);
        perplexities are then weighted means.
    refit : bool
        Fit the models on ``train`` (default); with ``False`` they must be fitted.
    progress : bool
        Show a progress bar.

    Returns
    -------
    ComparisonResult

    Notes
    -----
    Every model scores ``test.targets()``: all person-years (the first observed
    year of each person predicted from covariates) and, separately, transitions
    only (first years excluded). Perplexity is
    :math:`\\exp(-\\sum_t w_t \\log p_t / \\sum_t w_t)` over targets (a
    person-year micro-average, as in the CAREER evaluation). Intervals resample
    test persons with replacement, keeping each person's targets together, and
    recompute every model's perplexity on each draw, so differences between
    models are paired.
    """
    named = _name_models(models)
    if not named:
        raise ValueError("compare needs at least one model")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    targets = test.targets()
    w_rows = resolve_weights(test, weights)
    w = np.ones(len(targets)) if w_rows is None else w_rows[test.target_mask]
    is_transition = ~targets["is_first"].to_numpy()

    lls: dict[str, np.ndarray] = {}
    timings: dict[str, tuple[float, float]] = {}
    bar = tqdm(named.items(), desc="fit and score", disable=not progress, unit="model")
    for name, model in bar:
        bar.set_postfix_str(name)
        start = time.perf_counter()
        if refit:
            model.fit(train, valid=valid, rng=rng)
        fitted = time.perf_counter()
        ll = np.asarray(model.log_likelihood(test), dtype=float)
        scored = time.perf_counter()
        if ll.shape != (len(targets),):
            raise RuntimeError(f"model {name!r} returned {ll.shape} log-likelihoods for {len(targets)} targets")
        if not np.all(np.isfinite(ll)):
            warnings.warn(
                f"model {name!r} gives zero probability to {int((~np.isfinite(ll)).sum())} test targets; "
                "its perplexity is infinite (increase its smoothing)",
                stacklevel=2,
            )
        lls[name] = ll
        timings[name] = (fitted - start, scored - fitted)

    persons = pd.factorize(targets[PERSON])[0]
    n_persons = int(persons.max()) + 1
    alpha = (1 - level) / 2
    subsets = {"all": np.ones(len(targets), bool), "transitions": is_transition}
    keys = [(subset, name) for subset in subsets for name in lls]
    numerators = np.column_stack(
        [np.bincount(persons[subsets[s]], weights=(-w * lls[n])[subsets[s]], minlength=n_persons) for s, n in keys]
    )
    denominators = np.column_stack(
        [np.bincount(persons[subsets[s]], weights=w[subsets[s]], minlength=n_persons) for s, _ in keys]
    )
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        point = dict(zip(keys, np.exp(numerators.sum(0) / denominators.sum(0)), strict=True))
        samples = _bootstrap_ratios(numerators, denominators, n_boot, np.random.default_rng(rng))
    boot = {key: np.exp(samples[:, j]) for j, key in enumerate(keys)}

    best = min(lls, key=lambda n: point["all", n])

    def interval(samples: np.ndarray) -> tuple[float, float]:
        finite = samples[np.isfinite(samples)]
        if len(finite) == 0:
            return (float("nan"), float("nan"))
        lo, hi = np.quantile(finite, [alpha, 1 - alpha])
        return (float(lo), float(hi))

    scores = {}
    for name, model in named.items():
        scores[name] = ModelScore(
            name=name,
            perplexity=point["all", name],
            perplexity_ci=interval(boot["all", name]),
            perplexity_transitions=point["transitions", name],
            perplexity_transitions_ci=interval(boot["transitions", name]),
            diff_vs_best=point["all", name] - point["all", best],
            diff_vs_best_ci=interval(boot["all", name] - boot["all", best]),
            diff_transitions_vs_best=point["transitions", name] - point["transitions", best],
            diff_transitions_vs_best_ci=interval(boot["transitions", name] - boot["transitions", best]),
            n_targets=len(targets),
            n_transitions=int(is_transition.sum()),
            fit_seconds=timings[name][0],
            score_seconds=timings[name][1],
            params=model.get_params(),
        )
    return ComparisonResult(
        scores=scores,
        best=best,
        n_boot=n_boot,
        level=level,
        seed=rng if isinstance(rng, int | None) else "generator",
        weighted=w_rows is not None,
        n_test_persons=n_persons,
        log_likelihoods=lls,
        targets=targets,
        environment=environment(),
    )


def _name_models(models: Mapping[str, SequenceModel] | Sequence[SequenceModel]) -> dict[str, SequenceModel]:
    if isinstance(models, Mapping):
        return dict(models)
    named: dict[str, SequenceModel] = {}
    for model in models:
        base = type(model).__name__.lower()
        name, k = base, 2
        while name in named:
            name, k = f"{base}_{k}", k + 1
        named[name] = model
    return named


def _bootstrap_ratios(
    numerators: np.ndarray, denominators: np.ndarray, n_boot: int, gen: np.random.Generator
) -> np.ndarray:
    """Person-bootstrap draws of ``sum(numerators) / sum(denominators)`` for every column.

    Each draw resamples persons (rows) with replacement; draws are made in
    chunks so that memory stays bounded for large test panels.
    """
    n_persons = numerators.shape[0]
    chunk = max(1, int(2e7 // max(n_persons, 1)))
    out = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        counts = gen.multinomial(n_persons, np.full(n_persons, 1.0 / n_persons), size=size).astype(np.float64)
        out.append((counts @ numerators) / (counts @ denominators))
    return np.concatenate(out, axis=0)


def environment() -> dict[str, str]:
    """Versions and hardware recorded with every result."""
    import torch

    from laborseq import __version__

    return {
        "laborseq": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "torch": torch.__version__,
        "machine": f"{platform.system()} {platform.machine()}",
        "processor": platform.processor() or "unknown",
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }
