"""The PSID reference tables built into the reader: wave ids, family interview numbers, occupation variables.

The variable names are those of the PSID documentation summarised in
``docs/survey-formats.md`` (sections C.2.4 to C.2.8): the individual file's
(interview, sequence, relationship) triple per wave, each family file's own
interview number, the head's and wife's occupation variables with their
Census frame, and the codes that are not occupations. Waves and variables not
listed here are never guessed: :mod:`laborseq.sources.psid.variables` finds
them by their labels, or the caller names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["head", "spouse"]
ROLES: tuple[str, ...] = ("head", "spouse")

BUILT_IN = "built-in"
"""``origin`` of the wave ids and occupation variables taken from these tables."""

WAVE_IDS: dict[int, tuple[str, str | None, str]] = {
    1968: ("ER30001", None, "ER30003"),
    1969: ("ER30020", "ER30021", "ER30022"),
    1970: ("ER30043", "ER30044", "ER30045"),
    1993: ("ER30806", "ER30807", "ER30808"),
    1994: ("ER33101", "ER33102", "ER33103"),
    1995: ("ER33201", "ER33202", "ER33203"),
    1996: ("ER33301", "ER33302", "ER33303"),
    1997: ("ER33401", "ER33402", "ER33403"),
    1999: ("ER33501", "ER33502", "ER33503"),
    2001: ("ER33601", "ER33602", "ER33603"),
    2003: ("ER33701", "ER33702", "ER33703"),
    2005: ("ER33801", "ER33802", "ER33803"),
    2007: ("ER33901", "ER33902", "ER33903"),
    2009: ("ER34001", "ER34002", "ER34003"),
    2011: ("ER34101", "ER34102", "ER34103"),
}
"""Individual-file (interview number, sequence number, relationship to head) of
the waves in the ``psid-py``/``psidR`` identifier table (``docs/survey-formats.md``,
section C.2.4; 1968 has no sequence number). Other waves: from the setup file's
labels or ``wave_ids=``."""

FAMILY_INTERVIEW: dict[int, str] = {
    1968: "V3",
    1969: "V442",
    1970: "V1102",
    1993: "V21602",
    1994: "ER2002",
    1995: "ER5002",
    1996: "ER7002",
    1997: "ER10002",
    1999: "ER13002",
    2001: "ER17002",
    2003: "ER21002",
    2005: "ER25002",
    2007: "ER36002",
    2009: "ER42002",
    2011: "ER47302",
}
"""Family files' own interview numbers (``docs/survey-formats.md``, section C.2.5);
each starts the block of that family file's variable numbers."""

_HEAD_1970 = (
    "V7712 V8380 V9011 V10460 V11651 V13054 V14154 V15162 V16663 V18101 V19401 V20701 V22456 "
    "ER4017 ER6857 ER9108 ER12085"
).split()
_HEAD_2000 = "ER21145 ER25127 ER36132 ER42167 ER47479 ER53179 ER60194".split()


@dataclass(frozen=True)
class OccupationVariable:
    """A family-file occupation variable and whom it describes.

    Attributes
    ----------
    name : str
        PSID variable (``"ER21145"``).
    year : int
        Survey wave.
    role : {"head", "spouse"}
        Whose occupation: the head / reference person's, or the wife / spouse's.
    frame : str
        Census code frame (a :mod:`laborseq.occupations.crosswalk` frame, or ``"occ1990dd"``).
    job : int
        Job number (1 = main job).
    priority : int
        Lower wins when several variables give a person-year an occupation.
    origin : str
        Where the meaning came from: ``"built-in"`` (:data:`OCCUPATION_VARIABLES`),
        ``"label"`` (the setup file's label) or ``"user"`` (``occupation_vars=``).
    label : str or None
        Its label in the setup file.
    """

    name: str
    year: int
    role: Role
    frame: str
    job: int = 1
    priority: int = 1
    origin: str = "user"
    label: str | None = None


def _table_entry(name: str, year: int, role: Role, frame: str) -> OccupationVariable:
    return OccupationVariable(name, year, role, frame, origin=BUILT_IN)


