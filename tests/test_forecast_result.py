"""ForecastResult: tables, shares, scores, ROC AUC, plots and persistence against hand computations."""

from __future__ import annotations

import math

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from laborseq import CareerPanel, OccupationScheme
from laborseq.evaluation.metrics import binary_perplexity, event_summary, roc_auc
from laborseq.forecast.result import ForecastResult
from laborseq.forecast.scoring import ForecastScore

STATES = ("11", "22", "33", "unemployed", "out_of_labor_force")
PERSONS = np.array([101, 102, 103, 104])
YEARS = np.array([2015, 2016, 2017])
ORIGIN = 2014
LAST_STATE = np.array([0, 1, 3, 2])
P, H, K, S = len(PERSONS), len(YEARS), len(STATES), 7


def make_scheme() -> OccupationScheme:
    return OccupationScheme(
        name="toy",
        codes=STATES[:3],
        titles={"11": "managers", "22": "clerks", "33": "operators"},
        groups={"major": {"11": "white_collar", "22": "white_collar", "33": "blue_collar"}},
        status_tokens=STATES[3:],
    )


def make_result(persons=PERSONS, with_paths=True, seed=0, **overrides) -> ForecastResult:
    rng = np.random.default_rng(seed)
    fields = {
        "classes": STATES,
        "persons": np.asarray(persons),
        "years": YEARS,
        "origin": ORIGIN,
        "last_state": LAST_STATE,
        "last_year": np.array([2014, 2014, 2013, 2014]),
        "probabilities": rng.dirichlet(np.ones(K), size=(P, H)),
        "paths": rng.integers(0, K, size=(P, S, H)).astype(np.int16) if with_paths else None,
        "groups": pd.DataFrame({"education": ["hs", "ba", "hs", "ba"], "age": [30, 41, 25, 52]}, index=persons),
        "scheme": make_scheme(),
        "model": "toy_model",
        "method": "simulate" if with_paths else "exact",
        "seed": seed,
    }
    fields.update(overrides)
    return ForecastResult(**fields)


def make_observed() -> CareerPanel:
    rows = [
        (101, 2013, "11"),
        (101, 2014, "11"),
        (101, 2015, "11"),
        (101, 2016, "22"),
        (101, 2017, "22"),
        (101, 2018, "11"),
        (102, 2014, "22"),
        (102, 2015, "unemployed"),
        (102, 2017, "22"),
        (103, 2013, "unemployed"),
        (103, 2015, "33"),
        (103, 2016, "33"),
        (104, 2014, "33"),
        (104, 2015, "out_of_labor_force"),
        (104, 2016, "33"),
        (104, 2017, "11"),
        (999, 2015, "11"),
        (999, 2016, "11"),
    ]
    frame = pd.DataFrame(rows, columns=["person_id", "year", "occ"])
    return CareerPanel(frame, scheme=make_scheme(), name="observed")


# Rows of make_observed() in the forecast: (person position, year position, state index).
SCORED_ROWS = [
    (0, 0, 0),
    (0, 1, 1),
    (0, 2, 1),
    (1, 0, 3),
    (1, 2, 1),
    (2, 0, 2),
    (2, 1, 2),
    (3, 0, 4),
    (3, 1, 2),
    (3, 2, 0),
]
IGNORED_ROWS = 8  # years 2013, 2014 and 2018, and person 999


@pytest.fixture
def result() -> ForecastResult:
    return make_result()


# ---------------------------------------------------------------------- construction
def test_properties_and_repr(result):
    assert result.n_samples == S
    assert result.n_persons == P
    np.testing.assert_array_equal(result.horizons, [1, 2, 3])
    assert make_result(with_paths=False).n_samples == 0
    text = repr(result)
    assert "toy_model" in text and "2015-2017" in text and "samples=7" in text and "\n" not in text


