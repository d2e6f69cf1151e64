"""Results of the multinomial logit: estimates, covariance, summaries and side-by-side tables.

:meth:`MNLogit.results() <laborseq.models.MNLogit.results>` returns an immutable
:class:`MNLogitResults` in the style of linearmodels: labelled pandas properties
(``params``, ``std_errors``, ``zstats``, ``pvalues``, ``conf_int()``, ``cov``), fit
statistics, a :meth:`~MNLogitResults.summary` that renders as text, HTML and LaTeX,
and a long :meth:`~MNLogitResults.tidy` table. :func:`compare` puts several results
side by side.

Notation: :math:`x_i` is the dummy-coded design row of transition :math:`i`
(:attr:`~laborseq.models.features.EncodedFeatures.column_names`), :math:`w_i` its
weight (1 when unweighted), :math:`p_i` the fitted probabilities of the free outcomes
and :math:`e_{y_i}` the indicator of the observed one. Parameters are stacked
outcome by outcome (:math:`\\theta = (\\beta_{j_1}, \\beta_{j_2}, \\ldots)`, the
order of statsmodels). The score and Hessian of the log-likelihood are

.. math::

    s_i = w_i\\,(e_{y_i} - p_i) \\otimes x_i, \\qquad
    H = -\\sum_i w_i\\,(\\operatorname{diag}(p_i) - p_i p_i^\\top) \\otimes x_i x_i^\\top .

``"nonrobust"`` is :math:`(-H)^{-1}`; ``"robust"`` the sandwich
:math:`(-H)^{-1} (\\sum_i s_i s_i^\\top) (-H)^{-1}` (statsmodels' ``HC0``);
``"cluster"`` the sandwich with the scores summed within person, times
:math:`\\frac{G}{G-1}\\frac{N-1}{N-K}` (:math:`G` persons, :math:`N` transitions,
:math:`K` parameters), exactly as statsmodels' ``cov_type="cluster"``. With a
penalty :math:`\\alpha > 0` the Hessian of the penalised objective adds
:math:`-W\\alpha D` (:math:`W` the total weight, :math:`D` the penalty's diagonal:
1 for dummies, the squared training standard deviation for numeric features, 0 for
intercepts) and is inverted with the pseudo-inverse: intercepts are identified only up
to a common constant when every outcome has free parameters. Penalised standard
errors are approximate (they ignore the shrinkage bias).
"""

from __future__ import annotations

import html
import itertools
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import torch
from scipy import special

from laborseq.models.features import EncodedFeatures
from laborseq.models.loglinear import predict_log_probs, to_torch
from laborseq.panel import PERSON, WEIGHT, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.mnlogit import MNLogit

CovType = Literal["cluster", "robust", "nonrobust"]
COV_TYPES: tuple[str, ...] = ("cluster", "robust", "nonrobust")

MAX_ANALYTIC_PARAMS = 5_000
"""Largest number of free parameters (design columns times free outcomes) for which the
analytic covariance is formed; above it :meth:`MNLogitResults.bootstrap_se` is the way.
The cost grows as transitions times parameters squared (dense design, on the CPU): at the
limit, about a minute per 20,000 transitions on two cores."""

SUMMARY_OUTCOMES = 5
"""Outcomes shown by :meth:`MNLogitResults.summary` when there are more (the most frequent)."""

_STAY = "<stay>"  # label of the stay-logit column of the two-stage head
_CHUNK_ELEMENTS = 1 << 22  # rows per chunk times parameters: bounds the memory of the score blocks
_COV_NAMES = {
    "cluster": "cluster (person)",
    "robust": "robust (HC0)",
    "nonrobust": "nonrobust",
    "bootstrap": "person bootstrap",
}


class CovarianceUnavailableError(ValueError):
    """Raised when a results object has no (analytic) covariance, with the reason and the alternative."""


# ======================================================================= training transitions
@dataclass(frozen=True)
class _Transitions:
    """The transitions a fitted MNLogit is scored on, with the fitted log-probabilities."""

    features: EncodedFeatures
    y: np.ndarray  # index into the model's outcomes_
    weights: np.ndarray  # ones when unweighted
    groups: np.ndarray  # person codes, contiguous by person
    log_probs: np.ndarray  # (n, n_outcomes)

    def __len__(self) -> int:
        return len(self.y)


def _transitions(model: MNLogit, panel: CareerPanel, weights: np.ndarray | None) -> _Transitions:
    from laborseq.models.mnlogit import _rows

    _, trans = _rows(panel)
    if not trans.any():
        raise ValueError("the panel has no transitions (persons observed twice) to compute results on")
    states = panel.state_index()[trans]
    outcomes = np.asarray(model.outcomes_)
    y = np.searchsorted(outcomes, states)
    unknown = (y >= len(outcomes)) | (outcomes[np.minimum(y, len(outcomes) - 1)] != states)
    if unknown.any():
        codes = sorted({panel.states[s] for s in states[unknown]})[:10]
        raise ValueError(
            f"the panel has outcome(s) {codes} that the model has no parameters for: results are computed on "
            "the panel the model was fitted on"
        )
    x = model.encoder_.transform(panel, trans)
    prev = panel.lagged_states(1)[trans] if model.two_stage else None
    data = to_torch(x, y, prev, None, dtype=torch.float64, device=model.device)
    log_probs = predict_log_probs(model.model_, data)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)[trans]
    groups = pd.factorize(panel.data[PERSON].to_numpy()[trans])[0]
    return _Transitions(x, y, w, groups, log_probs)


