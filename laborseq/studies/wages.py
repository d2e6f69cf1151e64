"""Wage regressions with and without career representations (linearmodels panel models).

The econometric wage model is a Mincer equation on a person-year panel: log
wage on experience, experience squared, years of schooling, calendar-year
effects and dummies of the current occupation. :func:`wage_design` builds it,
optionally with career representations
(:meth:`laborseq.models.base.SequenceModel.representations`) reduced to a few
principal components (:class:`RepresentationPCA`, fitted on the training
persons only). :func:`fit_wage_model` estimates it with linearmodels as pooled
OLS, random effects or fixed effects (entity effects), with standard errors
clustered by person.

:func:`wage_study` compares the Mincer equation with and without each of
several representations on held-out persons (RMSE and R-squared with
person-bootstrap intervals, paired differences), breaks the differences down
by whether a held-out person-year is the person's first observation, repeats
the previous occupation or changes it (:func:`change_subgroups`), and keeps
the in-sample linearmodels fits for :func:`linearmodels.panel.compare`.

Held-out persons have no estimated fixed effect, so out-of-sample scores use
pooled OLS and random effects (whose prediction for a new person is the
fixed part, the random effect having mean zero); fixed effects are for
in-sample estimates of the slopes.

Because the Mincer design already holds the current occupation, a
representation can only add what the history says beyond the current job.
For a person who stays in the occupation of the previous observation, the
previous occupation is the current one and only the longer history can tell
more; the subgroup breakdown (first observed year, stayers, changers) shows
where the differences come from.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from laborseq._util.json import json_records, to_jsonable
from laborseq.evaluation.bootstrap import bootstrap_ratios, percentile_interval
from laborseq.panel import PERSON, YEAR, CareerPanel

__all__ = [
    "CHANGED",
    "FIRST_YEAR",
    "HELDOUT_KINDS",
    "KINDS",
    "MINCER",
    "STAYED",
    "SUBGROUPS",
    "RepresentationPCA",
    "WageStudy",
    "change_subgroups",
    "fit_wage_model",
    "previous_occupation",
    "specification_name",
    "wage_design",
    "wage_study",
]

KINDS = ("pooled", "random", "fixed")
"""Panel estimators: pooled OLS, random effects, fixed (entity) effects."""

HELDOUT_KINDS = ("pooled", "random")
"""Estimators that predict held-out persons (a new person has no estimated fixed effect)."""

MINCER = "Mincer"
"""The specification without career representations."""

FIRST_YEAR = "first observed year"
STAYED = "same occupation as previous observation"
CHANGED = "changed occupation"
SUBGROUPS = (FIRST_YEAR, STAYED, CHANGED)
"""Subgroups of person-years by their occupation relative to the previous observation (:func:`change_subgroups`)."""

_ALL = "all"
"""Subset key of every held-out person-year."""

_COLLINEAR_TOL = 1e-7
"""A regressor whose distance from the span of the earlier ones is below this share of its norm is dependent."""


@dataclass
class RepresentationPCA:
    """Principal components of career representations, fitted on training rows (centred, unscaled).

    Parameters
    ----------
    n_components : int
        Components kept at most; directions without variance (representations
        that are linearly dependent, such as one-hot features) are left out.
    """

    n_components: int = 10
    mean_: np.ndarray = field(init=False, repr=False)
    components_: np.ndarray = field(init=False, repr=False)
    explained_variance_ratio_: np.ndarray = field(init=False, repr=False)

    def fit(self, representations: pd.DataFrame) -> RepresentationPCA:
        """Fit on a table of representations (rows: person-years)."""
        x = representations.to_numpy(dtype=float)
        if self.n_components > min(x.shape):
            raise ValueError(f"n_components={self.n_components} exceeds the data's rank bound {min(x.shape)}")
        self.mean_ = x.mean(axis=0)
        _, singular, vt = np.linalg.svd(x - self.mean_, full_matrices=False)
        variance = singular**2
        ratio = variance / variance.sum()
        keep = min(self.n_components, int((ratio > 1e-9).sum()))
        self.components_ = vt[:keep]
        self.explained_variance_ratio_ = ratio[:keep]
        return self

    def transform(self, representations: pd.DataFrame) -> pd.DataFrame:
        """Scores ``pc0, pc1, ...`` of every row."""
        scores = (representations.to_numpy(dtype=float) - self.mean_) @ self.components_.T
        return pd.DataFrame(scores, index=representations.index, columns=[f"pc{i}" for i in range(scores.shape[1])])


def wage_design(
    panel: CareerPanel, wages: pd.DataFrame, components: pd.DataFrame | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Log wage and regressors of the Mincer equation, indexed by ``(person, year)``.

    Parameters
    ----------
    panel : CareerPanel
        The career panel (occupation dummies come from its states).
    wages : pandas.DataFrame
        ``ln_wage``, ``experience`` and ``schooling`` per ``(person_id, year)``
        (:func:`laborseq.datasets.load_wages`), covering the panel's rows.
    components : pandas.DataFrame, optional
        Career representation components per ``(person, year)`` to add.

    Returns
    -------
    y : pandas.Series
        Log wage.
    x : pandas.DataFrame
        ``const``, ``experience``, ``experience_sq``, ``schooling``, year
        dummies ``year=<y>`` and occupation dummies ``occ=<s>`` (first level
        of each left out), then the components. Rows with a missing wage or
        regressor are left out, and a ``ValueError`` names how many when the
        panel has rows that ``wages`` lacks.
    """
    index = panel.person_year_index()
    missing = index.difference(wages.index)
    if len(missing):
        raise ValueError(f"wages lack {len(missing)} of the panel's person-years, e.g. {list(missing[:3])}")
    w = wages.reindex(index)
    x = pd.DataFrame(
        {
            "const": 1.0,
            "experience": w["experience"].to_numpy(),
            "experience_sq": w["experience"].to_numpy() ** 2,
            "schooling": w["schooling"].to_numpy(),
        },
        index=index,
    )
    years = pd.get_dummies(panel.data[YEAR].to_numpy(), prefix="year", prefix_sep="=", drop_first=True, dtype=float)
    states = pd.get_dummies(
        panel.data["occ"].astype(str).to_numpy(), prefix="occ", prefix_sep="=", drop_first=True, dtype=float
    )
    parts = [x, years.set_axis(index), states.set_axis(index)]
    if components is not None:
        parts.append(components.reindex(index))
    x = pd.concat(parts, axis=1)
    y = pd.Series(w["ln_wage"].to_numpy(), index=index, name="ln_wage")
    keep = y.notna().to_numpy() & x.notna().all(axis=1).to_numpy()
    x = x.loc[:, (x[keep] != 0).any(axis=0)]  # a dummy absent from these rows cannot be estimated
    return y[keep], x[keep]


