"""Do career representations improve wage equations? The held-out wage study (linearmodels panel models).

:func:`wage_study` compares the Mincer equation
(:func:`~laborseq.studies.wage_equation.wage_design`, estimated by
:func:`~laborseq.studies.wage_equation.fit_wage_model`) with and without the
principal components of each of several career representations
(:class:`~laborseq.studies.wage_equation.RepresentationPCA`) on held-out persons:
RMSE and R-squared with person-bootstrap intervals and paired differences. It
breaks the differences down by whether a held-out person-year is the person's
first observation, repeats the previous occupation or changes it
(:func:`change_subgroups`), and keeps the in-sample linearmodels fits for
:func:`linearmodels.panel.compare`. Held-out scores use pooled OLS and random
effects (:data:`~laborseq.studies.wage_equation.HELDOUT_KINDS`): a new person has
no estimated fixed effect.

Because the Mincer design already holds the current occupation, a
representation can only add what the history says beyond the current job.
For a person who stays in the occupation of the previous observation, the
previous occupation is the current one and only the longer history can tell
more; the subgroup breakdown (first observed year, stayers, changers) shows
where the differences come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from linearmodels.panel import compare as compare_panel_fits

from laborseq._util.json import json_records, to_jsonable
from laborseq._util.random import check_random_state, seed_record
from laborseq.evaluation.bootstrap import bootstrap_ratios, percentile_interval
from laborseq.panel import PERSON, CareerPanel
from laborseq.studies.wage_equation import HELDOUT_KINDS, KINDS, RepresentationPCA, fit_specification
from laborseq.studies.wage_tables import WageTable, wage_latex

__all__ = [
    "CHANGED",
    "FIRST_YEAR",
    "MINCER",
    "STAYED",
    "SUBGROUPS",
    "WageStudy",
    "change_subgroups",
    "specification_name",
    "wage_study",
]

MINCER = "Mincer"
"""The specification without career representations."""

FIRST_YEAR = "first observed year"
STAYED = "same occupation as previous observation"
CHANGED = "changed occupation"
SUBGROUPS = (FIRST_YEAR, STAYED, CHANGED)
"""Subgroups of person-years by their occupation relative to the previous observation (:func:`change_subgroups`)."""

_ALL = "all"
"""Subset key of every held-out person-year."""


def specification_name(representation: str) -> str:
    """Name of the Mincer specification with a representation's components (``"Mincer + <name>"``)."""
    return f"{MINCER} + {representation}"


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
    seed: int | str | None

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
        short = {"pooled": "pooled", "random": "RE", "fixed": "FE"}
        labelled = {short[kind] + ("" if spec == MINCER else "+"): result for (spec, kind), result in self.fits.items()}
        return str(compare_panel_fits(labelled, precision="std_errors", stars=True).summary)

    def fit_summaries(self) -> dict[tuple[str, str], str]:
        """linearmodels' full ``summary`` of every in-sample fit as text, keyed by ``(specification, estimator)``."""
        return {key: str(result.summary) for key, result in self.fits.items()}

    def to_latex(self, table: WageTable = "heldout", *, label: str | None = None) -> str:
        """One of the study's tables as a LaTeX float (:func:`~laborseq.studies.wage_tables.wage_latex`).

        Parameters
        ----------
        table : {"heldout", "differences", "subgroups"}
            Which table.
        label : str, optional
            The table's ``\\label``.

        Returns
        -------
        str
            A ``table`` float (``booktabs``).
        """
        return wage_latex(self, table, label=label)

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

    The Mincer equation (:func:`~laborseq.studies.wage_equation.wage_design`) and, for every named
    representation, the Mincer equation plus its principal components
    (:class:`~laborseq.studies.wage_equation.RepresentationPCA` fitted on the training rows) are estimated on
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
        spec: fit_specification(train, test, wages, components, KINDS if spec in in_sample else HELDOUT_KINDS)
        for spec, components in specs.items()
    }
    fits = {(spec, kind): result for spec in in_sample for kind, result in fitted[spec].fits.items()}
    predictions = {(spec, kind): pred for spec, fit in fitted.items() for kind, pred in fit.predictions.items()}
    # every specification keeps the same rows (the representations have no missing values)
    y_train, y_test = fitted[MINCER].y_train, fitted[MINCER].y_test
    persons = pd.factorize(y_test.index.get_level_values(PERSON))[0]
    groups = change_subgroups(test).reindex(y_test.index).to_numpy()
    subsets = {_ALL: np.ones(len(y_test), dtype=bool), **{g: groups == g for g in SUBGROUPS}}
    metrics = _heldout_metrics(y_test.to_numpy(), predictions, persons, subsets, n_boot, check_random_state(rng))
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
        seed=seed_record(rng),
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