OCCUPATION_VARIABLES: dict[str, OccupationVariable] = {
    **{
        name: _table_entry(name, year, "head", "occ1970")
        for name, year in zip(_HEAD_1970, range(1981, 1998), strict=True)
    },
    "ER13215": _table_entry("ER13215", 1999, "head", "occ1970"),
    "ER17226": _table_entry("ER17226", 2001, "head", "occ1970"),
    **{
        name: _table_entry(name, year, "head", "occ2000")
        for name, year in zip(_HEAD_2000, range(2003, 2016, 2), strict=True)
    },
    "ER66195": _table_entry("ER66195", 2017, "head", "occ2010"),
    "V7885": _table_entry("V7885", 1981, "spouse", "occ1970"),
    "ER17796": _table_entry("ER17796", 2001, "spouse", "occ1970"),
    "ER21395": _table_entry("ER21395", 2003, "spouse", "occ2000"),
}
"""Built-in occupation variables (``docs/survey-formats.md``, section C.2.7): head main occupation 1981-2017
(1981-1997 annual, then 1999, 2001; job 1 of 2003-2015; 2017), wife 1981 (V7885),
2001 (ER17796) and 2003 (ER21395). Others are found by label or passed by the user."""

SPECIAL_OCCUPATION_CODES: dict[int, str] = {0: "inapplicable (no occupation reported)", 999: "DK/NA", 9999: "DK/NA"}
"""PSID occupation codes that are not occupations: 0 inapplicable (not working,
no spouse, ...), 999 (3-digit frames) and 9999 (4-digit frames) don't know / not
available. They are dropped as special codes before the crosswalk, whose files
disagree on 0 (Dorn's 1970 and 2010 files map it to 999 "no occupation", the
2000 files and Deming's 1970 file do not have it). See ``docs/survey-formats.md``, section C.2.8."""


def frame_for_year(year: int) -> str | None:
    """Census frame of PSID head/wife occupation codes in ``year``, or ``None``.

    1981-2001: ``"occ1970"``; 2003-2015: ``"occ2000"``; 2017 on: ``"occ2010"``
    (4-digit). Earlier waves have 1- and 2-digit codes only (3-digit 1970 codes
    for 1968-1980 are in separate retrospective files); see
    ``docs/survey-formats.md``, section C.2.7.
    """
    if 1981 <= year <= 2001:
        return "occ1970"
    if 2003 <= year <= 2015:
        return "occ2000"
    if year >= 2017:
        return "occ2010"
    return None


def is_wave(year: int) -> bool:
    """Whether PSID interviewed in ``year``: annually 1968-1997, every other year from 1999."""
    return 1968 <= year <= 1997 or (year >= 1999 and year % 2 == 1)


def next_wave(year: int) -> int:
    """The PSID wave after ``year`` (a wave): the next year to 1997, then every other year."""
    return year + 1 if year < 1997 else (1999 if year == 1997 else year + 2)


def relationship_codes(year: int) -> dict[str, tuple[int, ...]]:
    """Relationship-to-head codes of head and spouse in ``year``.

    Head: 1 before 1983, 10 from 1983 ("reference person" from 2017). Spouse: 20
    legal wife / spouse and 22 cohabiting partner from 1983; 2 ("wife") in the
    1968-1982 one-digit code of the PSID codebooks (not in the sources of
    ``docs/survey-formats.md``: check the codebook of the release you use). See
    ``docs/survey-formats.md``, section C.2.6.
    """
    if year < 1983:
        return {"head": (1,), "spouse": (2,)}
    return {"head": (10,), "spouse": (20, 22)}


@dataclass(frozen=True)
class WaveIds:
    """The individual-file variables that place a person in a wave's family units.

    Attributes
    ----------
    year : int
        Survey wave.
    interview, relation : str
        Interview number and relationship to head.
    sequence : str or None
        Sequence number (``None`` in 1968).
    origin : str
        ``"built-in"`` (:data:`WAVE_IDS`), ``"label"`` (the setup file's labels)
        or ``"user"`` (``wave_ids=``).
    """

    year: int
    interview: str
    sequence: str | None
    relation: str
    origin: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.interview, self.sequence, self.relation) if n is not None)
