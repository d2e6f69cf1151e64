"""evaluate.compare: identical targets, correct perplexities, paired bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from laborseq.evaluation.compare import compare
from laborseq.models import Marginal, Markov


@pytest.fixture(scope="module")
def result(toy_split):
    train, valid, test = toy_split
    models = {"marginal": Marginal(), "markov1": Markov(order=1), "markov2": Markov(order=2)}
    return compare(models, train, test, valid=valid, rng=0, n_boot=300)


def test_every_model_scores_the_same_targets(result, toy_split):
    test = toy_split[2]
    assert {s.n_targets for s in result.scores.values()} == {test.n_targets}
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
        score = result.scores[name]
        assert score.perplexity == pytest.approx(model.perplexity(test), rel=1e-12)
        ll = model.log_likelihood(test)
        assert score.perplexity_transitions == pytest.approx(np.exp(-ll[transitions].mean()), rel=1e-12)
        assert score.n_transitions == transitions.sum()


def test_intervals_contain_the_estimate_and_best_has_zero_difference(result):
    for score in result.scores.values():
        assert score.perplexity_ci[0] < score.perplexity < score.perplexity_ci[1]
        assert score.perplexity_transitions_ci[0] < score.perplexity_transitions < score.perplexity_transitions_ci[1]
    best = result.scores[result.best]
    assert best.perplexity == min(s.perplexity for s in result.scores.values())
    assert best.diff_vs_best == 0 and best.diff_vs_best_ci == (0.0, 0.0)
    # markov1 is far better than the marginal on a sticky chain: the paired interval excludes zero
    assert result.scores["marginal"].diff_vs_best_ci[0] > 0


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
    assert res.scores["m"].perplexity_ci[0] == pytest.approx(lo, abs=0.06)
    assert res.scores["m"].perplexity_ci[1] == pytest.approx(hi, abs=0.06)


def test_compare_is_deterministic_for_a_seed(toy_split):
    train, _, test = toy_split
    a = compare([Markov()], train, test, rng=3, n_boot=100)
    b = compare([Markov()], train, test, rng=3, n_boot=100)
    assert a.scores["markov"].perplexity_ci == b.scores["markov"].perplexity_ci


def test_models_given_as_a_list_get_unique_names(toy_split):
    train, _, test = toy_split
    res = compare([Markov(), Markov(order=2), Marginal()], train, test, n_boot=20)
    assert set(res.scores) == {"markov", "markov_2", "marginal"}


def test_weighted_comparison_uses_weights(toy_split):
    train, _, test = toy_split
    w = np.random.default_rng(0).uniform(0.2, 5.0, len(test))
    res = compare({"m": Markov()}, train, test, weights=w, n_boot=20)
    model = Markov().fit(train)
    assert res.weighted
    assert res.scores["m"].perplexity == pytest.approx(model.perplexity(test, weights=w), rel=1e-12)


def test_result_serializes(result):
    payload = json.loads(json.dumps(result.to_dict()))
    assert set(payload["models"]) == {"marginal", "markov1", "markov2"}
    assert payload["bootstrap"]["n_boot"] == 300
    assert "markov" in str(result)
    assert result.table().index[0] == result.best


def test_compare_needs_models(toy_split):
    with pytest.raises(ValueError, match="at least one model"):
        compare({}, *toy_split[:2])