def fit_wage_model(y: pd.Series, x: pd.DataFrame, kind: str = "pooled") -> Any:
    """Estimate the wage equation with linearmodels, standard errors clustered by person.

    Parameters
    ----------
    y, x : pandas.Series, pandas.DataFrame
        From :func:`wage_design`.
    kind : {"pooled", "random", "fixed"}
        :class:`linearmodels.panel.PooledOLS`, :class:`~linearmodels.panel.RandomEffects`
        or :class:`~linearmodels.panel.PanelOLS` with entity effects (time-invariant
        regressors such as schooling of adults and the constant are dropped by
        linearmodels' absorption check: ``drop_absorbed=True``).

    Returns
    -------
    linearmodels results
        With ``summary`` and usable in :func:`linearmodels.panel.compare`.
    """
    from linearmodels.panel import PanelOLS, PooledOLS, RandomEffects

    if kind == "pooled":
        model = PooledOLS(y, x)
    elif kind == "random":
        model = RandomEffects(y, x)
    elif kind == "fixed":
        model = PanelOLS(y, x, entity_effects=True, drop_absorbed=True)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return model.fit(cov_type="clustered", cluster_entity=True)


def specification_name(representation: str) -> str:
    """Name of the Mincer specification with a representation's components (``"Mincer + <name>"``)."""
    return f"{MINCER} + {representation}"


