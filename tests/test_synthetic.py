"""Synthetic careers: the exact likelihood against a brute-force reference, sampling against the likelihood."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from laborseq import CareerPanel, PanelValidationError
from laborseq.evaluation.comparison import compare
from laborseq.models import Markov, load_model
from laborseq.models.oracle import TrueProcessModel
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.synthetic import RACES, REGIONS, SyntheticCareers


@pytest.fixture(scope="module")
def small() -> SyntheticCareers:
    return SyntheticCareers(seed=3, n_occupations=6, n_types=3, related_boost=1.5)


@pytest.fixture(scope="module")
def tiny() -> SyntheticCareers:
    return SyntheticCareers(seed=2, n_occupations=3, n_types=2)


@pytest.fixture(scope="module")
def tiny_panel(tiny: SyntheticCareers) -> CareerPanel:
    return tiny.sample(20_000, "survey", rng=11)


# ---------------------------------------------------------------------- brute-force reference
def _person(panel: CareerPanel, person: int) -> dict:
    data = panel.data[panel.data["person_id"] == person]
    first = data.iloc[0]
    return {
        "states": [panel.states.index(str(s)) for s in data["occ"]],
        "years": [int(y) for y in data["year"]],
        "edu": [EDUCATION_LEVELS.index(str(e)) for e in data["education"]],
        "female": 1.0 if first["gender"] == "female" else 0.0,
        "race": RACES.index(str(first["race"])),
        "region": REGIONS.index(str(first["region"])),
        "birth": int(first["birth_year"]),
    }


def _softmax(values: list[float]) -> list[float]:
    top = max(values)
    ex = [math.exp(v - top) for v in values]
    return [v / sum(ex) for v in ex]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _utilities(proc: SyntheticCareers, z: int, e: int, female: float, year: int) -> list[float]:
    p = proc.params
    out = []
    for s, name in enumerate(proc.states):
        v = p.preference[z, s] + (e - 1) * p.education_loading[s] + female * p.female_effect[s]
        v += p.drift[s] * (year - 2000) / 10
        if name == "unemployed":
            v += proc.cycle_amplitude * math.sin(2 * math.pi * (year - 1980) / proc.cycle_period)
        out.append(v)
    return out


def _type_prior(proc: SyntheticCareers, person: dict, population: str) -> list[float]:
    p, x = proc.params, person
    shift = proc.population(population).type_shift
    logits = [
        p.type_intercept[z]
        + x["female"] * p.type_female[z]
        + p.type_race[z, x["race"]]
        + p.type_region[z, x["region"]]
        + p.type_education[z, x["edu"][0]]
        + (x["birth"] - 1975) / 10 * p.type_cohort[z]
        + shift * p.type_selection[z]
        for z in range(proc.n_types)
    ]
    return _softmax(logits)


def _naive_step(proc: SyntheticCareers, z: int, x: dict, states: list[int], t: int, s: int) -> float:
    """P(y_t = s | y_<t, z) straight from the formulas of the module docstring."""
    p = proc.params
    util = _utilities(proc, z, x["edu"][t], x["female"], x["years"][t])
    if t == 0:
        return _softmax([u + p.initial_offset[j] for j, u in enumerate(util)])[s]
    c = states[t - 1]
    tenure = 0
    for prev in reversed(states[:t]):
        if prev != c:
            break
        tenure += 1
    gap = x["years"][t] - x["years"][t - 1]
    stay = _sigmoid(
        p.stay_type[z] + p.tenure_type[z] * math.log(1 + tenure) - proc.gap_effect * math.log(gap) + p.stay_state[c]
    )
    if s == c:
        return stay
    weights = {}
    for h in set(states[:t]) - {c}:
        count = sum(1 for q in states[:t] if q == h)
        last = max(i for i, q in enumerate(states[:t]) if q == h)
        weights[h] = count * math.exp(-proc.recency * (t - 1 - last))
    p_ret = _sigmoid(p.return_type[z]) if weights else 0.0
    base = _softmax(util)
    boost = [math.exp(proc.related_boost) if p.group[j] == p.group[c] else 1.0 for j in range(len(base))]
    denom = sum(base[j] * boost[j] for j in range(len(base)) if j != c)
    fresh = base[s] * boost[s] / denom
    ret = weights.get(s, 0.0) / sum(weights.values()) if weights else 0.0
    return (1 - stay) * (p_ret * ret + (1 - p_ret) * fresh)


def _naive_prob(proc: SyntheticCareers, x: dict, states: list[int], population: str) -> float:
    """P(y_0..y_{T-1} | x) = sum_z P(z | x) prod_t P(y_t | y_<t, z)."""
    prior = _type_prior(proc, x, population)
    total = 0.0
    for z in range(proc.n_types):
        prob = prior[z]
        for t in range(len(states)):
            prob *= _naive_step(proc, z, x, states, t, states[t])
        total += prob
    return total


def _long_persons(panel: CareerPanel, n: int, min_len: int = 5) -> list[int]:
    sizes = panel.data.groupby("person_id").size()
    return list(sizes[sizes >= min_len].index[:n])


def test_likelihood_equals_brute_force(small: SyntheticCareers) -> None:
    panel = small.sample(200, "survey", rng=1)
    ll = small.log_likelihood(panel)
    targets = panel.targets()
    for person in _long_persons(panel, 4):
        x = _person(panel, person)
        rows = (targets["person_id"] == person).to_numpy()
        assert ll[rows].sum() == pytest.approx(math.log(_naive_prob(small, x, x["states"], "survey")), rel=1e-10)
        prefixes = [_naive_prob(small, x, x["states"][: t + 1], "survey") for t in range(len(x["states"]))]
        conditionals = np.log(np.array(prefixes) / np.r_[1.0, prefixes[:-1]])
        np.testing.assert_allclose(ll[rows], conditionals, rtol=1e-10, atol=1e-12)


def test_predict_proba_equals_brute_force(small: SyntheticCareers) -> None:
    panel = small.sample(100, "resume", rng=2)
    proba = small.predict_proba(panel)
    targets = panel.targets()
    person = _long_persons(panel, 1, min_len=6)[0]
    x = _person(panel, person)
    rows = np.flatnonzero((targets["person_id"] == person).to_numpy())
    for t in (0, 3, 5):
        before = _naive_prob(small, x, x["states"][:t], "resume") if t else 1.0
        expected = [_naive_prob(small, x, [*x["states"][:t], s], "resume") / before for s in range(len(small.states))]
        np.testing.assert_allclose(proba[rows[t]], expected, rtol=1e-9, atol=1e-14)


def test_brute_force_sees_returns_and_gaps(small: SyntheticCareers) -> None:
    """The persons checked against the reference exercise returns, tenure and gaps."""
    panel = small.sample(200, "survey", rng=1)
    returns = gaps = 0
    for person in _long_persons(panel, 4):
        x = _person(panel, person)
        s = x["states"]
        returns += sum(1 for t in range(2, len(s)) if s[t] != s[t - 1] and s[t] in s[: t - 1])
        gaps += sum(1 for a, b in zip(x["years"], x["years"][1:], strict=False) if b - a > 1)
    assert returns > 0 and gaps > 0


# ---------------------------------------------------------------------- predictions and context rows
def test_predict_proba_matches_log_likelihood(small: SyntheticCareers) -> None:
    panel = small.sample(300, "survey", rng=4)
    proba = small.predict_proba(panel)
    assert proba.shape == (panel.n_targets, len(small.states))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    observed = panel.state_index()[panel.target_mask]
    np.testing.assert_allclose(
        np.log(proba[np.arange(len(observed)), observed]), small.log_likelihood(panel), atol=1e-12
    )
    assert small.oracle_perplexity(panel) == pytest.approx(np.exp(-small.log_likelihood(panel).mean()))


def test_context_rows_condition_but_are_not_scored(small: SyntheticCareers) -> None:
    panel = small.sample(400, "survey", rng=5)
    full = small.log_likelihood(panel)
    _, future = panel.split_at_year(2005)
    assert (~future.target_mask).any() and future.n_targets < panel.n_targets
    keys = pd.MultiIndex.from_frame(panel.targets()[["person_id", "year"]])
    future_keys = pd.MultiIndex.from_frame(future.targets()[["person_id", "year"]])
    np.testing.assert_allclose(small.log_likelihood(future), full[keys.get_indexer(future_keys)], atol=1e-12)
    proba = small.predict_proba(future)
    np.testing.assert_allclose(proba, small.predict_proba(panel)[keys.get_indexer(future_keys)], atol=1e-12)


def test_wider_scheme_gets_zero_columns(small: SyntheticCareers) -> None:
    panel = small.sample(50, "survey", rng=6)
    wider = small.scheme.__class__(name="wider", codes=small.scheme.codes, status_tokens=("unemployed", "military"))
    data = panel.data.assign(occ=panel.data["occ"].astype(str))
    other = CareerPanel(data, covariates=list(panel.covariates), scheme=wider, metadata=panel.metadata)
    proba = small.predict_proba(other)
    assert (proba[:, -1] == 0).all()
    np.testing.assert_allclose(proba[:, :-1], small.predict_proba(panel), atol=1e-14)


# ---------------------------------------------------------------------- sampling against the likelihood
def _z_scores(indicator: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Sum of (1{y = s} - p(s)) over rows, standardised, per column: N(0, 1) when p is the sampler's law."""
    resid = (indicator - proba).sum(axis=0)
    var = (proba * (1 - proba)).sum(axis=0)
    return resid / np.sqrt(np.maximum(var, 1e-12))


