"""Tests for the bundled panels in laborseq.datasets (they load offline from installed packages)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import laborseq.datasets as datasets
from laborseq.panel import CareerPanel

NLSWORK_YEARS = [1968, 1969, 1970, 1971, 1972, 1973, 1975, 1977, 1978, 1980, 1982, 1983, 1985, 1987, 1988]


@functools.cache
def _load(name: str) -> CareerPanel:
    return datasets.load(name)


@pytest.fixture(scope="module")
def nlswork() -> CareerPanel:
    return _load("nlswork")


@pytest.fixture(scope="module")
def wage_panel() -> CareerPanel:
    return _load("wage_panel")


# ---------------------------------------------------------------------- nlswork


def test_nlswork_size(nlswork: CareerPanel) -> None:
    assert nlswork.name == "nlswork"
    assert nlswork.n_persons == 4_699
    assert len(nlswork) == 28_413
    assert nlswork.n_targets == 28_413


def test_nlswork_scheme(nlswork: CareerPanel) -> None:
    scheme = nlswork.scheme
    assert scheme.name == "nlswork13"
    assert scheme.codes == tuple(str(c) for c in range(1, 14))
    assert len(scheme.codes) == 13
    assert scheme.status_tokens == ()
    assert "unverified" in scheme.variant
    assert set(nlswork.data["occ"].astype(str)) == set(scheme.codes)
    assert list(nlswork.data["occ"].cat.categories) == list(scheme.states)


def test_nlswork_years(nlswork: CareerPanel) -> None:
    years = nlswork.years
    assert years.min() == 1968
    assert years.max() == 1988
    assert len(years) == 15
    assert years.tolist() == NLSWORK_YEARS
    assert nlswork.data["year"].dtype == np.int16


def test_nlswork_lineage(nlswork: CareerPanel) -> None:
    lineage = nlswork.metadata["lineage"]
    assert lineage["rows_read"] == 28_534
    assert lineage["rows_kept"] == 28_413 == len(nlswork)
    assert lineage["dropped"] == {"missing occ_code": 121}
    assert lineage["rows_read"] == lineage["rows_kept"] + sum(lineage["dropped"].values())
    detail = nlswork.lineage.steps[0].detail
    assert detail["persons_read"] == 4_711
    assert detail["persons_kept"] == 4_699 == nlswork.n_persons
    nlswork.lineage.check(len(nlswork))
    assert "nlswork" in nlswork.metadata["source"]


def test_nlswork_covariates(nlswork: CareerPanel) -> None:
    assert nlswork.covariates == ("education", "birth_year", "race", "region")
    assert nlswork.static_covariates == ("birth_year", "race")
    assert nlswork.time_varying_covariates == ("education", "region")
    assert not nlswork.has_weight
    data = nlswork.data
    assert data["birth_year"].min() == 1941
    assert data["birth_year"].max() == 1954
    assert data["birth_year"].between(1941, 1954).all()
    assert set(data["race"].dropna()) == {"white", "black", "other"}
    assert set(data["region"].dropna()) == {"south", "non_south"}
    assert data["education"].cat.ordered
    assert list(data["education"].cat.categories) == [
        "less_than_high_school",
        "high_school",
        "some_college",
        "bachelors",
        "postgraduate",
    ]


def test_nlswork_static_covariates_are_constant_within_person(nlswork: CareerPanel) -> None:
    counts = nlswork.data.groupby("person_id")[["birth_year", "race"]].nunique(dropna=False)
    assert (counts <= 1).all().all()


def test_nlswork_missing_covariates_match_descr(nlswork: CareerPanel) -> None:
    data = nlswork.data
    assert int(data["education"].isna().sum()) == 2
    assert int(data["region"].isna().sum()) == 8
    assert "missing in 2 rows" in datasets.DESCRIPTIONS["nlswork"]
    assert "missing in 8 rows" in datasets.DESCRIPTIONS["nlswork"]


def test_nlswork_gap_counts_match_descr(nlswork: CareerPanel) -> None:
    gaps = nlswork.describe().gap_counts
    assert gaps[1] == 10_814
    assert gaps[2] == 9_692
    assert sum(v for k, v in gaps.items() if k >= 3) == 3_208
    assert sum(gaps.values()) == len(nlswork) - nlswork.n_persons


def test_nlswork_descr_warns_labels_are_uncertain() -> None:
    descr = datasets.nlswork.DESCR
    assert descr is datasets.DESCRIPTIONS["nlswork"]
    assert "uncertain" in descr
    assert "unverified" in descr
    assert "121 person-years" in descr
    assert "4,699 persons and 28,413 person-years" in descr


# ---------------------------------------------------------------------- wage_panel


def test_wage_panel_size(wage_panel: CareerPanel) -> None:
    assert wage_panel.name == "wage_panel"
    assert wage_panel.n_persons == 545
    assert len(wage_panel) == 4_360
    lineage = wage_panel.metadata["lineage"]
    assert (lineage["rows_read"], lineage["rows_kept"], lineage["dropped"]) == (4_360, 4_360, {})


def test_wage_panel_scheme(wage_panel: CareerPanel) -> None:
    assert wage_panel.scheme.name == "vella_verbeek9"
    assert wage_panel.states == tuple(str(c) for c in range(1, 10))
    assert wage_panel.scheme.n_states == 9
    assert wage_panel.scheme.title("3") == "Sales workers"


def test_wage_panel_is_balanced(wage_panel: CareerPanel) -> None:
    data = wage_panel.data
    assert wage_panel.years.tolist() == list(range(1980, 1988))
    per_person = data.groupby("person_id")["year"].agg(list)
    assert all(years == list(range(1980, 1988)) for years in per_person)
    desc = wage_panel.describe()
    assert desc.gap_counts == {1: 545 * 7}
    assert desc.persons_with_gaps == 0


def test_wage_panel_covariates(wage_panel: CareerPanel) -> None:
    assert wage_panel.covariates == ("education", "birth_year", "race", "marital_status")
    assert wage_panel.static_covariates == ("education", "birth_year", "race")
    assert wage_panel.time_varying_covariates == ("marital_status",)
    data = wage_panel.data
    assert isinstance(data["race"].dtype, pd.CategoricalDtype)
    assert list(data["race"].cat.categories) == ["black", "hispanic", "other"]
    assert set(data["marital_status"]) == {"married", "not_married"}
    assert not data["education"].isna().any()


# ---------------------------------------------------------------------- registry


# ---------------------------------------------------------------------- mvad (from sequenzo)

MVAD_STATE_MONTHS = {  # the reference counts of person-months by state
    "employment": 22_937,
    "FE": 8_331,
    "HE": 5_980,
    "training": 5_272,
    "joblessness": 4_399,
    "school": 4_345,
}


def test_mvad_is_a_balanced_weighted_monthly_panel() -> None:
    from laborseq.panel.periods import month_period, period_label

    mvad = _load("mvad")
    assert (mvad.n_persons, len(mvad), mvad.time_unit) == (712, 712 * 72, "month")
    assert mvad.years[0] == month_period(1993, 7) and period_label(mvad.years[-1], "month") == "1999-06"
    assert (np.diff(mvad.person_offsets()) == 72).all()
    assert mvad.data["occ"].value_counts().to_dict() == MVAD_STATE_MONTHS
    weights = mvad.weights
    assert mvad.has_weight and weights.min() == pytest.approx(0.13) and weights.max() == pytest.approx(4.46)
    per_person = mvad.data.groupby("person_id")["weight"]
    assert (per_person.nunique() == 1).all() and per_person.first().mean() == pytest.approx(1.0, abs=0.001)
    assert set(mvad.covariates) == {
        "gender",
        "religion",
        "region",
        "grammar_school",
        "father_unemployed",
        "gcse5eq",
        "father_professional",
        "lives_with_both_parents",
    }
    assert set(mvad.data["region"].unique()) == {"Belfast", "N.Eastern", "Southern", "S.Eastern", "Western"}
    assert "Jul.93" not in mvad.data.columns and mvad.static_covariates == mvad.covariates


def test_mvad_without_sequenzo_names_the_extra(monkeypatch) -> None:
    import importlib.util

    from laborseq.datasets import mvad

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sequenzo" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'laborseq\[sequences\]'"):
        mvad.load_mvad()


def test_load_unknown_dataset_raises() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'unknown'"):
        datasets.load("unknown")


def test_loaders_and_descriptions_cover_the_same_names() -> None:
    assert set(datasets.LOADERS) == {"nlswork", "wage_panel", "mvad"}
    assert set(datasets.DESCRIPTIONS) == set(datasets.LOADERS)


@pytest.mark.parametrize("name", sorted(datasets.LOADERS))
def test_every_dataset_loads_and_is_documented(name: str) -> None:
    panel = _load(name)
    assert isinstance(panel, CareerPanel)
    assert panel.name == name
    assert len(panel) > 0
    assert panel.n_persons > 0
    descr = datasets.DESCRIPTIONS[name]
    assert "Source" in descr
    assert "Caveats" in descr or "Gaps" in descr


def test_load_by_name_matches_loader_function(nlswork: CareerPanel) -> None:
    assert datasets.LOADERS["nlswork"] is datasets.load_nlswork
    assert datasets.LOADERS["wage_panel"] is datasets.load_wage_panel
    assert nlswork.scheme == datasets.nlswork.SCHEME


@pytest.mark.parametrize("name", ["nlswork", "wage_panel"])
def test_wages_align_with_the_panel_row_for_row(name: str, request: pytest.FixtureRequest) -> None:
    panel = request.getfixturevalue(name)
    wages = datasets.load_wages(name)
    assert len(wages) == len(panel)
    np.testing.assert_array_equal(wages.index.get_level_values("person_id"), panel.data["person_id"].to_numpy())
    np.testing.assert_array_equal(wages.index.get_level_values("year"), panel.data["year"].to_numpy())
    assert wages["ln_wage"].notna().all() and wages["experience"].notna().all()
    # wages are not covariates: the occupation models never see them
    assert not set(wages.columns) & set(panel.covariates)


def test_nlswork_wages_are_the_raw_values() -> None:
    from laborseq.datasets.nlswork import _read_raw

    raw = _read_raw()
    raw = raw[raw["occ_code"].notna()]
    wages = datasets.load_wages("nlswork")
    assert wages["ln_wage"].mean() == pytest.approx(raw["ln_wage"].mean(), rel=1e-12)
    assert wages["schooling"].isna().sum() == 2 and wages["tenure"].isna().sum() == 432
    row = raw.iloc[100]
    assert wages.loc[(int(row["idcode"]), int(row["year"]) + 1900), "ln_wage"] == pytest.approx(row["ln_wage"])


def test_wages_of_an_unknown_panel_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no bundled wages"):
        datasets.load_wages("psid")
