"""MNLogit results: standard errors against statsmodels, fit statistics, summaries, tidy, compare, bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_panel
from statsmodels.discrete.discrete_model import MNLogit as SMMNLogit

from laborseq import CareerPanel
from laborseq.datasets import load_wage_panel
from laborseq.models import MNLogit, load_model
from laborseq.models import inference as inference_module
from laborseq.models.comparison import compare_results
from laborseq.models.covariance import CovarianceUnavailableError, penalty_diagonal, score_and_hessian
from laborseq.models.first_year_logit import split_targets
from laborseq.models.results import MNLogitResults

FEATURES = ("years_in_state", "years_observed", "static")
SM_COV = {"nonrobust": "nonrobust", "robust": "HC0", "cluster": "cluster"}
TIDY_COLUMNS = ["outcome", "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def wage_train() -> CareerPanel:
    return load_wage_panel().split_persons((0.7, 0.1, 0.2), rng=0)[0]


@pytest.fixture(scope="module")
def fitted(wage_train) -> dict[str, MNLogit]:
    return {
        "statsmodels": MNLogit(features=FEATURES, engine="statsmodels").fit(wage_train),
        "torch": MNLogit(features=FEATURES, engine="torch").fit(wage_train),
    }


@pytest.fixture(scope="module")
def default_results(wage_train, fitted) -> dict[str, MNLogitResults]:
    """Each model's results on its training panel with the default (person-clustered) covariance."""
    return {engine: model.results(wage_train) for engine, model in fitted.items()}


@pytest.fixture(scope="module")
def design(wage_train, fitted) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    model = fitted["statsmodels"]
    _, trans = split_targets(wage_train)
    x = model.encoder_.transform(wage_train, trans).design_matrix()
    y = np.searchsorted(model.outcomes_, wage_train.state_index()[trans])
    persons = pd.factorize(wage_train.data["person_id"].to_numpy()[trans])[0]
    return x, y, persons