def test_sampler_agrees_with_predictions(tiny: SyntheticCareers, tiny_panel: CareerPanel) -> None:
    proba = tiny.predict_proba(tiny_panel)
    targets = tiny_panel.targets()
    k = len(tiny.states)
    onehot = np.eye(k)[tiny_panel.state_index()[tiny_panel.target_mask]]
    first = targets["is_first"].to_numpy()
    assert np.abs(_z_scores(onehot[first], proba[first])).max() < 4.5
    np.testing.assert_allclose(onehot[first].mean(0), proba[first].mean(0), atol=0.015)
    prev = targets["prev_occ"].cat.codes.to_numpy()
    gap = targets["gap"].to_numpy()
    for a in range(k):
        for long_gap in (False, True):
            rows = (prev == a) & ((gap > 1) == long_gap)
            assert rows.sum() > 300
            assert np.abs(_z_scores(onehot[rows], proba[rows])).max() < 4.5, (a, long_gap)


def _earlier_jobs(panel: CareerPanel) -> tuple[np.ndarray, np.ndarray]:
    """Per row: earlier states other than the previous one (bool, rows x states) and the latest of them (-1)."""
    seq = panel.sequences()
    k = len(panel.states)
    earlier = np.zeros((len(seq.states), k), dtype=bool)
    latest = np.full(len(seq.states), -1)
    for i in range(len(seq)):
        lo, hi = seq.offsets[i], seq.offsets[i + 1]
        for t in range(2, hi - lo):
            before = [s for s in seq.states[lo : lo + t - 1] if s != seq.states[lo + t - 1]]
            earlier[lo + t, before] = True
            latest[lo + t] = before[-1] if before else -1
    return earlier, latest


