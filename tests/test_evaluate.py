"""evaluation.comparison.compare: identical targets, correct perplexities, paired bootstrap intervals, fitted clones."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from laborseq.evaluation.comparison import compare
from laborseq.models import Marginal, Markov


@pytest.fixture(scope="module")
def result(toy_split):
    train, valid, test = toy_split
    models = {"marginal": Marginal(), "markov1": Markov(order=1), "markov2": Markov(order=2)}
    return compare(models, train, test, valid=valid, rng=0, n_boot=300)


def test_every_model_scores_the_same_targets(result, toy_split):
    test = toy_split[2]
    assert result.n_targets == test.n_targets
    assert {len(ll) for ll in result.log_likelihoods.values()} == {test.n_targets}
    expected = test.targets()
    pd.testing.assert_frame_equal(result.targets[expected.columns], expected)
    # the test panel's covariates ride along for subgroup breakdowns, row for row
    for column in test.covariates:
        expected_column = test.data.loc[expected.index, column].to_numpy()
        np.testing.assert_array_equal(result.targets[column].to_numpy(), expected_column)


def test_perplexities_match_the_models(result, toy_split):
    train, _, test = toy_split
    transitions = ~test.targets()["is_first"].to_numpy()
    for name, model in {"marginal": Marginal(), "markov1": Markov(order=1)}.items():
        model.fit(train)
        assert result.score(name).estimate == pytest.approx(model.perplexity(test), rel=1e-12)
        ll = model.log_likelihood(test)
        expected = np.exp(-ll[transitions].mean())
        assert result.score(name, subset="transitions").estimate == pytest.approx(expected, rel=1e-12)
    assert result.n_transitions == transitions.sum()


def test_intervals_contain_the_estimate_and_best_has_zero_difference(result):
    perplexities = result.scores.xs("perplexity", level="statistic")
    assert len(perplexities) == 3 * 2  # models x subsets, unweighted only
    assert ((perplexities["low"] < perplexities["estimate"]) & (perplexities["estimate"] < perplexities["high"])).all()
    all_years = perplexities.xs("all", level="subset")["estimate"]
    assert result.best == all_years.idxmin()[0]
    best = result.score(result.best, "diff_vs_best")
    assert (best.estimate, best.low, best.high) == (0.0, 0.0, 0.0)
    # markov1 is far better than the marginal on a sticky chain: the paired interval excludes zero
    assert result.score("marginal", "diff_vs_best").low > 0


def test_differences_are_paired_over_the_same_draws(result):
    draws = result.draws["none"]
    for name in result.names:
        diff = draws.draws["all", name] - draws.draws["all", result.baseline]
        low, high = np.quantile(diff, [0.025, 0.975])
        row = result.score(name, "diff_vs_baseline")
        assert (row.low, row.high) == pytest.approx((low, high), abs=1e-12)


def test_compare_fits_clones_and_leaves_the_models_given_unfitted(toy_split):
    train, _, test = toy_split
    given = {"markov1": Markov(order=1)}
    res = compare(given, train, test, n_boot=20)
    assert not hasattr(given["markov1"], "classes_")
    fitted = res.models["markov1"]
    assert fitted is not given["markov1"] and fitted.get_params() == given["markov1"].get_params()
    np.testing.assert_allclose(fitted.log_likelihood(test), res.log_likelihoods["markov1"])


def test_bootstrap_matches_a_direct_person_resampling(toy_split):
    train, _, test = toy_split
    model = Markov(order=1).fit(train)
    res = compare({"m": model}, train, test, rng=5, n_boot=400, refit=False)
    ll = model.log_likelihood(test)
    persons = test.targets()["person_id"].to_numpy()
    ids = np.unique(persons)
    gen = np.random.default_rng(11)
    draws = []
    for _ in range(400):
        chosen = gen.choice(ids, size=len(ids), replace=True)
        counts = pd.Series(chosen).value_counts()
        w = pd.Series(persons).map(counts).fillna(0).to_numpy()
        draws.append(np.exp(-(w * ll).sum() / w.sum()))
    lo, hi = np.quantile(draws, [0.025, 0.975])
    # two independent bootstraps of the same statistic agree to Monte Carlo error
    assert res.score("m").low == pytest.approx(lo, abs=0.06)
    assert res.score("m").high == pytest.approx(hi, abs=0.06)
    assert res.models["m"] is model  # refit=False scores the models as they are


def test_compare_is_deterministic_for_a_seed(toy_split):
    train, _, test = toy_split
    a = compare([Markov()], train, test, rng=3, n_boot=100)
    b = compare([Markov()], train, test, rng=3, n_boot=100)
    pd.testing.assert_frame_equal(a.scores, b.scores)


def test_models_given_as_a_list_get_unique_names(toy_split):
    train, _, test = toy_split
    res = compare([Markov(), Markov(order=2), Marginal()], train, test, n_boot=20)
    assert res.names == ["markov", "markov_2", "marginal"]


def test_weighted_comparison_uses_weights(toy_split):
    train, _, test = toy_split
    w = np.random.default_rng(0).uniform(0.2, 5.0, len(test))
    res = compare({"m": Markov()}, train, test, weights=w, n_boot=20)
    model = Markov().fit(train)
    assert res.weighted
    assert res.score("m").estimate == pytest.approx(model.perplexity(test, weights=w), rel=1e-12)
    # the unweighted scores ride along, from the same persons' draws
    assert res.score("m", weights="none").estimate == pytest.approx(model.perplexity(test), rel=1e-12)
    assert res.headline("none").loc["m", "perplexity"] == res.score("m", weights="none").estimate


def test_result_serializes(result):
    payload = json.loads(json.dumps(result.to_dict()))
    assert set(payload["models"]) == {"marginal", "markov1", "markov2"}
    assert payload["bootstrap"]["n_boot"] == 300
    assert "markov" in str(result)
    assert result.table().index[0] == result.best
    entry = payload["models"]["markov1"]
    assert entry["perplexity"] == result.score("markov1").estimate
    assert entry["diff_transitions_vs_baseline_ci"] == list(
        result.score("markov1", "diff_vs_baseline", "transitions")[["low", "high"]]
    )


def test_compare_needs_models(toy_split):
    with pytest.raises(ValueError, match="at least one model"):
        compare({}, *toy_split[:2])