def previous_occupation(onehot: pd.DataFrame) -> pd.DataFrame:
    """The ``prev=<state>`` columns of a one-hot history table: the previous observed occupation alone.

    Parameters
    ----------
    onehot : pandas.DataFrame
        One-hot history representations of a baseline model
        (:meth:`laborseq.models.base.SequenceModel.representations`), with
        ``prev=<state>`` and ``share=<state>`` columns.

    Returns
    -------
    pandas.DataFrame
        The ``prev=`` columns (all zero in a person's first observed year).
    """
    columns = [c for c in onehot.columns if str(c).startswith("prev=")]
    if not columns:
        raise ValueError(f"no 'prev=<state>' columns among {list(onehot.columns)[:5]}: pass a one-hot history table")
    return onehot[columns]


def change_subgroups(panel: CareerPanel) -> pd.Series:
    """Subgroup of every person-year: first observed year, same occupation as before, or changed occupation.

    The comparison is with the person's previous observed row
    (:meth:`~laborseq.panel.CareerPanel.lagged_states`), whatever the gap in years.

    Returns
    -------
    pandas.Series
        One of :data:`SUBGROUPS` per row, indexed by ``(person, year)``.
    """
    previous = panel.lagged_states(1)
    current = panel.state_index()
    labels = np.where(previous < 0, FIRST_YEAR, np.where(previous == current, STAYED, CHANGED))
    return pd.Series(labels, index=panel.person_year_index(), name="subgroup")