def test_groups_are_reordered_to_persons():
    groups = pd.DataFrame({"education": ["ba", "hs", "ba", "hs"]}, index=PERSONS[::-1])
    result = make_result(groups=groups)
    assert list(result.groups.index) == list(PERSONS)
    assert list(result.groups["education"]) == ["hs", "ba", "hs", "ba"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("probabilities", np.full((P, H, K - 1), 0.25), "probabilities"),
        ("probabilities", np.full((P, H, K), 0.5), "sum to 1"),
        ("paths", np.zeros((P, S, H + 1), dtype=int), "paths"),
        ("paths", np.full((P, S, H), K, dtype=int), "paths"),
        ("paths", np.zeros((P, S, H)), "paths"),
        ("last_state", np.zeros(P + 1, dtype=int), "last_state"),
        ("last_state", np.array([0, 1, 2, K]), "last_state"),
        ("last_year", np.array([2014, 2014, 2015, 2014]), "last_year"),
        ("years", np.array([2015, 2017, 2016]), "years"),
        ("years", np.array([2014, 2015, 2016]), "years"),
        ("persons", np.array([101, 101, 103, 104]), "persons"),
        ("classes", ("11", "22", "33", "unemployed", "in_school"), "classes"),
        ("groups", pd.DataFrame({"education": ["hs"] * 4}, index=[101, 102, 103, 105]), "groups"),
        ("method", "magic", "method"),
    ],
)
def test_validation_names_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        make_result(**{field: value})


# ---------------------------------------------------------------------- long tables
def test_marginals_wide_and_long(result):
    wide = result.marginals()
    assert wide.shape == (P * H, K)
    assert list(wide.columns) == list(STATES)
    assert wide.loc[(102, 2016), "33"] == result.probabilities[1, 1, 2]
    assert wide.loc[(104, 2017), "unemployed"] == result.probabilities[3, 2, 3]
    long = result.marginals(wide=False)
    assert list(long.columns) == ["person_id", "year", "state", "probability"]
    assert len(long) == P * H * K
    row = long[(long.person_id == 103) & (long.year == 2015) & (long.state == "out_of_labor_force")]
    assert row["probability"].item() == result.probabilities[2, 0, 4]
    np.testing.assert_allclose(long.groupby(["person_id", "year"])["probability"].sum(), 1.0)


def test_paths_frame(result):
    frame = result.paths_frame()
    assert list(frame.columns) == ["person_id", "sample", "year", "state"]
    assert len(frame) == P * S * H
    assert list(frame["state"].cat.categories) == list(STATES)
    for p, s, h in [(0, 0, 0), (2, 5, 1), (3, 6, 2)]:
        row = frame[(frame.person_id == PERSONS[p]) & (frame["sample"] == s) & (frame.year == YEARS[h])]
        assert row["state"].item() == STATES[result.paths[p, s, h]]
    with pytest.raises(ValueError, match="no sampled paths"):
        make_result(with_paths=False).paths_frame()


def test_paths_frame_with_string_keys():
    result = make_result(persons=np.array(["a", "b", "c", "d"]))
    frame = result.paths_frame()
    assert list(frame.person_id.unique()) == ["a", "b", "c", "d"]
    assert (frame.person_id == "c").sum() == S * H


# ---------------------------------------------------------------------- shares
def loop_shares(result, members, states_of, level=0.9):
    """Expected shares and simulation intervals by plain loops; states_of maps class index -> label."""
    labels = list(dict.fromkeys(states_of))
    out = {}
    for h in range(H):
        for label in labels:
            cols = [k for k in range(K) if states_of[k] == label]
            expected = sum(sum(result.probabilities[p, h, k] for k in cols) for p in members) / len(members)
            per_sample = []
            for s in range(S):
                hits = sum(1 for p in members if states_of[result.paths[p, s, h]] == label)
                per_sample.append(hits / len(members))
            low, high = np.quantile(per_sample, [(1 - level) / 2, (1 + level) / 2])
            out[YEARS[h], label] = (expected, low, high)
    return out


def assert_shares_match(table, expected):
    assert len(table) == len(expected)
    for row in table.itertuples():
        share, low, high = expected[row.year, row.state]
        assert row.share == pytest.approx(share, abs=1e-12)
        assert row.low == pytest.approx(low, abs=1e-12)
        assert row.high == pytest.approx(high, abs=1e-12)


def test_shares_overall(result):
    table = result.shares(level=0.8)
    assert list(table.columns) == ["year", "state", "share", "low", "high"]
    assert_shares_match(table, loop_shares(result, range(P), STATES, level=0.8))
    np.testing.assert_allclose(table.groupby("year")["share"].sum(), 1.0)