def _statsmodels_fit(design, params: np.ndarray | None, cov_type: str):
    """statsmodels' own MNLogit covariance, at its MLE (params None) or evaluated at ``params``."""
    x, y, persons = design
    kwargs = {"cov_type": SM_COV[cov_type]}
    if cov_type == "cluster":
        kwargs["cov_kwds"] = {"groups": persons}
    if params is not None:  # no Newton step: statsmodels' covariance at the given parameters
        kwargs.update(start_params=params.ravel(order="F"), maxiter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SMMNLogit(y, x).fit(method="newton", disp=False, **kwargs)


@pytest.mark.parametrize("engine", ["statsmodels", "torch"])
@pytest.mark.parametrize("cov_type", ["nonrobust", "robust", "cluster"])
def test_standard_errors_equal_statsmodels(fitted, design, wage_train, engine, cov_type):
    model = fitted[engine]
    res = model.results(wage_train, cov_type=cov_type)
    params = model.model_.flat_parameters()
    reference = _statsmodels_fit(design, None if engine == "statsmodels" else params, cov_type)
    np.testing.assert_allclose(res.params.to_numpy(), np.asarray(reference.params), rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.asarray(reference.bse), rtol=1e-6)
    np.testing.assert_allclose(res.cov.to_numpy(), np.asarray(reference.cov_params()), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(res.pvalues.to_numpy(), np.asarray(reference.pvalues), rtol=1e-5, atol=1e-12)
    ci = res.conf_int()
    sm_ci = np.asarray(reference.conf_int()).reshape(-1, 2)  # outcome by outcome, as ours
    np.testing.assert_allclose(ci.to_numpy(), sm_ci, rtol=1e-6, atol=1e-9)


def test_engines_give_the_same_inference(default_results):
    sm, th = default_results["statsmodels"], default_results["torch"]
    assert sm.cov_type == th.cov_type == "cluster"
    np.testing.assert_allclose(th.std_errors.to_numpy(), sm.std_errors.to_numpy(), rtol=1e-3)
    assert th.loglik == pytest.approx(sm.loglik, rel=1e-8)


def test_fit_statistics_equal_statsmodels(fitted, default_results, design, wage_train):
    res = default_results["statsmodels"]
    reference = _statsmodels_fit(design, None, "nonrobust")
    assert res.loglik == pytest.approx(reference.llf, rel=1e-10)
    assert res.loglik_null == pytest.approx(reference.llnull, rel=1e-8)
    assert res.pseudo_rsquared == pytest.approx(reference.prsquared, rel=1e-8)
    _, y, persons = design
    assert res.nobs == len(y) == fitted["statsmodels"].n_transitions_
    assert res.n_persons == len(np.unique(persons))
    assert res.n_states == len(wage_train.states) and res.n_outcomes == 9
    assert res.perplexity == pytest.approx(np.exp(-reference.llf / len(y)), rel=1e-10)
    assert res.n_params == res.params.size == 7 * 8
    assert res.engine == "statsmodels" and res.alpha == 0.0 and res.config["params"]["features"] == FEATURES


def test_params_are_labelled(default_results, wage_train):
    res = default_results["statsmodels"]
    params = res.params
    assert list(params.columns) == list(wage_train.states[1:])  # base outcome "1" normalised to zero
    assert res.base_outcome == wage_train.states[0]
    assert params.index[0] == "const" and "years_in_state" in params.index
    assert res.outcome_titles["2"] == wage_train.scheme.title("2")
    assert res.cov.index.names == ["outcome", "term"]
    assert res.zstats.equals(res.tstats)
    # labelled copies: results cannot be changed through what they return
    params.iloc[0, 0] = 99.0
    assert res.params.iloc[0, 0] != 99.0


def test_fitted_model_keeps_no_data_and_forgets_earlier_fits():
    panel = make_panel(100, seed=1)
    model = MNLogit(features=("years_observed",), engine="statsmodels").fit(panel)
    held = [v for v in vars(model).values() if isinstance(v, (CareerPanel, pd.DataFrame, MNLogitResults))]
    assert not held
    assert model.results(panel).std_errors.equals(model.results(panel).std_errors)  # computed afresh, the same
    model.stale_ = "from an earlier fit"
    model.set_params(engine="torch").fit(panel)
    assert not hasattr(model, "stale_")
    fitted = {name for name in vars(model) if name.endswith("_")}
    assert fitted == {name for name in vars(MNLogit(engine="torch").fit(panel)) if name.endswith("_")}


def test_results_refuse_data_other_than_the_fit():
    panel = make_panel(120, seed=4)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(panel))
    model = MNLogit(features=("years_observed",), max_iter=200).fit(panel, weights=weights)
    assert model.results(panel, weights).nobs == model.n_transitions_
    with pytest.raises(ValueError, match="fitted with weights"):
        model.results(panel)
    with pytest.raises(ValueError, match="same weights"):
        model.results(panel, weights * 2)
    fewer = panel.select_persons(panel.persons[:-10])
    with pytest.raises(ValueError, match="transitions, the fit had"):
        model.results(fewer, np.ones(len(fewer)))
    unweighted = MNLogit(features=("years_observed",), max_iter=200).fit(panel)
    with pytest.raises(ValueError, match="fitted without weights"):
        unweighted.results(panel, weights)


def test_summary_renders_text_html_latex_with_header(fitted, default_results, wage_train):
    res = default_results["statsmodels"]
    summary = res.summary()
    text = str(summary)
    for field in ("MNLogit", "statsmodels", "Persons:", "Transitions:", "Log-likelihood:", "Pseudo R-squ.:"):
        assert field in text
    for field in ("Perplexity:", "Cov. type:", "cluster (person)", "alpha:", "States:", f"{res.nobs:,}"):
        assert field in text
    assert "Showing 5 of 8 outcomes" in text and "tidy()" in text
    assert text.count("outcome = ") == 5
    html = summary.as_html()
    assert html == res._repr_html_() and "<table" in html and "P&gt;|z|" in html
    latex = summary.as_latex()
    assert "\\begin{tabular}" in latex and "years\\_in\\_state" in latex and "Pseudo R-squ." in latex
    chosen = res.summary(outcomes=["3", "7"])
    assert str(chosen).count("outcome = ") == 2 and "Showing 2 of 8" in str(chosen)
    with pytest.raises(ValueError, match="no parameters"):
        res.summary(outcomes=["1"])  # the base outcome
    assert str(res) == text and fitted["statsmodels"].summary(wage_train).as_text() == text


def test_tidy_has_one_row_per_outcome_and_term(fitted, wage_train):
    res = fitted["torch"].results(wage_train, cov_type="robust")
    tidy = res.tidy()
    assert list(tidy.columns) == TIDY_COLUMNS
    assert len(tidy) == res.params.size
    assert not tidy.duplicated(["outcome", "term"]).any()
    row = tidy.set_index(["outcome", "term"]).loc[("5", "years_observed")]
    assert row["estimate"] == res.params.loc["years_observed", "5"]
    assert row["std_error"] == res.std_errors.loc["years_observed", "5"]
    assert row["conf_low"] < row["estimate"] < row["conf_high"]


def test_too_many_parameters_are_refused_with_the_count(fitted, wage_train, monkeypatch):
    monkeypatch.setattr(inference_module, "MAX_ANALYTIC_PARAMS", 50)
    res = fitted["statsmodels"].results(wage_train, cov_type="nonrobust")
    for attribute in ("std_errors", "cov", "pvalues"):
        with pytest.raises(CovarianceUnavailableError, match=r"56 free parameters.*bootstrap_se"):
            getattr(res, attribute)
    assert res.params.shape == (7, 8)
    assert "No standard errors" in str(res.summary())
    with pytest.warns(UserWarning, match="56 free parameters"):
        assert res.tidy()["std_error"].isna().all()


def test_person_bootstrap_on_a_tiny_model():
    panel = make_panel(120, seed=5)
    model = MNLogit(features=("years_observed",), max_iter=200).fit(panel)
    res = model.results(panel)
    boot = res.bootstrap(n_boot=3, rng=0)
    se = res.bootstrap_se(n_boot=3, rng=0)
    assert se.shape == res.params.shape and list(se.columns) == list(res.params.columns)
    assert np.all(np.isfinite(se.to_numpy())) and np.all(se.to_numpy() > 0)
    pd.testing.assert_frame_equal(se, boot.std_errors)  # same seed, same draws
    assert boot.cov_type == "bootstrap" and boot.config["bootstrap"]["n_boot"] == 3
    assert "person bootstrap" in str(boot)
    # the same order of magnitude as the analytic clustered errors
    ratio = se.to_numpy() / res.std_errors.to_numpy()
    assert np.all((ratio > 0.1) & (ratio < 10))


def test_bootstrap_refits_carry_the_formula_terms():
    panel = make_panel(120, seed=5)
    model = MNLogit(features=("years_observed",), formula="race", max_iter=200).fit(panel)
    res = model.results(panel)
    assert any(term.startswith("formula:") for term in res.terms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        se = res.bootstrap_se(n_boot=2, rng=0)
    assert list(se.index) == res.terms and np.isfinite(se.to_numpy()).any()


def test_penalised_score_is_zero_at_the_penalised_optimum():
    """The penalty of the covariance is the one the torch fit maximises (weights, scaling, intercepts)."""
    panel = make_panel(150, seed=2)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(panel))
    alpha = 0.05
    model = MNLogit(features=("years_observed", "static"), alpha=alpha, tol=1e-12, max_iter=3000)
    model.fit(panel, weights=weights)
    data = inference_module.training_transitions(model, panel, weights)
    free = np.arange(len(model.outcomes_))  # alpha > 0: every outcome is free
    score, _, _, _ = score_and_hessian(data, free, "nonrobust")
    beta = model.model_.flat_parameters().T.ravel()
    penalty = np.tile(penalty_diagonal(data), len(free))
    gradient = score - data.weights.sum() * alpha * penalty * beta
    assert np.abs(gradient).max() / data.weights.sum() < 1e-6
    res = model.results(panel, weights, cov_type="nonrobust")
    assert np.all(np.isfinite(res.std_errors.to_numpy())) and res.params.shape[1] == len(panel.states)
    assert "approximate" in str(res)


def test_loaded_model_gives_the_same_results_on_its_training_panel(tmp_path, fitted, default_results, wage_train):
    loaded = load_model(fitted["statsmodels"].save(tmp_path / "m"))
    again = loaded.results(wage_train)
    expected = default_results["statsmodels"].std_errors.to_numpy()
    np.testing.assert_allclose(again.std_errors.to_numpy(), expected, rtol=1e-10)
    with pytest.raises(ValueError, match="fitted without weights"):
        loaded.results(wage_train, np.ones(len(wage_train)))


def test_bad_cov_type_is_refused(fitted, wage_train):
    with pytest.raises(ValueError, match="cov_type"):
        fitted["torch"].results(wage_train, cov_type="HC3")


def test_compare_renders_side_by_side(fitted, default_results, wage_train):
    robust = fitted["torch"].results(wage_train, cov_type="robust")
    table = compare_results({"statsmodels": default_results["statsmodels"], "torch": robust})
    text = str(table)
    assert "statsmodels" in text and "torch" in text and "robust (HC0)" in text and "(" in text
    assert text.count("outcome = ") == 5 and "***" in text
    assert "<table" in table._repr_html_() and "\\begin{tabular}" in table.as_latex()
    assert list(table.params.columns) == ["statsmodels", "torch"]
    assert table.params.index.names == ["outcome", "term"]
    one = compare_results([default_results["statsmodels"]], outcomes="2", stars=False, precision="pvalues")
    assert "Model 0" in str(one) and str(one).count("outcome = ") == 1 and "*" not in str(one).replace("P>|z|", "")
    assert isinstance(default_results["torch"], MNLogitResults)
    with pytest.raises(TypeError):
        compare_results({"x": 1})
