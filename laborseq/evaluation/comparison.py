"""Compare models on identical held-out targets, with person-bootstrap intervals."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from laborseq._util.environment import environment
from laborseq._util.format import format_interval
from laborseq._util.json import to_jsonable
from laborseq._util.latex import latex_table
from laborseq._util.random import RNGLike, seed_int, seed_record
from laborseq.evaluation.bootstrap import PerplexityDraws, perplexity_draws
from laborseq.evaluation.predictions import (
    TargetPredictions,
    prediction_table,
    summarize_predictions,
    transition_groups,
)
from laborseq.models.base import SequenceModel, clone, params_record
from laborseq.panel import PERSON, CareerPanel
from laborseq.panel.weights import WeightsLike, resolve_weights

__all__ = ["SUBSETS", "ComparisonResult", "compare"]

SUBSETS = ("all", "transitions")
"""Targets every perplexity is computed on: all person-years, and transitions only (first years excluded)."""

_JSON_KEYS = {
    ("all", "perplexity"): "perplexity",
    ("transitions", "perplexity"): "perplexity_transitions",
    ("all", "diff_vs_best"): "diff_vs_best",
    ("transitions", "diff_vs_best"): "diff_transitions_vs_best",
    ("all", "diff_vs_baseline"): "diff_vs_baseline",
    ("transitions", "diff_vs_baseline"): "diff_transitions_vs_baseline",
}
"""Keys of each score in ``results.json`` (with ``<key>_ci`` beside each)."""


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare`: scores of every model on the same targets, and the fitted models.

    Attributes
    ----------
    scores : pandas.DataFrame
        The tidy table every printed table, report and ``results.json`` reads.
        Index ``(model, weights, subset, statistic)``: ``weights`` is
        ``"survey"`` or ``"none"`` (a weighted comparison has both, an unweighted
        one only ``"none"``), ``subset`` is ``"all"`` or ``"transitions"``,
        ``statistic`` is ``"perplexity"``, ``"diff_vs_best"`` or
        ``"diff_vs_baseline"`` (this model minus the best / the baseline,
        paired over the same bootstrap draws). Columns ``estimate``, ``low``,
        ``high`` (the percentile interval).
    fits : pandas.DataFrame
        One row per model: ``family``, ``n_parameters``, ``fit_seconds``,
        ``score_seconds``, ``params``.
    models : dict of str to SequenceModel
        The fitted models: clones of those given, which stay untouched (with
        ``refit=False``, the given models themselves).
    best : str
        The model with the lowest perplexity over all person-years.
    seed, bootstrap_seed
        The ``rng`` given, as recorded (:func:`~laborseq._util.random.seed_record`), and the integer seed of
        the bootstrap draws derived from it (breakdowns draw from it too, so a Generator gives reproducible
        intervals).
    baseline : str
        The best econometric baseline (models of ``family == "econometric"``;
        the best model when there is none): the reference of the differences.
    n_boot, level : int, float
        Bootstrap draws and the coverage of the percentile intervals.
    weighted : bool
        Whether the comparison used survey weights.
    n_test_persons : int
        Test persons (the bootstrap's units).
    environment : dict of str to str
        Versions and hardware (:func:`~laborseq._util.environment.environment`).
    draws : dict of str to PerplexityDraws
        The bootstrap draws behind ``scores``, by weighting (computed once).
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
        The states of the scheme, and the groups of
        :func:`~laborseq.evaluation.predictions.transition_groups`.
    time_unit : str
        The test panel's time unit (what the targets' ``year`` counts).
    """

    scores: pd.DataFrame
    fits: pd.DataFrame
    models: dict[str, SequenceModel]
    best: str
    baseline: str
    n_boot: int
    level: float
    seed: Any
    bootstrap_seed: int
    weighted: bool
    n_test_persons: int
    draws: dict[str, PerplexityDraws]
    predictions: dict[str, TargetPredictions]
    targets: pd.DataFrame
    weights: np.ndarray | None
    person_codes: np.ndarray
    states: tuple[str, ...]
    group_labels: list[str]
    group_of_state: np.ndarray
    environment: dict[str, str]
    time_unit: str = "year"

    @property
    def names(self) -> list[str]:
        """Model names in the order given."""
        return list(self.models)

    @property
    def log_likelihoods(self) -> dict[str, np.ndarray]:
        """Log-probability of every target's observed state, per model."""
        return {name: p.log_likelihood for name, p in self.predictions.items()}

    @property
    def n_targets(self) -> int:
        """Test targets every model scored (all person-years)."""
        return len(self.targets)

    @property
    def n_transitions(self) -> int:
        """Test targets that are transitions (first observed years excluded)."""
        return int((~self.targets["is_first"].to_numpy()).sum())

    def score(self, model: str, statistic: str = "perplexity", subset: str = "all", weights: str | None = None) -> Any:
        """One row of :attr:`scores` (``estimate``, ``low``, ``high``); ``weights`` defaults to the comparison's."""
        return self.scores.loc[(model, weights or self._weighting, subset, statistic)]

    @property
    def _weighting(self) -> str:
        return "survey" if self.weighted else "none"

    def headline(self, weights: str | None = None) -> pd.DataFrame:
        """One row per model, best first: perplexities with intervals and the difference against the baseline.

        Parameters
        ----------
        weights : {"survey", "none"}, optional
            Which weighting of a weighted comparison (default: the comparison's own).

        Returns
        -------
        pandas.DataFrame
            Columns ``perplexity``, ``low``, ``high``, ``transitions``,
            ``transitions_low``, ``transitions_high``, ``diff_vs_baseline``,
            ``diff_low``, ``diff_high``, ``n_targets``.
        """
        scores = self.scores.xs(weights or self._weighting, level="weights")
        columns = {
            ("all", "perplexity"): ("perplexity", "low", "high"),
            ("transitions", "perplexity"): ("transitions", "transitions_low", "transitions_high"),
            ("all", "diff_vs_baseline"): ("diff_vs_baseline", "diff_low", "diff_high"),
        }
        out = pd.DataFrame(index=pd.Index(self.names, name="model"))
        for (subset, statistic), names in columns.items():
            part = scores.xs((subset, statistic), level=("subset", "statistic"))
            for name, column in zip(names, ("estimate", "low", "high"), strict=True):
                out[name] = part[column].reindex(out.index)
        out["n_targets"] = self.n_targets
        return out.sort_values("perplexity", kind="stable")

    def headline_table(self, weights: str | None = None, *, marks: bool = False) -> pd.DataFrame:
        """:meth:`headline` formatted for a report: estimates with their intervals, best first.

        Parameters
        ----------
        weights : {"survey", "none"}, optional
            Which weighting of a weighted comparison (default: the comparison's own).
        marks : bool
            Mark a difference whose paired interval excludes zero with ``*`` (for papers).

        Returns
        -------
        pandas.DataFrame
            Columns ``perplexity (all person-years)``, ``perplexity (transitions only)``,
            ``difference vs <baseline>``, ``parameters`` and ``fit seconds``, as strings.
        """
        table = self.headline(weights)
        fits = self.fits.reindex(table.index)
        unit = self.time_unit

        def difference(name: str, r: Any) -> str:
            if name == self.baseline:
                return "-"
            text = format_interval(r.diff_vs_baseline, r.diff_low, r.diff_high, sign=True)
            excludes_zero = r.diff_high < 0 or r.diff_low > 0
            return text.replace(" [", "* [", 1) if marks and excludes_zero else text

        return pd.DataFrame(
            {
                f"perplexity (all person-{unit}s)": [
                    format_interval(r.perplexity, r.low, r.high) for r in table.itertuples()
                ],
                "perplexity (transitions only)": [
                    format_interval(r.transitions, r.transitions_low, r.transitions_high) for r in table.itertuples()
                ],
                f"difference vs {self.baseline}": [
                    difference(n, r) for n, r in zip(table.index, table.itertuples(), strict=True)
                ],
                "parameters": ["" if pd.isna(v) else f"{int(v):,}" for v in fits["n_parameters"]],
                "fit seconds": [f"{v:.1f}" for v in fits["fit_seconds"]],
            },
            index=pd.Index(table.index, name="model"),
        )

    def to_latex(self, weights: str | None = None, *, label: str | None = "tab:laborseq-perplexity") -> str:
        """The headline table as a LaTeX float for a paper (``booktabs``; needs ``\\usepackage{booktabs}``).

        Perplexities with their person-bootstrap intervals in brackets below, paired
        differences against the best econometric baseline marked ``*`` where their interval
        excludes zero, and notes giving the test persons, person-years and bootstrap draws.

        Parameters
        ----------
        weights : {"survey", "none"}, optional
            Which weighting of a weighted comparison (default: the comparison's own).
        label : str, optional
            The table's ``\\label``.

        Returns
        -------
        str
            A ``table`` float.
        """
        frame = self.headline_table(weights, marks=True).drop(columns="fit seconds")
        weighted = (weights or self._weighting) == "survey"
        pct = round(100 * self.level)
        notes = [
            f"Test perplexity (lower is better) over {self.n_targets:,} person-{self.time_unit}s of "
            f"{self.n_test_persons:,} held-out persons" + (", survey-weighted." if weighted else "."),
            f"{pct}% person-bootstrap percentile intervals in brackets ({self.n_boot:,} draws); differences "
            f"against {self.baseline} are paired (the same draws). * The difference's interval excludes zero.",
        ]
        caption = "Held-out perplexity by model" + (
            " (survey-weighted)" if weighted else " (unweighted)" if self.weighted else ""
        )
        return latex_table(frame, caption=caption, label=label, notes=notes)

    def table(self) -> pd.DataFrame:
        """:meth:`headline` with the transitions count and fit time, one row per model, best first."""
        out = self.headline()
        out["n_transitions"] = self.n_transitions
        out["fit_seconds"] = self.fits["fit_seconds"].reindex(out.index)
        return out

    def prediction_table(self) -> pd.DataFrame:
        """Every scored test person-year of every model: what it predicted (see
        :func:`~laborseq.evaluation.predictions.prediction_table`), models stacked in comparison order."""
        tables = [
            prediction_table(name, self.targets, p.log_likelihood, p.top_states, p.top_probas, self.states)
            for name, p in self.predictions.items()
        ]
        table = pd.concat(tables, ignore_index=True)  # compare() refuses an empty set of models
        table["model"] = pd.Categorical(table["model"].astype(str), categories=list(self.predictions))
        return table

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable summary (models, best, bootstrap settings, environment): read from :attr:`scores`."""
        models = {}
        for name in self.names:
            entry: dict[str, Any] = {}
            for (subset, statistic), key in _JSON_KEYS.items():
                row = self.score(name, statistic, subset)
                entry[key] = float(row["estimate"])
                entry[f"{key}_ci"] = [float(row["low"]), float(row["high"])]
            fit = self.fits.loc[name]
            entry.update(
                n_targets=self.n_targets,
                n_transitions=self.n_transitions,
                fit_seconds=float(fit["fit_seconds"]),
                score_seconds=float(fit["score_seconds"]),
                params=to_jsonable(fit["params"]),
                n_parameters=None if pd.isna(fit["n_parameters"]) else int(fit["n_parameters"]),
                family=fit["family"],
            )
            if fit.get("choices") is not None:
                entry["choices"] = to_jsonable(fit["choices"])
            models[name] = entry
        return {
            "models": models,
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
        for name, row in self.headline().iterrows():
            vs_best = self.score(name, "diff_vs_best")["estimate"]
            lines.append(
                f"{name:<20} {format_interval(row.perplexity, row.low, row.high, digits=4):>26} "
                f"{format_interval(row.transitions, row.transitions_low, row.transitions_high, digits=4):>26} "
                f"{vs_best:>+10.4f} {self.n_targets:>9,}"
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
        Each is cloned (:func:`~laborseq.models.clone`) and the clone fitted:
        the models passed are left as they were; the fitted ones are in
        ``result.models``.
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
        perplexities are then weighted means, and the unweighted ones are kept
        beside them (same draws).
    refit : bool
        Fit clones on ``train`` (default); with ``False`` the models must be
        fitted and are scored as they are.
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
    against the best econometric baseline.

    Examples
    --------
    >>> from laborseq.datasets import load_nlswork
    >>> from laborseq.models import Markov
    >>> train, valid, test = load_nlswork().split_persons(rng=0)
    >>> result = compare({"markov1": Markov(order=1), "markov2": Markov(order=2)}, train, test, n_boot=200)
    >>> result.best
    'markov2'
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

    fitted: dict[str, SequenceModel] = {}
    predictions: dict[str, TargetPredictions] = {}
    timings: dict[str, tuple[float, float]] = {}
    bar = tqdm(named.items(), desc="fit and score", disable=not progress, unit="model")
    for name, model in bar:
        bar.set_postfix_str(name)
        start = time.perf_counter()
        fitted[name] = clone(model).fit(train, valid=valid, rng=rng) if refit else model
        done = time.perf_counter()
        predictions[name] = _predict(name, fitted[name], test, observed, previous, group_of_state, len(group_labels))
        timings[name] = (done - start, time.perf_counter() - done)

    persons = pd.factorize(targets[PERSON])[0]
    subsets = {"all": np.ones(len(targets), bool), "transitions": ~targets["is_first"].to_numpy()}
    seed = seed_int(rng)  # one seed: every weighting resamples the same persons
    log_likelihoods = {name: p.log_likelihood for name, p in predictions.items()}
    weightings = {"survey": w, "none": None} if w is not None else {"none": None}
    draws = {
        key: perplexity_draws(
            log_likelihoods, persons, subsets, weights=wk, n_boot=n_boot, gen=np.random.default_rng(seed)
        )
        for key, wk in weightings.items()
    }
    main = draws["survey" if w is not None else "none"]
    best = min(predictions, key=lambda n: main.point["all", n])
    econometric = [n for n, m in fitted.items() if m.family == "econometric"]
    baseline = min(econometric, key=lambda n: main.point["all", n]) if econometric else best

    covariates = test.data.loc[targets.index, [c for c in test.covariates if c not in targets.columns]]
    return ComparisonResult(
        scores=_scores(draws, list(named), best, baseline, level),
        fits=pd.DataFrame(
            {
                "family": [fitted[n].family for n in named],
                "n_parameters": pd.array([fitted[n].n_parameters for n in named], dtype="Int64"),
                "fit_seconds": [timings[n][0] for n in named],
                "score_seconds": [timings[n][1] for n in named],
                "params": [params_record(fitted[n].get_params()) for n in named],
                "choices": [fitted[n].fit_choices() for n in named],
            },
            index=pd.Index(list(named), name="model"),
        ),
        models=fitted,
        best=best,
        baseline=baseline,
        n_boot=n_boot,
        level=level,
        seed=seed_record(rng),
        bootstrap_seed=seed,
        weighted=w is not None,
        n_test_persons=int(persons.max()) + 1,
        draws=draws,
        predictions=predictions,
        targets=pd.concat([targets, covariates], axis=1),
        weights=w,
        person_codes=persons,
        states=tuple(test.states),
        group_labels=group_labels,
        group_of_state=group_of_state,
        environment=environment(),
        time_unit=test.time_unit,
    )


def _predict(
    name: str,
    model: SequenceModel,
    test: CareerPanel,
    observed: np.ndarray,
    previous: np.ndarray,
    group_of_state: np.ndarray,
    n_groups: int,
) -> TargetPredictions:
    """One model's predictions of the test targets, checked and summarised."""
    proba = np.asarray(model.predict_proba(test), dtype=float)
    if proba.shape != (len(observed), len(test.states)):
        raise RuntimeError(
            f"model {name!r} returned probabilities of shape {proba.shape} for {len(observed)} targets "
            f"and {len(test.states)} states"
        )
    summary = summarize_predictions(proba, observed, previous, group_of_state, n_groups)
    bad = int((~np.isfinite(summary.log_likelihood)).sum())
    if bad:
        warnings.warn(
            f"model {name!r} gives zero probability to {bad} test targets; "
            "its perplexity is infinite (increase its smoothing)",
            stacklevel=3,
        )
    return summary


def _scores(
    draws: Mapping[str, PerplexityDraws], names: list[str], best: str, baseline: str, level: float
) -> pd.DataFrame:
    """The tidy scores table of every model, weighting, subset and statistic."""
    rows = []
    for weighting, d in draws.items():
        for name in names:
            for subset in SUBSETS:
                low, high = d.interval(subset, name, level)
                rows.append((name, weighting, subset, "perplexity", d.point[subset, name], low, high))
                for statistic, reference in (("diff_vs_best", best), ("diff_vs_baseline", baseline)):
                    diff, (low, high) = d.difference(subset, name, reference, level)
                    rows.append((name, weighting, subset, statistic, diff, low, high))
    frame = pd.DataFrame(rows, columns=["model", "weights", "subset", "statistic", "estimate", "low", "high"])
    return frame.set_index(["model", "weights", "subset", "statistic"])


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
