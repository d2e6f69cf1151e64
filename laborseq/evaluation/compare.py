"""Compare models on identical held-out targets, with person-bootstrap intervals."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from laborseq._util.environment import environment
from laborseq.evaluation.bootstrap import perplexity_draws
from laborseq.evaluation.breakdowns import TargetPredictions, summarize_predictions, transition_groups
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
    diff_vs_baseline: float
    diff_vs_baseline_ci: tuple[float, float]
    diff_transitions_vs_baseline: float
    diff_transitions_vs_baseline_ci: tuple[float, float]
    n_targets: int
    n_transitions: int
    fit_seconds: float
    score_seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    n_parameters: int | None = None
    family: str = "econometric"

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
            "diff_vs_baseline": self.diff_vs_baseline,
            "diff_vs_baseline_ci": list(self.diff_vs_baseline_ci),
            "diff_transitions_vs_baseline": self.diff_transitions_vs_baseline,
            "diff_transitions_vs_baseline_ci": list(self.diff_transitions_vs_baseline_ci),
            "n_targets": self.n_targets,
            "n_transitions": self.n_transitions,
            "fit_seconds": self.fit_seconds,
            "score_seconds": self.score_seconds,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()},
            "n_parameters": self.n_parameters,
            "family": self.family,
        }


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare`: one :class:`ModelScore` per model and the targets scored.

    Attributes
    ----------
    scores : dict of str to ModelScore
        Per model, in the order given.
    best : str
        The model with the lowest perplexity (all person-years).
    baseline : str
        The best econometric baseline (models of ``family == "econometric"``;
        the best model when there is none): the reference of the differences.
    predictions : dict of str to TargetPredictions
        Per model, what it predicted for every target
        (:mod:`laborseq.evaluation.breakdowns` breaks these down).
    targets : pandas.DataFrame
        The test targets (:meth:`CareerPanel.targets`) with the test panel's covariates.
    weights : numpy.ndarray or None
        Survey weight of every target, when the comparison is weighted.
    person_codes : numpy.ndarray
        Person of every target as ``0 .. n_test_persons - 1`` (the bootstrap unit).
    states, group_labels, group_of_state
        The states of the scheme, and the groups of :func:`laborseq.evaluation.breakdowns.transition_groups`.
    """

    scores: dict[str, ModelScore]
    best: str
    baseline: str
    n_boot: int
    level: float
    seed: Any
    weighted: bool
    n_test_persons: int
    predictions: dict[str, TargetPredictions]
    targets: pd.DataFrame
    weights: np.ndarray | None
    person_codes: np.ndarray
    states: tuple[str, ...]
    group_labels: list[str]
    group_of_state: np.ndarray
    environment: dict[str, str]

    @property
    def log_likelihoods(self) -> dict[str, np.ndarray]:
        """Log-probability of every target's observed state, per model."""
        return {name: p.log_likelihood for name, p in self.predictions.items()}

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
            "baseline": self.baseline,
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
    models are paired. Differences are reported against the best model and
    against the best econometric baseline. Each model's full predicted
    distributions are summarised per target (:class:`TargetPredictions`) for
    the breakdowns of :mod:`laborseq.evaluation.breakdowns`.
    """
    named = _name_models(models)
    if not named:
        raise ValueError("compare needs at least one model")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    targets = test.targets()
    w_rows = resolve_weights(test, weights)
    w = None if w_rows is None else w_rows[test.target_mask]
    observed = test.state_index()[test.target_mask]
    previous = test.lagged_states(1)[test.target_mask]
    group_labels, group_of_state = transition_groups(test.scheme, np.bincount(observed, minlength=len(test.states)))

    predictions: dict[str, TargetPredictions] = {}
    timings: dict[str, tuple[float, float]] = {}
    bar = tqdm(named.items(), desc="fit and score", disable=not progress, unit="model")
    for name, model in bar:
        bar.set_postfix_str(name)
        start = time.perf_counter()
        if refit:
            model.fit(train, valid=valid, rng=rng)
        fitted = time.perf_counter()
        proba = np.asarray(model.predict_proba(test), dtype=float)
        scored = time.perf_counter()
        if proba.shape != (len(targets), len(test.states)):
            raise RuntimeError(
                f"model {name!r} returned probabilities of shape {proba.shape} for {len(targets)} targets "
                f"and {len(test.states)} states"
            )
        predictions[name] = summarize_predictions(proba, observed, previous, group_of_state, len(group_labels))
        bad = int((~np.isfinite(predictions[name].log_likelihood)).sum())
        if bad:
            warnings.warn(
                f"model {name!r} gives zero probability to {bad} test targets; "
                "its perplexity is infinite (increase its smoothing)",
                stacklevel=2,
            )
        timings[name] = (fitted - start, scored - fitted)

    persons = pd.factorize(targets[PERSON])[0]
    is_transition = ~targets["is_first"].to_numpy()
    draws = perplexity_draws(
        {name: p.log_likelihood for name, p in predictions.items()},
        persons,
        {"all": np.ones(len(targets), bool), "transitions": is_transition},
        weights=w,
        n_boot=n_boot,
        gen=np.random.default_rng(rng),
    )
    best = min(predictions, key=lambda n: draws.point["all", n])
    econometric = [n for n, m in named.items() if m.family == "econometric"]
    baseline = min(econometric, key=lambda n: draws.point["all", n]) if econometric else best

    scores = {}
    for name, model in named.items():
        vs_best = {subset: draws.difference(subset, name, best, level) for subset in ("all", "transitions")}
        vs_baseline = {subset: draws.difference(subset, name, baseline, level) for subset in ("all", "transitions")}
        scores[name] = ModelScore(
            name=name,
            perplexity=draws.point["all", name],
            perplexity_ci=draws.interval("all", name, level),
            perplexity_transitions=draws.point["transitions", name],
            perplexity_transitions_ci=draws.interval("transitions", name, level),
            diff_vs_best=vs_best["all"][0],
            diff_vs_best_ci=vs_best["all"][1],
            diff_transitions_vs_best=vs_best["transitions"][0],
            diff_transitions_vs_best_ci=vs_best["transitions"][1],
            diff_vs_baseline=vs_baseline["all"][0],
            diff_vs_baseline_ci=vs_baseline["all"][1],
            diff_transitions_vs_baseline=vs_baseline["transitions"][0],
            diff_transitions_vs_baseline_ci=vs_baseline["transitions"][1],
            n_targets=len(targets),
            n_transitions=int(is_transition.sum()),
            fit_seconds=timings[name][0],
            score_seconds=timings[name][1],
            params=model.get_params(),
            n_parameters=model.n_parameters,
            family=model.family,
        )
    covariates = test.data.loc[targets.index, [c for c in test.covariates if c not in targets.columns]]
    return ComparisonResult(
        scores=scores,
        best=best,
        baseline=baseline,
        n_boot=n_boot,
        level=level,
        seed=rng if isinstance(rng, int | None) else "generator",
        weighted=w is not None,
        n_test_persons=int(persons.max()) + 1,
        predictions=predictions,
        targets=pd.concat([targets, covariates], axis=1),
        weights=w,
        person_codes=persons,
        states=tuple(test.states),
        group_labels=group_labels,
        group_of_state=group_of_state,
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
