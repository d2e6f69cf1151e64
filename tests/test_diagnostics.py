"""Breakdowns of a model comparison, checked against direct computations on the models' predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_panel

from laborseq import OccupationScheme
from laborseq.evaluation import breakdowns as diagnostics
from laborseq.evaluation.comparison import compare
from laborseq.evaluation.predictions import MAX_GROUPS, summarize_predictions, transition_groups
from laborseq.models import Marginal, Markov


@pytest.fixture(scope="module")
def split():
    return make_panel(n_persons=1500, seed=3).split_persons((0.6, 0.1, 0.3), rng=0)


@pytest.fixture(scope="module")
def result(split):
    train, valid, test = split
    return compare({"marginal": Marginal(), "markov1": Markov(order=1)}, train, test, valid=valid, rng=0, n_boot=200)


@pytest.fixture(scope="module")
def proba(split):
    """Each model's full predicted distributions on the test targets, computed directly."""
    train, _, test = split
    return {
        name: model.fit(train).predict_proba(test)
        for name, model in {"marginal": Marginal(), "markov1": Markov()}.items()
    }


def test_summaries_of_a_hand_made_distribution():
    proba = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    observed = np.array([1, 1, 0])
    previous = np.array([-1, 1, 2])
    pred = summarize_predictions(proba, observed, previous, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(pred.log_likelihood, np.log([0.3, 0.6, 0.2]))
    np.testing.assert_allclose(pred.p_stay, [np.nan, 0.6, 0.6])
    # a tie with another state counts in the observed state's favour
    np.testing.assert_array_equal(pred.rank, [2, 1, 2])
    np.testing.assert_array_equal(pred.top_correct, [False, True, False])
    np.testing.assert_allclose(pred.top_proba, [0.5, 0.6, 0.6])
    np.testing.assert_allclose(pred.group_proba, [[0.8, 0.2], [0.7, 0.3], [0.4, 0.6]], rtol=1e-6)


def test_transition_groups_use_major_groups_then_states_then_the_commonest():
    grouped = OccupationScheme(name="g", codes=("1", "2", "3"), groups={"major_group": {"1": "A", "2": "B", "3": "A"}})
    labels, group = transition_groups(grouped, np.ones(3))
    assert labels == ["A", "B"] and group.tolist() == [0, 1, 0]

    small = OccupationScheme(name="s", codes=("1", "2"), titles={"1": "one"})
    labels, group = transition_groups(small, np.ones(2))
    assert labels == ["1 one", "2"] and group.tolist() == [0, 1]

    codes = tuple(str(c) for c in range(1, 31))
    counts = np.arange(30)[::-1]  # code "1" is the commonest
    labels, group = transition_groups(OccupationScheme(name="big", codes=codes), counts)
    assert len(labels) == MAX_GROUPS and labels[-1] == "other states"
    assert labels[0] == "1" and group[0] == 0 and group[-1] == MAX_GROUPS - 1


def test_headline_reads_the_scores_and_breakdowns_are_computed_once(result):
    table = result.headline()
    for name in result.names:
        row = result.score(name)
        assert (table.loc[name, "perplexity"], table.loc[name, "low"], table.loc[name, "high"]) == (
            row.estimate,
            row.low,
            row.high,
        )
        assert table.loc[name, "diff_vs_baseline"] == result.score(name, "diff_vs_baseline").estimate
    assert result.baseline == "markov1" == result.best
    computed = diagnostics.compute_breakdowns(result)
    pd.testing.assert_frame_equal(computed.stay_move, diagnostics.stay_move(result))
    assert set(computed.perplexity_by) == set(diagnostics.breakdowns(result))
    assert computed.transition_errors.index.tolist() == result.names


def test_perplexity_by_group_matches_direct_computation(result, proba, split):
    test = split[2]
    labels = diagnostics.breakdowns(result)["career position"]
    table = diagnostics.perplexity_by(result, labels, min_targets=40)
    observed = test.state_index()[test.target_mask]
    assert (labels.value_counts() >= 40).sum() == table["group"].nunique()
    for row in table.itertuples():
        mask = (labels == row.group).to_numpy()
        ll = np.log(proba[row.model][np.arange(len(observed)), observed])[mask]
        assert row.perplexity == pytest.approx(np.exp(-ll.mean()), rel=1e-10)
        assert row.n_targets == mask.sum()
        assert row.low < row.perplexity < row.high


def test_breakdowns_label_positions_years_and_covariates(result):
    found = diagnostics.breakdowns(result)
    assert set(found) == {"career position", "calendar year", "race", "education"}
    position = result.targets["position"].to_numpy() + 1
    labels = found["career position"].to_numpy()
    assert (labels[position >= 10] == "10+").all() if (position >= 10).any() else True
    np.testing.assert_array_equal(labels[position < 10], position[position < 10].astype(str))
    assert set(found["race"]) == {"white", "black"}


def test_breakdowns_band_birth_cohorts_and_find_gender():
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3],
            "year": [2000, 2001, 2000, 2000],
            "occ": ["a", "a", "b", "a"],
            "birth_year": [1961, 1961, 1965, np.nan],
            "Sex": ["f", "f", "m", "m"],
        }
    )
    from laborseq import CareerPanel

    panel = CareerPanel(frame, covariates=["birth_year", "Sex"], scheme=OccupationScheme(name="x", codes=("a", "b")))
    res = compare({"marginal": Marginal()}, panel, panel, n_boot=5)
    found = diagnostics.breakdowns(res)
    assert found["birth cohort"].tolist() == ["1960-1964", "1960-1964", "1965-1969", "missing"]
    assert found["gender"].tolist() == ["f", "f", "m", "m"]