@dataclass(frozen=True, eq=False)
class WageStudy:
    """Held-out and in-sample wage equations with and without career representations (:func:`wage_study`).

    Attributes
    ----------
    table : pandas.DataFrame
        Held-out scores per ``(specification, estimator)``: ``rmse``,
        ``rmse_low``, ``rmse_high``, ``r2``, ``r2_low``, ``r2_high``.
    differences : pandas.DataFrame
        With a representation's components minus without, per
        ``(representation, estimator)``: ``rmse_diff``, ``rmse_diff_low``,
        ``rmse_diff_high``, ``r2_diff``, ``r2_diff_low``, ``r2_diff_high``.
    subgroups : pandas.DataFrame
        Pooled OLS per ``(representation, subgroup)`` of held-out person-years
        (:data:`SUBGROUPS`): ``n_person_years``, ``n_persons``, ``share`` (of
        held-out person-years), ``rmse_without``, ``rmse_with``, ``rmse_diff``
        with ``rmse_diff_low``, ``rmse_diff_high``, and ``mse_contribution``
        (share times the change in mean squared error; the subgroups' sum is
        the overall change in mean squared error).
    components : pandas.DataFrame
        Per representation: ``n_columns``, ``n_components`` (kept),
        ``explained_variance`` (share of the training rows' variance they
        explain) and ``n_collinear`` (components left out of the regressions
        as linear combinations of the Mincer regressors and earlier
        components on the training rows).
    fits : dict
        In-sample linearmodels results on the training persons, keyed by
        ``(specification, estimator)``, for the Mincer equation and the
        Mincer equation with the first representation's components.
    n_train_persons, n_train_person_years, n_test_persons, n_test_person_years : int
        Persons and person-years with a wage in the estimation and held-out samples.
    n_boot : int
        Person-bootstrap draws of the intervals.
    level : float
        Coverage of the intervals.
    seed : int or None
        Seed of the bootstrap draws.
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    subgroups: pd.DataFrame
    components: pd.DataFrame
    fits: dict[tuple[str, str], Any] = field(repr=False)
    n_train_persons: int
    n_train_person_years: int
    n_test_persons: int
    n_test_person_years: int
    n_boot: int
    level: float
    seed: int | None

    @property
    def representations(self) -> list[str]:
        """Names of the representations, in the order given."""
        return list(self.components.index)

    def compare_summary(self) -> str:
        """:func:`linearmodels.panel.compare` of the in-sample fits (standard errors in parentheses) as text.

        Columns ``pooled``, ``RE`` and ``FE`` are the Mincer equation by pooled
        OLS, random and fixed effects; a ``+`` marks the same with the first
        representation's components (short labels keep the table narrow).
        """
        from linearmodels.panel import compare

        short = {"pooled": "pooled", "random": "RE", "fixed": "FE"}
        labelled = {short[kind] + ("" if spec == MINCER else "+"): result for (spec, kind), result in self.fits.items()}
        return str(compare(labelled, precision="std_errors", stars=True).summary)

    def fit_summaries(self) -> dict[tuple[str, str], str]:
        """linearmodels' full ``summary`` of every in-sample fit as text, keyed by ``(specification, estimator)``."""
        return {key: str(result.summary) for key, result in self.fits.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable results (plain Python numbers; undefined values are ``None``)."""
        return {
            "n_train_persons": self.n_train_persons,
            "n_train_person_years": self.n_train_person_years,
            "n_test_persons": self.n_test_persons,
            "n_test_person_years": self.n_test_person_years,
            "n_boot": self.n_boot,
            "level": self.level,
            "seed": self.seed,
            "heldout": json_records(self.table),
            "differences": json_records(self.differences),
            "subgroups": json_records(self.subgroups),
            "components": json_records(self.components),
            "in_sample": [
                {
                    "specification": spec,
                    "estimator": kind,
                    "nobs": int(result.nobs),
                    "rsquared": to_jsonable(result.rsquared),
                    "params": {str(k): to_jsonable(v) for k, v in result.params.items()},
                    "std_errors": {str(k): to_jsonable(v) for k, v in result.std_errors.items()},
                }
                for (spec, kind), result in self.fits.items()
            ],
        }


def wage_study(
    train: CareerPanel,
    test: CareerPanel,
    wages: pd.DataFrame,
    representations: Mapping[str, pd.DataFrame],
    *,
    n_components: int = 10,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: int | None = 0,
) -> WageStudy:
    """Do career representations improve the Mincer equation's predictions of held-out persons' log wages?

    The Mincer equation (:func:`wage_design`) and, for every named
    representation, the Mincer equation plus its principal components
    (:class:`RepresentationPCA` fitted on the training rows) are estimated on
    ``train`` by pooled OLS and random effects and predict the log wages of
    ``test``'s persons.

    Parameters
    ----------
    train, test : CareerPanel
        Estimation and held-out persons (disjoint, e.g. from
        :meth:`~laborseq.panel.CareerPanel.split_persons`).
    wages : pandas.DataFrame
        ``ln_wage``, ``experience`` and ``schooling`` per ``(person_id, year)``
        (:func:`laborseq.datasets.load_wages`).
    representations : mapping of str to pandas.DataFrame
        Display name to a representation table covering every person-year of
        ``train`` and ``test``, from a model fitted on ``train`` only (so that
        held-out persons never shaped it). The first one also enters the
        in-sample fits.
    n_components : int
        Principal components kept at most per representation (fewer when it
        has fewer columns or linearly dependent ones).
    n_boot : int
        Person-bootstrap draws; every score, difference and subgroup uses the
        same draws, so differences are paired.
    level : float
        Coverage of the percentile intervals.
    rng : int or None
        Seed of the bootstrap draws.

    Returns
    -------
    WageStudy

    Raises
    ------
    ValueError
        When ``representations`` is empty, or a representation lacks (or has
        missing values in) some of the panels' person-years; the message names
        the representation, the count and examples.

    Notes
    -----
    The Mincer rows do not depend on the representations passed: the same
    fits, and bootstrap draws that depend only on the held-out persons,
    ``n_boot`` and ``rng``. Components that are linear combinations of the
    Mincer regressors and earlier components on the training rows are left
    out of the regressions (``components["n_collinear"]``). The fixed-effects
    fits drop regressors the person effects absorb (the constant, schooling)
    without a warning.
    """
    _check_representations(representations, train, test)
    first = next(iter(representations))
    specs: dict[str, pd.DataFrame | None] = {MINCER: None}
    pcas = {}
    for name, table in representations.items():
        pcas[name] = RepresentationPCA(min(n_components, table.shape[1])).fit(table.loc[train.person_year_index()])
        specs[specification_name(name)] = pcas[name].transform(table)
    in_sample = (MINCER, specification_name(first))
    fitted = {
        spec: _fit_specification(train, test, wages, components, KINDS if spec in in_sample else HELDOUT_KINDS)
        for spec, components in specs.items()
    }
    fits = {(spec, kind): result for spec in in_sample for kind, result in fitted[spec].fits.items()}
    predictions = {(spec, kind): pred for spec, fit in fitted.items() for kind, pred in fit.predictions.items()}
    # every specification keeps the same rows (the representations have no missing values)
    y_train, y_test = fitted[MINCER].y_train, fitted[MINCER].y_test
    persons = pd.factorize(y_test.index.get_level_values(PERSON))[0]
    groups = change_subgroups(test).reindex(y_test.index).to_numpy()
    subsets = {_ALL: np.ones(len(y_test), dtype=bool), **{g: groups == g for g in SUBGROUPS}}
    metrics = _heldout_metrics(y_test.to_numpy(), predictions, persons, subsets, n_boot, np.random.default_rng(rng))
    return WageStudy(
        table=_heldout_table(metrics, list(specs), level),
        differences=_difference_table(metrics, list(representations), level),
        subgroups=_subgroup_table(metrics, list(representations), subsets, persons, level),
        components=pd.DataFrame(
            {
                "n_columns": {name: table.shape[1] for name, table in representations.items()},
                "n_components": {name: len(pca.explained_variance_ratio_) for name, pca in pcas.items()},
                "explained_variance": {name: float(pca.explained_variance_ratio_.sum()) for name, pca in pcas.items()},
                "n_collinear": {name: fitted[specification_name(name)].n_collinear for name in representations},
            }
        ).rename_axis("representation"),
        fits=fits,
        n_train_persons=int(y_train.index.get_level_values(PERSON).nunique()),
        n_train_person_years=len(y_train),
        n_test_persons=int(persons.max()) + 1,
        n_test_person_years=len(y_test),
        n_boot=n_boot,
        level=level,
        seed=rng,
    )


def _check_representations(representations: Mapping[str, pd.DataFrame], *panels: CareerPanel) -> None:
    """Raise when no representation is given, or one lacks or leaves undefined some of the panels' person-years."""
    if not representations:
        raise ValueError("representations is empty: pass at least one, e.g. {'CAREER': model.representations(panel)}")
    needed = panels[0].person_year_index().append([p.person_year_index() for p in panels[1:]])
    for name, table in representations.items():
        missing = needed.difference(table.index)
        if len(missing):
            raise ValueError(
                f"representation {name!r} lacks {len(missing)} of the train and test person-years, "
                f"e.g. {list(missing[:3])}"
            )
        undefined = needed[table.loc[needed].isna().any(axis=1).to_numpy()]
        if len(undefined):
            raise ValueError(
                f"representation {name!r} has missing values in {len(undefined)} of the train and test "
                f"person-years, e.g. {list(undefined[:3])}"
            )


def _fit_absorbing_quietly(y: pd.Series, x: pd.DataFrame, kind: str) -> Any:
    """:func:`fit_wage_model` without linearmodels' warning that person effects absorb time-invariant regressors."""
    from linearmodels.panel.utility import AbsorbingEffectWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AbsorbingEffectWarning)
        return fit_wage_model(y, x, kind)


