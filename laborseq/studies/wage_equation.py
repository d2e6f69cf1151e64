"""The Mincer wage equation: its design, its linearmodels fits and career-representation components.

The econometric wage model is a Mincer equation on a person-year panel: log
wage on experience, experience squared, years of schooling, calendar-year
effects and dummies of the current occupation. :func:`wage_design` builds it,
optionally with career representations (:mod:`laborseq.studies.representations`)
reduced to a few
principal components (:class:`RepresentationPCA`, fitted on the training
persons only). :func:`fit_wage_model` estimates it with linearmodels as pooled
OLS, random effects or fixed effects (entity effects), with standard errors
clustered by person; :func:`fit_specification` estimates one specification on
training persons and predicts held-out ones, for
:func:`laborseq.studies.wages.wage_study`.

Held-out persons have no estimated fixed effect, so out-of-sample predictions use
pooled OLS and random effects (:data:`HELDOUT_KINDS`; the prediction of random
effects for a new person is the fixed part, the random effect having mean zero);
fixed effects are for in-sample estimates of the slopes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from linearmodels.panel import PanelOLS, PooledOLS, RandomEffects
from linearmodels.panel.utility import AbsorbingEffectWarning

from laborseq.panel import YEAR, CareerPanel

__all__ = [
    "HELDOUT_KINDS",
    "KINDS",
    "RepresentationPCA",
    "SpecificationFit",
    "fit_specification",
    "fit_wage_model",
    "fit_wage_model_quietly",
    "independent_columns",
    "wage_design",
]

KINDS = ("pooled", "random", "fixed")
"""Panel estimators: pooled OLS, random effects, fixed (entity) effects."""

HELDOUT_KINDS = ("pooled", "random")
"""Estimators that predict held-out persons (a new person has no estimated fixed effect)."""

COLLINEAR_TOL = 1e-7
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
    if kind == "pooled":
        model = PooledOLS(y, x)
    elif kind == "random":
        model = RandomEffects(y, x)
    elif kind == "fixed":
        model = PanelOLS(y, x, entity_effects=True, drop_absorbed=True)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return model.fit(cov_type="clustered", cluster_entity=True)


def fit_wage_model_quietly(y: pd.Series, x: pd.DataFrame, kind: str) -> Any:
    """:func:`fit_wage_model` without linearmodels' warning that person effects absorb time-invariant regressors.

    Parameters
    ----------
    y, x : pandas.Series, pandas.DataFrame
        From :func:`wage_design`.
    kind : {"pooled", "random", "fixed"}
        The estimator (see :func:`fit_wage_model`).

    Returns
    -------
    linearmodels results
        As :func:`fit_wage_model` returns them.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AbsorbingEffectWarning)
        return fit_wage_model(y, x, kind)


@dataclass(frozen=True)
class SpecificationFit:
    """One specification's fits on the training persons and its predictions of the held-out persons.

    Attributes
    ----------
    fits : dict of str to linearmodels results
        The fit of each estimator, by kind.
    predictions : dict of str to numpy.ndarray
        Predicted log wages of the held-out person-years, for each of :data:`HELDOUT_KINDS`.
    y_train, y_test : pandas.Series
        Log wages of the estimation and held-out person-years with a wage and every regressor.
    n_collinear : int
        Components left out as linear combinations of the earlier regressors.
    """

    fits: dict[str, Any]
    predictions: dict[str, np.ndarray]
    y_train: pd.Series
    y_test: pd.Series
    n_collinear: int


def fit_specification(
    train: CareerPanel,
    test: CareerPanel,
    wages: pd.DataFrame,
    components: pd.DataFrame | None,
    kinds: tuple[str, ...],
) -> SpecificationFit:
    """Estimate the Mincer equation (with ``components``) on ``train`` by each of ``kinds`` and predict ``test``.

    Components that are linear combinations of the Mincer regressors and earlier components on the training
    rows are left out (counted in ``n_collinear``): they cannot change the fit, and linearmodels refuses a
    rank-deficient design. In a balanced panel, for instance, the previous-occupation dummies sum to one
    except in the first year, which the year dummies already identify.

    Parameters
    ----------
    train, test : CareerPanel
        Estimation and held-out persons.
    wages : pandas.DataFrame
        ``ln_wage``, ``experience`` and ``schooling`` per ``(person_id, year)``.
    components : pandas.DataFrame, optional
        Representation components per ``(person, year)`` (``None``: the Mincer equation alone).
    kinds : tuple of str
        Estimators to fit (:data:`KINDS`); the predictions are those of :data:`HELDOUT_KINDS`.

    Returns
    -------
    SpecificationFit
    """
    y_train, x_train = wage_design(train, wages, components)
    x_train = x_train.loc[:, independent_columns(x_train)]
    y_test, x_test = wage_design(test, wages, components)
    x_test = x_test.reindex(columns=x_train.columns, fill_value=0.0)  # a dummy absent from the test rows is zero
    fits = {kind: fit_wage_model_quietly(y_train, x_train, kind) for kind in kinds}
    predictions = {
        kind: x_test.to_numpy() @ fits[kind].params.reindex(x_test.columns).to_numpy() for kind in HELDOUT_KINDS
    }
    n_collinear = 0 if components is None else components.shape[1] - int(x_train.columns.isin(components.columns).sum())
    return SpecificationFit(fits, predictions, y_train, y_test, n_collinear)


def independent_columns(x: pd.DataFrame) -> list[str]:
    """The columns of ``x`` that are not linear combinations of the columns before them.

    Column ``j``'s distance from the span of the earlier columns is ``|R[j, j]|`` of the QR decomposition; a
    column is dependent when that distance is below :data:`COLLINEAR_TOL` times its norm.

    Parameters
    ----------
    x : pandas.DataFrame
        Regressors, in order.

    Returns
    -------
    list of str
        Names of the independent columns, in order.
    """
    values = x.to_numpy(dtype=float)
    r = np.linalg.qr(values, mode="r")
    independent = np.abs(np.diag(r)) > COLLINEAR_TOL * np.linalg.norm(values, axis=0)
    return list(x.columns[independent])