def test_shares_by_group(result):
    table = result.shares(by="education")
    assert list(table.columns) == ["education", "year", "state", "share", "low", "high"]
    assert set(table["education"]) == {"ba", "hs"}
    for value, members in {"hs": [0, 2], "ba": [1, 3]}.items():
        assert_shares_match(table[table.education == value], loop_shares(result, members, STATES))


def test_shares_coarsened_sum_the_right_states(result):
    table = result.shares(coarsen="major")
    labels = ["white_collar", "white_collar", "blue_collar", "unemployed", "out_of_labor_force"]
    assert set(table["state"]) == set(labels)
    assert_shares_match(table, loop_shares(result, range(P), labels))
    white = table[(table.state == "white_collar") & (table.year == 2016)]["share"].item()
    assert white == pytest.approx(result.probabilities[:, 1, :2].sum(axis=1).mean())


def test_shares_leave_out_persons_with_a_missing_group(result):
    groups = result.groups.assign(education=["hs", None, "hs", "ba"])
    table = make_result(groups=groups).shares(by="education")
    assert set(table["education"]) == {"ba", "hs"}
    assert_shares_match(table[table.education == "ba"], loop_shares(result, [3], STATES))
    with pytest.raises(KeyError, match="not a column"):
        result.shares(by="region")


def test_shares_without_paths_have_no_interval():
    table = make_result(with_paths=False).shares()
    assert table[["low", "high"]].isna().all().all()
    assert table["share"].notna().all()


def test_origin_and_observed_shares(result):
    start = result.origin_shares()
    assert (start["year"] == ORIGIN).all()
    shares = dict(zip(start["state"], start["share"], strict=True))
    assert shares == {"11": 0.25, "22": 0.25, "33": 0.25, "unemployed": 0.25, "out_of_labor_force": 0.0}

    seen = result.observed_shares(make_observed())
    at = seen.set_index(["year", "state"])
    # 2015: 101 "11", 102 unemployed, 103 "33", 104 out_of_labor_force (person 999 is not forecast)
    assert at.loc[(2015, "11"), "share"] == 0.25 and at.loc[(2015, "11"), "n"] == 4
    # 2016: 101 "22", 103 "33", 104 "33"
    assert at.loc[(2016, "33"), "share"] == pytest.approx(2 / 3)
    # 2017: 101 "22", 102 "22", 104 "11"
    assert at.loc[(2017, "22"), "share"] == pytest.approx(2 / 3)
    by = result.observed_shares(make_observed(), by="education", coarsen="major").set_index(
        ["education", "year", "state"]
    )
    assert by.loc[("hs", 2016, "blue_collar"), "share"] == 0.5  # 101 "22" (white collar), 103 "33"
    assert by.loc[("hs", 2017, "blue_collar"), "n"] == 1


# ---------------------------------------------------------------------- scores
def plain_score(result, rows):
    """Perplexity per horizon and overall, and event arrays, by plain Python."""
    nll = {h: [] for h in range(H)}
    moves, not_employed = [], []
    for p, h, k in rows:
        nll[h].append(-math.log(result.probabilities[p, h, k]))
        last = LAST_STATE[p]
        moves.append((h, k != last, 1 - result.probabilities[p, h, last]))
        not_employed.append((h, k in (3, 4), result.probabilities[p, h, 3] + result.probabilities[p, h, 4]))
    per_h = {h: math.exp(sum(v) / len(v)) for h, v in nll.items() if v}
    everything = [x for v in nll.values() for x in v]
    return per_h, math.exp(sum(everything) / len(everything)), moves, not_employed


def brute_auc(y, q):
    pos = [s for t, s in zip(y, q, strict=True) if t]
    neg = [s for t, s in zip(y, q, strict=True) if not t]
    if not pos or not neg:
        return float("nan")
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def plain_binary_perplexity(y, q):
    losses = [-(math.log(b) if t else math.log(1 - b)) for t, b in zip(y, q, strict=True)]
    return math.exp(sum(losses) / len(losses))


