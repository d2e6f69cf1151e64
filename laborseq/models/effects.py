"""Average marginal effects of a fitted multinomial logit: :func:`marginal_effects` and :class:`MarginalEffects`.

``MNLogit.marginal_effects(train)`` answers what a covariate does to the probability
of each occupation, as Stata's ``margins, dydx(*)`` and statsmodels' ``get_margeff``
do: for each covariate (each level of a categorical one against its reference), the
average over the training transitions of the change in every predicted probability
(:mod:`laborseq.models.margins` computes them in torch), weighted when the fit is weighted.
With the two-stage head the effects on the move probability and on the destination
shares come too.

Standard errors:

- ``se="delta"`` (default): the delta method, :math:`J V J^\\top` with :math:`V` the
  parameters' covariance of :meth:`MNLogit.results <laborseq.models.MNLogit.results>`
  (clustered by person by default; pass ``results=...`` to use another, such as the
  person bootstrap's ``results.bootstrap(...)``, which the two-stage head needs);
- ``se="bootstrap"``: the person bootstrap, refitting the model and recomputing the
  effects on each resample of persons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from laborseq._util.random import check_random_state, seed_record
from laborseq.models import logit_engine
from laborseq.models.contrasts import Contrast, contrasts
from laborseq.models.covariance import COV_TYPES, CovarianceUnavailableError, mnlogit_covariance
from laborseq.models.first_year_logit import split_targets
from laborseq.models.inference import training_transitions
from laborseq.models.person_bootstrap import RefitSource, bootstrap_covariance, bootstrap_draws, outcome_codes
from laborseq.models.summary import SUMMARY_OUTCOMES, Rendered, Summary, SummaryTable, estimate_rows
from laborseq.models.summary import outcome_codes as as_codes
from laborseq.panel import WEIGHT, CareerPanel

if TYPE_CHECKING:
    from laborseq.models.mnlogit import MNLogit
    from laborseq.models.results import MNLogitResults

__all__ = ["MOVE", "MarginalEffects", "marginal_effects"]

MOVE = "<move>"
"""Column of the effects on the move probability (two-stage head)."""

Quantity = Literal["probability", "destination"]
_KIND_NAMES = {"level": "discrete change from the reference level", "change": "change from 0 to 1", "dydx": "dy/dx"}


class MarginalEffects(Rendered):
    """Average marginal effects of a fitted :class:`~laborseq.models.MNLogit`, with standard errors.

    Built by :meth:`MNLogit.marginal_effects <laborseq.models.MNLogit.marginal_effects>`.
    Laid out like :class:`~laborseq.models.results.MNLogitResults` so that
    :func:`~laborseq.models.comparison.compare_results` sets several side by side:
    :attr:`params`, :attr:`std_errors`, :attr:`zstats` and :attr:`pvalues` are terms x
    outcomes frames of the effects on the probabilities (with the two-stage head, a
    :data:`MOVE` column of the effects on the move probability first); :meth:`tidy`
    has every effect, the destination shares' included.

    Parameters
    ----------
    effects : list of Contrast
        The contrasts, one row each.
    outcomes : list of str
        State codes of the outcomes.
    values : numpy.ndarray
        ``(contrasts, Q)`` effects: probabilities, then (two-stage) move and destination shares.
    std_errors : numpy.ndarray, optional
        Their standard errors (``None``: unavailable, the reason in ``se_note``).
    se_type : str
        ``"delta (<cov type>)"`` or ``"person bootstrap"``.
    se_note : str, optional
        Why there are no standard errors.
    two_stage : bool
        Whether the model has the two-stage head.
    results : MNLogitResults
        The model's results (fit statistics, titles, the covariance used).
    shares : pandas.Series
        Weighted share of each outcome among the transitions (chooses the outcomes shown).
    config : dict
        How the effects were computed (variables, binary, weighted, bootstrap).
    """

    def __init__(
        self,
        *,
        effects: list[Contrast],
        outcomes: list[str],
        values: np.ndarray,
        std_errors: np.ndarray | None,
        se_type: str,
        se_note: str | None,
        two_stage: bool,
        results: MNLogitResults,
        shares: pd.Series,
        config: dict[str, Any],
    ) -> None:
        self._effects = list(effects)
        self._outcomes = list(outcomes)
        self._values = np.array(values, dtype=float)
        self._se = None if std_errors is None else np.array(std_errors, dtype=float)
        self._values.flags.writeable = False
        self.se_type = se_type
        self.se_note = se_note
        self.two_stage = two_stage
        self.results = results
        self._shares = shares.copy()
        self.config = dict(config)

    # ------------------------------------------------------------------ layout
    @property
    def contrasts(self) -> list[Contrast]:
        """The contrasts, one per row of :attr:`params`."""
        return list(self._effects)

    @property
    def terms(self) -> list[str]:
        """Design terms of the effects (rows of :attr:`params`)."""
        return [c.term for c in self._effects]

    def _columns(self, quantity: Quantity) -> tuple[list[str], slice]:
        k = len(self._outcomes)
        if quantity == "destination":
            if not self.two_stage:
                raise ValueError("destination shares are effects of the two-stage head; this model has none")
            return list(self._outcomes), slice(k + 1, 2 * k + 1)
        if quantity != "probability":
            raise ValueError(f"quantity must be 'probability' or 'destination', got {quantity!r}")
        return list(self._outcomes), slice(0, k)

    def _frame(self, matrix: np.ndarray | None, quantity: Quantity = "probability") -> pd.DataFrame:
        if matrix is None:
            raise ValueError(f"no standard errors: {self.se_note}")
        columns, cols = self._columns(quantity)
        frame = pd.DataFrame(matrix[:, cols], index=pd.Index(self.terms, name="term"), columns=columns)
        if self.two_stage and quantity == "probability":
            frame.insert(0, MOVE, matrix[:, len(self._outcomes)])
        frame.columns.name = "outcome"
        return frame

    @property
    def params(self) -> pd.DataFrame:
        """Effects on the probabilities: terms x outcomes (with :data:`MOVE` first for the two-stage head)."""
        return self._frame(self._values)

    @property
    def std_errors(self) -> pd.DataFrame:
        """Standard errors, laid out like :attr:`params` (raises when unavailable)."""
        return self._frame(self._se)

    @property
    def zstats(self) -> pd.DataFrame:
        """z statistics, laid out like :attr:`params`."""
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided normal p-values, laid out like :attr:`params`."""
        z = self.zstats
        return pd.DataFrame(special.erfc(np.abs(z.to_numpy()) / math.sqrt(2)), index=z.index, columns=z.columns)

    def effects(self, quantity: Quantity = "probability") -> pd.DataFrame:
        """Effects as a terms x outcomes frame: ``"probability"`` (:attr:`params`) or ``"destination"`` shares."""
        return self._frame(self._values, quantity)

    @property
    def outcome_titles(self) -> pd.Series:
        """Title of each outcome, by state code (and of :data:`MOVE`)."""
        titles = self.results.outcome_titles.to_dict()
        codes = ([MOVE] if self.two_stage else []) + self._outcomes
        names = {MOVE: "move probability"}
        return pd.Series([names.get(c) or titles.get(c, c) for c in codes], index=pd.Index(codes, name="outcome"))

    # ------------------------------------------------------------------ fit statistics (the results')
    @property
    def nobs(self) -> int:
        """Training transitions."""
        return self.results.nobs

    @property
    def n_persons(self) -> int:
        """Training persons."""
        return self.results.n_persons

    @property
    def n_params(self) -> int:
        """Free parameters of the model."""
        return self.results.n_params

    @property
    def loglik(self) -> float:
        """Log-likelihood of the training transitions."""
        return self.results.loglik

    @property
    def pseudo_rsquared(self) -> float:
        """McFadden's pseudo R-squared of the fit."""
        return self.results.pseudo_rsquared

    @property
    def perplexity(self) -> float:
        """In-sample perplexity of the transitions."""
        return self.results.perplexity

    @property
    def engine(self) -> str:
        """The model's engine."""
        return self.results.engine

    @property
    def alpha(self) -> float:
        """The model's L2 penalty."""
        return self.results.alpha

    @property
    def cov_type(self) -> str:
        """How the standard errors were computed (the name compare tables show)."""
        return self.se_type

    # ------------------------------------------------------------------ tables
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per (contrast, quantity, outcome).

        Parameters
        ----------
        level : float
            Confidence level of ``conf_low`` and ``conf_high``.

        Returns
        -------
        pandas.DataFrame
            Columns ``variable, term, kind, reference, quantity`` (``probability``,
            ``move``, ``destination``), ``outcome, title, effect, std_error, statistic,
            p_value, conf_low, conf_high``.
        """
        quantities = [("probability", o) for o in self._outcomes]
        if self.two_stage:
            quantities += [("move", MOVE), *(("destination", o) for o in self._outcomes)]
        titles = self.outcome_titles
        rows = []
        se = np.full_like(self._values, np.nan) if self._se is None else self._se
        z_crit = special.ndtri(1 - (1 - level) / 2)
        for i, c in enumerate(self._effects):
            for j, (quantity, outcome) in enumerate(quantities):
                value, error = self._values[i, j], se[i, j]
                z = value / error if error > 0 else np.nan
                rows.append(
                    {
                        "variable": c.variable,
                        "term": c.term,
                        "kind": c.kind,
                        "reference": c.reference,
                        "quantity": quantity,
                        "outcome": outcome,
                        "title": titles.get(outcome, outcome),
                        "effect": value,
                        "std_error": error,
                        "statistic": z,
                        "p_value": special.erfc(abs(z) / math.sqrt(2)) if np.isfinite(z) else np.nan,
                        "conf_low": value - z_crit * error,
                        "conf_high": value + z_crit * error,
                    }
                )
        return pd.DataFrame(rows)

    def _selected_outcomes(self, outcomes: str | Sequence[str] | None, n_outcomes: int) -> list[str]:
        """The outcomes a summary shows: those asked for, or the ``n_outcomes`` largest by share (and :data:`MOVE`)."""
        if outcomes is None:
            ranked = sorted(self._outcomes, key=lambda o: (-self._shares.get(o, 0.0), self._outcomes.index(o)))
            keep = set(ranked[:n_outcomes])
            chosen = [o for o in self._outcomes if o in keep]
        else:
            chosen = as_codes(outcomes)
            unknown = [o for o in chosen if o not in self._outcomes]
            if unknown:
                raise ValueError(
                    f"outcome(s) {unknown} are not outcomes of the model; choose from {self._outcomes[:20]}"
                )
        return ([MOVE] if self.two_stage else []) + chosen

    def summary(
        self,
        outcomes: str | Sequence[str] | None = None,
        *,
        quantity: Quantity = "probability",
        n_outcomes: int = SUMMARY_OUTCOMES,
        stars: bool = True,
    ) -> Summary:
        """A table of effects on a selection of outcomes, standard errors below, as text, HTML and LaTeX.

        Parameters
        ----------
        outcomes : str or sequence of str, optional
            State codes to show; by default the ``n_outcomes`` largest by share.
        quantity : {"probability", "destination"}
            Effects on the probabilities (with the move probability for the two-stage
            head) or on the destination shares.
        n_outcomes : int
            How many outcomes to show by default.
        stars : bool
            Mark effects with p < 0.10, 0.05, 0.01 by one, two or three stars.

        Returns
        -------
        Summary
            One table (rows: terms; columns: outcomes) and notes.
        """
        shown = self._selected_outcomes(outcomes, n_outcomes)
        if quantity == "destination":
            shown = [o for o in shown if o != MOVE]
        params = self.effects(quantity)
        errors = None if self._se is None else self._frame(self._se, quantity)
        titles = self.outcome_titles
        columns = list(shown)
        rows = estimate_rows(params[shown], errors if errors is None else errors[shown], stars and errors is not None)
        what = "probability" if quantity == "probability" else "destination share (given a move)"
        header = [
            ["Effects on:", what, "Persons:", f"{self.n_persons:,}"],
            ["Std. errors:", self.se_type, "Transitions:", f"{self.nobs:,}"],
        ]
        notes = [
            "Average marginal effects over the training transitions"
            + (" (weighted)" if self.config.get("weighted") else "")
            + "; standard errors in parentheses.",
            "Categorical features: discrete change from the reference level; 0/1 features: change from 0 to 1; "
            "other numeric features: dy/dx.",
        ]
        legend = [f"{o} = {titles[o]}" for o in shown if titles.get(o, o) != o]
        if legend:
            notes.append("States: " + "; ".join(legend) + ".")
        references = {c.variable: c.reference for c in self._effects if c.kind == "level"}
        if references:
            notes.append("Reference levels: " + "; ".join(f"{v} = {r}" for v, r in references.items()) + ".")
        if stars and errors is not None:
            notes.append("* p<0.10, ** p<0.05, *** p<0.01")
        if self._se is None:
            notes.append(f"No standard errors: {self.se_note}")
        shown_n = len([o for o in shown if o != MOVE])
        if shown_n < len(self._outcomes):
            notes.append(f"Showing {shown_n} of {len(self._outcomes)} outcomes; tidy() has all of them.")
        return Summary("Average Marginal Effects (MNLogit)", header, [SummaryTable("", columns, rows)], notes)

    def to_latex(self, **kwargs: Any) -> str:
        """:meth:`summary` as one LaTeX float (``booktabs``), the header's facts in its notes.

        Parameters
        ----------
        **kwargs
            Arguments of :meth:`summary`.

        Returns
        -------
        str
            A ``table`` float.
        """
        summary = self.summary(**kwargs)
        facts = "; ".join(f"{a.rstrip(':').lower()}: {b}" for row in summary.header for a, b in (row[:2], row[2:]))
        return Summary(
            summary.title, [], summary.tables, [facts[:1].upper() + facts[1:] + ".", *summary.notes]
        ).as_latex()

    def as_latex(self) -> str:
        """The default :meth:`summary` as LaTeX (:meth:`to_latex`)."""
        return self.to_latex()

    def as_text(self) -> str:
        """The default :meth:`summary` as text."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """The default :meth:`summary` as HTML."""
        return self.summary().as_html()


# ======================================================================= computing them
def _effect_vector(
    model: MNLogit,
    panel: CareerPanel,
    weights: np.ndarray | None,
    terms: list[str],
    outcomes: list[str],
    settings: dict[str, Any],
) -> np.ndarray:
    """A refit's effects on ``panel``, on the grid (terms x quantities) of the effects being bootstrapped."""
    effects, values, _ = _compute(model, panel, weights, settings, jacobian=False)
    own = outcome_codes(model)
    rows = {c.term: i for i, c in enumerate(effects)}
    pick = np.array([rows.get(t, -1) for t in terms])
    columns = np.array([own.index(o) if o in own else -1 for o in outcomes])
    if model.two_stage:  # probabilities, P(move), destination shares: the refit's columns on the grid's
        columns = np.concatenate([columns, [len(own)], np.where(columns >= 0, columns + len(own) + 1, -1)])
    grid = np.full((len(terms), len(columns)), np.nan)
    keep_rows, keep_columns = pick >= 0, columns >= 0
    grid[np.ix_(keep_rows, keep_columns)] = values[np.ix_(pick[keep_rows], columns[keep_columns])]
    return grid.ravel()


