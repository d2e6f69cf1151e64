"""Wage regressions: linearmodels estimates against statsmodels, PCA against an eigendecomposition, a known DGP.

The wage study is checked on careers whose wages carry a premium for having left occupation "22": only
occupation changers' wages depend on the history beyond the current job, so representations must help
them and nobody else; its scores are recomputed by hand with statsmodels and a hand-written person bootstrap.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import make_panel
from linearmodels.panel.utility import AbsorbingEffectWarning

from laborseq.studies.representations import one_hot_history, previous_occupation
from laborseq.studies.wage_equation import KINDS, RepresentationPCA, fit_wage_model, wage_design
from laborseq.studies.wages import (
    CHANGED,
    FIRST_YEAR,
    MINCER,
    STAYED,
    change_subgroups,
    wage_study,
)

N_BOOT = 300


@pytest.fixture(scope="module")
def panel():
    return make_panel(n_persons=600, seed=11)


def _wages(panel, career_effect: float = 0.0, seed: int = 0, changers_only: bool = False) -> pd.DataFrame:
    """Log wages from a Mincer equation plus a premium for having been in state "22" at the previous observation.

    With ``changers_only`` the premium goes only to those who have left "22" (the current state differs).
    """
    gen = np.random.default_rng(seed)
    data = panel.data
    experience = data.groupby("person_id").cumcount().to_numpy() + gen.uniform(0, 3, len(data))
    schooling = np.where(data["education"].to_numpy() == "bachelors", 16.0, 12.0)
    previous = panel.lagged_states(1)
    premium = career_effect * (previous == panel.states.index("22"))
    if changers_only:
        premium = premium * (panel.state_index() != previous)
    ln_wage = 1.0 + 0.08 * experience - 0.002 * experience**2 + 0.07 * schooling + premium
    ln_wage = ln_wage + gen.normal(0, 0.3, len(data))
    index = pd.MultiIndex.from_arrays([data["person_id"].to_numpy(), data["year"].to_numpy()])
    return pd.DataFrame({"ln_wage": ln_wage, "experience": experience, "schooling": schooling}, index=index)


def _hand_subgroups(panel) -> np.ndarray:
    """Subgroup of every row from a loop over the rows (sorted by person and year)."""
    labels, last = [], {}
    for person, occ in zip(panel.data["person_id"], panel.data["occ"].astype(str), strict=True):
        labels.append(FIRST_YEAR if person not in last else STAYED if last[person] == occ else CHANGED)
        last[person] = occ
    return np.array(labels)


@pytest.fixture(scope="module")
def split(panel):
    return panel.split_persons((0.7, 0.3), rng=0)


@pytest.fixture(scope="module")
def history(panel, split):
    return one_hot_history(panel)


@pytest.fixture(scope="module")
def changer_wages(panel):
    return _wages(panel, career_effect=0.6, changers_only=True)


@pytest.fixture(scope="module")
def study(split, changer_wages, history):
    train, test = split
    representations = {"one-hot history": history, "previous occupation": previous_occupation(history)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", AbsorbingEffectWarning)  # expected absorption stays quiet
        return wage_study(train, test, changer_wages, representations, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def by_hand(split, changer_wages, history):
    """Held-out pooled OLS predictions with and without the previous occupation, from statsmodels.

    All five principal components of the ``prev=`` columns are kept, so they span the same space as the
    (centred) columns themselves: OLS on the raw dummies must predict exactly as OLS on the components.
    """
    train, test = split
    prev = previous_occupation(history)
    y_train, x_train = wage_design(train, changer_wages)
    y_test, x_test = wage_design(test, changer_wages)
    x_test = x_test.reindex(columns=x_train.columns, fill_value=0.0)
    without = x_test.to_numpy() @ sm.OLS(y_train.to_numpy(), x_train.to_numpy()).fit().params
    x_train_prev = x_train.join(prev)
    x_test_prev = x_test.join(prev)
    with_prev = x_test_prev.to_numpy() @ sm.OLS(y_train.to_numpy(), x_train_prev.to_numpy()).fit().params
    groups = pd.Series(_hand_subgroups(test), index=test.person_year_index()).reindex(y_test.index).to_numpy()
    return {"y": y_test, "without": without, "with": with_prev, "groups": groups}


def test_design_has_the_mincer_terms_and_dummies(panel):
    y, x = wage_design(panel, _wages(panel))
    assert list(x.columns[:4]) == ["const", "experience", "experience_sq", "schooling"]
    assert {c for c in x.columns if c.startswith("occ=")} == {f"occ={s}" for s in panel.states[1:]}
    assert len(y) == len(x) == len(panel)
    np.testing.assert_allclose(x["experience_sq"], x["experience"] ** 2)


def test_missing_wages_are_a_clear_error(panel):
    wages = _wages(panel).iloc[5:]
    with pytest.raises(ValueError, match="wages lack 5"):
        wage_design(panel, wages)


def test_pooled_ols_equals_statsmodels(panel):
    y, x = wage_design(panel, _wages(panel))
    ours = fit_wage_model(y, x, "pooled")
    reference = sm.OLS(y.to_numpy(), x.to_numpy()).fit()
    np.testing.assert_allclose(ours.params.to_numpy(), reference.params, rtol=1e-8)
    assert ours.params["experience"] == pytest.approx(0.08, abs=0.02)
    with pytest.warns(Warning, match="absorbed"):
        fixed = fit_wage_model(y, x, "fixed")
    assert "schooling" not in fixed.params  # time-invariant: absorbed by the person effects
    random = fit_wage_model(y, x, "random")
    assert random.params["schooling"] == pytest.approx(0.07, abs=0.02)
    with pytest.raises(ValueError, match="kind"):
        fit_wage_model(y, x, "between")


def test_pca_matches_an_eigendecomposition():
    gen = np.random.default_rng(0)
    x = pd.DataFrame(gen.normal(size=(300, 6)) @ gen.normal(size=(6, 6)))
    pca = RepresentationPCA(3).fit(x)
    centred = x.to_numpy() - x.to_numpy().mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigenvalues)[::-1][:3]
    np.testing.assert_allclose(np.abs(pca.components_), np.abs(eigenvectors[:, order].T), atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio_, eigenvalues[order] / eigenvalues.sum())
    np.testing.assert_allclose(pca.transform(x).mean(axis=0), 0, atol=1e-10)
    with pytest.raises(ValueError, match="n_components"):
        RepresentationPCA(7).fit(x)


def test_change_subgroups_match_a_loop_over_rows(panel):
    groups = change_subgroups(panel)
    assert groups.index.equals(panel.person_year_index())
    np.testing.assert_array_equal(groups.to_numpy(), _hand_subgroups(panel))
    assert set(groups) == {FIRST_YEAR, STAYED, CHANGED}


def test_previous_occupation_keeps_the_previous_state_columns(history):
    prev = previous_occupation(history)
    assert list(prev.columns) == [c for c in history.columns if c.startswith("prev=")]
    pd.testing.assert_frame_equal(prev, history[prev.columns])
    with pytest.raises(ValueError, match="prev="):
        previous_occupation(history.drop(columns=prev.columns))


def test_gains_come_from_occupation_changers(study):
    for name in ("one-hot history", "previous occupation"):
        assert study.differences.loc[(name, "pooled"), "rmse_diff_high"] < 0
        rows = study.subgroups.loc[name]
        assert rows.loc[CHANGED, "rmse_diff_high"] < 0, rows
        for group in (STAYED, FIRST_YEAR):
            assert rows.loc[group, "rmse_diff_low"] < 0 < rows.loc[group, "rmse_diff_high"], rows
        assert abs(rows.loc[CHANGED, "rmse_diff"]) > 5 * abs(rows.loc[STAYED, "rmse_diff"])
        # changers are a minority, yet they carry most of the reduction in mean squared error
        assert rows.loc[CHANGED, "share"] < 0.25
        assert rows.loc[CHANGED, "mse_contribution"] < 0.8 * rows["mse_contribution"].sum()
        assert rows["n_person_years"].sum() == study.n_test_person_years
        assert rows["share"].sum() == pytest.approx(1.0)
        overall = (
            study.table.loc[(f"{MINCER} + {name}", "pooled"), "rmse"] ** 2
            - study.table.loc[(MINCER, "pooled"), "rmse"] ** 2
        )
        assert rows["mse_contribution"].sum() == pytest.approx(overall, rel=1e-10)


def test_scores_equal_a_hand_computation(study, by_hand):
    y = by_hand["y"].to_numpy()

    def rmse(pred, mask=slice(None)):
        return np.sqrt(np.mean((y[mask] - pred[mask]) ** 2))

    r2 = 1 - np.sum((y - by_hand["without"]) ** 2) / np.sum((y - y.mean()) ** 2)
    assert study.table.loc[(MINCER, "pooled"), "rmse"] == pytest.approx(rmse(by_hand["without"]), rel=1e-8)
    assert study.table.loc[(MINCER, "pooled"), "r2"] == pytest.approx(r2, rel=1e-8)
    with_prev = study.table.loc[("Mincer + previous occupation", "pooled")]
    assert with_prev["rmse"] == pytest.approx(rmse(by_hand["with"]), rel=1e-8)
    diff = study.differences.loc[("previous occupation", "pooled"), "rmse_diff"]
    assert diff == pytest.approx(rmse(by_hand["with"]) - rmse(by_hand["without"]), rel=1e-6)
    changers = by_hand["groups"] == CHANGED
    row = study.subgroups.loc[("previous occupation", CHANGED)]
    assert row["n_person_years"] == changers.sum()
    assert row["rmse_without"] == pytest.approx(rmse(by_hand["without"], changers), rel=1e-8)
    assert row["rmse_with"] == pytest.approx(rmse(by_hand["with"], changers), rel=1e-8)
    assert (study.n_test_person_years, study.n_test_persons) == (
        len(y),
        by_hand["y"].index.get_level_values(0).nunique(),
    )


def test_intervals_resample_held_out_persons(study, by_hand):
    y = by_hand["y"].to_numpy()
    persons = pd.factorize(by_hand["y"].index.get_level_values(0))[0]
    n = persons.max() + 1
    counts = np.random.default_rng(0).multinomial(n, np.full(n, 1 / n), size=N_BOOT)[:, persons]
    draws = {k: np.sqrt(counts @ (y - by_hand[k]) ** 2 / counts.sum(axis=1)) for k in ("with", "without")}
    low, high = np.quantile(draws["without"], [0.025, 0.975])
    row = study.table.loc[(MINCER, "pooled")]
    assert (row["rmse_low"], row["rmse_high"]) == (pytest.approx(low, rel=1e-8), pytest.approx(high, rel=1e-8))
    low, high = np.quantile(draws["with"] - draws["without"], [0.025, 0.975])
    diff = study.differences.loc[("previous occupation", "pooled")]
    assert (diff["rmse_diff_low"], diff["rmse_diff_high"]) == (
        pytest.approx(low, rel=1e-6),
        pytest.approx(high, rel=1e-6),
    )
    assert row["rmse_low"] < row["rmse"] < row["rmse_high"] and row["r2_low"] < row["r2"] < row["r2_high"]


def test_mincer_rows_do_not_depend_on_the_representations(split, changer_wages, history, study):
    alone = wage_study(*split, changer_wages, {"previous occupation": previous_occupation(history)}, n_boot=N_BOOT)
    pd.testing.assert_frame_equal(alone.table.loc[[MINCER]], study.table.loc[[MINCER]])
    pd.testing.assert_frame_equal(alone.differences, study.differences.loc[["previous occupation"]])
    pd.testing.assert_frame_equal(alone.subgroups, study.subgroups.loc[["previous occupation"]])


def test_in_sample_fits_and_their_comparison(split, changer_wages, study):
    first = "Mincer + one-hot history"
    assert set(study.fits) == {(spec, kind) for spec in (MINCER, first) for kind in KINDS}
    y, x = wage_design(split[0], changer_wages)
    reference = sm.OLS(y.to_numpy(), x.to_numpy()).fit()
    np.testing.assert_allclose(study.fits[MINCER, "pooled"].params.to_numpy(), reference.params, rtol=1e-8)
    assert "schooling" not in study.fits[first, "fixed"].params
    assert {f"pc{i}" for i in range(9)} <= set(study.fits[first, "random"].params.index)
    text = study.compare_summary()
    header = next(line for line in text.splitlines() if "pooled" in line)
    assert header.split() == ["pooled", "RE", "FE", "pooled+", "RE+", "FE+"]
    assert "Model Comparison" in text and "pc8" in text
    summaries = study.fit_summaries()
    assert "PooledOLS Estimation Summary" in summaries[MINCER, "pooled"]
    assert "RandomEffects Estimation Summary" in summaries[first, "random"]
    assert "PanelOLS Estimation Summary" in summaries[first, "fixed"]


def test_components_are_fitted_on_training_rows(study):
    comps = study.components
    assert comps.loc["one-hot history", "n_columns"] == 10
    # previous-state and share columns each sum to one after the first year: one direction has no variance
    assert comps.loc["one-hot history", "n_components"] == 9
    assert comps.loc["previous occupation", "n_components"] == 5
    np.testing.assert_allclose(comps["explained_variance"], 1.0)
    assert (comps["n_collinear"] == 0).all()


def test_components_collinear_with_the_mincer_regressors_are_left_out(split, changer_wages):
    """A representation that repeats experience adds nothing: its predictions are those of the other column."""
    train, test = split
    index = train.person_year_index().append(test.person_year_index())
    noise = np.random.default_rng(1).normal(size=len(index))
    reps = pd.DataFrame(
        {"noise": noise, "experience": 2 * changer_wages["experience"].reindex(index).to_numpy()}, index
    )
    study = wage_study(train, test, changer_wages, {"repeat": reps}, n_boot=10)
    assert study.components.loc["repeat", "n_collinear"] == 1
    y_train, x_train = wage_design(train, changer_wages, reps[["noise"]])
    y_test, x_test = wage_design(test, changer_wages, reps[["noise"]])
    params = sm.OLS(y_train.to_numpy(), x_train.to_numpy()).fit().params
    pred = x_test.reindex(columns=x_train.columns, fill_value=0.0).to_numpy() @ params
    rmse = np.sqrt(np.mean((y_test.to_numpy() - pred) ** 2))
    assert study.table.loc[("Mincer + repeat", "pooled"), "rmse"] == pytest.approx(rmse, rel=1e-8)
    assert study.components.loc["repeat", "n_components"] == 2


def test_to_dict_is_plain_json(study):
    back = json.loads(json.dumps(study.to_dict(), allow_nan=False))
    assert back["n_boot"] == N_BOOT and back["seed"] == 0 and back["level"] == 0.95
    assert len(back["heldout"]) == 6 and len(back["differences"]) == 4 and len(back["subgroups"]) == 6
    first = back["differences"][0]
    assert (first["representation"], first["estimator"]) == ("one-hot history", "pooled")
    assert first["rmse_diff"] == study.differences.iloc[0]["rmse_diff"]
    assert {(f["specification"], f["estimator"]) for f in back["in_sample"]} == set(study.fits)
    assert isinstance(back["in_sample"][0]["params"]["experience"], float)


def test_representations_do_not_help_when_wages_ignore_the_career(panel, split, history):
    null = wage_study(*split, _wages(panel), {"one-hot history": history}, n_components=3, n_boot=N_BOOT)
    for kind in ("pooled", "random"):
        diff = null.differences.loc[("one-hot history", kind)]
        assert abs(diff["rmse_diff"]) < 0.003
        assert -0.005 < diff["rmse_diff_low"] and diff["rmse_diff_high"] < 0.005, null.differences
    changers = null.subgroups.loc[("one-hot history", CHANGED)]
    assert changers["rmse_diff_low"] < 0 < changers["rmse_diff_high"]
    # three components of the training rows explain the top three eigenvalues' share of the variance
    eigenvalues = np.linalg.eigvalsh(np.cov(history.loc[split[0].person_year_index()].to_numpy(), rowvar=False))
    top = np.sort(eigenvalues)[::-1]
    assert null.components.loc["one-hot history", "n_components"] == 3
    assert null.components.loc["one-hot history", "explained_variance"] == pytest.approx(top[:3].sum() / top.sum())


def test_wage_study_names_what_is_missing(split, changer_wages, history):
    with pytest.raises(ValueError, match="empty"):
        wage_study(*split, changer_wages, {})
    test_rows = split[1].person_year_index()[:2]
    with pytest.raises(ValueError, match=r"'CAREER' lacks 2 of the train and test person-years"):
        wage_study(*split, changer_wages, {"CAREER": history.drop(index=test_rows)})
    holed = history.copy()
    holed.loc[test_rows[0], "share=11"] = np.nan
    with pytest.raises(ValueError, match=r"'holed' has missing values in 1 "):
        wage_study(*split, changer_wages, {"holed": holed})
