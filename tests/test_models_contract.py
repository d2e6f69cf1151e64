"""The estimator contract: every model of laborseq passes these tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_CAREER

from laborseq import CareerPanel, OccupationScheme
from laborseq.models import (
    CAREER,
    BagOfJobs,
    CareerEnsemble,
    Marginal,
    Markov,
    MNLogit,
    NotFittedError,
    SequenceModel,
    check_model,
    clone,
    load_model,
)
from laborseq.models.checks import ContractError
from laborseq.models.registry import MODEL_NAMES, make_model

CONTRACT_CAREER = {**TINY_CAREER, "warmup_steps": 5, "max_steps": 40, "precision": "fp32"}  # exact equalities

FACTORIES: dict[str, Callable[[], SequenceModel]] = {
    **{name: (lambda name=name: make_model(name)) for name in MODEL_NAMES},
    "markov2_no_initial_covariates": lambda: Markov(order=2, initial_by=()),
    "markov1_heavy_smoothing": lambda: Markov(order=1, smoothing=5.0),
    "mnlogit_small_features": lambda: MNLogit(features=("previous_state", "years_in_state", "gap"), alpha=1e-3),
    "bag_of_jobs_small_one_stage": lambda: BagOfJobs(embed_dim=8, two_stage=False, max_epochs=100, patience=10),
    # the registry's CAREER is too big for contract tests: a tiny, dropout-free, full-batch one
    "career": lambda: CAREER(**CONTRACT_CAREER),
    "career_one_stage": lambda: CAREER(**CONTRACT_CAREER, two_stage=False, gap_input=False, covariates=("education",)),
    "career_recall": lambda: CAREER(**CONTRACT_CAREER, recall=True),
    "career_recall_one_stage": lambda: CAREER(**CONTRACT_CAREER, recall=True, two_stage=False),
    "career_ensemble": lambda: CareerEnsemble(career_params=CONTRACT_CAREER, members=2, mix=("mnlogit_two_stage",)),
}


@pytest.fixture(params=sorted(FACTORIES), ids=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Callable[[], SequenceModel]:
    return FACTORIES[request.param]


@pytest.fixture
def fitted(factory, toy_split) -> SequenceModel:
    train, valid, _ = toy_split
    return factory().fit(train, valid=valid, rng=0)


def test_probabilities_sum_to_one_over_classes(fitted, toy_split):
    test = toy_split[2]
    proba = fitted.predict_proba(test)
    assert fitted.classes_ == test.states
    assert proba.shape == (test.n_targets, len(fitted.classes_))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_log_likelihood_agrees_with_predict_proba(fitted, toy_split):
    test = toy_split[2]
    proba = fitted.predict_proba(test)
    observed = [test.states.index(s) for s in test.targets()["occ"]]
    expected = np.log(proba[np.arange(len(observed)), observed])
    np.testing.assert_allclose(fitted.log_likelihood(test), expected, rtol=1e-12)


def test_score_is_mean_log_likelihood_and_perplexity_its_exp(fitted, toy_split):
    test = toy_split[2]
    ll = fitted.log_likelihood(test)
    assert fitted.score(test) == pytest.approx(ll.mean(), rel=1e-12)
    assert fitted.perplexity(test) == pytest.approx(np.exp(-ll.mean()), rel=1e-12)
    assert fitted.perplexity(test) >= 1.0
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(test))
    assert fitted.score(test, weights=w) == pytest.approx(np.average(ll, weights=w), rel=1e-12)


def test_every_model_passes_the_shipped_contract_checks(factory, toy_panel):
    check_model(factory(), toy_panel, rng=0)


class _KeepsItsData(Marginal):
    """A model that breaks the contract: it keeps a reference to its training panel."""

    def _fit(self, panel, *, valid, weights, rng):
        super()._fit(panel, valid=valid, weights=weights, rng=rng)
        self.training_panel_ = panel


class _LeaksState(Markov):
    """A model that breaks the contract: a fitted attribute without a trailing underscore."""

    def _fit(self, panel, *, valid, weights, rng):
        super()._fit(panel, valid=valid, weights=weights, rng=rng)
        self.counts = 1


class _RenamesParams(Markov):
    """A model that breaks the contract: __init__ transforms a parameter."""

    def __init__(self, order: int = 1) -> None:
        super().__init__()
        self.order = order + 0.5


class _ChangesItsParams(Markov):
    """A model that breaks the contract: fit changes a hyper-parameter in place."""

    def __init__(self, initial_by: tuple[str, ...] | None = ()) -> None:
        super().__init__(initial_by=initial_by)

    def _fit(self, panel, *, valid, weights, rng):
        super()._fit(panel, valid=valid, weights=weights, rng=rng)
        self.initial_by = ("education",)


@pytest.mark.parametrize(
    ("model", "rule"),
    [
        (_KeepsItsData(), "reference to its training panel"),
        (_ChangesItsParams(), "must not change the hyper-parameters"),
        (_LeaksState(), "trailing-underscore"),
        (_RenamesParams(), "clone|round-trip|parameters"),
    ],
)
def test_check_model_catches_a_broken_model(model, rule, toy_panel):
    with pytest.raises(ContractError, match=rule):
        check_model(model, toy_panel, save=False)


def test_fit_forgets_attributes_of_an_earlier_fit(toy_split):
    model = Markov(order=1).fit(toy_split[0])
    model.stale_ = "from an earlier fit"
    model.fit(toy_split[1])
    assert not hasattr(model, "stale_")


def test_clone_gives_a_fresh_unfitted_model_with_equal_parameters():
    model = Markov(order=2, smoothing=0.5)
    fresh = clone(model)
    assert fresh is not model and fresh.get_params() == model.get_params()
    career = CAREER(**CONTRACT_CAREER)
    assert clone(career).get_params() == career.get_params()
    with pytest.raises(TypeError, match="laborseq model"):
        clone("markov")


def test_save_load_round_trip_gives_identical_predictions(fitted, toy_split, tmp_path):
    test = toy_split[2]
    path = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "config.json"]
    for loaded in (load_model(path), type(fitted).load(path)):
        assert type(loaded) is type(fitted)
        assert loaded.get_params() == fitted.get_params()
        np.testing.assert_array_equal(loaded.predict_proba(test), fitted.predict_proba(test))
        assert loaded.classes_ == fitted.classes_


def test_save_overwrites_atomically(fitted, toy_split, tmp_path):
    path = fitted.save(tmp_path / "model")
    fitted.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_weight_of_two_equals_a_duplicated_person(factory, toy_split):
    train, _, test = toy_split
    person = train.persons[3]
    extra = train.data[train.data["person_id"] == person].assign(person_id=10_000)
    duplicated = CareerPanel(
        pd.concat([train.data, extra], ignore_index=True),
        covariates=list(train.covariates),
        scheme=train.scheme,
    )
    weights = pd.Series(1.0, index=train.persons)
    weights[person] = 2.0
    model = factory()
    by_weight = model.fit(train, weights=weights, rng=0).predict_proba(test)
    by_copy = factory().fit(duplicated, rng=0).predict_proba(test)
    # closed-form estimators agree exactly; iterative ones to their optimiser's tolerance
    atol = 1e-5 if isinstance(model, MNLogit | BagOfJobs | CAREER | CareerEnsemble) else 1e-12
    np.testing.assert_allclose(by_weight, by_copy, rtol=0, atol=atol)


def test_weights_change_the_fit(factory, toy_split):
    train, _, test = toy_split
    w = np.where(train.data["occ"].to_numpy() == "11", 10.0, 1.0)
    plain = factory().fit(train).predict_proba(test)
    weighted = factory().fit(train, weights=w).predict_proba(test)
    assert np.abs(plain - weighted).max() > 1e-3


def test_context_rows_condition_but_are_not_scored(factory, toy_panel):
    model = factory().fit(toy_panel)
    _, future = toy_panel.split_at_year(1998)
    full = model.predict_proba(toy_panel)
    keep = toy_panel.data.set_index(["person_id", "year"]).index.isin(
        future.targets().set_index(["person_id", "year"]).index
    )
    np.testing.assert_allclose(model.predict_proba(future), full[keep], rtol=1e-12)


def test_unfitted_model_raises(factory, toy_split):
    with pytest.raises(NotFittedError):
        factory().predict_proba(toy_split[2])


def test_panel_with_other_states_is_refused(fitted, toy_split):
    test = toy_split[2]
    other = CareerPanel(
        test.data,
        covariates=list(test.covariates),
        scheme=OccupationScheme.from_codes([*test.states, "99"], name="bigger"),
    )
    with pytest.raises(ValueError, match="harmonize"):
        fitted.predict_proba(other)


def test_get_and_set_params_round_trip(factory):
    model = factory()
    params = model.get_params()
    clone = type(model)(**params)
    assert clone.get_params() == params
    with pytest.raises(ValueError, match="no parameter"):
        model.set_params(not_a_parameter=1)


def test_fit_rejects_bad_input(factory, toy_split):
    with pytest.raises(TypeError, match="CareerPanel"):
        factory().fit(toy_split[0].data)
    with pytest.raises(ValueError, match="one value per panel row"):
        factory().fit(toy_split[0], weights=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        factory().fit(toy_split[0], weights=-np.ones(len(toy_split[0])))


def test_invalid_hyperparameters_are_refused(toy_panel):
    with pytest.raises(ValueError, match="order"):
        Markov(order=3).fit(toy_panel)
    with pytest.raises(ValueError, match="smoothing"):
        Marginal(smoothing=-1.0).fit(toy_panel)