def test_moves_follow_predicted_destinations(tiny: SyntheticCareers, tiny_panel: CareerPanel) -> None:
    """Given that a person moved, the destination follows the predicted distribution without the stay."""
    proba = tiny.predict_proba(tiny_panel)
    targets = tiny_panel.targets()
    y = tiny_panel.state_index()[tiny_panel.target_mask]
    prev = targets["prev_occ"].cat.codes.to_numpy()
    moved = ~targets["is_first"].to_numpy() & (y != prev)
    for a in range(len(tiny.states)):
        rows = moved & (prev == a)
        q = proba[rows]
        q[:, a] = 0.0
        q /= q.sum(axis=1, keepdims=True)
        assert rows.sum() > 100
        assert np.abs(_z_scores(np.eye(len(tiny.states))[y[rows]], q)[np.arange(len(tiny.states)) != a]).max() < 4.5


def test_returns_follow_counts_and_recency() -> None:
    """Among moves with several earlier jobs, the latest earlier job is chosen as often as predicted."""
    proc = SyntheticCareers(seed=1, n_occupations=12, n_types=2, stay_intercept=-0.5, return_intercept=1.0)
    panel = proc.sample(6000, "resume", rng=3)
    proba = proc.predict_proba(panel)
    targets = panel.targets()
    y = panel.state_index()[panel.target_mask]
    prev = targets["prev_occ"].cat.codes.to_numpy()
    earlier, latest = _earlier_jobs(panel)
    rows = ~targets["is_first"].to_numpy() & (y != prev) & (earlier.sum(axis=1) >= 2)
    q = proba[rows]
    q[np.arange(len(q)), prev[rows]] = 0.0
    q /= q.sum(axis=1, keepdims=True)
    assert rows.sum() > 3000
    for hit, p in (
        (y[rows] == latest[rows], q[np.arange(len(q)), latest[rows]]),
        (earlier[rows, y[rows]], (q * earlier[rows]).sum(1)),
    ):
        assert abs((hit - p).sum() / np.sqrt((p * (1 - p)).sum())) < 4.5