def _slice_features(x: EncodedFeatures, rows: slice) -> EncodedFeatures:
    return EncodedFeatures({k: v[rows] for k, v in x.codes.items()}, x.levels, x.numeric_names, x.numeric[rows])


def _person_chunks(groups: np.ndarray, rows_per_chunk: int) -> Iterator[slice]:
    """Consecutive row ranges of about ``rows_per_chunk`` rows that never split a person."""
    n = len(groups)
    bounds = np.r_[np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]), n]
    targets = np.arange(rows_per_chunk, n, rows_per_chunk)
    cuts = np.unique(np.r_[0, bounds[np.searchsorted(bounds, targets)], n])
    for start, stop in itertools.pairwise(cuts):
        yield slice(int(start), int(stop))


# ======================================================================= score, Hessian, covariance
def _penalty_diagonal(data: _Transitions) -> np.ndarray:
    """Diagonal of the L2 penalty per design column, on the raw scale of the numeric features.

    The torch fit penalises coefficients of standardised numeric features (weighted
    mean and standard deviation of the training rows), so a raw numeric coefficient
    carries its squared standard deviation; dummies carry 1 and the intercept 0.
    """
    x = data.features
    w = data.weights / data.weights.sum()
    mean = w @ x.numeric
    scale = np.sqrt(w @ (x.numeric - mean) ** 2)
    scale = np.where(scale > 0, scale, 1.0)
    n_dummies = sum(max(len(v) - 1, 0) for v in x.levels.values())
    return np.r_[0.0, np.ones(n_dummies), scale**2]


