"""MNLogit: engines agree, reproduces the Markov MLE, features computed as documented."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_panel
from statsmodels.discrete.discrete_model import MNLogit as SMMNLogit

from laborseq import CareerPanel, OccupationScheme
from laborseq.datasets import load_wage_panel
from laborseq.models import Markov, MNLogit
from laborseq.models.features import BUILDERS, FeatureEncoder
from laborseq.models.first_year_logit import split_targets

AGREEMENT_FEATURES = ("years_in_state", "years_observed", "static")


@pytest.fixture(scope="module")
def wage_train() -> CareerPanel:
    return load_wage_panel().split_persons((0.7, 0.1, 0.2), rng=0)[0]


def test_statsmodels_and_torch_engines_agree_on_wage_panel(wage_train):
    sm = MNLogit(features=AGREEMENT_FEATURES, engine="statsmodels").fit(wage_train)
    th = MNLogit(features=AGREEMENT_FEATURES, engine="torch", tol=1e-12, max_iter=3000).fit(wage_train)
    ll_sm, ll_th = sm.fit_info_["objective"], th.fit_info_["objective"]
    assert abs(ll_sm - ll_th) / abs(ll_sm) < 1e-6
    np.testing.assert_allclose(th.model_.flat_parameters(), sm.model_.flat_parameters(), rtol=0, atol=1e-4)
    # the statsmodels parameters are statsmodels' own
    _, trans = split_targets(wage_train)
    design = sm.encoder_.transform(wage_train, trans).design_matrix()
    outcomes = np.searchsorted(sm.outcomes_, wage_train.state_index()[trans])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SMMNLogit(outcomes, design).fit(method="newton", maxiter=100, disp=False)
    np.testing.assert_allclose(sm.model_.flat_parameters(), np.asarray(reference.params), atol=1e-12)
    np.testing.assert_allclose(sm.predict_proba(wage_train), th.predict_proba(wage_train), atol=1e-5)


def test_unpenalised_previous_state_logit_is_the_markov_mle():
    panel = make_panel(600, seed=3)
    markov = Markov(order=1, smoothing=0.0).fit(panel)
    logit = MNLogit(features=("previous_state",), tol=1e-12, max_iter=3000).fit(panel)
    transitions = ~panel.targets()["is_first"].to_numpy()
    np.testing.assert_allclose(
        logit.predict_proba(panel)[transitions], markov.predict_proba(panel)[transitions], rtol=0, atol=1e-5
    )


def test_statsmodels_engine_refuses_what_it_cannot_do(toy_split):
    train = toy_split[0]
    with pytest.raises(ValueError, match="no weights"):
        MNLogit(engine="statsmodels", features=("years_observed",)).fit(train, weights=np.ones(len(train)))
    with pytest.raises(ValueError, match="unpenalised one-stage"):
        MNLogit(engine="statsmodels", alpha=0.1).fit(train)
    with pytest.raises(ValueError, match="unpenalised one-stage"):
        MNLogit(engine="statsmodels", two_stage=True).fit(train)


def test_statsmodels_engine_reports_separation():
    scheme = OccupationScheme(name="ab", codes=("a", "b", "c"))
    rows = [
        (p, 2000 + t, s) for p, seq in enumerate(["aab", "abb", "bba", "cca", "bbc", "aac"]) for t, s in enumerate(seq)
    ]
    panel = CareerPanel(pd.DataFrame(rows, columns=["person_id", "year", "occ"]), scheme=scheme)
    with pytest.raises(RuntimeError, match="separation"):
        MNLogit(engine="statsmodels", features=("previous_state",)).fit(panel)


def test_penalty_keeps_unobserved_states_finite(toy_split):
    train, _, test = toy_split
    model = MNLogit(features=("previous_state",), alpha=1e-2).fit(train)
    assert np.all(model.predict_proba(test) > 0)
    assert np.isfinite(model.perplexity(test))


def test_two_stage_mnlogit_fits_and_normalises(toy_split):
    train, _, test = toy_split
    model = MNLogit(features=("previous_state", "years_in_state"), alpha=1e-3, two_stage=True).fit(train)
    proba = model.predict_proba(test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    # stickiness of the toy chain (0.8 stay) is learned by the stay logit
    targets = test.targets().reset_index(drop=True)
    moves = ~targets["is_first"].to_numpy()
    prev = [test.states.index(s) for s in targets["prev_occ"][moves]]
    assert 0.7 < proba[moves][np.arange(len(prev)), prev].mean() < 0.9


# ---------------------------------------------------------------------- features by hand
def _panel() -> CareerPanel:
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 1, 1, 2, 2],
            "year": [2000, 2001, 2003, 2004, 2000, 2001],
            "occ": ["a", "a", "a", "b", "b", "b"],
            "education": ["hs", "hs", "ba", "ba", "hs", "hs"],
            "race": ["x", "x", "x", "x", "y", "y"],
        }
    )
    return CareerPanel(frame, covariates=["education", "race"], scheme=OccupationScheme(name="ab", codes=("a", "b")))


def test_feature_values_by_hand():
    panel = _panel()
    assert BUILDERS["years_in_state"].compute(panel).tolist() == [0, 0, 1, 2, 0, 0]
    assert BUILDERS["years_observed"].compute(panel).tolist() == [0, 1, 2, 3, 0, 1]
    assert BUILDERS["gap"].compute(panel).tolist() == [0, 0, 1, 0, 0, 0]
    assert BUILDERS["education_change"].compute(panel).tolist() == [0, 0, 1, 0, 0, 0]
    assert BUILDERS["previous_state"].compute(panel).tolist() == ["<none>", "a", "a", "a", "<none>", "b"]
    assert BUILDERS["second_previous"].compute(panel).tolist() == ["<none>", "<none>", "a", "a", "<none>", "<none>"]


def test_encoder_design_matrix_and_unseen_levels():
    panel = _panel()
    rows = np.ones(len(panel), dtype=bool)
    enc = FeatureEncoder(("education", "static", "gap")).fit(panel, rows)
    x = enc.transform(panel, rows)
    assert x.column_names == ["const", "education[hs]", "static:race[y]", "gap"]
    np.testing.assert_array_equal(x.design_matrix()[:, 1], [1, 1, 0, 0, 1, 1])
    other = CareerPanel(
        panel.data.assign(race=pd.Categorical(["z"] * len(panel))),
        covariates=["education", "race"],
        scheme=panel.scheme,
    )
    with pytest.warns(UserWarning, match="not seen in training"):
        assert (enc.transform(other, rows).codes["static:race"] == 0).all()
    strict = FeatureEncoder(("static",), unseen="raise").fit(panel, rows)
    with pytest.raises(ValueError, match=r"static:race.*'z'"):
        strict.transform(other, rows)


def test_constant_numeric_features_are_left_out(toy_split):
    balanced = load_wage_panel()
    enc = FeatureEncoder(("gap", "years_observed")).fit(balanced, np.ones(len(balanced), dtype=bool))
    assert enc.constant_ == ["gap"] and enc.numeric_ == ["years_observed"]


# ---------------------------------------------------------------------- formula covariates
def test_formula_terms_are_encoded_as_in_training(tmp_path):
    panel = load_wage_panel()
    train, _, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
    model = MNLogit(features=("previous_state",), formula="race + birth_year", alpha=1e-3).fit(train)
    names = model.encoder_.transform(test, test.lagged_states(1) >= 0).numeric_names
    assert names == ["formula:race[T.hispanic]", "formula:race[T.other]", "formula:birth_year"]
    loaded = MNLogit.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(test), model.predict_proba(test))
    # a panel restricted to one race level is encoded with the training levels, not re-derived
    only_black = test.select_persons(test.data.loc[test.data["race"] == "black", "person_id"].unique())
    x = model.encoder_.transform(only_black, only_black.lagged_states(1) >= 0)
    assert x.numeric[:, :2].sum() == 0


def test_formula_unseen_level_and_missing_values_raise():
    panel = load_wage_panel()
    model = MNLogit(features=("previous_state",), formula="race", alpha=1e-3).fit(panel)
    data = panel.data
    data["race"] = data["race"].astype(str).replace({"other": "martian"})
    changed = CareerPanel(data, covariates=list(panel.covariates), scheme=panel.scheme)
    with pytest.raises(ValueError, match=r"'race' has level\(s\) \['martian'\] not seen in training"):
        model.predict_proba(changed)
    with pytest.raises(ValueError, match="not a column"):
        MNLogit(features=(), formula="wage_rate", alpha=1e-3).fit(panel)


def test_importing_the_logit_loads_neither_torch_nor_matplotlib():
    code = (
        "import sys; from laborseq.models import Markov, MNLogit; "
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