def test_fresh_move_sampler_is_exact() -> None:
    """The inverse-CDF draw of fresh moves (boosted group, current state cut out) matches q_z."""
    proc = SyntheticCareers(seed=3, n_occupations=6, n_types=2, related_boost=1.5)
    tables = proc._tables(1990, 1991)
    rng = np.random.default_rng(0)
    n = 200_000
    cell = (np.full(n, 3), np.full(n, 0), np.full(n, 1), np.full(n, 1))
    for c in range(len(proc.states)):
        current = np.full(n, c, dtype=np.int32)
        draws = tables.sample_move(*cell, current, rng.random(n))
        q = tables.fresh_all(cell[0][:1], cell[1][:1], cell[2][:1], 1, current[:1])[0]
        assert q[c] == 0 and (draws != c).all()
        freq = np.bincount(draws, minlength=len(q)) / n
        assert np.abs(freq - q).max() < 4.5 * np.sqrt(0.25 / n)


def test_sampled_returns_match_predicted_returns(tiny: SyntheticCareers, tiny_panel: CareerPanel) -> None:
    """Moves back to an earlier (not the previous) job happen as often as the likelihood says."""
    seq = tiny_panel.sequences()
    proba = tiny.predict_proba(tiny_panel)
    earlier, _ = _earlier_jobs(tiny_panel)
    hit = earlier[np.arange(len(seq.states)), seq.states]
    p_hit = (proba * earlier).sum(axis=1)
    z = (hit - p_hit).sum() / np.sqrt((p_hit * (1 - p_hit)).sum())
    assert hit.sum() > 500 and abs(z) < 4.5


def test_mean_log_likelihood_is_expected_entropy(tiny: SyntheticCareers, tiny_panel: CareerPanel) -> None:
    proba = tiny.predict_proba(tiny_panel)
    ll = tiny.log_likelihood(tiny_panel)
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_entropy = np.nansum(proba * np.log(proba), axis=1)
    diff = ll - neg_entropy
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(len(diff))


def test_oracle_beats_first_order_markov() -> None:
    proc = SyntheticCareers(seed=2, n_occupations=40, n_types=4)
    train = proc.sample(15_000, "survey", rng=1)
    test = proc.sample(3_000, "survey", rng=2)
    markov = Markov(order=1, initial_by=("education", "gender")).fit(train)
    oracle = proc.oracle_perplexity(test)
    assert oracle < 0.97 * markov.perplexity(test)
    transitions = ~test.targets()["is_first"].to_numpy()
    oracle_tr = np.exp(-proc.log_likelihood(test)[transitions].mean())
    assert oracle_tr < 0.97 * np.exp(-markov.log_likelihood(test)[transitions].mean())