def test_score_complete_only(result):
    score = result.score(make_observed())
    assert isinstance(score, ForecastScore)
    complete = [r for r in SCORED_ROWS if r[0] != 2]  # person 103 is not observed in 2017
    per_h, overall, moves, not_employed = plain_score(result, complete)
    table = score.by_horizon
    assert list(table["horizon"]) == [1, 2, 3]
    assert list(table["year"]) == list(YEARS)
    assert list(table["n"]) == [3, 2, 3]
    np.testing.assert_allclose(table["perplexity"], [per_h[0], per_h[1], per_h[2]], rtol=1e-12)
    assert score.overall["perplexity"] == pytest.approx(overall, rel=1e-12)
    assert score.overall["n_persons"] == 3
    assert score.overall["n_person_years"] == 8
    assert score.n_persons_incomplete == 1
    assert score.n_rows_ignored == IGNORED_ROWS
    assert score.events == ("moves", "not_employed")

    for name, cases in {"moves": moves, "not_employed": not_employed}.items():
        y = [c[1] for c in cases]
        q = [c[2] for c in cases]
        assert score.overall[f"{name}_rate"] == pytest.approx(np.mean(y))
        assert score.overall[f"{name}_predicted"] == pytest.approx(np.mean(q))
        assert score.overall[f"{name}_perplexity"] == pytest.approx(plain_binary_perplexity(y, q), rel=1e-12)
        assert score.overall[f"{name}_auc"] == pytest.approx(brute_auc(y, q), rel=1e-12)
        for h in range(H):
            yh = [c[1] for c in cases if c[0] == h]
            qh = [c[2] for c in cases if c[0] == h]
            assert table.loc[h, f"{name}_perplexity"] == pytest.approx(plain_binary_perplexity(yh, qh), rel=1e-12)
            expected_auc = brute_auc(yh, qh)
            if math.isnan(expected_auc):
                assert math.isnan(table.loc[h, f"{name}_auc"])
            else:
                assert table.loc[h, f"{name}_auc"] == pytest.approx(expected_auc, rel=1e-12)


def test_weighted_score_weights_every_person_year_and_bootstraps_persons(result):
    observed = make_observed()
    frame = observed.data.assign(w=observed.data["person_id"].map({101: 1.0, 102: 3.0, 103: 2.0, 104: 0.5, 999: 9.0}))
    weighted = CareerPanel(frame, scheme=make_scheme(), weight="w")
    score = result.score(weighted, complete_only=False, n_boot=400, rng=1)
    rows = SCORED_ROWS
    weight_of = {0: 1.0, 1: 3.0, 2: 2.0, 3: 0.5}
    nll = [-math.log(result.probabilities[p, h, k]) for p, h, k in rows]
    w = [weight_of[p] for p, _, _ in rows]
    assert score.weighted and score.overall["perplexity"] == pytest.approx(
        math.exp(np.average(nll, weights=w)), rel=1e-12
    )
    for h in range(H):
        at = [i for i, (_, hh, _) in enumerate(rows) if hh == h]
        expected = math.exp(np.average([nll[i] for i in at], weights=[w[i] for i in at]))
        assert score.by_horizon.loc[h, "perplexity"] == pytest.approx(expected, rel=1e-12)
    unweighted = result.score(weighted, complete_only=False, weighted=False)
    assert not unweighted.weighted and "perplexity_low" not in unweighted.by_horizon
    assert unweighted.overall["perplexity"] == pytest.approx(math.exp(np.mean(nll)), rel=1e-12)
    table = score.by_horizon
    assert (table["perplexity_low"] <= table["perplexity"]).all() and (
        table["perplexity"] <= table["perplexity_high"]
    ).all()
    assert score.overall["perplexity_low"] < score.overall["perplexity"] < score.overall["perplexity_high"]
    again = result.score(weighted, complete_only=False, n_boot=400, rng=1)
    pd.testing.assert_frame_equal(again.by_horizon, table)  # the draws follow the seed


def test_score_all_persons(result):
    score = result.score(make_observed(), complete_only=False)
    per_h, overall, _, _ = plain_score(result, SCORED_ROWS)
    assert list(score.by_horizon["n"]) == [4, 3, 3]
    np.testing.assert_allclose(score.by_horizon["perplexity"], [per_h[0], per_h[1], per_h[2]], rtol=1e-12)
    assert score.overall["perplexity"] == pytest.approx(overall, rel=1e-12)
    assert score.n_persons_incomplete == 0


