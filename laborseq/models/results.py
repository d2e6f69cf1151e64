"""Results of the multinomial logit: estimates, inference and fit statistics.

:meth:`MNLogit.results(panel) <laborseq.models.MNLogit.results>` returns an immutable
:class:`MNLogitResults` in the style of linearmodels: labelled pandas properties
(``params``, ``std_errors``, ``zstats``, ``pvalues``, ``conf_int()``, ``cov``), fit
statistics, a :meth:`~MNLogitResults.summary` that renders as text, HTML and LaTeX,
a long :meth:`~MNLogitResults.tidy` table and the person bootstrap
(:meth:`~MNLogitResults.bootstrap`).

The work is split as linearmodels splits it:

- this module: the results object;
- :mod:`laborseq.models.inference`: how a fitted model and its training data make
  one (:func:`~laborseq.models.inference.mnlogit_results`);
- :mod:`laborseq.models.covariance`: the closed-form score, Hessian and the
  ``"nonrobust"``, ``"robust"`` and ``"cluster"`` covariances (formulas there), the
  parameter limit :data:`~laborseq.models.covariance.MAX_ANALYTIC_PARAMS` and
  :class:`~laborseq.models.covariance.CovarianceUnavailableError`;
- :mod:`laborseq.models.person_bootstrap`: the resampling and refits of
  :meth:`MNLogitResults.bootstrap`;
- :mod:`laborseq.models.summary`: the :class:`~laborseq.models.summary.Summary`
  renderer (text, HTML, LaTeX);
- :mod:`laborseq.models.comparison`: :func:`~laborseq.models.comparison.compare_results`,
  several results side by side.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from laborseq._util.random import check_random_state, seed_record
from laborseq.models.covariance import CovarianceUnavailableError
from laborseq.models.person_bootstrap import (
    STAY,
    RefitSource,
    aligned_parameters,
    bootstrap_covariance,
    bootstrap_draws,
)
from laborseq.models.summary import (
    SUMMARY_OUTCOMES,
    Summary,
    SummaryTable,
    cov_name,
    format_number,
    format_pvalue,
    outcome_codes,
    outcome_label,
)

__all__ = ["MNLogitResults"]


class MNLogitResults:
    """Estimates and inference of a fitted :class:`~laborseq.models.MNLogit`.

    Built by :meth:`MNLogit.results(panel) <laborseq.models.MNLogit.results>` (see
    :func:`~laborseq.models.inference.mnlogit_results`), not directly. It keeps the
    training data for :meth:`bootstrap`; the model does not. Immutable: every property returns a
    new labelled pandas object.

    Parameters are a matrix: rows are the dummy-coded design terms (``const``, the
    non-reference levels of each categorical feature as ``feature[level]``, the
    numeric features), columns the outcome states with free parameters, labelled by
    state code (:attr:`outcome_titles` has their titles). Without a penalty the base
    outcome (:attr:`base_outcome`) is normalised to zero and has no column. Stacked
    quantities (:attr:`cov`, :meth:`conf_int`) are indexed by ``(outcome, term)``,
    outcome by outcome.

    Inference is asymptotic normal (z statistics). See :mod:`laborseq.models.covariance`
    for the covariance formulas.

    Parameters
    ----------
    params : numpy.ndarray
        Estimates of the free parameters, stacked outcome by outcome.
    terms : sequence of str
        Design terms (rows of :attr:`params`).
    outcomes : sequence of str
        State codes of the outcomes with free parameters (columns of :attr:`params`).
    titles : mapping of str to str
        Title of each outcome state code.
    base_outcome : str, optional
        State code of the outcome normalised to zero (``None`` when every outcome is free).
    cov : numpy.ndarray, optional
        Covariance of the stacked parameters (``None`` when not formed).
    std_errors : numpy.ndarray, optional
        Standard errors; by default the square roots of the diagonal of ``cov``.
    cov_type : str
        ``"cluster"``, ``"robust"``, ``"nonrobust"`` or ``"bootstrap"``.
    cov_note : str, optional
        Why there is no covariance (the message of :class:`CovarianceUnavailableError`).
    stats : mapping
        Fit statistics: ``nobs``, ``n_persons``, ``n_states``, ``n_outcomes``,
        ``loglik``, ``loglik_null`` and ``weight_total``.
    config : mapping
        The model's settings (``params``), features, scheme, fit diagnostics and versions.
    outcome_counts : pandas.Series
        Training transitions into each outcome, by state code.
    source : RefitSource, optional
        What :meth:`bootstrap` refits (``None``: no bootstrap).
    identified_cov : numpy.ndarray, optional
        The covariance with the Hessian inverted on its identified directions only, for the
        delta method of marginal effects (formed when asked for; see :attr:`identified_cov`).
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
        source: RefitSource | None,
        identified_cov: np.ndarray | None = None,
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
        self._identified_cov = None if identified_cov is None else _frozen(identified_cov)

    # ------------------------------------------------------------------ labels and estimates
    def _stacked_index(self) -> pd.MultiIndex:
        """The ``(outcome, term)`` index of the stacked parameters, outcome by outcome."""
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
    def _unavailable(self) -> CovarianceUnavailableError:
        """The error raised for inference when no covariance was formed, with the reason."""
        return CovarianceUnavailableError(self._cov_note or "no covariance was computed")

    def _std_error_vector(self) -> np.ndarray:
        """Standard errors of the stacked parameters (raises when there are none)."""
        if self._se is None:
            raise self._unavailable()
        return self._se

    def _zstat_vector(self) -> np.ndarray:
        """z statistics of the stacked parameters (raises when there are no standard errors)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._params / self._std_error_vector()

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the stacked parameters, indexed by ``(outcome, term)`` on both axes."""
        if self._cov is None:
            raise self._unavailable()
        index = self._stacked_index()
        return pd.DataFrame(np.array(self._cov), index=index, columns=index.copy())

    @property
    def identified_cov(self) -> np.ndarray | None:
        """The covariance on the identified directions of the parameters, stacked like :attr:`cov`.

        Formed with the analytic covariance when the results are built for marginal effects
        (:meth:`MNLogit.marginal_effects <laborseq.models.MNLogit.marginal_effects>`), from the
        same pass over the data; ``None`` otherwise. Identified functions of the parameters
        (predicted probabilities, average effects) have the same delta-method variance under it
        as under :attr:`cov`, without the rounding errors of a near-singular inverse.
        """
        return self._identified_cov

    @property
    def std_errors(self) -> pd.DataFrame:
        """Standard errors, shaped like :attr:`params`."""
        return self._matrix(self._std_error_vector())

    @property
    def zstats(self) -> pd.DataFrame:
        """z statistics (estimate over standard error), shaped like :attr:`params`."""
        return self._matrix(self._zstat_vector())

    @property
    def tstats(self) -> pd.DataFrame:
        """Alias of :attr:`zstats` (the linearmodels name)."""
        return self.zstats

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of the z statistics, shaped like :attr:`params`."""
        return self._matrix(_two_sided_pvalues(self._zstat_vector()))

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Normal confidence intervals.

        Parameters
        ----------
        level : float
            Confidence level, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``(outcome, term)``, columns ``lower`` and ``upper``.
        """
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

        Parameters
        ----------
        level : float
            Confidence level of ``conf_low`` and ``conf_high``.

        Returns
        -------
        pandas.DataFrame
            Columns ``outcome, term, estimate, std_error, statistic, p_value, conf_low,
            conf_high`` (``statistic`` is the z statistic). Inference columns are NaN,
            with a warning, when no covariance is available.
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
        out["statistic"] = self._zstat_vector()
        out["p_value"] = _two_sided_pvalues(out["statistic"].to_numpy())
        out["conf_low"] = ci["lower"].to_numpy()
        out["conf_high"] = ci["upper"].to_numpy()
        return out

    def _selected_outcomes(self, outcomes: str | Sequence[str] | None, n_outcomes: int) -> list[str]:
        """The outcomes a summary shows.

        Parameters
        ----------
        outcomes : str or sequence of str, optional
            State codes asked for; ``None``: the ``n_outcomes`` most frequent (and the
            stay column of the two-stage head), in column order.
        n_outcomes : int
            How many outcomes to show by default.

        Returns
        -------
        list of str
            State codes.

        Raises
        ------
        ValueError
            When an outcome asked for has no parameters.
        """
        available = list(self._outcomes)
        if outcomes is None:
            states = [o for o in available if o != STAY]  # the stay column of the two-stage head is always shown
            counts = self._outcome_counts.reindex(states).fillna(0)
            ranked = sorted(states, key=lambda o: (-counts[o], states.index(o)))
            keep = set(ranked[: max(n_outcomes - (STAY in available), 0)]) | {STAY}
            return [o for o in available if o in keep]
        chosen = outcome_codes(outcomes)
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

        Returns
        -------
        Summary
            Header of fit statistics, one coefficient table per outcome shown, and notes.
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
            ("alpha:", format_number(self.alpha)),
        ]
        right = [
            ("Log-likelihood:", format_number(self.loglik, 2)),
            ("LL-Null:", format_number(self.loglik_null, 2)),
            ("Pseudo R-squ.:", format_number(self.pseudo_rsquared)),
            ("Perplexity:", format_number(self.perplexity)),
            ("Cov. type:", cov_name(self._cov_type)),
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
                cells = [
                    format_number(r["estimate"]),
                    format_number(r["std_error"]),
                    format_number(r["statistic"], 3),
                    format_pvalue(r["p_value"]),
                    format_number(r["conf_low"], 3),
                    format_number(r["conf_high"], 3),
                ]
                rows.append((str(term), cells))
            tables.append(SummaryTable(outcome_label(outcome, self._titles.get(outcome, outcome)), columns, rows))
        return Summary("MNLogit Estimation Summary", header, tables, notes)

    def to_latex(self, **kwargs: Any) -> str:
        """:meth:`summary` as LaTeX table floats (``booktabs``); ``kwargs`` as :meth:`summary`'s."""
        return self.summary(**kwargs).as_latex()

    def _tidy_quiet(self, level: float) -> pd.DataFrame:
        """:meth:`tidy` without its warning when there is no covariance."""
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

        Returns
        -------
        MNLogitResults
            The same estimates and fit statistics, with bootstrap standard errors (and
            their covariance, up to :data:`~laborseq.models.covariance.MAX_ANALYTIC_PARAMS`
            parameters).

        Raises
        ------
        ValueError
            When the results carry no training data or ``n_boot`` is below 2.
        """
        if self._source is None:
            raise ValueError("these results carry no training data to bootstrap")
        if n_boot < 2:
            raise ValueError(f"n_boot must be at least 2, got {n_boot}")
        gen = check_random_state(rng)
        grid = (list(self._terms), list(self._outcomes), self._base)
        draws, n_failed = bootstrap_draws(
            self._source, lambda model, _: aligned_parameters(model, *grid), self._params.size, n_boot, gen
        )
        se, cov, note = bootstrap_covariance(draws, n_failed)
        config = self.config | {"bootstrap": {"n_boot": n_boot, "n_failed": n_failed, "rng": seed_record(rng)}}
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
        """Person-bootstrap standard errors, shaped like :attr:`params` (see :meth:`bootstrap`).

        Parameters
        ----------
        n_boot : int
            Number of bootstrap refits (at least 2).
        rng : int or numpy.random.Generator, optional
            Seed of the person draws.

        Returns
        -------
        pandas.DataFrame
            Standard errors, terms x outcomes.
        """
        return self.bootstrap(n_boot, rng=rng).std_errors


def _two_sided_pvalues(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values of z statistics (NaN stays NaN)."""
    return special.erfc(np.abs(z) / math.sqrt(2))


def _frozen(values: Any) -> np.ndarray:
    """A read-only float copy of ``values``."""
    out = np.array(values, dtype=float)
    out.setflags(write=False)
    return out