def _compute(
    model: MNLogit, panel: CareerPanel, weights: np.ndarray | None, settings: dict[str, Any], *, jacobian: bool
) -> tuple[list[Contrast], np.ndarray, np.ndarray | None]:
    """The contrasts, average effects and (optionally) Jacobian of ``model`` over ``panel``'s transitions."""
    _, trans = split_targets(panel)
    x = model.encoder_.transform(panel, trans)
    prev = panel.lagged_states(1)[trans] if model.two_stage else None
    w = None if weights is None else np.asarray(weights, dtype=float)[trans]
    effects = contrasts(x, settings["variables"], binary=settings["binary"])
    values, jac = logit_engine.average_effects(model.model_, x, prev, w, effects, jacobian=jacobian)
    return effects, values, jac


def _delta_covariance(
    model: MNLogit, results: MNLogitResults, panel: CareerPanel, weights: np.ndarray | None
) -> np.ndarray:
    """The parameters' covariance for the delta method: the results' identified-directions covariance (formed
    now for results built without it), or the results' own covariance when it is not analytic (a bootstrap's).

    Raises
    ------
    CovarianceUnavailableError
        When the results have no covariance (the two-stage head's analytic one, too many parameters).
    """
    cov = results.cov.to_numpy()  # raises, with the reason, when the results have none
    if results.identified_cov is not None:
        return results.identified_cov
    if results.cov_type not in COV_TYPES:
        return cov
    data = training_transitions(model, panel, weights)
    free = np.arange(1, len(model.outcomes_)) if model.model_.base_class else np.arange(len(model.outcomes_))
    return mnlogit_covariance(data, free, results.cov_type, model.alpha, identified=True)[1]