# ---------------------------------------------------------------------- seeds, chunks and files
def test_same_seed_same_panel_different_seed_differs(small: SyntheticCareers) -> None:
    a = small.sample(150, "survey", rng=7)
    pd.testing.assert_frame_equal(a.data, small.sample(150, "survey", rng=7).data)
    pd.testing.assert_frame_equal(
        a.data,
        SyntheticCareers(seed=3, n_occupations=6, n_types=3, related_boost=1.5).sample(150, "survey", rng=7).data,
    )
    assert not a.data.equals(small.sample(150, "survey", rng=8).data)
    other = SyntheticCareers(seed=4, n_occupations=6, n_types=3)
    assert other.states != small.states
    assert not np.allclose(SyntheticCareers(seed=4).params.preference, SyntheticCareers(seed=3).params.preference)
    np.testing.assert_array_equal(
        SyntheticCareers(seed=3).params.preference, SyntheticCareers(seed=3).params.preference
    )


def test_write_parquet_in_chunks_equals_sample(small: SyntheticCareers, tmp_path) -> None:
    path = small.write_parquet(tmp_path / "resume.parquet", 100, "resume", rng=9, chunk_size=37)
    back = CareerPanel.read_parquet(path)
    expected = small.sample(100, "resume", rng=9, chunk_size=37)
    pd.testing.assert_frame_equal(back.data, expected.data)
    assert back.scheme == expected.scheme == small.scheme
    assert back.covariates == expected.covariates and back.static_covariates == expected.static_covariates
    assert back.name == expected.name and back.metadata == expected.metadata
    assert back.n_persons == 100 and back.persons.max() == 100
    assert [p.name for p in tmp_path.iterdir()] == ["resume.parquet"]
    np.testing.assert_allclose(small.log_likelihood(back), small.log_likelihood(expected))


def test_chunks_draw_from_independent_streams(small: SyntheticCareers) -> None:
    panel = small.sample(60, "resume", rng=9, chunk_size=30)
    data = panel.data
    a = data[data["person_id"] <= 30].reset_index(drop=True)
    b = data[data["person_id"] > 30].reset_index(drop=True)
    assert not a["occ"].astype(str).equals(b["occ"].astype(str))


# ---------------------------------------------------------------------- populations and schemes
def test_survey_has_gaps_resume_is_annual(small: SyntheticCareers) -> None:
    survey = small.sample(2000, "survey", rng=1)
    resume = small.sample(2000, "resume", rng=1)
    assert set(resume.describe().gap_counts) == {1}
    assert max(survey.describe().gap_counts) > 1 and survey.describe().persons_with_gaps > 1000
    later = survey.data[survey.positions() > 0]
    assert (later["year"][later["year"] >= 1994] % 2 == 0).all()
    assert resume.years.min() > survey.years.min() and resume.years.max() > survey.years.max()


def test_populations_differ_in_covariates(small: SyntheticCareers) -> None:
    survey = small.sample(3000, "survey", rng=1).data.groupby("person_id").last()
    resume = small.sample(3000, "resume", rng=1).data.groupby("person_id").last()
    college = ("bachelors", "postgraduate")
    assert resume["education"].isin(college).mean() > survey["education"].isin(college).mean() + 0.25
    assert resume["birth_year"].mean() > survey["birth_year"].mean() + 5


def test_education_never_falls(small: SyntheticCareers) -> None:
    data = small.sample(500, "survey", rng=3).data
    level = data["education"].map({e: i for i, e in enumerate(EDUCATION_LEVELS)}).astype(int)
    step = level.diff()[data["person_id"].eq(data["person_id"].shift())]
    assert (step >= 0).all() and (step > 0).any()


def test_scheme_carries_occ1990dd_and_is_shared(small: SyntheticCareers) -> None:
    full = occ1990dd()
    scheme = small.scheme
    assert len(scheme.codes) == 6 and scheme.status_tokens == ("unemployed",)
    assert all(scheme.title(c) == full.title(c) for c in scheme.codes)
    assert all(scheme.group_of(c, "major_group") == full.group_of(c, "major_group") for c in scheme.codes)
    assert list(scheme.codes) == [c for c in full.codes if c in set(scheme.codes)]
    assert small.sample(5, "survey", rng=1).scheme == small.sample(5, "resume", rng=1).scheme
    assert SyntheticCareers(seed=0).states == (*full.codes, "unemployed")
    assert SyntheticCareers(seed=0, n_occupations=5, unemployment=False).states[-1] != "unemployed"