@dataclass(frozen=True)
class _Specification:
    """One specification's fits on the training persons and its predictions of the held-out persons."""

    fits: dict[str, Any]
    predictions: dict[str, np.ndarray]
    y_train: pd.Series
    y_test: pd.Series
    n_collinear: int


def _fit_specification(
    train: CareerPanel,
    test: CareerPanel,
    wages: pd.DataFrame,
    components: pd.DataFrame | None,
    kinds: tuple[str, ...],
) -> _Specification:
    """Estimate the Mincer equation (with ``components``) on ``train`` by each of ``kinds`` and predict ``test``.

    Components that are linear combinations of the Mincer regressors and earlier components on the training
    rows are left out (counted in ``n_collinear``): they cannot change the fit, and linearmodels refuses a
    rank-deficient design. In a balanced panel, for instance, the previous-occupation dummies sum to one
    except in the first year, which the year dummies already identify.
    """
    y_train, x_train = wage_design(train, wages, components)
    x_train = x_train.loc[:, _independent_columns(x_train)]
    y_test, x_test = wage_design(test, wages, components)
    x_test = x_test.reindex(columns=x_train.columns, fill_value=0.0)  # a dummy absent from the test rows is zero
    fits = {kind: _fit_absorbing_quietly(y_train, x_train, kind) for kind in kinds}
    predictions = {
        kind: x_test.to_numpy() @ fits[kind].params.reindex(x_test.columns).to_numpy() for kind in HELDOUT_KINDS
    }
    n_collinear = 0 if components is None else components.shape[1] - int(x_train.columns.isin(components.columns).sum())
    return _Specification(fits, predictions, y_train, y_test, n_collinear)