def marginal_effects(
    model: MNLogit,
    results: MNLogitResults,
    panel: CareerPanel,
    weights: np.ndarray | None,
    *,
    variables: Sequence[str] | None = None,
    binary: Literal["change", "dydx"] = "change",
    se: Literal["delta", "bootstrap"] = "delta",
    n_boot: int = 200,
    rng: int | np.random.Generator | None = None,
) -> MarginalEffects:
    """Average marginal effects of a fitted MNLogit on its training panel (see :meth:`MNLogit.marginal_effects`).

    Parameters
    ----------
    model : MNLogit
        The fitted model.
    results : MNLogitResults
        Its results on ``panel`` (the covariance of the delta method).
    panel : CareerPanel
        The training panel.
    weights : numpy.ndarray, optional
        Its row weights, those of the fit.
    variables, binary
        Which effects (:func:`laborseq.models.contrasts.contrasts`).
    se : {"delta", "bootstrap"}
        Standard errors by the delta method with the results' covariance, or by the person bootstrap.
    n_boot : int
        Bootstrap refits (``se="bootstrap"``).
    rng : int or numpy.random.Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    MarginalEffects
        The effects with their standard errors (or the reason there are none).
    """
    if se not in ("delta", "bootstrap"):
        raise ValueError(f"se must be 'delta' or 'bootstrap', got {se!r}")
    if binary not in ("change", "dydx"):
        raise ValueError(f"binary must be 'change' or 'dydx', got {binary!r}")
    settings = {"variables": None if variables is None else list(variables), "binary": binary}
    outcomes = outcome_codes(model)
    cov, no_cov = None, ""
    try:
        cov = _delta_covariance(model, results, panel, weights) if se == "delta" else None
    except CovarianceUnavailableError as err:
        no_cov = str(err)
    effects, values, jac = _compute(model, panel, weights, settings, jacobian=se == "delta" and cov is not None)
    if not effects:
        raise ValueError("the model has no features to take effects of (variables=... picks them)")
    config: dict[str, Any] = {**settings, "weighted": weights is not None, "se": se}
    std_errors, note = None, None
    if se == "delta":
        se_type = f"delta ({results.cov_type})"
        if jac is None or cov is None:
            note = f"the parameters have no covariance ({no_cov}); use se='bootstrap'"
        else:
            std_errors = np.sqrt(np.clip(np.einsum("eqp,pr,eqr->eq", jac, cov, jac), 0, None))
    else:
        se_type = "person bootstrap"
        if n_boot < 2:
            raise ValueError(f"n_boot must be at least 2, got {n_boot}")
        source = RefitSource(type(model), model.get_params(), panel, weights)
        terms = [c.term for c in effects]
        gen = check_random_state(rng)

        def summarize(refit: MNLogit, sample: CareerPanel) -> np.ndarray:
            sample_weights = None if weights is None else sample.data[WEIGHT].to_numpy(dtype=float)
            return _effect_vector(refit, sample, sample_weights, terms, outcomes, settings)

        draws, n_failed = bootstrap_draws(source, summarize, values.size, n_boot, gen)
        errors, _, _ = bootstrap_covariance(draws, n_failed)
        std_errors = errors.reshape(values.shape)
        config["bootstrap"] = {"n_boot": n_boot, "n_failed": n_failed, "rng": seed_record(rng)}
    _, trans = split_targets(panel)
    y = np.asarray(panel.states, dtype=object)[panel.state_index()[trans]]
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)[trans]
    shares = pd.Series(w).groupby(y).sum() / w.sum()
    return MarginalEffects(
        effects=effects,
        outcomes=outcomes,
        values=values,
        std_errors=std_errors,
        se_type=se_type,
        se_note=note,
        two_stage=bool(model.two_stage),
        results=results,
        shares=shares,
        config=config,
    )