def test_stay_move_and_top_k_match_the_predictions(result, proba, split):
    test = split[2]
    targets = test.targets()
    transitions = ~targets["is_first"].to_numpy()
    observed = test.state_index()[test.target_mask]
    previous = test.lagged_states(1)[test.target_mask]
    stayed = (observed == previous)[transitions]
    stay = diagnostics.stay_move(result)
    top = diagnostics.top_k_accuracy(result, ks=(1, 5))
    for name, p in proba.items():
        p_stay = p[np.arange(len(previous)), previous][transitions]
        assert stay.loc[name, "stay rate"] == pytest.approx(stayed.mean())
        assert stay.loc[name, "accuracy"] == pytest.approx(((p_stay >= 0.5) == stayed).mean())
        loss = -np.where(stayed, np.log(p_stay), np.log1p(-p_stay)).mean()
        assert stay.loc[name, "log-loss"] == pytest.approx(loss)
        assert top.loc[name, "top-1 (all)"] == pytest.approx((p.argmax(axis=1) == observed).mean())
        assert top.loc[name, "top-5 (all)"] == 1.0  # five states: the observed one is always among them
    # the marginal cannot tell stayers from movers as well as the chain that generated the data
    assert stay.loc["markov1", "AUC"] > stay.loc["marginal", "AUC"]


def test_the_true_chain_is_calibrated_and_the_marginal_is_not(result):
    stay = diagnostics.reliability(result, "stay")
    assert stay.groupby("model")["n_targets"].sum().eq(int((~result.targets["is_first"]).sum())).all()
    ece = stay.groupby("model")["ece"].first()
    assert ece["markov1"] < 0.05 < ece["marginal"]
    by_hand = stay[stay["model"] == "markov1"]
    expected = (by_hand["observed"] - by_hand["predicted"]).abs().mul(by_hand["n_targets"]).sum()
    assert ece["markov1"] == pytest.approx(expected / by_hand["n_targets"].sum())
    top = diagnostics.reliability(result, "top", bins=5)
    assert top["bin_low"].isin(np.linspace(0, 0.8, 5)).all()
    with pytest.raises(ValueError, match="kind"):
        diagnostics.reliability(result, "nope")


def test_transition_rates_count_the_observed_moves(result, proba, split):
    test = split[2]
    rates = diagnostics.transition_rates(result)
    observed = test.state_index()[test.target_mask]
    previous = test.lagged_states(1)[test.target_mask]
    keep = previous >= 0
    counts = pd.crosstab(previous[keep], observed[keep]).to_numpy()
    np.testing.assert_allclose(rates["observed"].to_numpy(), counts / counts.sum(axis=1, keepdims=True))
    mean_rows = np.vstack([proba["markov1"][keep][previous[keep] == s].mean(axis=0) for s in range(5)])
    np.testing.assert_allclose(rates["markov1"].to_numpy(), mean_rows, rtol=1e-5)


def test_weighted_breakdowns_differ_and_unweighted_ones_do_not(split):
    train, _, test = split
    w = np.random.default_rng(0).uniform(0.1, 10.0, len(test))
    weighted = compare({"markov1": Markov()}, train, test, weights=w, n_boot=50)
    plain = compare({"markov1": Markov()}, train, test, n_boot=50)
    assert weighted.headline("none").loc["markov1", "perplexity"] == pytest.approx(
        plain.score("markov1").estimate, rel=1e-12
    )
    assert weighted.score("markov1").estimate != pytest.approx(plain.score("markov1").estimate, rel=1e-6)
    a = diagnostics.stay_move(weighted)
    b = diagnostics.stay_move(weighted, weighted=False)
    assert a.loc["markov1", "stay rate"] != pytest.approx(b.loc["markov1", "stay rate"], rel=1e-6)
    assert a.loc["markov1", "AUC"] != pytest.approx(b.loc["markov1", "AUC"], rel=1e-6)  # the AUC is weighted too
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    moved = ~(weighted.targets["occ"].astype(str) == weighted.targets["prev_occ"].astype(str)).to_numpy()
    transitions = ~weighted.targets["is_first"].to_numpy()
    p_move = 1 - weighted.predictions["markov1"].p_stay[transitions]
    expected = sklearn_metrics.roc_auc_score(moved[transitions], p_move, sample_weight=w[transitions])
    assert a.loc["markov1", "AUC"] == pytest.approx(expected, rel=1e-10)