def _independent_columns(x: pd.DataFrame) -> list[str]:
    """The columns of ``x`` that are not linear combinations of the columns before them.

    Column ``j``'s distance from the span of the earlier columns is ``|R[j, j]|`` of the QR decomposition; a
    column is dependent when that distance is below :data:`_COLLINEAR_TOL` times its norm.
    """
    values = x.to_numpy(dtype=float)
    r = np.linalg.qr(values, mode="r")
    independent = np.abs(np.diag(r)) > _COLLINEAR_TOL * np.linalg.norm(values, axis=0)
    return list(x.columns[independent])


@dataclass(frozen=True)
class _Score:
    """RMSE and R-squared on a subset of held-out person-years, with their bootstrap draws."""

    rmse: float
    r2: float
    rmse_draws: np.ndarray
    r2_draws: np.ndarray


def _heldout_metrics(
    y: np.ndarray,
    predictions: Mapping[tuple[str, str], np.ndarray],
    persons: np.ndarray,
    subsets: Mapping[str, np.ndarray],
    n_boot: int,
    gen: np.random.Generator,
) -> dict[tuple[str, str, str], _Score]:
    """Scores of every prediction on every subset, keyed by ``(subset, specification, estimator)``.

    Mean squared errors, the mean and the mean square of ``y`` are ratios of
    per-person totals, so one call of :func:`~laborseq.evaluation.bootstrap.bootstrap_ratios`
    gives every score on the same person draws.
    """
    keys = list(predictions)
    numerators, denominators = [], []
    for mask in subsets.values():
        inside = mask.astype(float)
        numerators += [inside * y, inside * y**2] + [inside * (y - predictions[key]) ** 2 for key in keys]
        denominators += [inside] * (2 + len(keys))
    n_persons = int(persons.max()) + 1

    def per_person(columns: list[np.ndarray]) -> np.ndarray:
        return np.column_stack([np.bincount(persons, weights=c, minlength=n_persons) for c in columns])

    num, den = per_person(numerators), per_person(denominators)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = num.sum(axis=0) / den.sum(axis=0)
    draws = bootstrap_ratios(num, den, n_boot, gen)
    out = {}
    width = 2 + len(keys)
    for s, subset in enumerate(subsets):
        mean, mean_sq = s * width, s * width + 1
        for j, (spec, kind) in enumerate(keys):
            mse = s * width + 2 + j
            with np.errstate(invalid="ignore", divide="ignore"):
                r2 = 1 - point[mse] / (point[mean_sq] - point[mean] ** 2)
                r2_draws = 1 - draws[:, mse] / (draws[:, mean_sq] - draws[:, mean] ** 2)
            out[subset, spec, kind] = _Score(float(np.sqrt(point[mse])), float(r2), np.sqrt(draws[:, mse]), r2_draws)
    return out