def test_score_to_dict_is_json(result):
    import json

    data = json.loads(json.dumps(result.score(make_observed()).to_dict()))
    assert data["model"] == "toy_model"
    assert len(data["by_horizon"]) == H
    assert data["overall"]["n_person_years"] == 8
    assert "perplexity" in str(result.score(make_observed()))


def test_not_employed_is_only_scored_when_defined():
    scheme = OccupationScheme(name="jobs", codes=("1", "2", "3"))
    rng = np.random.default_rng(1)
    result = ForecastResult(
        classes=scheme.states,
        persons=np.array([1, 2]),
        years=np.array([2001]),
        origin=2000,
        last_state=np.array([0, 1]),
        last_year=np.array([2000, 2000]),
        probabilities=rng.dirichlet(np.ones(3), size=(2, 1)),
        paths=None,
        groups=None,
        scheme=scheme,
        method="exact",
    )
    observed = CareerPanel(pd.DataFrame({"person_id": [1, 2], "year": [2001, 2001], "occ": ["1", "3"]}), scheme=scheme)
    score = result.score(observed)
    assert score.events == ("moves",)
    assert "not_employed_auc" not in score.by_horizon
    assert score.overall["moves_auc"] == pytest.approx(
        brute_auc([False, True], [1 - result.probabilities[0, 0, 0], 1 - result.probabilities[1, 0, 1]])
    )


def test_zero_probability_gives_infinite_perplexity_with_a_warning(result):
    probs = result.probabilities.copy()
    probs[0, 0, :] = [0.0, 0.5, 0.5, 0.0, 0.0]  # person 101 is observed in "11" in 2015
    zero = make_result(probabilities=probs)
    with pytest.warns(UserWarning, match="zero probability"):
        score = zero.score(make_observed())
    assert math.isinf(score.overall["perplexity"])
    assert math.isinf(score.by_horizon.loc[0, "perplexity"])
    assert math.isfinite(score.by_horizon.loc[1, "perplexity"])
    assert math.isfinite(score.overall["moves_perplexity"])  # binary log-loss is clipped


def test_score_rejects_states_outside_the_classes(result):
    other = OccupationScheme(name="other", codes=("11", "99"))
    frame = pd.DataFrame({"person_id": [101, 102], "year": [2015, 2017], "occ": ["11", "99"]})
    with pytest.raises(ValueError, match="not among the forecast's classes"):
        result.score(CareerPanel(frame, scheme=other))


def test_score_without_overlap_raises(result):
    frame = pd.DataFrame({"person_id": [999], "year": [2015], "occ": ["11"]})
    with pytest.raises(ValueError, match="no observed rows"):
        result.score(CareerPanel(frame, scheme=make_scheme()))


# ---------------------------------------------------------------------- ROC AUC
def test_roc_auc_matches_brute_force_with_ties():
    rng = np.random.default_rng(3)
    for n in (2, 7, 40):
        y = rng.random(n) < 0.4
        y[0], y[1] = True, False
        q = np.round(rng.random(n), 1)  # many ties
        assert roc_auc(y, q) == pytest.approx(brute_auc(y.tolist(), q.tolist()), rel=1e-12)


def test_weighted_roc_auc_equals_scikit_learns_and_unit_weights_change_nothing():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    for n in (5, 60, 500):
        y = rng.random(n) < 0.3
        y[0], y[1] = True, False
        q = np.round(rng.random(n), 2)  # ties
        w = rng.uniform(0.1, 5.0, n)
        assert roc_auc(y, q, sample_weight=w) == pytest.approx(
            sklearn_metrics.roc_auc_score(y, q, sample_weight=w), rel=1e-12
        )
        assert roc_auc(y, q, sample_weight=np.ones(n)) == pytest.approx(roc_auc(y, q), rel=1e-12)
    # an integer weight is the same as repeating the case
    y, q = np.array([1, 0, 1, 0]), np.array([0.9, 0.4, 0.3, 0.5])
    repeated = roc_auc(np.array([1, 1, 0, 1, 0]), np.array([0.9, 0.9, 0.4, 0.3, 0.5]))
    assert roc_auc(y, q, sample_weight=np.array([2.0, 1, 1, 1])) == pytest.approx(repeated)
    with pytest.raises(ValueError, match="non-negative"):
        roc_auc(y, q, sample_weight=np.array([1.0, -1, 1, 1]))


