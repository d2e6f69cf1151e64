"""Average marginal effects of MNLogit: against statsmodels' get_margeff, finite differences and the bootstrap."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.discrete.discrete_model import MNLogit as SMMNLogit

from laborseq import CareerPanel
from laborseq.datasets import load_wage_panel
from laborseq.models import MNLogit, logit_engine
from laborseq.models.comparison import compare_results
from laborseq.models.effects import MOVE, MarginalEffects
from laborseq.models.first_year_logit import split_targets
from laborseq.pipeline import logit_effects


@pytest.fixture(scope="module")
def wage_train() -> CareerPanel:
    return load_wage_panel().split_persons((0.7, 0.1, 0.2), rng=0)[0]


@pytest.fixture(scope="module")
def weighted_train(wage_train) -> CareerPanel:
    """The training panel with a person weight between 0.5 and 3."""
    frame = wage_train.data.copy()
    persons = frame["person_id"].to_numpy()
    weight = 0.5 + 2.5 * np.random.default_rng(3).random(persons.max() + 1)
    frame["weight"] = weight[persons]
    return CareerPanel(
        frame,
        covariates=list(wage_train.covariates),
        static=list(wage_train.static_covariates),
        weight="weight",
        scheme=wage_train.scheme,
        name="weighted",
    )


def _transitions(model: MNLogit, panel: CareerPanel):
    _, trans = split_targets(panel)
    x = model.encoder_.transform(panel, trans)
    prev = panel.lagged_states(1)[trans]
    y = np.searchsorted(model.outcomes_, panel.state_index()[trans])
    persons = pd.factorize(panel.data["person_id"].to_numpy()[trans])[0]
    return x, prev, y, persons, trans


def _statsmodels(model: MNLogit, panel: CareerPanel, cov_type: str):
    x, _, y, persons, _ = _transitions(model, panel)
    kwargs = {"cov_type": cov_type} | ({"cov_kwds": {"groups": persons}} if cov_type == "cluster" else {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SMMNLogit(y, x.design_matrix()).fit(method="newton", disp=False, maxiter=100, **kwargs), x


@pytest.mark.parametrize("cov_type", ["nonrobust", "cluster"])
def test_numeric_effects_match_statsmodels_get_margeff(wage_train, cov_type):
    """dy/dx of numeric features and delta-method standard errors, to numerical precision."""
    model = MNLogit(features=("years_in_state", "years_observed"), formula="birth_year", engine="statsmodels")
    model.fit(wage_train)
    effects = model.marginal_effects(wage_train, cov_type=cov_type)
    reference, x = _statsmodels(model, wage_train, cov_type)
    margins = reference.get_margeff(at="overall", method="dydx")
    assert effects.terms == x.column_names[1:]
    np.testing.assert_allclose(effects.params.to_numpy(), margins.margeff, atol=1e-10)
    np.testing.assert_allclose(effects.std_errors.to_numpy(), margins.margeff_se, rtol=1e-6)
    assert effects.se_type == f"delta ({cov_type})"


def _counterfactual_ame(model: MNLogit, x, prev, weights, term: str, theta: np.ndarray | None = None) -> np.ndarray:
    """An effect by brute force through the model's own forward pass: probabilities (and, for the two-stage
    head, P(move) and destination shares) at the two counterfactual designs, or a central difference."""
    loglinear = copy.deepcopy(model.model_)
    if theta is not None:
        loglinear.load_flat_parameters(theta)
    prev_in = prev if model.two_stage else None

    def quantities(features) -> np.ndarray:
        p = np.exp(logit_engine.predict_encoded(loglinear, features, prev_in))
        if not model.two_stage:
            return p
        rows = np.arange(len(p))
        stay = p[rows, prev]
        destination = p.copy()
        destination[rows, prev] = 0.0
        return np.hstack([p, (1 - stay)[:, None], destination / (1 - stay)[:, None]])

    def variant(codes=None, numeric=None):
        return type(x)(codes or x.codes, x.levels, x.numeric_names, x.numeric if numeric is None else numeric)

    if "[" in term:
        name, level = term[:-1].split("[", 1)
        code = x.levels[name].index(level)
        high = variant(codes={**x.codes, name: np.full(len(x), code)})
        low = variant(codes={**x.codes, name: np.zeros(len(x), dtype=np.int64)})
        diff = quantities(high) - quantities(low)
    else:
        column, h = x.numeric_names.index(term), 1e-6
        up, down = x.numeric.copy(), x.numeric.copy()
        up[:, column] += h
        down[:, column] -= h
        diff = (quantities(variant(numeric=up)) - quantities(variant(numeric=down))) / (2 * h)
    w = np.ones(len(x)) if weights is None else weights
    return w @ diff / w.sum()


def _numerical_jacobian(model, x, prev, weights, term) -> np.ndarray:
    """Central differences of the brute-force effect in the parameters, stacked outcome by outcome."""
    theta = model.model_.flat_parameters()
    n_terms, width = theta.shape
    columns = []
    for c in range(width):
        for t in range(n_terms):
            step = np.zeros_like(theta)
            step[t, c] = 1e-5
            up = _counterfactual_ame(model, x, prev, weights, term, theta + step)
            down = _counterfactual_ame(model, x, prev, weights, term, theta - step)
            columns.append((up - down) / 2e-5)
    return np.column_stack(columns)


def _effect_row(effects: MarginalEffects, term: str, column: str = "effect") -> np.ndarray:
    """A column of every quantity of one contrast, in the order of the brute force (probabilities, move,
    destinations)."""
    tidy = effects.tidy()
    rows = tidy[tidy["term"] == term]
    order = ["probability", "move", "destination"]
    return rows.sort_values("quantity", key=lambda s: s.map(order.index), kind="stable")[column].to_numpy()


def test_categorical_effects_and_delta_errors_match_brute_force(wage_train):
    """Discrete changes of multi-level categoricals (statsmodels' dummy=True cannot do them) and their
    delta-method standard errors, against counterfactual predictions and a numerical Jacobian."""
    model = MNLogit(features=("years_in_state", "static"), engine="statsmodels").fit(wage_train)
    effects = model.marginal_effects(wage_train, cov_type="nonrobust")
    x, prev, _, _, _ = _transitions(model, wage_train)
    reference, _ = _statsmodels(model, wage_train, "nonrobust")
    cov = np.asarray(reference.cov_params())
    levels = [t for t in effects.terms if t.startswith("static:race[")]
    assert len(levels) == 2  # race has three levels: two effects against the reference
    for term in [*levels, "static:marital_status[not_married]"]:
        row = effects.terms.index(term)
        expected = _counterfactual_ame(model, x, prev, None, term)
        np.testing.assert_allclose(effects.params.iloc[row], expected, atol=1e-12)
        jacobian = _numerical_jacobian(model, x, prev, None, term)
        se = np.sqrt(np.diag(jacobian @ cov @ jacobian.T))
        np.testing.assert_allclose(effects.std_errors.iloc[row], se, rtol=1e-5)
    assert "static:race[" + model.encoder_.levels_["static:race"][0] + "]" not in effects.terms


def test_weighted_effects_match_brute_force(weighted_train):
    model = MNLogit(features=("years_in_state", "years_observed", "static")).fit(weighted_train, weights="weight")
    effects = model.marginal_effects(weighted_train, weights="weight", cov_type="robust")
    unweighted = MNLogit(features=("years_in_state", "years_observed", "static")).fit(weighted_train)
    x, prev, _, _, trans = _transitions(model, weighted_train)
    w = weighted_train.data["weight"].to_numpy()[trans]
    for term in ("years_in_state", "static:race[hispanic]"):
        row = effects.terms.index(term)
        np.testing.assert_allclose(effects.params.iloc[row], _counterfactual_ame(model, x, prev, w, term), atol=1e-8)
    assert effects.config["weighted"]
    assert not np.allclose(effects.params, unweighted.marginal_effects(weighted_train).params, atol=1e-4)
    jacobian = _numerical_jacobian(model, x, prev, w, "years_in_state")
    cov = model.results(weighted_train, "weight", cov_type="robust").cov.to_numpy()
    se = np.sqrt(np.diag(jacobian @ cov @ jacobian.T))
    np.testing.assert_allclose(effects.std_errors.loc["years_in_state"], se, rtol=1e-4)


def test_two_stage_effects_on_move_and_destinations(wage_train):
    """The two-stage head: effects on every probability, on P(move) and on the destination shares."""
    model = MNLogit(features=("years_in_state", "static"), two_stage=True).fit(wage_train)
    no_cov = model.marginal_effects(wage_train)
    assert "use se='bootstrap'" in no_cov.se_note
    with pytest.raises(ValueError, match="no standard errors"):
        _ = no_cov.std_errors
    x, prev, _, _, _ = _transitions(model, wage_train)
    for term in ("years_in_state", "static:race[hispanic]"):
        np.testing.assert_allclose(
            _effect_row(no_cov, term), _counterfactual_ame(model, x, prev, None, term), atol=1e-7
        )
    k = len(model.outcomes_)
    assert no_cov.params.columns[0] == MOVE and no_cov.params.shape[1] == k + 1
    # an effect on probabilities sums to zero over outcomes; so does one on destination shares
    np.testing.assert_allclose(no_cov.effects().drop(columns=MOVE).sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(no_cov.effects("destination").sum(axis=1), 0, atol=1e-12)
    # the delta method with a bootstrap covariance of the parameters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = model.results(wage_train).bootstrap(4, rng=0)
    effects = model.marginal_effects(wage_train, results=boot)
    assert effects.se_type == "delta (bootstrap)"
    cov = np.nan_to_num(boot.cov.to_numpy())
    jacobian = _numerical_jacobian(model, x, prev, None, "years_in_state")
    se = np.sqrt(np.clip(np.diag(jacobian @ cov @ jacobian.T), 0, None))
    np.testing.assert_allclose(_effect_row(effects, "years_in_state", "std_error"), se, rtol=1e-4, atol=1e-9)
    text = str(effects.summary(quantity="destination"))
    assert "destination share" in text and MOVE not in text.split("=\n", 2)[-1].splitlines()[0]


def test_bootstrap_errors_follow_the_seed(wage_train):
    model = MNLogit(features=("years_in_state", "static")).fit(wage_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = model.marginal_effects(wage_train, se="bootstrap", n_boot=5, rng=1)
        two = model.marginal_effects(wage_train, se="bootstrap", n_boot=5, rng=1)
    assert one.se_type == "person bootstrap" and one.config["bootstrap"]["n_boot"] == 5
    np.testing.assert_array_equal(one.std_errors.to_numpy(), two.std_errors.to_numpy())
    finite = one.std_errors.to_numpy()[np.isfinite(one.std_errors.to_numpy())]
    assert finite.size > 0.8 * one.std_errors.size and (finite > 0).all()
    delta = model.marginal_effects(wage_train)
    ratio = np.nanmedian(one.std_errors.to_numpy() / delta.std_errors.to_numpy())
    assert 0.3 < ratio < 3  # the same order of magnitude as the delta method


def test_collinear_dummies_leave_the_delta_method_stable(wage_train):
    """The full feature set has collinear dummies (huge coefficient variances); effects' errors stay finite and sane."""
    model = MNLogit().fit(wage_train)
    assert model.results(wage_train).std_errors.to_numpy().max() > 1e5  # not identified
    effects = model.marginal_effects(wage_train)
    se = effects.std_errors.to_numpy()
    assert np.isfinite(se).all() and se.max() < 1 and (se > 0).mean() > 0.9
    given = model.marginal_effects(wage_train, results=model.results(wage_train))  # formed afresh, the same
    np.testing.assert_allclose(given.std_errors.to_numpy(), se, rtol=1e-10)
    assert not any(t.startswith(("previous_state", "calendar_year")) for t in effects.terms)
    assert model.marginal_effects(wage_train, variables=["previous_state"]).terms[0].startswith("previous_state[")


def test_summary_tidy_and_side_by_side(wage_train):
    one = MNLogit(features=("years_in_state", "static")).fit(wage_train).marginal_effects(wage_train)
    two = MNLogit(features=("years_in_state", "years_observed", "static")).fit(wage_train)
    other = two.marginal_effects(wage_train)
    tidy = one.tidy()
    assert list(tidy.columns[:7]) == ["variable", "term", "kind", "reference", "quantity", "outcome", "title"]
    assert set(tidy["kind"]) == {"level", "dydx"} and len(tidy) == one.params.size
    summary = one.summary(n_outcomes=3)
    assert str(summary).count("(") > 3 and "Showing 3 of" in str(summary)
    assert "\\toprule" in one.to_latex() and "<table" in one.as_html()
    table = compare_results({"A": one, "B": other}, outcomes=["5", "6"])
    text = str(table)
    assert text.index("years_in_state") < text.index("Fit statistics") < text.index("Log-likelihood")
    assert "Average Marginal Effects" in text and "years_observed" in text
    assert table.params.shape[1] == 2 and np.isnan(table.params.loc[("5", "years_observed"), "A"])
    with pytest.raises(TypeError, match="not both"):
        compare_results([one, two.results(wage_train)])
    with pytest.raises(ValueError, match="no feature"):
        two.marginal_effects(wage_train, variables=["wage"])
    with pytest.raises(ValueError, match="destination shares"):
        one.effects("destination")


def test_report_effects_follow_the_fit_weighting(weighted_train):
    """A weighted comparison fits without weights (it weights the scores): the report's effects follow the fit."""
    features = ("years_in_state", "static")
    unweighted = logit_effects(MNLogit(features=features).fit(weighted_train), weighted_train)
    weighted = logit_effects(MNLogit(features=features).fit(weighted_train, weights="weight"), weighted_train)
    assert not unweighted.config["weighted"] and weighted.config["weighted"]
    assert logit_effects(None, weighted_train) is None
