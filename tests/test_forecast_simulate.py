"""The forecasting engine, its covariate policies and the steppers of the count models."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import make_panel

from laborseq import CareerPanel, OccupationScheme
from laborseq.forecast.covariates import future_covariates
from laborseq.forecast.simulate import sample_indexed, sample_states, years_after
from laborseq.models import Marginal, Markov, MNLogit, SequenceModel
from laborseq.models.stepper import LastStatesStepper, PanelStepper

ORIGIN = 1996
MARKOV_VARIANTS = {
    "order1": {"order": 1},
    "order1_two_stage": {"order": 1, "two_stage": True},
    "order2": {"order": 2},
    "order2_two_stage": {"order": 2, "two_stage": True},
}


@pytest.fixture(scope="module")
def panel() -> CareerPanel:
    return make_panel(300, seed=3)


@pytest.fixture(scope="module", params=sorted(MARKOV_VARIANTS))
def markov(request, panel) -> Markov:
    return Markov(**MARKOV_VARIANTS[request.param]).fit(panel)


def _history(panel: CareerPanel, origin: int = ORIGIN) -> CareerPanel:
    data = panel.data
    past = (data["year"] <= origin).to_numpy()
    return CareerPanel._from_canonical(panel, data[past], np.zeros(int(past.sum()), bool))


def _few(panel: CareerPanel, n: int, origin: int = ORIGIN) -> CareerPanel:
    """The first ``n`` persons with a history at ``origin`` (some observed once before it, some more)."""
    data = panel.data
    counts = data[data["year"] <= origin].groupby("person_id").size()
    ones, more = counts.index[counts == 1], counts.index[counts > 1]
    return panel.select_persons([*ones[: n // 3], *more[: n - n // 3]])


# ---------------------------------------------------------------------- exact marginals
def test_monte_carlo_converges_to_exact_marginals(markov, panel):
    few = _few(panel, 8)
    exact = markov.forecast(few, origin=ORIGIN, horizon=4, method="exact")
    assert exact.paths is None and exact.method == "exact"
    errors = []
    for n_samples in (500, 20_000):
        sim = markov.forecast(few, origin=ORIGIN, horizon=4, n_samples=n_samples, rng=11)
        np.testing.assert_array_equal(sim.persons, exact.persons)
        errors.append(np.abs(sim.probabilities - exact.probabilities).max())
    # the first year is exact in both (every sample has the observed history)
    assert errors[1] < 0.01
    assert errors[1] < errors[0] / 2
    np.testing.assert_allclose(exact.probabilities.sum(axis=-1), 1.0, atol=1e-12)


def _tiny_panel() -> CareerPanel:
    """Three states, a few persons (one observed once, one with a two-year history), a sticky chain."""
    rng = np.random.default_rng(5)
    rows = []
    for person in range(60):
        years = 1990 + np.sort(rng.choice(8, size=rng.integers(1, 6), replace=False))
        state = rng.integers(0, 3)
        for year in years:
            rows.append({"person_id": person, "year": int(year), "occ": "abc"[state]})
            state = state if rng.random() < 0.6 else rng.integers(0, 3)
    scheme = OccupationScheme(name="abc", codes=("a", "b", "c"))
    return CareerPanel(pd.DataFrame(rows), scheme=scheme)


def _brute_force(model: SequenceModel, history: CareerPanel, years: list[int]) -> np.ndarray:
    """Marginals by enumerating every path, each step scored with ``predict_proba`` on a validated panel."""
    hist = history.data[["person_id", "year", "occ"]]
    persons = hist["person_id"].unique()
    k = len(model.classes_)
    out = np.zeros((len(persons), len(years), k))
    for p, person in enumerate(persons):
        rows = hist[hist["person_id"] == person]
        for h in range(len(years)):
            for prefix in itertools.product(range(k), repeat=h):
                prob = 1.0
                frame = rows.assign(target=False)
                for step, state in enumerate(prefix):
                    nxt = pd.DataFrame({"person_id": [person], "year": [years[step]], "occ": ["a"], "target": [True]})
                    dist = model.predict_proba(
                        CareerPanel(pd.concat([frame, nxt]), scheme=history.scheme, target="target")
                    )
                    prob *= dist[0, state]
                    nxt["occ"], nxt["target"] = model.classes_[state], False
                    frame = pd.concat([frame, nxt])
                nxt = pd.DataFrame({"person_id": [person], "year": [years[h]], "occ": ["a"], "target": [True]})
                dist = model.predict_proba(CareerPanel(pd.concat([frame, nxt]), scheme=history.scheme, target="target"))
                out[p, h] += prob * dist[0]
    return out


@pytest.mark.parametrize("params", list(MARKOV_VARIANTS.values()), ids=list(MARKOV_VARIANTS))
def test_exact_marginals_equal_brute_force_enumeration(params):
    tiny = _tiny_panel()
    model = Markov(**params).fit(tiny)
    origin = 1993
    persons = tiny.data.loc[tiny.data["year"] <= origin, "person_id"].unique()
    sub = tiny.select_persons(persons[:4])
    exact = model.forecast(sub, origin=origin, years=[1994, 1996, 1997], method="exact")
    expected = _brute_force(model, _history(sub, origin), [1994, 1996, 1997])
    np.testing.assert_allclose(exact.probabilities, expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- the generic stepper
class _PanelStepperMarkov(Markov):
    """A Markov model forced onto the generic stepper."""

    def _stepper(self, history, n_samples):
        return SequenceModel._stepper(self, history, n_samples)


def test_panel_stepper_matches_markov_stepper_step_by_step(markov, panel):
    history = _history(_few(panel, 12))
    n_samples = 5
    fast = markov._stepper(history, n_samples)
    generic = PanelStepper(markov, history, n_samples)
    assert isinstance(fast, LastStatesStepper)
    n_paths = 12 * n_samples
    covs = pd.DataFrame(
        {"education": pd.Categorical(["bachelors"] * n_paths), "race": pd.Categorical(["white"] * n_paths)}
    )
    rng = np.random.default_rng(0)
    for year in (1997, 1998, 2000, 2001):
        a, b = fast.step(year, covs), generic.step(year, covs)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        states = rng.integers(0, len(markov.classes_), n_paths)  # arbitrary, so that paths diverge
        fast.append(states)
        generic.append(states)


def test_generic_forecast_equals_markov_forecast(panel):
    params = {"order": 2, "two_stage": True}
    fast_model = Markov(**params).fit(panel)
    slow_model = _PanelStepperMarkov(**params).fit(panel)
    few = _few(panel, 10)
    fast = fast_model.forecast(few, origin=ORIGIN, horizon=3, n_samples=40, rng=4)
    slow = slow_model.forecast(few, origin=ORIGIN, horizon=3, n_samples=40, rng=4)
    np.testing.assert_allclose(slow.probabilities, fast.probabilities, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(slow.paths, fast.paths)


def test_panel_stepper_first_step_of_mnlogit_equals_predict_proba_on_the_real_next_year(panel):
    model = MNLogit(features=("previous_state", "years_in_state", "gap"), alpha=1e-3).fit(panel)
    data = panel.data
    nxt = ORIGIN + 1
    persons = np.intersect1d(data.loc[data["year"] <= ORIGIN, "person_id"], data.loc[data["year"] == nxt, "person_id"])
    assert len(persons) > 20
    real = data[data["person_id"].isin(persons) & (data["year"] <= nxt)].assign(target=lambda d: d["year"] == nxt)
    real_panel = CareerPanel(real, covariates=["education", "race"], scheme=panel.scheme, target="target")
    expected = model.predict_proba(real_panel)

    result = model.forecast(panel, origin=ORIGIN, horizon=2, n_samples=3, rng=0)
    at = pd.Index(result.persons).get_indexer(persons)
    np.testing.assert_allclose(result.probabilities[at, 0], expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.probabilities.sum(axis=-1), 1.0, atol=1e-9)

    history = _history(panel.select_persons(persons))
    stepper = PanelStepper(model, history, n_samples=2)
    held = data[data["person_id"].isin(persons)].groupby("person_id")[["education", "race"]].last()
    covs = held.iloc[np.repeat(np.arange(len(persons)), 2)].reset_index(drop=True)
    np.testing.assert_allclose(stepper.step(nxt, covs)[::2], expected, rtol=0, atol=1e-10)


def test_generic_stepper_keeps_ordered_categorical_covariates(panel):
    """Survey covariates are often ordered categoricals (education in nlswork): simulated rows must join them."""
    levels = ["high_school", "bachelors"]
    frame = panel.data.assign(education=pd.Categorical(panel.data["education"].astype(str), levels, ordered=True))
    ordered = CareerPanel(frame, covariates=["education", "race"], scheme=panel.scheme)
    model = MNLogit(features=("previous_state", "education"), alpha=1e-3).fit(ordered)
    result = model.forecast(ordered, origin=ORIGIN, horizon=2, n_samples=3, rng=0)
    np.testing.assert_allclose(result.probabilities.sum(axis=-1), 1.0, atol=1e-9)


def test_logit_forecasts_beyond_trained_calendar_years(panel):
    model = MNLogit(features=("previous_state", "calendar_year", "education"), alpha=1e-3).fit(panel)
    last = int(panel.years.max())
    result = model.forecast(_few(panel, 6, origin=last), origin=last, horizon=3, n_samples=5, rng=0)
    assert result.years.tolist() == [last + 1, last + 2, last + 3]
    np.testing.assert_allclose(result.probabilities.sum(axis=-1), 1.0, atol=1e-9)


# ---------------------------------------------------------------------- covariate policies
class _CovariateEcho(SequenceModel):
    """Puts all mass on state ``x mod K`` of the predicted row (state 0 where ``x`` is missing)."""

    def __init__(self) -> None:
        pass

    def _fit(self, panel, *, valid, weights, rng) -> None:
        pass

    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        k = len(self.classes_)
        x = panel.data["x"].to_numpy(dtype=float)[panel.target_mask]
        state = np.where(np.isnan(x), 0, np.nan_to_num(x)).astype(int) % k
        return np.eye(k)[state]

    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {}

    def _set_fitted(self, state, arrays) -> None:
        pass


def _covariate_panel(garbage: bool = False) -> CareerPanel:
    """Persons 1-3 with a time-varying ``x``; person 4 starts after the origin 1992."""
    rows = [
        (1, 1990, 1, "hs"), (1, 1991, 2, "hs"), (1, 1993, 3, "hs"), (1, 1994, 4, "hs"),
        (2, 1992, 1, "ba"), (2, 1994, 0, "ba"),
        (3, 1989, 2, "hs"), (3, 1992, np.nan, "hs"),
        (4, 1993, 1, "ba"), (4, 1994, 2, "ba"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["person_id", "year", "x", "education"]).assign(occ="11")
    if garbage:
        later = frame["year"] > 1992
        frame.loc[later, "x"] = 1e6 + 3
        frame.loc[later, "education"] = "garbage"
    scheme = OccupationScheme(name="toy", codes=("11", "22", "33", "44"), status_tokens=("unemployed",))
    return CareerPanel(frame, covariates=["x", "education"], scheme=scheme)


@pytest.fixture(scope="module")
def echo() -> _CovariateEcho:
    return _CovariateEcho().fit(_covariate_panel())


def test_hold_keeps_last_values_and_never_reads_rows_after_origin(echo):
    result = echo.forecast(_covariate_panel(), origin=1992, horizon=3, n_samples=2, rng=0)
    assert result.persons.tolist() == [1, 2, 3]  # person 4 has no row at or before 1992
    assert result.covariates == "hold" and result.model == "_CovariateEcho"
    # x held: person 1 -> 2, person 2 -> 1, person 3 -> 2 (last non-missing value)
    assert (result.paths == np.array([2, 1, 2])[:, None, None]).all()
    assert result.groups["x"].tolist() == [2, 1, 2]
    assert result.last_state.tolist() == [0, 0, 0] and result.last_year.tolist() == [1991, 1992, 1992]
    garbage = echo.forecast(_covariate_panel(garbage=True), origin=1992, horizon=3, n_samples=2, rng=0)
    np.testing.assert_array_equal(garbage.paths, result.paths)
    np.testing.assert_array_equal(garbage.probabilities, result.probabilities)


def test_observed_uses_future_rows_where_present(echo):
    result = echo.forecast(_covariate_panel(), origin=1992, horizon=3, n_samples=2, covariates="observed")
    # person 1: 1993 -> 3, 1994 -> 4 % 5, 1995 held -> 2; person 2: 1994 -> 0; person 3: held
    expected = np.array([[3, 4, 2], [1, 0, 1], [2, 2, 2]])
    np.testing.assert_array_equal(result.paths[:, 0, :], expected)
    assert result.covariates == "observed"
    garbage = echo.forecast(_covariate_panel(garbage=True), origin=1992, horizon=3, n_samples=2, covariates="observed")
    assert not np.array_equal(garbage.paths, result.paths)
    frame = future_covariates(
        _covariate_panel(garbage=True), _history(_covariate_panel(garbage=True), 1992), np.array([1993]), "observed"
    )
    assert frame["education"].tolist() == ["garbage", "ba", "hs"]


def test_callable_policy_is_applied(echo):
    seen = []

    def policy(frame: pd.DataFrame) -> pd.DataFrame:
        seen.append(frame.copy())
        out = frame.assign(x=frame["year"] - 1990 + frame["person_id"])
        return out.iloc[::-1]  # rows are aligned on person_id and year

    result = echo.forecast(_covariate_panel(), origin=1992, years=[1993, 1995], n_samples=2, covariates=policy)
    assert result.covariates == "callable"
    assert list(seen[0].columns) == ["person_id", "year", "x", "education"]
    assert seen[0]["person_id"].tolist() == [1, 1, 2, 2, 3, 3]
    assert seen[0]["year"].tolist() == [1993, 1995] * 3
    expected = (np.array([1993, 1995])[None, :] - 1990 + np.array([1, 2, 3])[:, None]) % 5
    np.testing.assert_array_equal(result.paths[:, 1, :], expected)
    with pytest.raises(ValueError, match="lacks covariate"):
        echo.forecast(_covariate_panel(), origin=1992, horizon=1, covariates=lambda f: f[["person_id", "year"]])
    with pytest.raises(ValueError, match="rows"):
        echo.forecast(_covariate_panel(), origin=1992, horizon=1, covariates=lambda f: f.drop(columns="year").iloc[1:])


# ---------------------------------------------------------------------- seeding and chunking
def test_same_seed_same_paths_and_batch_size_does_not_matter(panel):
    model = Markov(order=2).fit(panel)
    few = _few(panel, 9)
    base = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=7)
    assert base.seed == 7
    for batch_size in (1, 4, 100):
        other = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=7, batch_size=batch_size)
        np.testing.assert_array_equal(other.paths, base.paths)
        # p̄ sums a person's rows inside a matrix product over the chunk: equal up to rounding
        np.testing.assert_allclose(other.probabilities, base.probabilities, rtol=0, atol=1e-14)
    again = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=7)
    np.testing.assert_array_equal(again.probabilities, base.probabilities)
    different = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=8)
    assert not np.array_equal(different.paths, base.paths)
    gen_a = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=np.random.default_rng(1))
    gen_b = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(gen_a.paths, gen_b.paths)
    fresh = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50)
    again = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=50, rng=fresh.seed)
    np.testing.assert_array_equal(fresh.paths, again.paths)


def test_generic_stepper_is_also_independent_of_batch_size(panel):
    model = MNLogit(features=("previous_state", "years_in_state", "gap"), alpha=1e-3).fit(panel)
    few = _few(panel, 7)
    a = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=20, rng=3)
    b = model.forecast(few, origin=ORIGIN, horizon=3, n_samples=20, rng=3, batch_size=2)
    np.testing.assert_array_equal(a.paths, b.paths)
    np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- persons, years, errors
def test_persons_without_history_are_excluded(panel):
    model = Marginal().fit(panel)
    result = model.forecast(panel, origin=ORIGIN, until=ORIGIN + 2, n_samples=3, rng=0)
    data = panel.data
    expected = np.sort(data.loc[data["year"] <= ORIGIN, "person_id"].unique())
    np.testing.assert_array_equal(result.persons, expected)
    assert len(expected) < panel.n_persons
    assert result.years.tolist() == [ORIGIN + 1, ORIGIN + 2]
    # the marginal model's every step is its transition marginal
    np.testing.assert_allclose(
        result.probabilities, np.broadcast_to(model._transition_proba(), result.probabilities.shape)
    )


def test_forecast_years_and_errors(panel):
    assert years_after(2000, horizon=2).tolist() == [2001, 2002]
    assert years_after(2000, until=2003).tolist() == [2001, 2002, 2003]
    assert years_after(2000, years=(2002, 2004)).tolist() == [2002, 2004]
    model = Markov().fit(panel)
    bad = [
        ({}, "exactly one"),
        ({"horizon": 2, "until": 2000}, "exactly one"),
        ({"horizon": 2, "years": [1998]}, "exactly one"),
        ({"horizon": 0}, "positive"),
        ({"until": ORIGIN}, "after origin"),
        ({"years": [ORIGIN, ORIGIN + 1]}, "after origin"),
        ({"years": [ORIGIN + 2, ORIGIN + 1]}, "increasing"),
        ({"horizon": 2, "method": "magic"}, "method"),
        ({"horizon": 2, "covariates": "future"}, "covariates"),
        ({"horizon": 2, "n_samples": 0}, "n_samples"),
        ({"horizon": 2, "batch_size": 0}, "batch_size"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            model.forecast(panel, origin=ORIGIN, **kwargs)
    with pytest.raises(ValueError, match="no person"):
        model.forecast(panel, origin=1900, horizon=2)
    for other in (Marginal().fit(panel), MNLogit(features=("previous_state",), alpha=1e-3).fit(panel)):
        with pytest.raises(ValueError, match="exact"):
            other.forecast(panel, origin=ORIGIN, horizon=2, method="exact")


# ---------------------------------------------------------------------- sanity of simulated paths
def test_probabilities_sum_to_one_paths_in_range_and_sticky_chains_stay(panel):
    model = Markov().fit(panel)
    result = model.forecast(panel, origin=ORIGIN, horizon=4, n_samples=400, rng=2)
    k = len(model.classes_)
    np.testing.assert_allclose(result.probabilities.sum(axis=-1), 1.0, atol=1e-12)
    assert np.issubdtype(result.paths.dtype, np.integer)
    assert result.paths.min() >= 0 and result.paths.max() < k
    assert result.paths.shape == (len(result.persons), 400, 4)
    stay = np.diag(model.transition_matrix())
    assert stay.min() > 0.6  # the toy chain is sticky
    stayed = result.paths[:, :, 0] == result.last_state[:, None]
    assert stayed.mean() == pytest.approx(stay[result.last_state].mean(), abs=0.01)
    moves = (np.diff(result.paths, axis=2) != 0).mean()
    assert moves < 0.4


def test_sample_states_is_inverse_cdf():
    probs = np.array([[0.2, 0.0, 0.8], [0.2, 0.0, 0.8], [0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    u = np.array([0.19, 0.2, 0.0, 0.9999999, 0.0])
    np.testing.assert_array_equal(sample_states(probs, u), [0, 2, 0, 1, 2])  # zero-probability states never drawn
    draws = sample_states(np.tile([0.1, 0.6, 0.3], (200_000, 1)), np.random.default_rng(0).random(200_000))
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 200_000, [0.1, 0.6, 0.3], atol=0.005)


@pytest.mark.parametrize("n_rows", [3, 40, 5000])
def test_sample_indexed_draws_exactly_what_sample_states_draws(n_rows):
    rng = np.random.default_rng(n_rows)
    table = rng.dirichlet(np.full(6, 0.3), size=n_rows)
    table[rng.random(table.shape) < 0.3] = 0.0
    table[:, 0] += 1e-9  # keep every row non-empty
    index = rng.integers(0, n_rows, 20_000)
    u = rng.random(20_000)
    np.testing.assert_array_equal(sample_indexed(table, index, u), sample_states(table[index], u))


@pytest.mark.parametrize("n_rows", [4, 5000])
def test_person_means_of_indexed_steps_equal_the_mean_of_the_gathered_rows(n_rows):
    from laborseq.forecast.simulate import _person_means

    rng = np.random.default_rng(n_rows)
    table = rng.dirichlet(np.ones(7), size=n_rows)
    index = rng.integers(0, n_rows, 30 * 40)
    expected = table[index].reshape(30, 40, 7).mean(axis=1)
    np.testing.assert_allclose(_person_means(table, index, 30, 40), expected, rtol=0, atol=1e-14)


class _WarningMarkov(_PanelStepperMarkov):
    """Warns on every prediction, with a count in the message (as MNLogit does about unseen levels)."""

    def _predict_proba(self, panel):
        import warnings

        warnings.warn(f"feature 'x' has level(s) not seen in training ({panel.n_targets} rows)", stacklevel=2)
        return super()._predict_proba(panel)


def test_warnings_of_every_step_and_chunk_are_reported_once(panel):
    model = _WarningMarkov(order=1).fit(panel)
    with pytest.warns(UserWarning, match="not seen in training") as caught:
        model.forecast(_few(panel, 12), origin=ORIGIN, horizon=3, n_samples=4, rng=0, batch_size=3)
    assert len([w for w in caught if "not seen in training" in str(w.message)]) == 1


# ---------------------------------------------------------------------- the logit's incremental stepper
@pytest.fixture(scope="module")
def changing() -> CareerPanel:
    """make_panel with a birth year and an education that changes over some careers."""
    base = make_panel(300, seed=5)
    data = base.data.copy()
    person = data["person_id"].to_numpy()
    data["birth_year"] = 1950 + person % 23
    upgrade = (person % 3 == 0) & (data["year"].to_numpy() >= 1995)
    data["education"] = np.where(upgrade, "bachelors", data["education"].astype(str))
    return CareerPanel(data, covariates=["education", "race", "birth_year"], scheme=base.scheme)


@pytest.mark.parametrize("two_stage", [False, True])
def test_logit_stepper_equals_the_generic_stepper(changing, two_stage, monkeypatch):
    """Features updated year by year give the forecasts of features rebuilt from whole histories: the full
    regression features, a skipped year (gap), education that changes in the forecast years, birth cohorts."""
    model = MNLogit(features="full", alpha=1e-3, two_stage=two_stage).fit(changing)
    assert {"gap", "education_change", "years_in_state"} <= set(model.encoder_.numeric_)
    kwargs = {"origin": ORIGIN, "years": [1997, 1999, 2000, 2001], "n_samples": 25, "covariates": "observed"}
    fast = model.forecast(changing, rng=4, **kwargs)
    monkeypatch.setattr(MNLogit, "_stepper", SequenceModel._stepper)
    slow = model.forecast(changing, rng=4, **kwargs)
    np.testing.assert_allclose(fast.probabilities, slow.probabilities, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(fast.paths, slow.paths)


def test_logit_with_formula_terms_forecasts_with_the_generic_stepper(changing):
    model = MNLogit(features=("previous_state",), formula="race", alpha=1e-3).fit(changing)
    assert isinstance(model._stepper(_history(changing), 2), PanelStepper)
    plain = MNLogit(features=("previous_state",), alpha=1e-3).fit(changing)
    assert not isinstance(plain._stepper(_history(changing), 2), PanelStepper)