# ---------------------------------------------------------------------- errors
def test_unknown_state_raises(small: SyntheticCareers) -> None:
    panel = small.sample(20, "survey", rng=1)
    data = panel.data
    data["occ"] = data["occ"].astype(str)
    data.loc[3, "occ"] = "999999"
    bad = CareerPanel(data, covariates=list(panel.covariates), metadata=panel.metadata)
    with pytest.raises(PanelValidationError, match="999999") as err:
        small.log_likelihood(bad)
    assert err.value.column == "occ"


@pytest.mark.parametrize(("column", "value"), [("race", "martian"), ("education", "phd"), ("gender", "other")])
def test_unknown_covariate_level_raises(small: SyntheticCareers, column: str, value: str) -> None:
    panel = small.sample(20, "survey", rng=1)
    data = panel.data
    data[column] = data[column].astype(str)
    data[column] = value
    bad = CareerPanel(data, covariates=list(panel.covariates), scheme=panel.scheme, metadata=panel.metadata)
    with pytest.raises(PanelValidationError, match=value) as err:
        small.predict_proba(bad)
    assert err.value.column == column


def test_missing_column_and_population_raise(small: SyntheticCareers) -> None:
    panel = small.sample(20, "survey", rng=1)
    data = panel.data.drop(columns="region")
    covs = [c for c in panel.covariates if c != "region"]
    with pytest.raises(PanelValidationError, match="region"):
        small.log_likelihood(CareerPanel(data, covariates=covs, scheme=panel.scheme, metadata=panel.metadata))
    anonymous = CareerPanel(panel.data, covariates=list(panel.covariates), scheme=panel.scheme)
    with pytest.raises(ValueError, match="population"):
        small.log_likelihood(anonymous)
    np.testing.assert_allclose(small.log_likelihood(anonymous, "survey"), small.log_likelihood(panel))
    with pytest.raises(ValueError, match="unknown population"):
        small.sample(5, "census")


def test_varying_static_covariate_raises(small: SyntheticCareers) -> None:
    panel = small.sample(50, "survey", rng=1)
    data = panel.data
    person = _long_persons(panel, 1, min_len=2)[0]
    row = data.index[data["person_id"] == person][1]
    data["gender"] = data["gender"].astype(str)
    data.loc[row, "gender"] = "male" if data.loc[row, "gender"] == "female" else "female"
    bad = CareerPanel(data, covariates=list(panel.covariates), scheme=panel.scheme, metadata=panel.metadata)
    with pytest.raises(PanelValidationError, match="constant within a person"):
        small.log_likelihood(bad)


# ---------------------------------------------------------------------- the oracle as a model
def test_true_process_model(small: SyntheticCareers, tmp_path) -> None:
    train = small.sample(300, "survey", rng=1)
    test = small.sample(200, "survey", rng=2)
    model = TrueProcessModel.from_process(small).fit(train)
    np.testing.assert_allclose(model.predict_proba(test), small.predict_proba(test))
    np.testing.assert_allclose(model.log_likelihood(test), small.log_likelihood(test))
    assert model.perplexity(test) == pytest.approx(small.oracle_perplexity(test))
    loaded = load_model(model.save(tmp_path / "oracle"))
    assert isinstance(loaded, TrueProcessModel)
    np.testing.assert_array_equal(loaded.log_likelihood(test), model.log_likelihood(test))
    result = compare({"oracle": TrueProcessModel.from_process(small), "markov": Markov()}, train, test, n_boot=20)
    assert result.score("oracle").estimate == pytest.approx(small.oracle_perplexity(test))


def test_true_process_model_needs_process(small: SyntheticCareers) -> None:
    with pytest.raises(ValueError, match="configuration"):
        TrueProcessModel().fit(small.sample(10, "survey", rng=1))


def test_config_round_trip(small: SyntheticCareers) -> None:
    again = SyntheticCareers.from_config(small.config())
    assert again == small
    for name, value in small.params.to_arrays().items():
        np.testing.assert_array_equal(getattr(again.params, name), value)
    assert small.sample(3, "survey", rng=1).metadata["synthetic"]["process"] == small.config()
