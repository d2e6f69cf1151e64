"""The ``auto`` recipe: mixture weights, the mixture stepper and the CAREER ensemble."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_CAREER, make_panel
from scipy.optimize import minimize

from laborseq.evaluation.comparison import compare
from laborseq.models import CAREER, CareerEnsemble, Markov, load_model, make_model
from laborseq.models.base import SequenceModel
from laborseq.models.mixture import MixtureStepper, fit_mixture_weights
from laborseq.pipeline import one_network
from laborseq.studies.rationale_study import rationale_study

TINY = {**TINY_CAREER, "warmup_steps": 5, "max_steps": 30, "precision": "fp32"}


def tiny_ensemble(**params) -> CareerEnsemble:
    return CareerEnsemble(**{"career_params": TINY, "members": 2, "mix": ("markov1",), **params})


@pytest.fixture(scope="module")
def split():
    return make_panel(160, seed=5).split_persons((0.6, 0.2, 0.2), rng=0)


@pytest.fixture(scope="module")
def fitted(split) -> CareerEnsemble:
    train, valid, _ = split
    return tiny_ensemble().fit(train, valid=valid, rng=0)


# ---------------------------------------------------------------------- mixture weights
def test_mixture_weights_recover_a_known_mixture_and_match_a_direct_optimiser():
    rng = np.random.default_rng(0)
    k, n, truth = 6, 40_000, np.array([0.3, 0.7])
    components = rng.dirichlet(np.ones(k), size=2)
    which = rng.random(n) < truth[0]
    observed = np.where(which, rng.choice(k, n, p=components[0]), rng.choice(k, n, p=components[1]))
    likelihoods = components[:, observed].T
    estimate = fit_mixture_weights(likelihoods)
    assert estimate == pytest.approx(truth, abs=0.03)

    def negative(theta):
        pi = np.array([theta[0], 1 - theta[0]])
        return -np.log(likelihoods @ pi).mean()

    direct = minimize(negative, [0.5], bounds=[(1e-9, 1 - 1e-9)], method="L-BFGS-B", options={"ftol": 1e-15})
    assert estimate[0] == pytest.approx(direct.x[0], abs=1e-4)
    assert negative(estimate) <= direct.fun + 1e-12


def test_mixture_weights_follow_target_weights_and_refuse_bad_input():
    likelihoods = np.array([[0.9, 0.1], [0.1, 0.9]])
    assert fit_mixture_weights(likelihoods) == pytest.approx([0.5, 0.5])
    # weighting the first target 3:1 is the same as repeating it three times
    repeated = fit_mixture_weights(likelihoods[[0, 0, 0, 1]])
    np.testing.assert_allclose(fit_mixture_weights(likelihoods, np.array([3.0, 1.0])), repeated, atol=1e-8)
    with pytest.raises(ValueError, match="n_targets, n_components"):
        fit_mixture_weights(np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        fit_mixture_weights(-likelihoods)


def test_mixture_stepper_mixes_the_components_row_by_row(split):
    train, _, test = split
    models = [Markov(order=1).fit(train), make_model("marginal").fit(train)]
    weights = np.array([0.25, 0.75])
    stepper = MixtureStepper([m._stepper(test, 3) for m in models], weights)
    covariates = test.data.groupby("person_id", sort=False).tail(1).loc[lambda d: d.index.repeat(3)]
    table, index = stepper.step_indexed(2010, covariates.reset_index(drop=True))
    expected = sum(w * m._stepper(test, 3).step(2010, covariates) for w, m in zip(weights, models, strict=True))
    np.testing.assert_allclose(table[index], expected, rtol=1e-12)
    assert len(table) < len(index)  # paths of one person share a row
    stepper.append(np.zeros(len(index), dtype=int))
    np.testing.assert_allclose(stepper.step(2011, covariates.reset_index(drop=True)).sum(axis=1), 1.0)


# ---------------------------------------------------------------------- the ensemble
def test_ensemble_predicts_the_weighted_mean_of_its_components(fitted, split):
    test = split[2]
    weights = fitted.weights_
    members = np.mean([m.predict_proba(test) for m in fitted.members_], axis=0)
    expected = weights[0] * members + weights[1] * fitted.mixed_[0].predict_proba(test)
    np.testing.assert_allclose(fitted.predict_proba(test), expected, rtol=1e-12)
    assert len(fitted.members_) == 2 and isinstance(fitted.mixed_[0], Markov)
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    choices = fitted.fit_choices()
    assert choices["member_seeds"] == [0, 1] and choices["validation"] == "given"
    # the mixture weights are the EM optimum on the validation persons: moving them lowers the likelihood
    valid = split[1]
    observed = valid.state_index()[valid.target_mask]
    rows = np.arange(len(observed))
    ens = np.mean([m.predict_proba(valid) for m in fitted.members_], axis=0)[rows, observed]
    other = fitted.mixed_[0].predict_proba(valid)[rows, observed]

    def loglik(w0):
        return np.log(w0 * ens + (1 - w0) * other).mean()

    assert loglik(weights[0]) >= max(loglik(weights[0] - 0.02), loglik(weights[0] + 0.02))
    assert np.exp(-loglik(weights[0])) == pytest.approx(choices["mixture_valid_perplexity"], rel=1e-9)


def test_members_differ_only_by_their_seeds(fitted, split):
    first, second = fitted.members_
    assert first.get_params() == second.get_params()
    single = CAREER.preset("small", **TINY).fit(split[0], valid=split[1], rng=0)
    np.testing.assert_allclose(single.predict_proba(split[2]), first.predict_proba(split[2]), rtol=1e-6)
    assert np.abs(first.predict_proba(split[2]) - second.predict_proba(split[2])).max() > 1e-3


def test_search_keeps_the_candidate_with_the_lowest_validation_perplexity(split):
    train, valid, _ = split
    model = tiny_ensemble(search=({"max_steps": 2}, {}), members=1, mix=()).fit(train, valid=valid, rng=0)
    searched = model.fit_choices()["search"]
    best = min(searched, key=lambda s: s["valid_perplexity"])
    assert model.fit_choices()["chosen"] == best["overrides"] == {}
    assert model.members_[0].max_steps == 30
    assert model.weights_.tolist() == [1.0]


def test_a_spent_budget_stops_adding_members_and_a_small_panel_holds_persons_out(split):
    train = split[0]
    model = tiny_ensemble(budget_seconds=0.0, members=3).fit(train, rng=0)
    assert len(model.members_) == 1
    assert model.fit_choices()["validation"] == "10% of the training persons"
    with pytest.raises(ValueError, match="too few"):
        tiny_ensemble().fit(make_panel(3, seed=0), rng=0)
    with pytest.raises(ValueError, match="not an econometric"):
        tiny_ensemble(mix=("career",)).fit(train, rng=0)
    with pytest.raises(ValueError, match="members"):
        tiny_ensemble(members=0).fit(train, rng=0)


def test_forecast_steps_equal_reruns_of_the_ensemble(fitted, split, monkeypatch):
    panel = split[2]
    years = [1997, 1998, 1999]
    fast = fitted.forecast(panel, origin=1996, years=years, n_samples=10, rng=2)
    monkeypatch.setattr(CareerEnsemble, "_stepper", SequenceModel._stepper)  # reruns predict_proba
    slow = fitted.forecast(panel, origin=1996, years=years, n_samples=10, rng=2)
    np.testing.assert_allclose(fast.probabilities, slow.probabilities, atol=1e-5)
    assert (fast.paths == slow.paths).mean() > 0.999


def test_save_load_representations_and_rationales_use_the_members(fitted, split, tmp_path):
    test = split[2]
    loaded = load_model(fitted.save(tmp_path / "ensemble"))
    np.testing.assert_array_equal(loaded.predict_proba(test), fitted.predict_proba(test))
    assert loaded.fit_choices() == fitted.fit_choices()
    assert loaded.n_parameters == fitted.n_parameters
    np.testing.assert_array_equal(
        fitted.representations(test).to_numpy(), fitted.members_[0].representations(test).to_numpy()
    )
    study = rationale_study(fitted, split[0], test, valid=split[1], n=3, max_steps=2)
    assert study.model.word_dropout == 0.5
    np.testing.assert_array_equal(study.model.vocabulary_.states, fitted.network.vocabulary_.states)


def test_members_fine_tune_from_pretrained_weights_of_another_shape(split):
    train, valid, _ = split
    base = CAREER(**{**TINY, "d_model": 8, "d_ff": 16}).fit(train, rng=1)
    unshaped = {k: v for k, v in TINY.items() if k not in ("n_layers", "d_model", "n_heads", "d_ff")}
    model = tiny_ensemble(career_params=unshaped, members=1, mix=(), pretrained=base).fit(train, valid=valid, rng=0)
    member = model.members_[0]
    assert member.d_model == 8 and member.training_["stage"] == "fine-tune"


def test_compare_records_the_choices(fitted, split):
    train, valid, test = split
    result = compare({"career": tiny_ensemble(members=1)}, train, test, valid=valid, n_boot=20)
    record = result.to_dict()["models"]["career"]
    assert record["choices"]["members"] == 1
    assert set(record["choices"]["mixture_weights"]) == {"career", "markov1"}


def test_from_fitted_combines_fitted_models_as_fit_does(fitted, split):
    _, valid, test = split
    again = CareerEnsemble.from_fitted(fitted.members_, {"markov1": fitted.mixed_[0]}, valid=valid)
    np.testing.assert_allclose(again.weights_, fitted.weights_, rtol=1e-12)
    np.testing.assert_allclose(again.predict_proba(test), fitted.predict_proba(test), rtol=1e-12)
    assert again.get_params()["mix"] == ("markov1",)
    with pytest.raises(TypeError, match="CAREER member"):
        CareerEnsemble.from_fitted([fitted.mixed_[0]], valid=valid)


def test_studies_of_one_network_fit_the_first_member_only(split):
    ensemble = tiny_ensemble(members=3)
    network = one_network(ensemble)
    assert isinstance(network, CAREER) and network.get_params() == CAREER.preset("small", **TINY).get_params()
    single = CAREER(**TINY)
    assert one_network(single).get_params() == single.get_params() and one_network(single) is not single


def test_members_write_checkpoints_and_logs_to_their_own_directories(split, tmp_path):
    train, valid, _ = split
    params = {**TINY, "checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs")}
    model = tiny_ensemble(career_params=params, search=({}, {"lr": 5e-3}), mix=()).fit(train, valid=valid, rng=0)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["candidate-0", "candidate-1", "member-1"]
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["candidate-0", "candidate-1", "member-1"]
    searched = model.fit_choices()["search"]
    assert searched[0]["valid_perplexity"] != searched[1]["valid_perplexity"]  # the second did not resume the first


def test_parameters_that_cannot_work_are_refused(split):
    train = split[0]
    base = CAREER(**TINY).fit(train, rng=1)
    with pytest.raises(ValueError, match="the pretrained network has shape"):
        tiny_ensemble(pretrained=base, search=({"d_model": 32},)).fit(train, rng=0)
    tiny_ensemble(pretrained=base, members=1, mix=()).fit(train, rng=0)  # the same shape is no clash
    with pytest.raises(ValueError, match="tuple of distinct"):
        tiny_ensemble(mix="markov1").fit(train, rng=0)
    with pytest.raises(ValueError, match="tuple of distinct"):
        tiny_ensemble(mix=("markov1", "markov1")).fit(train, rng=0)


def test_tuples_inside_parameters_survive_save_and_load(split, tmp_path):
    train, valid, test = split
    model = tiny_ensemble(career_params={**TINY, "covariates": ("education",)}, members=1, search=({"lr": 1e-2},))
    model.fit(train, valid=valid, rng=0)
    loaded = load_model(model.save(tmp_path / "m"))
    assert loaded.get_params() == model.get_params()
    assert loaded.members_[0].covariates == ("education",)
    np.testing.assert_array_equal(loaded.predict_proba(test), model.predict_proba(test))


def test_mixture_weights_warn_when_em_stops_early():
    with pytest.warns(UserWarning, match="EM stopped"):
        fit_mixture_weights(np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]), max_iter=1)


def test_a_crafted_component_class_is_refused(fitted, tmp_path):
    import json

    path = fitted.save(tmp_path / "ensemble")
    config = json.loads((path / "config.json").read_text())
    config["fitted"]["components"][1]["model"] = "subprocess.Popen"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"refusing to load model class 'subprocess\.Popen'"):
        load_model(path)


def test_auto_mix_takes_the_regression_where_newton_solves_it_and_bag_of_jobs_beyond(split):
    from laborseq.models.career.ensemble import auto_mix
    from laborseq.models.logit_newton import NEWTON_OUTCOMES

    assert auto_mix(13) == auto_mix(NEWTON_OUTCOMES) == ("mnlogit_two_stage",)
    assert auto_mix(NEWTON_OUTCOMES + 1) == auto_mix(331) == ("bag_of_jobs",)
    train, valid, _ = split
    model = tiny_ensemble(members=1, mix="auto").fit(train, valid=valid, rng=0)
    assert model.fit_choices()["mix"] == ["mnlogit_two_stage"]
    assert model.get_params()["mix"] == "auto"