def test_weighted_event_summary_is_the_weighted_means():
    y, q, w = np.array([1, 0, 0, 1]), np.array([0.8, 0.3, 0.4, 0.6]), np.array([1.0, 3.0, 1.0, 0.0])
    summary = event_summary(y, q, weights=w)
    assert summary["rate"] == pytest.approx(0.2) and summary["predicted"] == pytest.approx((0.8 + 0.9 + 0.4) / 5)
    nll = -(np.log(0.8) + 3 * np.log(0.7) + np.log(0.6)) / 5
    assert summary["perplexity"] == pytest.approx(np.exp(nll))
    assert summary["auc"] == pytest.approx(1.0)  # the one weighted positive outranks both weighted negatives


def test_roc_auc_extremes():
    y = np.array([0, 0, 1, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(y, np.full(5, 0.4)) == 0.5
    assert math.isnan(roc_auc(np.ones(3), np.array([0.1, 0.2, 0.3])))
    with pytest.raises(ValueError, match="same length"):
        roc_auc(y, np.ones(4))


def test_binary_perplexity_clips():
    assert binary_perplexity(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(2.0)
    assert math.isfinite(binary_perplexity(np.array([1]), np.array([0.0])))


# ---------------------------------------------------------------------- plots
def test_plot_lines(result):
    fig = result.plot(top=3)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes[0].lines) == 3
    fig.clear()
    fig = result.plot(make_observed(), states=["11", "unemployed"])
    assert len(fig.axes[0].lines) == 4  # projection + observed markers per state
    line = fig.axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [ORIGIN, *YEARS])
    assert line.get_ydata()[0] == 0.25  # one person of four was last seen in "11"
    fig.clear()
    fig = result.plot(make_observed(), by="education", coarsen="major", top=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and all(len(ax.lines) == 4 for ax in visible)
    fig.clear()
    with pytest.raises(ValueError, match="not states"):
        result.plot(states=["99"])


def test_plot_into_given_axes(result):
    fig = matplotlib.figure.Figure()
    ax = fig.subplots()
    assert make_result(with_paths=False).plot(top=2, ax=ax) is fig
    assert len(ax.lines) == 2
    assert not ax.collections  # no simulation band without paths
    with pytest.raises(ValueError, match="only without by"):
        result.plot(by="education", ax=ax)


# ---------------------------------------------------------------------- persistence
@pytest.mark.parametrize("persons", [PERSONS, np.array(["p1", "p2", "p3", "p4"])])
@pytest.mark.parametrize("paths", [True, False])
def test_save_load_round_trip(tmp_path, persons, paths):
    result = make_result(persons=persons, with_paths=paths)
    target = result.save(tmp_path / "forecast")
    files = sorted(p.name for p in target.iterdir())
    expected = ["forecast.json", "groups.parquet", "probabilities.npz"] + (["paths.parquet"] if paths else [])
    assert files == sorted(expected)
    with np.load(target / "probabilities.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"probabilities", "last_state", "last_year"}
    loaded = ForecastResult.load(target)
    np.testing.assert_array_equal(loaded.persons, result.persons)
    np.testing.assert_array_equal(loaded.years, result.years)
    np.testing.assert_array_equal(loaded.probabilities, result.probabilities)
    np.testing.assert_array_equal(loaded.last_state, result.last_state)
    np.testing.assert_array_equal(loaded.last_year, result.last_year)
    if paths:
        np.testing.assert_array_equal(loaded.paths, result.paths)
    else:
        assert loaded.paths is None
    pd.testing.assert_frame_equal(loaded.groups, result.groups, check_index_type=False)
    assert loaded.scheme == result.scheme
    assert (loaded.classes, loaded.origin, loaded.model, loaded.method, loaded.seed) == (
        result.classes,
        result.origin,
        result.model,
        result.method,
        result.seed,
    )
    pd.testing.assert_frame_equal(loaded.shares(), result.shares())