def _score_and_hessian(
    data: _Transitions, free: np.ndarray, cov_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Total score, negative Hessian and meat of the log-likelihood (no penalty).

    Parameters
    ----------
    data : _Transitions
        Transitions with fitted log-probabilities.
    free : numpy.ndarray
        Indices (into the model's outcomes) of the outcomes with free parameters.
    cov_type : str
        ``"cluster"``: meat from person sums of the scores; otherwise from the
        per-transition scores.

    Returns
    -------
    score : (K,) array
    neg_hessian : (K, K) array
    meat : (K, K) array
        Zero for ``"nonrobust"``.
    n_groups : int
    """
    p = len(data.features.column_names)
    n_free = len(free)
    k = p * n_free
    score = np.zeros(k)
    neg_h = np.zeros((k, k))
    meat = np.zeros((k, k))
    rows_per_chunk = max(64, _CHUNK_ELEMENTS // max(k, 1))
    for rows in _person_chunks(data.groups, rows_per_chunk):
        xc = _slice_features(data.features, rows).design_matrix()
        wc = data.weights[rows]
        pc = np.exp(data.log_probs[rows][:, free])
        ec = (data.y[rows][:, None] == free[None, :]).astype(float)
        for j in range(n_free):
            block = slice(j * p, (j + 1) * p)
            neg_h[block, block] += (xc * (wc * pc[:, j])[:, None]).T @ xc
        outer = ((np.sqrt(wc)[:, None] * pc)[:, :, None] * xc[:, None, :]).reshape(len(wc), k)
        neg_h -= outer.T @ outer
        scores = ((wc[:, None] * (ec - pc))[:, :, None] * xc[:, None, :]).reshape(len(wc), k)
        score += scores.sum(axis=0)
        if cov_type == "nonrobust":
            continue  # no meat needed
        if cov_type == "cluster":
            g = data.groups[rows]
            scores = np.add.reduceat(scores, np.flatnonzero(np.r_[True, g[1:] != g[:-1]]), axis=0)
        meat += scores.T @ scores
    return score, neg_h, meat, int(data.groups.max()) + 1


def _mnlogit_covariance(data: _Transitions, free: np.ndarray, cov_type: str, alpha: float) -> np.ndarray:
    """Covariance of the stacked free parameters (see the module docstring for the formulas)."""
    _, neg_h, meat, n_groups = _score_and_hessian(data, free, cov_type)
    k = neg_h.shape[0]
    n = len(data)
    if alpha > 0:
        penalty = data.weights.sum() * alpha * np.tile(_penalty_diagonal(data), len(free))
        bread = np.linalg.pinv(neg_h + np.diag(penalty), hermitian=True)
    else:
        try:
            bread = np.linalg.inv(neg_h)
        except np.linalg.LinAlgError as err:
            raise CovarianceUnavailableError(
                "the Hessian of the log-likelihood is singular: some parameter is not identified "
                "(a design column without variation, or a level never seen with some outcome); "
                "use fewer features or alpha > 0"
            ) from err
    if cov_type == "nonrobust":
        cov = bread
    else:
        cov = bread @ meat @ bread
        if cov_type == "cluster":
            if n_groups < 2:
                raise CovarianceUnavailableError("cluster-robust covariance needs at least two persons")
            cov *= n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k)
    return (cov + cov.T) / 2


# ======================================================================= results
@dataclass(frozen=True)
class _RefitSource:
    """What a bootstrap needs to refit the model: its class, settings and training data."""

    model_class: type
    params: dict[str, Any]
    panel: CareerPanel
    weights: np.ndarray | None


class MNLogitResults:
    """Estimates and inference of a fitted :class:`~laborseq.models.MNLogit`.

    Built by :meth:`MNLogit.results() <laborseq.models.MNLogit.results>` (or its
    default, ``MNLogit.results_``), not directly. Immutable: every property returns a
    new labelled pandas object.

    Parameters are a matrix: rows are the dummy-coded design terms (``const``, the
    non-reference levels of each categorical feature as ``feature[level]``, the
    numeric features), columns the outcome states with free parameters, labelled by
    state code (:attr:`outcome_titles` has their titles). Without a penalty the base
    outcome (:attr:`base_outcome`) is normalised to zero and has no column. Stacked
    quantities (:attr:`cov`, :meth:`conf_int`) are indexed by ``(outcome, term)``,
    outcome by outcome.

    Inference is asymptotic normal (z statistics). See :mod:`laborseq.models.results`
    for the covariance formulas.
    """

    def __init__(
        self,
        *,
        params: np.ndarray,
        terms: Sequence[str],
        outcomes: Sequence[str],
        titles: Mapping[str, str],
        base_outcome: str | None,
        cov: np.ndarray | None,
        std_errors: np.ndarray | None,
        cov_type: str,
        cov_note: str | None,
        stats: Mapping[str, Any],
        config: Mapping[str, Any],
        outcome_counts: pd.Series,
        source: _RefitSource | None,
    ) -> None:
        self._params = _frozen(params)
        self._terms = pd.Index(list(terms), name="term")
        self._outcomes = pd.Index(list(outcomes), name="outcome")
        self._titles = dict(titles)
        self._base = base_outcome
        self._cov = None if cov is None else _frozen(cov)
        if std_errors is None and cov is not None:
            std_errors = np.sqrt(np.clip(np.diag(cov), 0, None))
        self._se = None if std_errors is None else _frozen(std_errors)
        self._cov_type = cov_type
        self._cov_note = cov_note
        self._stats = dict(stats)
        self._config = dict(config)
        self._outcome_counts = outcome_counts.copy()
        self._source = source

    # ------------------------------------------------------------------ labels and estimates
    def _stacked_index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_product([self._outcomes, self._terms], names=["outcome", "term"])

    def _matrix(self, values: np.ndarray) -> pd.DataFrame:
        """A stacked vector (outcome by outcome) as a terms x outcomes frame."""
        shape = (len(self._outcomes), len(self._terms))
        return pd.DataFrame(values.reshape(shape).T, index=self._terms.copy(), columns=self._outcomes.copy())

    @property
    def params(self) -> pd.DataFrame:
        """Estimates: rows are design terms, columns outcome state codes."""
        return self._matrix(self._params)

    @property
    def outcome_titles(self) -> pd.Series:
        """Title of each outcome column of :attr:`params`, indexed by state code."""
        return pd.Series([self._titles.get(o, o) for o in self._outcomes], index=self._outcomes.copy(), name="title")

    @property
    def base_outcome(self) -> str | None:
        """State code of the base outcome (coefficients fixed at 0); ``None`` when every outcome is free."""
        return self._base

    @property
    def terms(self) -> list[str]:
        """Design terms (rows of :attr:`params`)."""
        return list(self._terms)

    @property
    def outcome_counts(self) -> pd.Series:
        """Number of training transitions into each outcome (base included), by state code."""
        return self._outcome_counts.copy()

    # ------------------------------------------------------------------ inference
    def _std_error_vector(self) -> np.ndarray:
        if self._se is None:
            raise CovarianceUnavailableError(self._cov_note or "no covariance was computed")
        return self._se

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the stacked parameters, indexed by ``(outcome, term)`` on both axes."""
        if self._cov is None:
            raise CovarianceUnavailableError(self._cov_note or "no covariance was computed")
        index = self._stacked_index()
        return pd.DataFrame(np.array(self._cov), index=index, columns=index.copy())

    @property
    def std_errors(self) -> pd.DataFrame:
        """Standard errors, shaped like :attr:`params`."""
        return self._matrix(self._std_error_vector())

    @property
    def zstats(self) -> pd.DataFrame:
        """z statistics (estimate over standard error), shaped like :attr:`params`."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._matrix(self._params / self._std_error_vector())

    @property
    def tstats(self) -> pd.DataFrame:
        """Alias of :attr:`zstats` (the linearmodels name)."""
        return self.zstats

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of the z statistics, shaped like :attr:`params`."""
        z = self.zstats.to_numpy()
        return pd.DataFrame(special.erfc(np.abs(z) / math.sqrt(2)), index=self._terms.copy(), columns=self._outcomes)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Normal confidence intervals, indexed by ``(outcome, term)``, columns ``lower`` and ``upper``."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        q = float(special.ndtri(0.5 + level / 2))
        se = self._std_error_vector()
        return pd.DataFrame(
            {"lower": self._params - q * se, "upper": self._params + q * se}, index=self._stacked_index()
        )

    @property
    def cov_type(self) -> str:
        """``"cluster"`` (by person), ``"robust"``, ``"nonrobust"`` or ``"bootstrap"``."""
        return self._cov_type

    # ------------------------------------------------------------------ fit statistics
    @property
    def nobs(self) -> int:
        """Number of transitions (person-years after a person's first) the model was fitted on."""
        return int(self._stats["nobs"])

    @property
    def n_persons(self) -> int:
        """Number of persons with at least one transition (the clusters)."""
        return int(self._stats["n_persons"])

    @property
    def n_states(self) -> int:
        """Number of states of the scheme."""
        return int(self._stats["n_states"])

    @property
    def n_outcomes(self) -> int:
        """Number of outcomes the model has probabilities for (base included)."""
        return int(self._stats["n_outcomes"])

    @property
    def n_params(self) -> int:
        """Number of free parameters (design terms times outcome columns)."""
        return len(self._params)

    @property
    def loglik(self) -> float:
        """Log-likelihood of the training transitions (weighted when fitted with weights; penalty excluded)."""
        return float(self._stats["loglik"])

    @property
    def loglik_null(self) -> float:
        """Log-likelihood of the intercept-only model (outcome shares) on the same transitions."""
        return float(self._stats["loglik_null"])

    @property
    def pseudo_rsquared(self) -> float:
        """McFadden's pseudo R-squared, ``1 - loglik / loglik_null``."""
        return 1.0 - self.loglik / self.loglik_null if self.loglik_null != 0 else float("nan")

    @property
    def perplexity(self) -> float:
        """Training perplexity on transitions: ``exp`` of minus the (weighted) mean log-likelihood."""
        return float(np.exp(-self.loglik / self._stats["weight_total"]))

    @property
    def config(self) -> dict[str, Any]:
        """The model's settings (``get_params()``), fit diagnostics and package versions."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self._config.items()}

    @property
    def engine(self) -> str:
        """Estimation engine (``"torch"`` or ``"statsmodels"``)."""
        return str(self._config["params"]["engine"])

    @property
    def alpha(self) -> float:
        """L2 penalty of the fit (0: maximum likelihood)."""
        return float(self._config["params"]["alpha"])

    # ------------------------------------------------------------------ tables
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per (outcome, term).

        Columns ``outcome, term, estimate, std_error, statistic, p_value, conf_low,
        conf_high`` (``statistic`` is the z statistic). Inference columns are NaN, with
        a warning, when no covariance is available.
        """
        out = pd.DataFrame(
            {
                "outcome": np.repeat(np.asarray(self._outcomes, dtype=object), len(self._terms)),
                "term": np.tile(np.asarray(self._terms, dtype=object), len(self._outcomes)),
                "estimate": np.array(self._params),
            }
        )
        if self._se is None:
            warnings.warn(f"{self._cov_note}; inference columns are NaN", stacklevel=2)
            for col in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
                out[col] = np.nan
            return out
        ci = self.conf_int(level)
        out["std_error"] = np.array(self._se)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["statistic"] = out["estimate"] / out["std_error"]
        out["p_value"] = special.erfc(np.abs(out["statistic"].to_numpy()) / math.sqrt(2))
        out["conf_low"] = ci["lower"].to_numpy()
        out["conf_high"] = ci["upper"].to_numpy()
        return out

    def _selected_outcomes(self, outcomes: str | Sequence[str] | None, n_outcomes: int) -> list[str]:
        available = list(self._outcomes)
        if outcomes is None:
            states = [o for o in available if o != _STAY]  # the stay column of the two-stage head is always shown
            counts = self._outcome_counts.reindex(states).fillna(0)
            ranked = sorted(states, key=lambda o: (-counts[o], states.index(o)))
            keep = set(ranked[: max(n_outcomes - (_STAY in available), 0)]) | {_STAY}
            return [o for o in available if o in keep]
        chosen = [outcomes] if isinstance(outcomes, str) else [str(o) for o in outcomes]
        unknown = [o for o in chosen if o not in available]
        if unknown:
            raise ValueError(f"outcome(s) {unknown} have no parameters; choose from {available[:20]}")
        return chosen

    def summary(
        self, outcomes: str | Sequence[str] | None = None, *, level: float = 0.95, n_outcomes: int = SUMMARY_OUTCOMES
    ) -> Summary:
        """Header block and coefficient tables, as text (``str``), HTML and LaTeX.

        Parameters
        ----------
        outcomes : str or sequence of str, optional
            State codes of the outcomes to show. By default all of them when there are
            at most ``n_outcomes``, else the ``n_outcomes`` most frequent (the header
            says so; :meth:`tidy` has every outcome).
        level : float
            Confidence level of the intervals.
        n_outcomes : int
            How many outcomes to show by default.
        """
        shown = self._selected_outcomes(outcomes, n_outcomes)
        conv = self._config.get("fit_info", {}).get("converged")
        left = [
            ("Model:", "MNLogit" + (" (two-stage)" if self._config["params"].get("two_stage") else "")),
            ("Engine:", self.engine),
            ("Dep. variable:", "next state"),
            ("States:", f"{self.n_states} ({self._config.get('scheme', '')})"),
            ("Outcomes:", f"{self.n_outcomes}" + (f" (base {self._base})" if self._base is not None else "")),
            ("Persons:", f"{self.n_persons:,}"),
            ("Transitions:", f"{self.nobs:,}"),
            ("alpha:", _fmt(self.alpha)),
        ]
        right = [
            ("Log-likelihood:", _fmt(self.loglik, 2)),
            ("LL-Null:", _fmt(self.loglik_null, 2)),
            ("Pseudo R-squ.:", _fmt(self.pseudo_rsquared)),
            ("Perplexity:", _fmt(self.perplexity)),
            ("Cov. type:", _COV_NAMES.get(self._cov_type, self._cov_type)),
            ("Parameters:", f"{self.n_params:,}"),
            ("Converged:", "" if conv is None else str(bool(conv))),
            ("Weighted:", str(bool(self._config.get("weighted")))),
        ]
        header = [[a, b, c, d] for (a, b), (c, d) in zip(left, right, strict=True)]
        notes = [f"Features: {', '.join(self._config.get('features', [])) or 'none'}."]
        if len(shown) < len(self._outcomes):
            notes.append(
                f"Showing {len(shown)} of {len(self._outcomes)} outcomes"
                + (" (the most frequent)" if outcomes is None else "")
                + "; summary(outcomes=[...]) shows others and tidy() has all of them."
            )
        if self._se is None:
            notes.append(f"No standard errors: {self._cov_note}")
        if self.alpha > 0:
            notes.append("Penalised fit: standard errors are approximate (shrinkage bias ignored).")
        tables = []
        lo, hi = f"[{(1 - level) / 2:.3g}", f"{1 - (1 - level) / 2:.3g}]"
        columns = ["coef", "std err", "z", "P>|z|", lo, hi]
        tidy = self._tidy_quiet(level).set_index(["outcome", "term"])
        for outcome in shown:
            rows = []
            for term in self._terms:
                r = tidy.loc[(outcome, term)]
                cells = [_fmt(r["estimate"]), _fmt(r["std_error"]), _fmt(r["statistic"], 3), _fmt_p(r["p_value"])]
                rows.append((str(term), [*cells, _fmt(r["conf_low"], 3), _fmt(r["conf_high"], 3)]))
            title = self._titles.get(outcome, outcome)
            label = f"outcome = {outcome}" + (f" ({title})" if title != outcome else "")
            tables.append(_Table(label, columns, rows))
        return Summary("MNLogit Estimation Summary", header, tables, notes)

    def _tidy_quiet(self, level: float) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.tidy(level)

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return f"{self}\n{type(self).__name__}, id: {hex(id(self))}"

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    # ------------------------------------------------------------------ bootstrap
    def bootstrap(self, n_boot: int = 200, *, rng: int | np.random.Generator | None = None) -> MNLogitResults:
        """Results with person-bootstrap standard errors (``cov_type="bootstrap"``).

        Persons of the training panel are drawn with replacement (a person drawn twice
        counts as two persons) and the model is refitted with the same settings
        ``n_boot`` times; the standard errors are the standard deviations of the
        estimates across refits (z statistics and intervals then use the normal
        approximation with these standard errors). Slow (``n_boot`` fits) but available for any number
        of parameters and for the two-stage head. Refits that fail, lack a parameter
        (a level or outcome absent from the draw) or lack the base outcome are left
        out of that parameter's standard error, with a warning; a parameter with the same
        value in every refit (not moved by the data, such as the move logit of the
        previous state in the two-stage head) gets NaN. Without a penalty, a refit whose
        base outcome differs is re-expressed relative to this base.

        Parameters
        ----------
        n_boot : int
            Number of bootstrap refits (at least 2).
        rng : int or numpy.random.Generator, optional
            Seed of the person draws.
        """
        if self._source is None:
            raise ValueError("these results carry no training data to bootstrap")
        if n_boot < 2:
            raise ValueError(f"n_boot must be at least 2, got {n_boot}")
        draws, n_failed = _bootstrap_draws(self, self._source, n_boot, np.random.default_rng(rng))
        valid = np.isfinite(draws).sum(axis=0)
        if n_failed or (valid < n_boot).any():
            warnings.warn(
                f"bootstrap: {n_failed} of {n_boot} refits failed and {int((valid < n_boot).sum())} parameters are "
                f"missing from some refits (as few as {int(valid.min())} valid draws)",
                stacklevel=2,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.where(valid >= 2, np.nanstd(draws, axis=0, ddof=1), np.nan)
        se[se == 0] = np.nan  # the same value in every refit: a parameter the data do not move (not identified)
        cov, note = None, None
        if self.n_params <= MAX_ANALYTIC_PARAMS:
            cov = np.array(pd.DataFrame(draws).cov())  # pairwise complete draws
            cov[np.diag_indices_from(cov)] = se**2
        else:
            note = f"the full covariance of {self.n_params:,} parameters is not formed; std_errors are available"
        config = self.config | {"bootstrap": {"n_boot": n_boot, "n_failed": n_failed, "rng": _seed_repr(rng)}}
        return MNLogitResults(
            params=self._params,
            terms=self._terms,
            outcomes=self._outcomes,
            titles=self._titles,
            base_outcome=self._base,
            cov=cov,
            std_errors=se,
            cov_type="bootstrap",
            cov_note=note,
            stats=self._stats,
            config=config,
            outcome_counts=self._outcome_counts,
            source=self._source,
        )

    def bootstrap_se(self, n_boot: int = 200, *, rng: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Person-bootstrap standard errors, shaped like :attr:`params` (see :meth:`bootstrap`)."""
        return self.bootstrap(n_boot, rng=rng).std_errors


def _frozen(values: Any) -> np.ndarray:
    out = np.array(values, dtype=float)
    out.setflags(write=False)
    return out


def _seed_repr(rng: Any) -> Any:
    return rng if rng is None or isinstance(rng, int) else repr(rng)


# ======================================================================= building results
def _labels(model: MNLogit) -> tuple[list[str], str | None]:
    """Outcome column labels of ``model_.flat_parameters()`` and the base outcome."""
    states = list(model.classes_)
    codes = [states[i] for i in model.outcomes_]
    base = model.model_.base_class
    labels = codes[1:] if base else list(codes)
    if model.two_stage:
        labels.append(_STAY)
    return labels, codes[0] if base else None


def mnlogit_results(
    model: MNLogit, panel: CareerPanel, weights: np.ndarray | None, cov_type: str = "cluster"
) -> MNLogitResults:
    """Build the results of a fitted MNLogit on its training panel (see :meth:`MNLogit.results`)."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    data = _transitions(model, panel, weights)
    matrix = np.asarray(model.model_.flat_parameters(), dtype=float)  # (terms, outcome columns)
    terms = data.features.column_names
    outcomes, base = _labels(model)
    k = matrix.size
    cov, note = None, None
    if model.two_stage:
        note = "the analytic covariance of the two-stage head is not implemented; use bootstrap_se(n_boot=..., rng=...)"
    elif k > MAX_ANALYTIC_PARAMS:
        note = (
            f"the model has {k:,} free parameters ({len(terms)} terms x {matrix.shape[1]} outcomes), more than "
            f"MAX_ANALYTIC_PARAMS = {MAX_ANALYTIC_PARAMS:,} for which the analytic covariance is formed; "
            "use bootstrap_se(n_boot=..., rng=...) (a person bootstrap refitting the model) instead"
        )
    else:
        free = np.arange(1, len(model.outcomes_)) if model.model_.base_class else np.arange(len(model.outcomes_))
        try:
            cov = _mnlogit_covariance(data, free, cov_type, model.alpha)
        except CovarianceUnavailableError as err:  # estimates and fit statistics stay available
            note = str(err)
    states = list(model.classes_)
    codes = [states[i] for i in model.outcomes_]
    y_codes = np.asarray(codes, dtype=object)[data.y]
    counts = pd.Series(y_codes).value_counts().reindex(codes, fill_value=0)
    counts.index.name = "outcome"
    share = np.bincount(data.y, weights=data.weights, minlength=len(codes))
    total = float(data.weights.sum())
    positive = share[share > 0]
    stats = {
        "nobs": len(data),
        "n_persons": int(data.groups.max()) + 1,
        "n_states": len(states),
        "n_outcomes": len(codes),
        "loglik": float(data.weights @ data.log_probs[np.arange(len(data)), data.y]),
        "loglik_null": float(positive @ np.log(positive / total)),
        "weight_total": total,
    }
    from laborseq import __version__

    config = {
        "params": model.get_params(),
        "features": list(model.encoder_.categorical_) + list(model.encoder_.numeric_),
        "features_left_out": list(model.encoder_.constant_),
        "scheme": model.scheme_.name,
        "weighted": weights is not None,
        "fit_info": dict(model.fit_info_),
        "versions": {"laborseq": __version__, "numpy": np.__version__, "torch": torch.__version__},
    }
    return MNLogitResults(
        params=matrix.T.ravel(),
        terms=terms,
        outcomes=outcomes,
        titles={c: model.scheme_.title(c) for c in codes},
        base_outcome=base,
        cov=cov,
        std_errors=None,
        cov_type=cov_type,
        cov_note=note,
        stats=stats,
        config=config,
        outcome_counts=counts,
        source=_RefitSource(type(model), model.get_params(), panel, weights),
    )


# ======================================================================= person bootstrap
def _resample_persons(panel: CareerPanel, weights: np.ndarray | None, gen: np.random.Generator) -> CareerPanel:
    """A panel of persons drawn with replacement, each draw a distinct person."""
    frame = panel.data.drop(columns=[WEIGHT], errors="ignore")
    frame["is_target"] = panel.target_mask
    if weights is not None:
        frame[WEIGHT] = weights
    persons = frame[PERSON].to_numpy()
    starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]])
    lengths = np.diff(np.r_[starts, len(persons)])
    draw = gen.integers(0, len(starts), size=len(starts))
    rows = np.concatenate([np.arange(starts[d], starts[d] + lengths[d]) for d in draw])
    sample = frame.iloc[rows].reset_index(drop=True)
    sample[PERSON] = np.repeat(np.arange(len(draw)), lengths[draw])
    return CareerPanel(
        sample,
        covariates=list(panel.covariates),
        static=list(panel.static_covariates),
        weight=WEIGHT if weights is not None else None,
        scheme=panel.scheme,
        name=panel.name,
        target="is_target",
    )


def _aligned(results: MNLogitResults, model: MNLogit) -> np.ndarray:
    """A refit's parameters on the original (outcome, term) grid; NaN where it has none."""
    labels, base = _labels(model)
    frame = pd.DataFrame(model.model_.flat_parameters(), index=_terms(model), columns=labels)
    if base is not None:
        frame[base] = 0.0
        if results.base_outcome is not None and results.base_outcome != base:
            if results.base_outcome not in frame.columns:
                return np.full(results.n_params, np.nan)
            outcomes = [c for c in frame.columns if c != _STAY]
            frame[outcomes] = frame[outcomes].sub(frame[results.base_outcome], axis=0)
    aligned = frame.reindex(index=results.terms, columns=list(results.params.columns))
    return aligned.to_numpy().T.ravel()


def _terms(model: MNLogit) -> list[str]:
    """Design terms of a fitted model (the rows of ``model_.flat_parameters()``)."""
    enc = model.encoder_
    levels = {name: enc.levels_[name] for name in enc.categorical_}
    return EncodedFeatures({}, levels, list(enc.numeric_), np.zeros((0, len(enc.numeric_)))).column_names


def _bootstrap_draws(
    results: MNLogitResults, source: _RefitSource, n_boot: int, gen: np.random.Generator
) -> tuple[np.ndarray, int]:
    draws = np.full((n_boot, results.n_params), np.nan)
    failed = 0
    for b in range(n_boot):
        sample = _resample_persons(source.panel, source.weights, gen)
        model = source.model_class(**source.params)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(sample, weights=None if source.weights is None else WEIGHT, rng=gen)
        except (RuntimeError, ValueError):
            failed += 1
            continue
        draws[b] = _aligned(results, model)
    return draws, failed


# ======================================================================= rendering
@dataclass(frozen=True)
class _Table:
    """A titled table of formatted cells with a stub (row label) column."""

    title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


class Summary:
    """A rendered summary: header block, tables and notes, as text, HTML or LaTeX.

    ``str(summary)`` is the text; notebooks show the HTML.
    """

    def __init__(self, title: str, header: list[list[str]], tables: list[_Table], notes: list[str]) -> None:
        self.title = title
        self.header = [list(r) for r in header]
        self.tables = list(tables)
        self.notes = list(notes)

    # ------------------------------------------------------------------ text
    def as_text(self) -> str:
        """Fixed-width text."""
        blocks = []
        widths = [max((len(r[c]) for r in self.header), default=0) for c in range(4)] if self.header else []
        header_lines = [
            f"{r[0]:<{widths[0]}} {r[1]:>{widths[1]}}    {r[2]:<{widths[2]}} {r[3]:>{widths[3]}}" for r in self.header
        ]
        table_lines = [_text_table(t) for t in self.tables]
        lengths = [len(line) for line in header_lines] + [len(line) for lines in table_lines for line in lines]
        width = max([*lengths, len(self.title)])
        blocks.append(self.title.center(width).rstrip())
        blocks.append("=" * width)
        blocks += header_lines
        for lines in table_lines:
            if blocks[-1] != "=" * width:
                blocks.append("=" * width)
            blocks += lines
        blocks.append("=" * width)
        blocks += self.notes
        return "\n".join(blocks)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    # ------------------------------------------------------------------ HTML
    def as_html(self) -> str:
        """An HTML fragment (escaped) with one ``<table>`` per block."""
        e = html.escape
        parts = ['<div class="laborseq-summary">', '<table class="simpletable">', f"<caption>{e(self.title)}</caption>"]
        for r in self.header:
            parts.append(f"<tr><th>{e(r[0])}</th><td>{e(r[1])}</td><th>{e(r[2])}</th><td>{e(r[3])}</td></tr>")
        parts.append("</table>")
        for t in self.tables:
            parts.append('<table class="simpletable">')
            parts.append(f"<caption>{e(t.title)}</caption>")
            parts.append("<tr><td></td>" + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr>")
            for stub, cells in t.rows:
                parts.append(f"<tr><th>{e(stub)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
        parts += [f"<p>{e(n)}</p>" for n in self.notes]
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()

    # ------------------------------------------------------------------ LaTeX
    def as_latex(self) -> str:
        """LaTeX (``booktabs``): one ``tabular`` per block, notes as text."""
        x = _latex_escape
        parts = ["\\begin{center}", f"\\textbf{{{x(self.title)}}}\\\\[0.5em]"]
        if self.header:
            parts += ["\\begin{tabular}{lrlr}", "\\toprule"]
            parts += [" & ".join(x(c) for c in r) + " \\\\" for r in self.header]
            parts += ["\\bottomrule", "\\end{tabular}"]
        for t in self.tables:
            parts += [
                "",
                f"\\textit{{{x(t.title)}}}\\\\",
                "\\begin{tabular}{l" + "r" * len(t.columns) + "}",
                "\\toprule",
                " & " + " & ".join(x(c) for c in t.columns) + " \\\\",
                "\\midrule",
            ]
            parts += [x(stub) + " & " + " & ".join(x(c) for c in cells) + " \\\\" for stub, cells in t.rows]
            parts += ["\\bottomrule", "\\end{tabular}"]
        parts.append("\\end{center}")
        parts += [x(n) + "\\\\" for n in self.notes]
        return "\n".join(parts)


def _text_table(table: _Table) -> list[str]:
    stub_w = max([len(s) for s, _ in table.rows] + [0])
    widths = [max([len(c)] + [len(cells[i]) for _, cells in table.rows]) for i, c in enumerate(table.columns)]
    head = " " * stub_w + "".join(f"  {c:>{w}}" for c, w in zip(table.columns, widths, strict=True))
    rule = "-" * len(head)
    lines = [head, rule]
    lines += [
        f"{s:<{stub_w}}" + "".join(f"  {c:>{w}}" for c, w in zip(cells, widths, strict=True)) for s, cells in table.rows
    ]
    title = table.title if len(table.title) >= len(head) else table.title.center(len(head)).rstrip()
    return [title, rule, *lines] if table.title else lines


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _fmt_p(value: float) -> str:
    """A p-value with three decimals (``0.000`` below 0.0005), as statsmodels prints it."""
    return "" if value is None or not np.isfinite(value) else f"{float(value):.3f}"


def _fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: fixed decimals, scientific when very large or small; blank when missing."""
    if value is None:
        return ""
    v = float(value)
    if not np.isfinite(v):
        return "" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 10 ** (-digits)):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


# ======================================================================= compare
_PRECISION = {"std_errors": "Std. errors", "zstats": "z statistics", "pvalues": "P-values"}


class ResultsComparison:
    """Several :class:`MNLogitResults` side by side (see :func:`compare`)."""

    def __init__(
        self,
        results: Mapping[str, MNLogitResults],
        *,
        outcomes: Sequence[str],
        precision: str,
        stars: bool,
    ) -> None:
        self._results = dict(results)
        self._outcomes = list(outcomes)
        self._precision = precision
        self._stars = stars

    def _stacked(self, name: str) -> pd.DataFrame:
        columns = {}
        for key, res in self._results.items():
            try:
                frame = getattr(res, name)
            except CovarianceUnavailableError:
                frame = res.params * np.nan
            keep = [o for o in self._outcomes if o in frame.columns]
            columns[key] = frame[keep].unstack().rename_axis(["outcome", "term"])
        out = pd.concat(columns, axis=1, sort=False)
        order = {o: i for i, o in enumerate(self._outcomes)}
        return out.sort_index(level="outcome", key=lambda s: s.map(order), sort_remaining=False, kind="stable")

    @property
    def params(self) -> pd.DataFrame:
        """Estimates, rows ``(outcome, term)``, one column per model."""
        return self._stacked("params")

    @property
    def std_errors(self) -> pd.DataFrame:
        """Standard errors (NaN where a model has none), laid out like :attr:`params`."""
        return self._stacked("std_errors")

    @property
    def pvalues(self) -> pd.DataFrame:
        """P-values, laid out like :attr:`params`."""
        return self._stacked("pvalues")

    @property
    def zstats(self) -> pd.DataFrame:
        """z statistics, laid out like :attr:`params`."""
        return self._stacked("zstats")

    def summary(self) -> Summary:
        """Header rows (fit statistics) and one coefficient block per outcome."""
        models = list(self._results)
        stat_rows = [
            ("Engine", lambda r: r.engine),
            ("Cov. type", lambda r: _COV_NAMES.get(r.cov_type, r.cov_type)),
            ("alpha", lambda r: _fmt(r.alpha)),
            ("Persons", lambda r: f"{r.n_persons:,}"),
            ("Transitions", lambda r: f"{r.nobs:,}"),
            ("Parameters", lambda r: f"{r.n_params:,}"),
            ("Log-likelihood", lambda r: _fmt(r.loglik, 2)),
            ("Pseudo R-squ.", lambda r: _fmt(r.pseudo_rsquared)),
            ("Perplexity", lambda r: _fmt(r.perplexity)),
        ]
        tables = [_Table("", models, [(label, [f(r) for r in self._results.values()]) for label, f in stat_rows])]
        params, precision, pvalues = self.params, self._stacked(self._precision), self.pvalues
        titles: dict[str, str] = {}
        for res in self._results.values():
            titles.update(res.outcome_titles.to_dict())
        for outcome in self._outcomes:
            if outcome not in params.index.get_level_values("outcome"):
                continue
            rows = []
            for term in params.loc[outcome].index:
                est, prec, pv = (
                    params.loc[(outcome, term)],
                    precision.loc[(outcome, term)],
                    pvalues.loc[(outcome, term)],
                )
                rows.append((str(term), [_fmt(est[m]) + _stars(pv[m], self._stars) for m in models]))
                rows.append(("", [f"({_fmt(prec[m])})" if np.isfinite(prec[m]) else "" for m in models]))
            title = titles.get(outcome, outcome)
            label = f"outcome = {outcome}" + (f" ({title})" if title != outcome else "")
            tables.append(_Table(label, models, rows))
        notes = [f"{_PRECISION[self._precision]} in parentheses."]
        if self._stars:
            notes.append("* p<0.10, ** p<0.05, *** p<0.01")
        return Summary("Model Comparison", [], tables, notes)

    def as_text(self) -> str:
        """Fixed-width text."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """HTML fragment."""
        return self.summary().as_html()

    def as_latex(self) -> str:
        """LaTeX tables."""
        return self.summary().as_latex()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def _stars(pvalue: float, on: bool) -> str:
    if not on or not np.isfinite(pvalue):
        return ""
    return "***" if pvalue < 0.01 else "**" if pvalue < 0.05 else "*" if pvalue < 0.1 else ""


def compare(
    results: Mapping[str, MNLogitResults] | Sequence[MNLogitResults],
    *,
    outcomes: str | Sequence[str] | None = None,
    precision: Literal["std_errors", "zstats", "pvalues"] = "std_errors",
    stars: bool = True,
) -> ResultsComparison:
    """Put the estimates of several multinomial logits side by side.

    Parameters
    ----------
    results : dict of str to MNLogitResults, or sequence
        The results; a sequence is named ``Model 0``, ``Model 1``, ...
    outcomes : str or sequence of str, optional
        Outcome state codes to show, one block (terms x models) each. By default the
        :data:`SUMMARY_OUTCOMES` most frequent outcomes of the first results.
    precision : {"std_errors", "zstats", "pvalues"}
        What to show in parentheses under each estimate.
    stars : bool
        Mark estimates with p < 0.10, 0.05, 0.01 by one, two or three stars.

    Returns
    -------
    ResultsComparison
        Renders as text (``str``), HTML and LaTeX; ``params``, ``std_errors`` and
        ``pvalues`` are ``(outcome, term)`` x model frames.
    """
    named = dict(results) if isinstance(results, Mapping) else {f"Model {i}": r for i, r in enumerate(results)}
    if not named:
        raise ValueError("compare needs at least one results object")
    bad = [k for k, v in named.items() if not isinstance(v, MNLogitResults)]
    if bad:
        raise TypeError(f"compare takes MNLogitResults; {bad} are not")
    if precision not in _PRECISION:
        raise ValueError(f"precision must be one of {list(_PRECISION)}, got {precision!r}")
    first = next(iter(named.values()))
    if outcomes is None:
        chosen = first._selected_outcomes(None, SUMMARY_OUTCOMES)
    else:
        chosen = [outcomes] if isinstance(outcomes, str) else [str(o) for o in outcomes]
        known = set().union(*(set(r.params.columns) for r in named.values()))
        unknown = [o for o in chosen if o not in known]
        if unknown:
            raise ValueError(f"no model has parameters for outcome(s) {unknown}")
    return ResultsComparison(named, outcomes=chosen, precision=precision, stars=stars)
