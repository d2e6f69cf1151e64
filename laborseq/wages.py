"""Wage regressions with and without career representations (linearmodels panel models).

The econometric wage model is a Mincer equation on a person-year panel: log
wage on experience, experience squared, years of schooling, calendar-year
effects and occupation dummies. :func:`wage_design` builds it, optionally with
career representations (:meth:`laborseq.models.base.SequenceModel.representations`)
reduced to a few principal components (:class:`RepresentationPCA`, fitted on
the training persons only). :func:`fit_wage_model` estimates it with
linearmodels as pooled OLS, random effects or fixed effects (entity effects),
with standard errors clustered by person. :func:`heldout_wage_scores` compares
specifications on held-out persons: RMSE and R-squared with person-bootstrap
intervals and paired differences.

Held-out persons have no estimated fixed effect, so out-of-sample scores use
pooled OLS and random effects (whose prediction for a new person is the
fixed part, the random effect having mean zero); fixed effects are for
in-sample estimates of the slopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from laborseq.bootstrap import percentile_interval
from laborseq.panel import PERSON, YEAR, CareerPanel

__all__ = ["KINDS", "RepresentationPCA", "WageScores", "fit_wage_model", "heldout_wage_scores", "wage_design"]

KINDS = ("pooled", "random", "fixed")
"""Panel estimators: pooled OLS, random effects, fixed (entity) effects."""


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


@dataclass(frozen=True)
class WageScores:
    """Held-out wage prediction: one row per ``(specification, estimator)``, and the paired differences.

    Attributes
    ----------
    table : pandas.DataFrame
        ``rmse``, ``rmse_low``, ``rmse_high``, ``r2``, ``r2_low``, ``r2_high``, ``n_person_years``.
    differences : pandas.DataFrame
        With career representations minus without, per estimator, with intervals.
    explained_variance : float
        Share of the representations' variance the kept components explain.
    """

    table: pd.DataFrame
    differences: pd.DataFrame
    explained_variance: float


def heldout_wage_scores(
    train: CareerPanel,
    test: CareerPanel,
    wages: pd.DataFrame,
    representations: pd.DataFrame,
    *,
    n_components: int = 10,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: int | None = 0,
) -> WageScores:
    """Out-of-sample RMSE and R-squared of the Mincer equation with and without career representations.

    Both specifications are estimated on ``train`` (pooled OLS and random
    effects) and predict the log wages of ``test``'s persons. The components
    are fitted on the training rows of ``representations`` (which must come
    from a model fitted on ``train`` only, so that test persons never shaped
    them). Intervals resample test persons; differences are paired.
    """
    pca = RepresentationPCA(n_components).fit(representations.loc[train.person_year_index()])
    components = pca.transform(representations)
    gen = np.random.default_rng(rng)
    rows, predictions, observed = [], {}, None
    for spec, comps in (("Mincer", None), ("Mincer + career", components)):
        y_train, x_train = wage_design(train, wages, comps)
        y_test, x_test = wage_design(test, wages, comps)
        x_test = x_test.reindex(columns=x_train.columns, fill_value=0.0)
        for kind in ("pooled", "random"):
            result = fit_wage_model(y_train, x_train, kind)
            predictions[spec, kind] = x_test.to_numpy() @ result.params.reindex(x_test.columns).to_numpy()
        observed = y_test
    persons = pd.factorize(observed.index.get_level_values(PERSON))[0]
    y = observed.to_numpy()
    draws = gen.multinomial(persons.max() + 1, np.full(persons.max() + 1, 1 / (persons.max() + 1)), size=n_boot)
    weights = draws[:, persons].astype(float)  # (n_boot, rows): each row weighted by its person's draw count

    def metrics(pred: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        sq = (y - pred) ** 2
        rmse = float(np.sqrt(sq.mean()))
        r2 = float(1 - sq.sum() / ((y - y.mean()) ** 2).sum())
        total = weights.sum(axis=1)
        boot_mean = (weights @ y) / total
        boot_rmse = np.sqrt((weights @ sq) / total)
        boot_r2 = 1 - (weights @ sq) / (weights @ y**2 - total * boot_mean**2)
        return rmse, r2, boot_rmse, boot_r2

    computed = {key: metrics(pred) for key, pred in predictions.items()}
    for (spec, kind), (rmse, r2, boot_rmse, boot_r2) in computed.items():
        rmse_ci, r2_ci = percentile_interval(boot_rmse, level), percentile_interval(boot_r2, level)
        rows.append(
            {
                "specification": spec,
                "estimator": kind,
                "rmse": rmse,
                "rmse_low": rmse_ci[0],
                "rmse_high": rmse_ci[1],
                "r2": r2,
                "r2_low": r2_ci[0],
                "r2_high": r2_ci[1],
                "n_person_years": len(y),
            }
        )
    diffs = []
    for kind in ("pooled", "random"):
        with_career, without = computed["Mincer + career", kind], computed["Mincer", kind]
        diffs.append(
            {
                "estimator": kind,
                "rmse_diff": with_career[0] - without[0],
                "rmse_diff_ci": percentile_interval(with_career[2] - without[2], level),
                "r2_diff": with_career[1] - without[1],
                "r2_diff_ci": percentile_interval(with_career[3] - without[3], level),
            }
        )
    return WageScores(
        pd.DataFrame(rows).set_index(["specification", "estimator"]),
        pd.DataFrame(diffs).set_index("estimator"),
        float(pca.explained_variance_ratio_.sum()),
    )