def _paired(with_: np.ndarray, without: np.ndarray, point: float, level: float, name: str) -> dict[str, float]:
    """A paired difference and its percentile interval as ``{name, name_low, name_high}``."""
    low, high = percentile_interval(with_ - without, level)
    return {name: point, f"{name}_low": low, f"{name}_high": high}


def _heldout_table(metrics: Mapping[tuple[str, str, str], _Score], specs: list[str], level: float) -> pd.DataFrame:
    """RMSE and R-squared with intervals per ``(specification, estimator)`` on every held-out person-year."""
    rows = []
    for spec in specs:
        for kind in HELDOUT_KINDS:
            score = metrics[_ALL, spec, kind]
            rmse_low, rmse_high = percentile_interval(score.rmse_draws, level)
            r2_low, r2_high = percentile_interval(score.r2_draws, level)
            rows.append(
                {
                    "specification": spec,
                    "estimator": kind,
                    "rmse": score.rmse,
                    "rmse_low": rmse_low,
                    "rmse_high": rmse_high,
                    "r2": score.r2,
                    "r2_low": r2_low,
                    "r2_high": r2_high,
                }
            )
    return pd.DataFrame(rows).set_index(["specification", "estimator"])


def _difference_table(metrics: Mapping[tuple[str, str, str], _Score], names: list[str], level: float) -> pd.DataFrame:
    """With minus without a representation, per ``(representation, estimator)``, with paired intervals."""
    rows = []
    for name in names:
        for kind in HELDOUT_KINDS:
            with_, without = metrics[_ALL, specification_name(name), kind], metrics[_ALL, MINCER, kind]
            rows.append(
                {
                    "representation": name,
                    "estimator": kind,
                    **_paired(with_.rmse_draws, without.rmse_draws, with_.rmse - without.rmse, level, "rmse_diff"),
                    **_paired(with_.r2_draws, without.r2_draws, with_.r2 - without.r2, level, "r2_diff"),
                }
            )
    return pd.DataFrame(rows).set_index(["representation", "estimator"])


def _subgroup_table(
    metrics: Mapping[tuple[str, str, str], _Score],
    names: list[str],
    subsets: Mapping[str, np.ndarray],
    persons: np.ndarray,
    level: float,
) -> pd.DataFrame:
    """Pooled OLS RMSE with and without each representation per subgroup, paired differences and MSE shares."""
    rows = []
    for name in names:
        for group in SUBGROUPS:
            mask = subsets[group]
            with_, without = metrics[group, specification_name(name), "pooled"], metrics[group, MINCER, "pooled"]
            share = float(mask.mean())
            rows.append(
                {
                    "representation": name,
                    "subgroup": group,
                    "n_person_years": int(mask.sum()),
                    "n_persons": len(np.unique(persons[mask])),
                    "share": share,
                    "rmse_without": without.rmse,
                    "rmse_with": with_.rmse,
                    **_paired(with_.rmse_draws, without.rmse_draws, with_.rmse - without.rmse, level, "rmse_diff"),
                    "mse_contribution": share * (with_.rmse**2 - without.rmse**2) if mask.any() else 0.0,
                }
            )
    return pd.DataFrame(rows).set_index(["representation", "subgroup"])
