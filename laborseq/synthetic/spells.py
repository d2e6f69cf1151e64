"""Synthetic careers written as resume job spells, so the path from spells to a trained model runs at any size.

:func:`spells_from_careers` turns annual careers (one occ1990dd state per
person-year, as :class:`~laborseq.synthetic.process.SyntheticCareers` draws
them) into the job spells a resume lists:

* a **spell** is a run of consecutive years in one occupation with one
  education level; it starts in January-March of its first year and ends in
  October-December of its last year, so the job is held at least 184 days of
  every year it covers;
* the last spell of a person whose career reaches the corpus's final year is
  **ongoing** (blank end date) with probability ``ongoing_rate``;
* with probability ``side_job_rate`` a spell has an **overlapping second job**
  in another occupation, inside one of its years (April-August start, 7-120
  days), which is never the job held longest in the year;
* with probability ``gap_rate`` a spell after a person's first starts a year
  late, leaving a **gap year** with no job.

Read back with :func:`~laborseq.sources.resumes.reader.read_resumes`
(``frame="occ1990dd"``, ``rule="longest"``, ``current_year`` = the final
year, ``education="education"``, ``location="location"``), the spells give
exactly the careers they came from, less the gap years: a check of the
reader against a known data-generating process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from laborseq._util.dates import year_start

SPELL_COLUMNS = ("person_id", "start_date", "end_date", "occ", "education", "location")
"""Columns of a synthetic spell file."""

SPELL_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("occ", pa.int16()),
        ("education", pa.string()),
        ("location", pa.string()),
    ]
)
"""Arrow types of a synthetic spell file."""

DATES_KEY = 2**31 - 1
"""Spawn-key entry of the seed sequences of the spells' dates (far from the careers' children 0, 1, ...)."""

STATUS_CODES = {"unemployed": 991, "military": 905}
"""occ1990dd codes of the status states (the crosswalk maps them back to the state)."""


@dataclass(frozen=True)
class SpellOptions:
    """How careers become spells (see the module documentation).

    Attributes
    ----------
    side_job_rate : float
        Probability that a spell has an overlapping second job.
    gap_rate : float
        Probability that a spell after a person's first starts a year late.
    ongoing_rate : float
        Probability that a last spell reaching the final year is ongoing.
    final_year : int, optional
        The corpus's final year (default: the latest year of the careers given).
    """

    side_job_rate: float = 0.05
    gap_rate: float = 0.02
    ongoing_rate: float = 0.8
    final_year: int | None = None

    def __post_init__(self) -> None:
        for name in ("side_job_rate", "gap_rate", "ongoing_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


def spells_from_careers(
    careers: pd.DataFrame, rng: np.random.Generator, options: SpellOptions | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Job spells of annual careers.

    Parameters
    ----------
    careers : pandas.DataFrame
        Columns ``person_id``, ``year``, ``occ`` (occ1990dd states: codes, or
        the status states of :data:`STATUS_CODES`), ``education`` and ``region``,
        sorted by person and year. A spell ends where the occupation, the
        education or the region changes.
    rng : numpy.random.Generator
        Draws the dates, side jobs, gaps and ongoing spells.
    options : SpellOptions, optional
        Rates and the final year.

    Returns
    -------
    spells : pandas.DataFrame
        Columns :data:`SPELL_COLUMNS`, one row per spell, by person and start
        (``end_date`` missing for ongoing spells; ``occ`` numeric occ1990dd codes).
    covered : numpy.ndarray of bool
        Per row of ``careers``, whether the spells cover it (``False`` for gap years).
    """
    options = options or SpellOptions()
    person = careers["person_id"].to_numpy()
    year = careers["year"].to_numpy().astype(np.int64)
    occ = np.asarray(careers["occ"].astype(str).to_numpy())
    education = careers["education"].astype(object).to_numpy()
    region = careers["region"].astype(object).to_numpy()
    unknown = sorted({s for s in np.unique(occ) if not s.isdigit() and s not in STATUS_CODES})
    if unknown:
        raise ValueError(f"states {unknown} have no occ1990dd code to write as a job; known: {sorted(STATUS_CODES)}")
    final_year = int(year.max()) if options.final_year is None else int(options.final_year)
    n = len(person)

    new_person = np.ones(n, dtype=bool)
    new_person[1:] = person[1:] != person[:-1]
    starts = new_person.copy()
    starts[1:] |= (occ[1:] != occ[:-1]) | (education[1:] != education[:-1]) | (region[1:] != region[:-1])
    starts[1:] |= year[1:] != year[:-1] + 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:] - 1, n - 1]
    # gap years: a later spell of at least two years starts a year late
    late = ~new_person[first] & (last > first) & (rng.random(len(first)) < options.gap_rate)
    covered = np.ones(n, dtype=bool)
    covered[first[late]] = False
    first = first + late

    y0, y1 = year[first], year[last]
    start = year_start(y0) + rng.integers(0, 90, len(first))  # January-March
    end = year_start(y1) + rng.integers(273, 365, len(first))  # October-December
    last_of_person = np.r_[new_person[1:], True][last]
    ongoing = last_of_person & (y1 == final_year) & (rng.random(len(first)) < options.ongoing_rate)
    codes = np.array([int(s) if s.isdigit() else STATUS_CODES[s] for s in occ], dtype=np.int64)
    main = pd.DataFrame(
        {
            "person_id": person[first],
            "start_date": start,
            "end_date": end,
            "occ": codes[first],
            "education": education[first],
            "location": region[first],
            "ongoing": ongoing,
        }
    )

    # side jobs: inside one year of their spell, shorter than the main job's time in that year
    side = np.flatnonzero(rng.random(len(first)) < options.side_job_rate)
    side_year = y0[side] + (rng.random(len(side)) * (y1[side] - y0[side] + 1)).astype(np.int64)
    side_start = year_start(side_year) + rng.integers(90, 243, len(side))  # April-August
    main_code = codes[first[side]]
    other = codes[rng.integers(0, n, len(side))]
    same = other == main_code
    other[same] = np.where(main_code[same] == STATUS_CODES["unemployed"], STATUS_CODES["military"], 991)
    extra = main.iloc[side].assign(
        start_date=side_start, end_date=side_start + rng.integers(6, 120, len(side)), occ=other, ongoing=False
    )
    spells = pd.concat([main, extra], ignore_index=True).sort_values(["person_id", "start_date"], kind="stable")
    ongoing = spells.pop("ongoing").to_numpy(dtype=bool)
    spells["start_date"] = spells["start_date"].to_numpy().astype("datetime64[D]")
    end_dates = spells["end_date"].to_numpy().astype("datetime64[D]")
    end_dates[ongoing] = np.datetime64("NaT")  # ongoing: a blank end date
    spells["end_date"] = end_dates
    return spells.reset_index(drop=True), covered
