"""Wage regressions: linearmodels estimates against statsmodels, PCA against an eigendecomposition, a known DGP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import make_panel

from laborseq.models import Markov
from laborseq.wages import RepresentationPCA, fit_wage_model, heldout_wage_scores, wage_design


@pytest.fixture(scope="module")
def panel():
    return make_panel(n_persons=600, seed=11)


def _wages(panel, career_effect: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Log wages from a Mincer equation plus a premium for having been in state "22" just before."""
    gen = np.random.default_rng(seed)
    data = panel.data
    experience = data.groupby("person_id").cumcount().to_numpy() + gen.uniform(0, 3, len(data))
    schooling = np.where(data["education"].to_numpy() == "bachelors", 16.0, 12.0)
    previous = panel.lagged_states(1)
    premium = career_effect * (previous == panel.states.index("22"))
    ln_wage = 1.0 + 0.08 * experience - 0.002 * experience**2 + 0.07 * schooling + premium
    ln_wage = ln_wage + gen.normal(0, 0.3, len(data))
    index = pd.MultiIndex.from_arrays([data["person_id"].to_numpy(), data["year"].to_numpy()])
    return pd.DataFrame({"ln_wage": ln_wage, "experience": experience, "schooling": schooling}, index=index)


def test_design_has_the_mincer_terms_and_dummies(panel):
    y, x = wage_design(panel, _wages(panel))
    assert list(x.columns[:4]) == ["const", "experience", "experience_sq", "schooling"]
    assert {c for c in x.columns if c.startswith("occ=")} == {f"occ={s}" for s in panel.states[1:]}
    assert len(y) == len(x) == len(panel)
    np.testing.assert_allclose(x["experience_sq"], x["experience"] ** 2)


def test_missing_wages_are_a_clear_error(panel):
    wages = _wages(panel).iloc[5:]
    with pytest.raises(ValueError, match="wages lack 5"):
        wage_design(panel, wages)


def test_pooled_ols_equals_statsmodels(panel):
    y, x = wage_design(panel, _wages(panel))
    ours = fit_wage_model(y, x, "pooled")
    reference = sm.OLS(y.to_numpy(), x.to_numpy()).fit()
    np.testing.assert_allclose(ours.params.to_numpy(), reference.params, rtol=1e-8)
    assert ours.params["experience"] == pytest.approx(0.08, abs=0.02)
    with pytest.warns(Warning, match="absorbed"):
        fixed = fit_wage_model(y, x, "fixed")
    assert "schooling" not in fixed.params  # time-invariant: absorbed by the person effects
    random = fit_wage_model(y, x, "random")
    assert random.params["schooling"] == pytest.approx(0.07, abs=0.02)
    with pytest.raises(ValueError, match="kind"):
        fit_wage_model(y, x, "between")


def test_pca_matches_an_eigendecomposition():
    gen = np.random.default_rng(0)
    x = pd.DataFrame(gen.normal(size=(300, 6)) @ gen.normal(size=(6, 6)))
    pca = RepresentationPCA(3).fit(x)
    centred = x.to_numpy() - x.to_numpy().mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigenvalues)[::-1][:3]
    np.testing.assert_allclose(np.abs(pca.components_), np.abs(eigenvectors[:, order].T), atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio_, eigenvalues[order] / eigenvalues.sum())
    np.testing.assert_allclose(pca.transform(x).mean(axis=0), 0, atol=1e-10)
    with pytest.raises(ValueError, match="n_components"):
        RepresentationPCA(7).fit(x)


def test_representations_help_when_the_career_drives_wages(panel):
    train, test = panel.split_persons((0.7, 0.3), rng=0)
    wages = _wages(panel, career_effect=0.6)
    reps = Markov().fit(train).representations(panel)
    scores = heldout_wage_scores(train, test, wages, reps, n_components=10, n_boot=300)
    for kind in ("pooled", "random"):
        _, high = scores.differences.loc[kind, "rmse_diff_ci"]
        assert high < 0, scores.differences
        assert scores.differences.loc[kind, "r2_diff"] > 0.02
    # the RMSE is the plain held-out RMSE of the pooled OLS predictions
    y_train, x_train = wage_design(train, wages)
    y_test, x_test = wage_design(test, wages)
    params = sm.OLS(y_train.to_numpy(), x_train.to_numpy()).fit().params
    pred = x_test.reindex(columns=x_train.columns, fill_value=0.0).to_numpy() @ params
    rmse = np.sqrt(np.mean((y_test.to_numpy() - pred) ** 2))
    assert scores.table.loc[("Mincer", "pooled"), "rmse"] == pytest.approx(rmse, rel=1e-8)


def test_representations_do_not_help_when_wages_ignore_the_career(panel):
    train, test = panel.split_persons((0.7, 0.3), rng=0)
    wages = _wages(panel, career_effect=0.0)
    reps = Markov().fit(train).representations(panel)
    scores = heldout_wage_scores(train, test, wages, reps, n_components=10, n_boot=300)
    low, high = scores.differences.loc["pooled", "rmse_diff_ci"]
    assert low < 0.005 and high > -0.005
