"""BagOfJobs: uses the whole history, stops early at the best epoch, context computed as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborseq import CareerPanel, OccupationScheme
from laborseq.models import BagOfJobs, Markov
from laborseq.models import bag_history as bh
from laborseq.models import bag_of_jobs as bj

HOME_STATES = ("a", "b", "c", "d", "e", "f")


def home_state_panel(n_persons: int, seed: int, length: int = 8) -> CareerPanel:
    """Each person has a home state drawn at random and is in it 60% of the years, elsewhere at random.

    The previous state alone says little about the next one when the person is
    away from home; the most frequent earlier state reveals the home state.
    """
    rng = np.random.default_rng(seed)
    k = len(HOME_STATES)
    home = rng.integers(0, k, n_persons)
    away = (home[:, None] + rng.integers(1, k, (n_persons, length))) % k
    states = np.where(rng.random((n_persons, length)) < 0.6, home[:, None], away)
    frame = pd.DataFrame(
        {
            "person_id": np.repeat(np.arange(n_persons), length),
            "year": np.tile(np.arange(2000, 2000 + length), n_persons),
            "occ": np.asarray(HOME_STATES)[states.ravel()],
        }
    )
    return CareerPanel(frame, scheme=OccupationScheme(name="home", codes=HOME_STATES), name="home")


def transition_perplexity(model, panel: CareerPanel) -> float:
    transitions = ~panel.targets()["is_first"].to_numpy()
    return float(np.exp(-model.log_likelihood(panel)[transitions].mean()))


@pytest.mark.parametrize(("two_stage", "ratio"), [(True, 0.95), (False, 0.9)])
def test_beats_first_order_markov_when_the_whole_history_matters(two_stage, ratio):
    train, valid, test = (home_state_panel(n, seed) for n, seed in ((500, 0), (150, 1), (300, 2)))
    bag = BagOfJobs(embed_dim=16, two_stage=two_stage).fit(train, valid=valid, rng=0)
    markov = Markov(order=1).fit(train)
    assert transition_perplexity(bag, test) < ratio * transition_perplexity(markov, test)
    assert bag.perplexity(test) < markov.perplexity(test)


def test_early_stopping_keeps_the_best_validation_epoch():
    train, valid = home_state_panel(40, 3), home_state_panel(100, 4)
    model = BagOfJobs(embed_dim=32, alpha=0.0, lr=0.2, max_epochs=300, patience=8).fit(train, valid=valid, rng=0)
    info = model.fit_info_
    curve = np.asarray(info["valid_curve"])
    best = info["best_epoch"]
    assert info["valid_source"] == "valid"
    assert best == int(np.argmin(curve))
    assert info["stopped_early"] and info["epochs"] == best + model.patience + 1 < model.max_epochs
    assert curve[-1] > curve[best]  # it overfitted after the best epoch ...
    # ... and the model kept the parameters of the best epoch
    transitions = ~valid.targets()["is_first"].to_numpy()
    nll = -model.log_likelihood(valid)[transitions].mean()
    assert nll == pytest.approx(curve[best], rel=1e-12)
    assert info["best_valid_loss"] == pytest.approx(curve[best], rel=1e-12)


def _tiny_panel() -> CareerPanel:
    rows = [
        *[(1, 2000 + t, s, True) for t, s in enumerate("abaca")],
        *[(2, 2000 + t, s, t >= 2) for t, s in enumerate("bcab")],  # the first two years are context only
        (3, 2000, "c", True),
    ]
    frame = pd.DataFrame(rows, columns=["person_id", "year", "occ", "target"])
    return CareerPanel(frame, scheme=OccupationScheme(name="abc", codes=("a", "b", "c")), target="target")


def test_context_is_the_mean_over_states_before_the_previous_one():
    panel = _tiny_panel()
    shares = bh.context_shares(panel)
    expected = [
        [0, 0, 0],  # person 1, first year
        [0, 0, 0],  # second year: only the previous state, no context
        [1, 0, 0],  # history a b | previous b: context {a}
        [1 / 2, 1 / 2, 0],  # a b a: context {a, b}
        [2 / 3, 1 / 3, 0],  # a b a c: context {a, b, a}
        [0, 1, 0],  # person 2 at 2002 (context rows count as history): b c | a -> {b}
        [0, 1 / 2, 1 / 2],  # b c a | b -> {b, c}
        [0, 0, 0],  # person 3: first year
    ]
    np.testing.assert_allclose(shares, expected, rtol=0, atol=1e-15)


def test_prediction_depends_on_the_bag_not_the_order_of_earlier_states():
    scheme = OccupationScheme(name="abc", codes=("a", "b", "c"))
    train = home_state_panel(200, 5).data
    train["occ"] = train["occ"].map(dict(zip(HOME_STATES, "abcabc", strict=True)))
    model = BagOfJobs(embed_dim=8, max_epochs=100).fit(CareerPanel(train, scheme=scheme), rng=0)

    def last_year(history: str) -> np.ndarray:
        frame = pd.DataFrame({"person_id": 1, "year": range(2000, 2000 + len(history)), "occ": list(history)})
        return model.predict_proba(CareerPanel(frame, scheme=scheme))[-1]

    np.testing.assert_allclose(last_year("abbca"), last_year("bbaca"), rtol=1e-12)
    assert np.abs(last_year("abbca") - last_year("aabca")).max() > 1e-3


def test_sparse_and_dense_context_give_the_same_predictions(monkeypatch):
    train, test = home_state_panel(150, 6), home_state_panel(50, 7)
    dense = BagOfJobs(embed_dim=8, max_epochs=50).fit(train, rng=0)
    expected = dense.predict_proba(test)
    monkeypatch.setattr(bh, "DENSE_CONTEXT", 0)
    assert bh.context_shares_matrix(test, ~test.targets()["is_first"].to_numpy())[0].is_sparse
    sparse = BagOfJobs(embed_dim=8, max_epochs=50).fit(train, rng=0)  # trained and predicting with sparse shares
    np.testing.assert_allclose(sparse.predict_proba(test), expected, rtol=0, atol=1e-12)


def test_fit_is_deterministic_given_rng():
    train, test = home_state_panel(150, 8), home_state_panel(50, 9)

    def proba(rng, **params):
        return BagOfJobs(embed_dim=8, max_epochs=60, **params).fit(train, rng=rng).predict_proba(test)

    np.testing.assert_array_equal(proba(0), proba(0))
    np.testing.assert_array_equal(proba(np.random.default_rng(5)), proba(np.random.default_rng(5)))
    assert np.abs(proba(0) - proba(1)).max() > 1e-6
    minibatch = proba(0, batch_size=64, patience=3)
    np.testing.assert_array_equal(minibatch, proba(0, batch_size=64, patience=3))
    np.testing.assert_allclose(minibatch.sum(axis=1), 1.0, atol=1e-12)


def test_holdout_follows_the_records_not_the_person_key():
    panel = home_state_panel(2000, 10)
    held = bj.holdout_rows(panel, 0.1, seed=3)
    persons = panel.data["person_id"].to_numpy()
    share = pd.Series(held).groupby(persons).all().mean()
    assert 0.07 < share < 0.13
    assert (pd.Series(held).groupby(persons).nunique() == 1).all()  # whole persons
    renamed = CareerPanel(panel.data.assign(person_id=persons + 10_000), scheme=panel.scheme)
    np.testing.assert_array_equal(bj.holdout_rows(renamed, 0.1, seed=3), held)
    assert not np.array_equal(bj.holdout_rows(panel, 0.1, seed=4), held)


def test_without_a_validation_panel_part_of_training_is_held_out():
    train = home_state_panel(200, 11)
    model = BagOfJobs(embed_dim=8, max_epochs=30).fit(train, rng=0)
    assert model.fit_info_["valid_source"] == "holdout"
    assert 0.8 * 1400 < model.n_transitions_ < 1400  # 200 persons x 7 transitions, about 10% held out


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"embed_dim": 0}, "embed_dim"),
        ({"batch_size": 0}, "batch_size"),
        ({"alpha": -1.0}, "non-negative"),
        ({"lr": 0.0}, "lr"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_invalid_hyperparameters_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        BagOfJobs(**params).fit(home_state_panel(20, 12))


def test_a_panel_without_transitions_is_refused():
    frame = pd.DataFrame({"person_id": [1, 2], "year": [2000, 2001], "occ": ["a", "b"]})
    with pytest.raises(ValueError, match="at least one transition"):
        BagOfJobs().fit(CareerPanel(frame, scheme=OccupationScheme(name="ab", codes=("a", "b"))))
