"""Several multinomial logit fits side by side, esttab-style: :func:`compare_results` and :class:`ResultsComparison`.

:func:`compare_results` puts the estimates of several
:class:`~laborseq.models.results.MNLogitResults` (coefficients) or several
:class:`~laborseq.models.effects.MarginalEffects` (average marginal effects) in one
table: one block of terms per outcome, one column per model or specification, standard
errors, z statistics or p-values in parentheses below each estimate, optional
significance stars, and the fit statistics at the bottom. The comparison renders as
text, HTML and LaTeX through :class:`~laborseq.models.summary.Summary`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from laborseq.models.covariance import CovarianceUnavailableError
from laborseq.models.effects import MarginalEffects
from laborseq.models.results import MNLogitResults
from laborseq.models.summary import (
    SUMMARY_OUTCOMES,
    Rendered,
    Summary,
    SummaryTable,
    cov_name,
    estimate_rows,
    format_number,
    outcome_codes,
    outcome_label,
)

__all__ = ["ResultsComparison", "compare_results"]

_PRECISION = {"std_errors": "Std. errors", "zstats": "z statistics", "pvalues": "P-values"}

Estimates = MNLogitResults | MarginalEffects
"""What :func:`compare_results` sets side by side."""


class ResultsComparison(Rendered):
    """Several results or marginal effects side by side (see :func:`compare_results`).

    Parameters
    ----------
    results : dict of str to MNLogitResults or MarginalEffects
        The results (all of one kind), by model name (the column headings).
    outcomes : sequence of str
        Outcome state codes to show, one block each.
    precision : {"std_errors", "zstats", "pvalues"}
        What to show in parentheses under each estimate.
    stars : bool
        Whether to mark significant estimates with stars.
    """

    def __init__(
        self,
        results: Mapping[str, Estimates],
        *,
        outcomes: Sequence[str],
        precision: str,
        stars: bool,
    ) -> None:
        self._results = dict(results)
        self._outcomes = list(outcomes)
        self._precision = precision
        self._stars = stars
        self._effects = isinstance(next(iter(self._results.values())), MarginalEffects)

    def _stacked(self, name: str) -> pd.DataFrame:
        """A property of every results object, rows ``(outcome, term)``, one column per model (NaN if missing)."""
        columns = {}
        for key, res in self._results.items():
            try:
                frame = getattr(res, name)
            except (CovarianceUnavailableError, ValueError):  # results without a covariance, effects without errors
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
        """One block of estimates per outcome (precision in parentheses below), the fit statistics at the bottom.

        Returns
        -------
        Summary
            Titled ``Model Comparison`` (``Average Marginal Effects`` for effects); the
            precision and the stars are explained in the notes.
        """
        models = list(self._results)
        params, precision, pvalues = self.params, self._stacked(self._precision), self.pvalues
        titles: dict[str, str] = {}
        for res in self._results.values():
            titles.update(res.outcome_titles.to_dict())
        tables = []
        for outcome in self._outcomes:
            if outcome not in params.index.get_level_values("outcome"):
                continue
            rows = estimate_rows(params.loc[outcome], precision.loc[outcome], self._stars, pvalues.loc[outcome])
            tables.append(SummaryTable(outcome_label(outcome, titles.get(outcome, outcome)), models, rows))
        stat_rows: list[tuple[str, Callable[[Estimates], str]]] = [
            ("Engine", lambda r: r.engine),
            ("Std. errors" if self._effects else "Cov. type", lambda r: cov_name(r.cov_type)),
            ("alpha", lambda r: format_number(r.alpha)),
            ("Persons", lambda r: f"{r.n_persons:,}"),
            ("Transitions", lambda r: f"{r.nobs:,}"),
            ("Parameters", lambda r: f"{r.n_params:,}"),
            ("Log-likelihood", lambda r: format_number(r.loglik, 2)),
            ("Pseudo R-squ.", lambda r: format_number(r.pseudo_rsquared)),
            ("Perplexity", lambda r: format_number(r.perplexity)),
        ]
        rows = [(label, [f(r) for r in self._results.values()]) for label, f in stat_rows]
        tables.append(SummaryTable("Fit statistics", models, rows))
        notes = [f"{_PRECISION[self._precision]} in parentheses."]
        if self._effects:
            notes.append("Average marginal effects on the probability of each outcome (<move>: of moving).")
        if self._stars:
            notes.append("* p<0.10, ** p<0.05, *** p<0.01")
        title = "Average Marginal Effects" if self._effects else "Model Comparison"
        return Summary(title, [], tables, notes)

    def as_text(self) -> str:
        """Fixed-width text."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """HTML fragment."""
        return self.summary().as_html()

    def as_latex(self) -> str:
        """LaTeX tables."""
        return self.summary().as_latex()


def compare_results(
    results: Mapping[str, Estimates] | Sequence[Estimates],
    *,
    outcomes: str | Sequence[str] | None = None,
    precision: Literal["std_errors", "zstats", "pvalues"] = "std_errors",
    stars: bool = True,
) -> ResultsComparison:
    """Put the estimates (or average marginal effects) of several multinomial logits side by side.

    Columns are models or specifications; rows are coefficients (or effects) with their
    precision in parentheses below, one block per outcome; the fit statistics close the
    table, as in esttab and linearmodels' ``compare``.

    Parameters
    ----------
    results : dict of str to MNLogitResults or MarginalEffects, or sequence
        The results, all of one kind; a sequence is named ``Model 0``, ``Model 1``, ...
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

    Raises
    ------
    TypeError
        When some entry is neither :class:`~laborseq.models.results.MNLogitResults` nor
        :class:`~laborseq.models.effects.MarginalEffects`, or the two kinds are mixed.
    ValueError
        When there are no results, ``precision`` is unknown or no model has an outcome asked for.
    """
    named = dict(results) if isinstance(results, Mapping) else {f"Model {i}": r for i, r in enumerate(results)}
    if not named:
        raise ValueError("compare needs at least one results object")
    bad = [k for k, v in named.items() if not isinstance(v, MNLogitResults | MarginalEffects)]
    if bad:
        raise TypeError(f"compare_results takes MNLogitResults or MarginalEffects; {bad} are neither")
    if len({isinstance(v, MarginalEffects) for v in named.values()}) > 1:
        raise TypeError("compare_results sets coefficients or marginal effects side by side, not both in one table")
    if precision not in _PRECISION:
        raise ValueError(f"precision must be one of {list(_PRECISION)}, got {precision!r}")
    first = next(iter(named.values()))
    if outcomes is None:
        chosen = first._selected_outcomes(None, SUMMARY_OUTCOMES)
    else:
        chosen = outcome_codes(outcomes)
        known = set().union(*(set(r.params.columns) for r in named.values()))
        unknown = [o for o in chosen if o not in known]
        if unknown:
            raise ValueError(f"no model has parameters for outcome(s) {unknown}")
    return ResultsComparison(named, outcomes=chosen, precision=precision, stars=stars)
