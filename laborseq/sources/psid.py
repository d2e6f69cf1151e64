"""PSID Data Center extracts (J-files) as panels of occupations.

A Data Center extract of "All Individuals Data" is one fixed-width row per
individual ever in the study (``J<jobid>.txt``) with a setup program beside it
(``.do``, ``.sps`` or ``.sas``, parsed by :mod:`laborseq.sources.psid_layout`).
Family-file variables requested with it, such as the occupations of the head
and of the wife, are attached to every individual of the family unit in that
wave. :func:`read_psid` turns such a file into a :class:`~laborseq.panel.CareerPanel`:

1. person id = ``ER30001 * 1000 + ER30002`` (1968 interview number, person number);
2. per wave, the individual's (interview, sequence, relationship) variables say
   whether they were in a family unit (interview number non-zero, sequence
   number 1-20) and whether as its head (relationship 1 before 1983, 10 from
   1983; "reference person" from 2017) or spouse (2 before 1983; 20 legal wife
   or spouse, 22 cohabiting partner);
3. the head's occupation variables of that wave apply to the head, the wife's
   or spouse's to the spouse; each in the Census frame of its wave (1981-2001
   1970 codes, 2003-2015 2000 codes, 2017 on 2010 4-digit codes);
4. :func:`~laborseq.sources.harmonize.harmonize` crosswalks the codes to
   occ1990dd and keeps one state per person-year.

Every individual x occupation-variable cell of the file is counted in the
lineage: cells of unselected waves, roles or persons, of individuals outside a
family unit that wave, of individuals who are neither head nor spouse, and the
head's variable on the spouse's row (and vice versa) are dropped with those
reasons; PSID code 0 (inapplicable) and 999 / 9999 (DK/NA) are dropped as
special codes; the rest go through the crosswalk.

Which variable belongs to which wave
------------------------------------
The identifiers and occupation variables listed in
``/work/shared/reference/survey-formats.md`` section C.2 are built in
(:data:`WAVE_IDS`, :data:`FAMILY_INTERVIEW`, :data:`OCCUPATION_VARIABLES`).
The waves it does not list (the individual triples of 1971-1992 and 2013 on,
most spouse occupations) are never guessed; they come from

* the variable labels of the setup file, which the Data Center always writes:
  ``"2013 INTERVIEW NUMBER"``, ``"SEQUENCE NUMBER 13"``, ``"RELATION TO HEAD
  13"`` / ``"RELATION TO REFERENCE PERSON 17"`` for the individual triple, and
  ``"DE20 MAIN OCC FOR JOB 1: 2000 CODE (WF)"`` for an occupation (role from the
  ``(HD)``/``(RP)`` or ``(WF)``/``(SP)`` tag, job from ``JOB n``, frame from
  ``n CODE`` or else from the wave). Such a family variable belongs to the
  family file whose interview number ("2005 FAMILY INTERVIEW (ID) NUMBER",
  "1995 INTERVIEW #", or a built-in one) is the closest below it, because PSID
  numbers each family file's variables in one block starting at its interview
  number; it is placed only when the next wave's family interview number bounds
  the block (or, for the last wave of the extract, when that wave's interview
  number is in the extract itself); otherwise it is an error that asks for
* the caller: ``wave_ids={2013: ("ER34201", "ER34202", "ER34203")}`` and
  ``occupation_vars={"ER53442": {"year": 2013, "role": "spouse"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborseq.occupations.crosswalk import FRAMES, OnUnmapped
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import SpecialCode, harmonize
from laborseq.sources.psid_layout import SETUP_SUFFIXES, Layout, PSIDFormatError, read_fixed_width, read_layout

Role = Literal["head", "spouse"]
ROLES: tuple[str, ...] = ("head", "spouse")

# ---------------------------------------------------------------------- built-in tables (survey-formats.md C.2)
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
the waves survey-formats.md C.2 lists (1968 has no sequence number). Other waves:
from the setup file's labels or ``wave_ids=``."""

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
"""Family files' own interview numbers listed in survey-formats.md C.2; each
starts the block of that family file's variable numbers."""

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
        ``"survey-formats"`` (built-in table), ``"label"`` or ``"user"``.
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
    return OccupationVariable(name, year, role, frame, origin="survey-formats")


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
"""Occupation variables survey-formats.md C.2 lists: head main occupation 1981-2017
(1981-1997 annual, then 1999, 2001; job 1 of 2003-2015; 2017), wife 1981 (V7885),
2001 (ER17796) and 2003 (ER21395). Others are found by label or passed by the user."""

SPECIAL_OCCUPATION_CODES: dict[int, str] = {0: "inapplicable (no occupation reported)", 999: "DK/NA", 9999: "DK/NA"}
"""PSID occupation codes that are not occupations: 0 inapplicable (not working,
no spouse, ...), 999 (3-digit frames) and 9999 (4-digit frames) don't know / not
available. They are dropped as special codes before the crosswalk, whose files
disagree on 0 (Dorn's 1970 and 2010 files map it to 999 "no occupation", the
2000 files and Deming's 1970 file do not have it)."""


# lineage reasons of the cells that never reach the crosswalk (besides "wave/role/person not selected")
NOT_IN_FAMILY_UNIT = "not in a family unit this wave"
OTHER_PARTNER = "occupation variable of the other partner"
_RULES = {
    NOT_IN_FAMILY_UNIT: "interview number 0 (or blank) or sequence number outside 1-20",
    OTHER_PARTNER: "family variables are on every member's row: the head's occupation on the spouse's row and "
    "the spouse's on the head's",
}


def frame_for_year(year: int) -> str | None:
    """Census frame of PSID head/wife occupation codes in ``year`` (survey-formats.md C.2), or ``None``.

    1981-2001: ``"occ1970"``; 2003-2015: ``"occ2000"``; 2017 on: ``"occ2010"``
    (4-digit). Earlier waves have 1- and 2-digit codes only (3-digit 1970 codes
    for 1968-1980 are in separate retrospective files).
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


def _next_wave(year: int) -> int:
    return year + 1 if year < 1997 else (1999 if year == 1997 else year + 2)


def relationship_codes(year: int) -> dict[str, tuple[int, ...]]:
    """Relationship-to-head codes of head and spouse in ``year``.

    Head: 1 before 1983, 10 from 1983 (survey-formats.md C.2; "reference person"
    from 2017). Spouse: 20 legal wife / spouse and 22 cohabiting partner from 1983
    (C.2); 2 ("wife") in the 1968-1982 one-digit code of the PSID codebooks (not in
    C.2: check the codebook of the release you use).
    """
    if year < 1983:
        return {"head": (1,), "spouse": (2,)}
    return {"head": (10,), "spouse": (20, 22)}


@dataclass(frozen=True)
class WaveIds:
    """The individual-file variables that place a person in a wave's family units."""

    year: int
    interview: str
    sequence: str | None
    relation: str
    origin: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.interview, self.sequence, self.relation) if n is not None)


# ---------------------------------------------------------------------- labels
_OCC_LABEL = re.compile(r"\bMAIN OCC(?:UPATION)?\b")
_ROLE_TAG = re.compile(r"\((HD|RP|WF|SP)(?:-[A-Z]+)?\)\s*$")
_JOB = re.compile(r"\bJOB\s*#?\s*(\d+)")
_CODE_YEAR = re.compile(r"\b(\d{4})\s+CODE\b")
_CODE_FRAMES = {"1970": "occ1970", "1980": "occ1980", "1990": "occ1990", "2000": "occ2000", "2010": "occ2010"}
_SEQUENCE_LABEL = re.compile(r"^SEQUENCE NUMBER (\d{2})$")
_RELATION_LABEL = re.compile(r"^RELATION(?:SHIP)? TO (?:HEAD|REFERENCE PERSON|REF PERSON|RP) (\d{2})$")
_INDIVIDUAL_INTERVIEW_LABEL = re.compile(r"^(\d{4}) INTERVIEW NUMBER$")
_FAMILY_INTERVIEW_LABEL = re.compile(r"^(\d{4}) (?:FAMILY )?(?:INTERVIEW|INT|IW)\.? ?(?:\(ID\) )?(?:NUMBER|NO\.?|#)$")
_VAR_NUMBER = re.compile(r"^([A-Z]+)(\d+)$")


@dataclass(frozen=True)
class _LabelledOccupation:
    name: str
    role: Role
    job: int
    frame: str | None  # from "n CODE" in the label
    label: str


def _parse_occupation_label(name: str, label: str | None) -> _LabelledOccupation | None:
    """Role, job and frame of a head/wife occupation label, or ``None`` if it is not one."""
    if not label:
        return None
    text = label.upper()
    tag = _ROLE_TAG.search(text)
    if not _OCC_LABEL.search(text) or tag is None:
        return None
    role: Role = "head" if tag.group(1) in ("HD", "RP") else "spouse"
    job = _JOB.search(text)
    code = _CODE_YEAR.search(text)
    frame = None
    if code is not None:
        frame = _CODE_FRAMES.get(code.group(1))
        if frame is None:
            raise PSIDFormatError(
                f"{name} ({label}): no crosswalk for Census {code.group(1)} codes; pass "
                f"occupation_vars={{{name!r}: {{'year': ..., 'role': {role!r}, 'frame': ...}}}} with a frame of "
                f"{FRAMES}, or {{{name!r}: None}} to leave it out",
                variable=name,
            )
    return _LabelledOccupation(name, role, int(job.group(1)) if job else 1, frame, label)


def _two_digit_year(yy: str) -> int:
    value = int(yy)
    return 1900 + value if value >= 68 else 2000 + value


def resolve_wave_ids(
    layout: Layout, wave_ids: Mapping[int, tuple[str | None, ...] | Mapping[str, str | None]] | None = None
) -> dict[int, WaveIds]:
    """Per wave, the interview, sequence and relationship variables present in ``layout``.

    Sources, in order: ``wave_ids`` (``{year: (interview, sequence, relationship)}``;
    sequence may be ``None``), the built-in :data:`WAVE_IDS` (when all of a wave's
    variables are in the layout), and the labels ``"YYYY INTERVIEW NUMBER"``,
    ``"SEQUENCE NUMBER yy"`` and ``"RELATION TO HEAD yy"`` (or ``"... REFERENCE
    PERSON yy"``), where the interview number is the variable just before the
    sequence number (as in every individual file).
    """
    out: dict[int, WaveIds] = {}
    for year, spec in (wave_ids or {}).items():
        if isinstance(spec, Mapping):
            names = (spec.get("interview"), spec.get("sequence"), spec.get("relation"))
        else:
            names = tuple(spec)  # type: ignore[assignment]
        if len(names) != 3 or names[0] is None or names[2] is None:
            raise ValueError(
                f"wave_ids[{year}] must be (interview, sequence, relationship) variable names (sequence may be None), "
                f"got {spec!r}"
            )
        interview, sequence, relation = (None if n is None else str(n).upper() for n in names)
        for n in (interview, sequence, relation):
            if n is not None and n not in layout:
                raise PSIDFormatError(
                    f"wave_ids[{year}] names {n}, which is not in the layout{_of(layout)}", variable=n, path=layout.path
                )
        out[int(year)] = WaveIds(int(year), interview, sequence, relation, "user")  # type: ignore[arg-type]
    for year, (interview, sequence, relation) in WAVE_IDS.items():
        if year not in out and all(n in layout for n in (interview, sequence, relation) if n is not None):
            out[year] = WaveIds(year, interview, sequence, relation, "survey-formats")
    labels = {name: layout.label(name) or "" for name in layout.names}
    sequences: dict[int, list[str]] = {}
    relations: dict[int, list[str]] = {}
    interviews: dict[int, list[str]] = {}
    for name, label in labels.items():
        for pattern, bucket in ((_SEQUENCE_LABEL, sequences), (_RELATION_LABEL, relations)):
            m = pattern.match(label)
            if m:
                bucket.setdefault(_two_digit_year(m.group(1)), []).append(name)
        m = _INDIVIDUAL_INTERVIEW_LABEL.match(label)
        if m:
            interviews.setdefault(int(m.group(1)), []).append(name)
    for year, seq_names in sequences.items():
        if year in out or len(seq_names) != 1 or len(relations.get(year, [])) != 1:
            continue
        seq = seq_names[0]
        before = _neighbour(seq, -1)
        if before in interviews.get(year, []):
            out[year] = WaveIds(year, before, seq, relations[year][0], "label")
    return dict(sorted(out.items()))


def _neighbour(name: str, step: int) -> str | None:
    m = _VAR_NUMBER.match(name)
    return None if m is None else f"{m.group(1)}{int(m.group(2)) + step}"


def _of(layout: Layout) -> str:
    return f" of {layout.path}" if layout.path is not None else ""


def resolve_occupation_variables(
    layout: Layout,
    occupation_vars: Mapping[str, Mapping[str, Any] | OccupationVariable | None] | None = None,
    wave_ids: Mapping[int, WaveIds] | None = None,
) -> dict[str, OccupationVariable]:
    """The head and spouse occupation variables of ``layout``, with their wave, role and frame.

    Parameters
    ----------
    layout : Layout
        The extract's layout (with labels).
    occupation_vars : mapping, optional
        ``{name: {"year": ..., "role": "head" | "spouse", "frame": ..., "job": ...,
        "priority": ...}}`` for variables to add or override (``frame`` defaults
        to :func:`frame_for_year`, ``job`` to 1, ``priority`` to ``job``), or
        ``{name: None}`` to leave a found variable out.
    wave_ids : mapping of int to WaveIds, optional
        The extract's individual triples (:func:`resolve_wave_ids`): an
        open-ended family-file block is only placed when no later wave is in the
        extract.

    Returns
    -------
    dict of str to OccupationVariable
        In layout order.

    Raises
    ------
    PSIDFormatError
        When a labelled occupation variable cannot be placed in a wave, two
        variables claim the same wave, role and job, or a built-in variable's
        label contradicts the table.
    """
    user = {str(k).upper(): v for k, v in (occupation_vars or {}).items()}
    found: dict[str, OccupationVariable] = {}
    unplaced: list[str] = []
    fences = _family_fences(layout, wave_ids or {})
    latest_wave = max([*(wave_ids or {}).keys(), *(y for _, y, present in fences if present)], default=None)
    for name in layout.names:
        if name in user:
            continue
        parsed = _parse_occupation_label(name, layout.label(name))
        known = OCCUPATION_VARIABLES.get(name)
        if known is not None:
            if parsed is not None and (
                parsed.role != known.role or (parsed.frame is not None and parsed.frame != known.frame)
            ):
                raise PSIDFormatError(
                    f"{name} is labelled {parsed.label!r}{_of(layout)}, but survey-formats.md lists it as the "
                    f"{known.role}'s {known.year} occupation in {known.frame} codes; pass occupation_vars= to "
                    "settle it",
                    path=layout.path,
                    variable=name,
                )
            found[name] = _with(known, label=layout.label(name))
            continue
        if parsed is None:
            continue
        year = _place(name, fences, latest_wave)
        frame = parsed.frame or (frame_for_year(year) if year is not None else None)
        if year is None or frame is None:
            unplaced.append(f"{name} ({parsed.label})" + ("" if year is None else f" in {year}: no 3-digit codes"))
            continue
        found[name] = OccupationVariable(name, year, parsed.role, frame, parsed.job, parsed.job, "label", parsed.label)
    if unplaced:
        raise PSIDFormatError(
            f"occupation variable(s) {', '.join(unplaced)}{_of(layout)} cannot be placed in a wave: neither "
            "survey-formats.md nor the family interview numbers in the extract bound their family file. Add the "
            "family interview (ID) numbers of the waves to the extract, or pass occupation_vars={name: "
            "{'year': ..., 'role': 'head' | 'spouse'}} (or {name: None} to leave one out)",
            path=layout.path,
            variable=unplaced[0].split(" ", 1)[0],
        )
    for name, spec in user.items():
        if spec is None:
            continue
        if name not in layout:
            raise PSIDFormatError(
                f"occupation_vars names {name}, which is not in the layout{_of(layout)}",
                path=layout.path,
                variable=name,
            )
        found[name] = _user_variable(name, spec, layout.label(name))
    order = {n: i for i, n in enumerate(layout.names)}
    found = dict(sorted(found.items(), key=lambda kv: order[kv[0]]))
    seen: dict[tuple[int, str, int], str] = {}
    for var in found.values():
        key = (var.year, var.role, var.job)
        if key in seen and (var.origin != "user" or found[seen[key]].origin != "user"):
            raise PSIDFormatError(
                f"{seen[key]} and {var.name} are both the {var.role}'s job-{var.job} occupation of {var.year}"
                f"{_of(layout)}; pass occupation_vars= to say which is which (or {{name: None}} to drop one)",
                path=layout.path,
                variable=var.name,
            )
        seen[key] = var.name
    return found


def _with(var: OccupationVariable, **changes: Any) -> OccupationVariable:
    return OccupationVariable(**{**asdict(var), **changes})


def _user_variable(name: str, spec: Mapping[str, Any] | OccupationVariable, label: str | None) -> OccupationVariable:
    if isinstance(spec, OccupationVariable):
        return _with(spec, name=name, origin="user")
    unknown = set(spec) - {"year", "role", "frame", "job", "priority"}
    if unknown or "year" not in spec or "role" not in spec:
        raise ValueError(
            f"occupation_vars[{name!r}] must be a mapping with 'year' and 'role' (and optionally 'frame', 'job', "
            f"'priority'), got {dict(spec)!r}"
        )
    year = int(spec["year"])
    role = {"head": "head", "reference person": "head", "spouse": "spouse", "wife": "spouse"}.get(
        str(spec["role"]).lower()
    )
    if role is None:
        raise ValueError(f"occupation_vars[{name!r}]: role must be 'head' or 'spouse', got {spec['role']!r}")
    frame = spec.get("frame") or frame_for_year(year)
    if frame is None:
        raise ValueError(
            f"occupation_vars[{name!r}]: PSID has no 3-digit occupation codes in {year} (1-2 digit only); "
            "give a 'frame' if the variable holds Census codes"
        )
    if frame not in (*FRAMES, "occ1990dd"):
        raise ValueError(f"occupation_vars[{name!r}]: unknown frame {frame!r}; choose from {(*FRAMES, 'occ1990dd')}")
    job = int(spec.get("job", 1))
    return OccupationVariable(name, year, role, frame, job, int(spec.get("priority", job)), "user", label)  # type: ignore[arg-type]


def _family_fences(layout: Layout, wave_ids: Mapping[int, WaveIds]) -> list[tuple[tuple[str, int], int, bool]]:
    """Family-file interview numbers: ``((prefix, number), year, in_extract)``, built-in and labelled."""
    individual = {w.interview for w in wave_ids.values()} | {ids[0] for ids in WAVE_IDS.values()}
    fences: dict[tuple[str, int], tuple[int, bool]] = {}
    for year, name in FAMILY_INTERVIEW.items():
        m = _VAR_NUMBER.match(name)
        assert m is not None
        fences[(m.group(1), int(m.group(2)))] = (year, name in layout)
    built_in = dict(fences)
    for name in layout.names:
        m = _FAMILY_INTERVIEW_LABEL.match(layout.label(name) or "")
        key = _VAR_NUMBER.match(name)
        if m is None or key is None or name in individual:
            continue
        prefix, number, year = key.group(1), int(key.group(2)), int(m.group(1))
        # an individual-file "YYYY INTERVIEW NUMBER" (ER30000 on) breaks the order of the built-in family
        # interview numbers (variable numbers grow with the wave within a prefix): not a family file's
        consistent = all(
            (n < number and y < year) or (n > number and y > year) or (n == number and y == year)
            for (p, n), (y, _) in built_in.items()
            if p == prefix
        )
        if consistent:
            fences[(prefix, number)] = (year, True)
    return sorted((key, year, present) for key, (year, present) in fences.items())


def _place(name: str, fences: list[tuple[tuple[str, int], int, bool]], latest_wave: int | None) -> int | None:
    """The wave of a family variable from the interview numbers that bound its family file, or ``None``."""
    m = _VAR_NUMBER.match(name)
    if m is None:
        return None
    prefix, number = m.group(1), int(m.group(2))
    same = [(n, year, present) for (p, n), year, present in fences if p == prefix]
    below = [f for f in same if f[0] <= number]
    above = [f for f in same if f[0] > number]
    if not below:
        return None
    _, year, present = below[-1]
    if above:
        return year if above[0][1] == _next_wave(year) else None
    if prefix == "V":  # V numbers end with the 1993 family file
        return year if year == 1993 else None
    return year if present and (latest_wave is None or latest_wave <= year) else None


# ---------------------------------------------------------------------- the reader
def read_psid(
    path: Path | str,
    *,
    layout: Layout | Path | str | None = None,
    roles: Iterable[str] = ROLES,
    waves: Iterable[int] | None = None,
    persons: Iterable[int] | None = None,
    occupation_vars: Mapping[str, Mapping[str, Any] | OccupationVariable | None] | None = None,
    wave_ids: Mapping[int, tuple[str | None, ...] | Mapping[str, str | None]] | None = None,
    variant: Variant = "dorn2013",
    on_unmapped: OnUnmapped = "drop",
) -> CareerPanel:
    """Read a PSID Data Center extract into a panel of head and spouse occupations.

    Parameters
    ----------
    path : path-like
        The fixed-width data file ``J<jobid>.txt`` (or its setup file, when the
        ``.txt`` of the same name is beside it).
    layout : Layout or path-like, optional
        The column layout, or the setup file to read it from; by default the
        ``.do``, ``.sps`` or ``.sas`` beside the data file (in that order).
    roles : iterable of {"head", "spouse"}
        Whose occupations to keep. Cells of individuals in other roles are
        counted as dropped.
    waves : iterable of int, optional
        Survey waves to keep (default: every wave with an occupation variable).
    persons : iterable of int, optional
        Person ids (``ER30001 * 1000 + ER30002``) to keep (default: all).
    occupation_vars : mapping, optional
        Occupation variables to add, override or (with ``None``) leave out; see
        :func:`resolve_occupation_variables`.
    wave_ids : mapping, optional
        ``{year: (interview, sequence, relationship)}`` for waves whose individual
        variables are neither built in nor labelled; see :func:`resolve_wave_ids`.
    variant : {"dorn2013", "deming2017"}
        occ1990dd family of the result.
    on_unmapped : {"drop", "raise"}
        What to do with codes the crosswalk does not know.

    Returns
    -------
    CareerPanel
        ``person_id``, ``year``, ``occ`` and the time-varying covariate ``role``
        (head / spouse); ``panel.lineage`` counts every individual x
        occupation-variable cell of the file; ``panel.metadata`` lists the
        variables used and where their meaning came from.

    Raises
    ------
    FileNotFoundError
        When the data file or its setup file is missing.
    PSIDFormatError
        On an empty file, a layout without ER30001/ER30002, a layout that does not
        fit the data, a non-numeric value, a blank or duplicated person id (with
        file, line and variable), or occupation variables that cannot be placed.
    ValueError
        On bad options (an unknown role, a wave or person not in the extract).

    Notes
    -----
    Waves are kept as observed: annual to 1997, biennial from 1999; gaps are not
    filled. The occupation of a person-year is the job-1 variable of their role
    when there are several jobs (lower ``priority`` wins).
    """
    variant = check_variant(variant)
    roles = _check_roles(roles)
    data_path = _data_file(Path(path))
    if layout is None:
        layout = read_layout(data_path)
    elif not isinstance(layout, Layout):
        layout = read_layout(layout)
    for name, meaning in (("ER30001", "1968 interview number"), ("ER30002", "person number")):
        if name not in layout:
            raise PSIDFormatError(
                f"the layout{_of(layout)} has no {name} ({meaning}); person ids are ER30001 * 1000 + ER30002, so the "
                "extract must be an 'All Individuals Data' file that includes both",
                path=layout.path,
                variable=name,
            )
    ids = resolve_wave_ids(layout, wave_ids)
    occ = resolve_occupation_variables(layout, occupation_vars, ids)
    if not occ:
        raise PSIDFormatError(
            f"no head or spouse occupation variable found in the layout{_of(layout)} (by the survey-formats.md "
            "table or by labels such as 'BC20 MAIN OCC FOR JOB 1: 2000 CODE (HD)'); pass occupation_vars=",
            path=layout.path,
        )
    available = sorted({v.year for v in occ.values()})
    chosen_waves = set(available) if waves is None else {int(w) for w in waves}
    absent = sorted(chosen_waves - set(available))
    if absent:
        raise ValueError(f"waves {absent} have no occupation variable in {data_path}; it has {available}")
    used = [v for v in occ.values() if v.year in chosen_waves and v.role in roles]
    needed = sorted({v.year for v in used})
    missing = [y for y in needed if y not in ids]
    if missing:
        raise PSIDFormatError(_missing_ids_message(missing, layout, data_path), path=layout.path)

    columns = ["ER30001", "ER30002", *(n for y in needed for n in ids[y].names), *(v.name for v in used)]
    table = read_fixed_width(data_path, layout, dict.fromkeys(columns))
    person_id = _person_ids(table, data_path)
    n = len(person_id)
    selected = np.ones(n, dtype=bool)
    if persons is not None:
        wanted = np.unique(np.asarray(list(persons), dtype=np.int64))
        unknown = np.setdiff1d(wanted, person_id)
        if len(unknown):
            raise ValueError(f"persons {unknown[:10].tolist()} are not in {data_path}")
        selected = np.isin(person_id, wanted)

    lineage = Lineage(source=str(data_path), rows_read=n * len(occ), unit="individual x occupation variable cell")
    reasons = _Counts()
    for var in occ.values():
        if var.year not in chosen_waves:
            reasons.add("selection", "wave not selected", n)
        elif var.role not in roles:
            reasons.add("selection", "role not selected", n)
    membership = {y: _membership(table, ids[y]) for y in needed}
    role_text = " or ".join(roles)
    keeps = []
    for var in used:
        in_unit, is_head, is_spouse = membership[var.year]
        in_role = np.zeros(n, dtype=bool)
        for r, mask in (("head", is_head), ("spouse", is_spouse)):
            if r in roles:
                in_role |= mask
        mine = is_head if var.role == "head" else is_spouse
        reasons.add("selection", "person not selected", int((~selected).sum()))
        reasons.add("family unit", NOT_IN_FAMILY_UNIT, int((selected & ~in_unit).sum()))
        reasons.add("role", f"not {role_text} in this wave", int((selected & in_unit & ~in_role).sum()))
        reasons.add("role", OTHER_PARTNER, int((selected & in_unit & in_role & ~mine).sum()))
        keeps.append(np.flatnonzero(selected & in_unit & mine))
    for (stage, reason), count in reasons.items():
        lineage.drop(stage, reason, count, **({"rule": _RULES[reason]} if reason in _RULES else {}))
    candidates, role_of = _candidates(used, keeps, person_id, table)
    frames = sorted({v.frame for v in used})
    metadata = {
        "source": "psid",
        "data_file": str(data_path),
        "setup_file": None if layout.path is None else str(layout.path),
        "setup_kind": layout.kind,
        "roles": list(roles),
        "waves": needed,
        "occupation_variables": {name: asdict(v) for name, v in occ.items()},
        "wave_ids": {str(y): asdict(w) for y, w in ids.items() if y in needed},
    }
    return harmonize(
        candidates,
        source=str(data_path),
        variant=variant,
        special_codes=_special_codes(frames),
        on_unmapped=on_unmapped,
        covariates=role_of,
        name="psid",
        metadata=metadata,
        lineage=lineage,
    )


class _Counts(dict[tuple[str, str], int]):
    def add(self, stage: str, reason: str, count: int) -> None:
        self[(stage, reason)] = self.get((stage, reason), 0) + int(count)


def _candidates(
    used: list[OccupationVariable], keeps: list[np.ndarray], person_id: np.ndarray, table: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long candidate table, and each candidate person-year's role (head/spouse) indexed by person and year."""
    rows = np.concatenate([np.zeros(0, dtype=np.int64), *keeps])
    which = np.repeat(np.arange(len(used)), [len(k) for k in keeps])
    frames = sorted({v.frame for v in used})
    frame_of = np.array([frames.index(v.frame) for v in used], dtype=np.int64)
    role_of = np.array([ROLES.index(v.role) for v in used], dtype=np.int64)
    codes = [table[v.name].to_numpy()[k] for v, k in zip(used, keeps, strict=True)]
    candidates = pd.DataFrame(
        {
            "person_id": person_id[rows],
            "year": np.array([v.year for v in used], dtype=np.int64)[which],
            "variable": pd.Categorical.from_codes(which, categories=[v.name for v in used]),
            "frame": pd.Categorical.from_codes(frame_of[which], categories=frames),
            "code": np.concatenate([np.zeros(0), *codes]),
            "priority": np.array([v.priority for v in used], dtype=np.int64)[which],
        }
    )
    # a person has one role per wave, so the rows of the first variable of each (wave, role) cover every
    # candidate person-year exactly once
    first_of = {}
    for k, v in enumerate(used):
        first_of.setdefault((v.year, v.role), k)
    first = np.isin(which, list(first_of.values()))
    index = pd.MultiIndex.from_arrays(
        [candidates["person_id"].to_numpy()[first], candidates["year"].to_numpy()[first]], names=["person_id", "year"]
    )
    roles = pd.DataFrame(
        {"role": pd.Categorical.from_codes(role_of[which[first]], categories=list(ROLES))}, index=index
    )
    return candidates, roles


def _special_codes(frames: Iterable[str]) -> dict[tuple[str, int], SpecialCode]:
    out = {}
    for frame in frames:
        out[(frame, 0)] = SpecialCode(f"0 {SPECIAL_OCCUPATION_CODES[0]}")
        na = 9999 if frame in ("occ2010", "occ2000_4digit") else 999
        out[(frame, na)] = SpecialCode(f"{na} {SPECIAL_OCCUPATION_CODES[na]}")
    return out


def _check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = (roles,)
    out = tuple(dict.fromkeys(roles))
    bad = [r for r in out if r not in ROLES]
    if bad or not out:
        raise ValueError(f"roles must be a non-empty selection of {ROLES}, got {roles!r}")
    return out


def _data_file(path: Path) -> Path:
    """The fixed-width file: ``path`` itself, or the ``.txt`` beside a setup file."""
    if path.suffix.lower() in (*SETUP_SUFFIXES, ".dct"):
        folder = path.parent
        matches = (
            [c for c in folder.iterdir() if c.stem.lower() == path.stem.lower() and c.suffix.lower() == ".txt"]
            if folder.is_dir()
            else []
        )
        if not matches:
            raise FileNotFoundError(f"no data file {path.stem}.txt beside the setup file {path}")
        path = matches[0]
    if not path.is_file():
        raise FileNotFoundError(f"PSID data file {path} does not exist")
    return path


def _person_ids(table: pd.DataFrame, path: Path) -> np.ndarray:
    """``ER30001 * 1000 + ER30002``; blanks, person numbers over 999 and duplicates raise with the line."""
    for name in ("ER30001", "ER30002"):
        blank = np.flatnonzero(table[name].isna().to_numpy())
        if len(blank):
            raise PSIDFormatError(
                f"{path}, line {blank[0] + 1}: {name} is blank; every individual needs ER30001 and ER30002",
                path=path,
                line=int(blank[0]) + 1,
                variable=name,
            )
    family = table["ER30001"].to_numpy().astype(np.int64)
    person = table["ER30002"].to_numpy().astype(np.int64)
    big = np.flatnonzero(person > 999)
    if len(big):
        raise PSIDFormatError(
            f"{path}, line {big[0] + 1}: person number ER30002 = {person[big[0]]} has more than 3 digits",
            path=path,
            line=int(big[0]) + 1,
            variable="ER30002",
        )
    pid = family * 1000 + person
    dup = pd.Series(pid).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first = rows[0]
        other = rows[1:][pid[rows[1:]] == pid[first]][0]
        raise PSIDFormatError(
            f"{path}, lines {first + 1} and {other + 1}: the same individual (ER30001 = {family[first]}, ER30002 = "
            f"{person[first]}, person id {pid[first]}) appears twice; {int(dup.sum())} rows share an id",
            path=path,
            line=int(other) + 1,
            variable="ER30002",
        )
    return pid


def _membership(table: pd.DataFrame, ids: WaveIds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In a family unit that wave; head; spouse."""
    interview = table[ids.interview].to_numpy()
    in_unit = interview > 0
    if ids.sequence is not None:
        sequence = table[ids.sequence].to_numpy()
        in_unit &= (sequence >= 1) & (sequence <= 20)
    relation = table[ids.relation].to_numpy()
    codes = relationship_codes(ids.year)
    is_head = in_unit & np.isin(relation, codes["head"])
    is_spouse = in_unit & np.isin(relation, codes["spouse"])
    return in_unit, is_head, is_spouse


def _missing_ids_message(years: list[int], layout: Layout, data_path: Path) -> str:
    hints = []
    for y in years:
        known = WAVE_IDS.get(y)
        if known is not None:
            lacking = [n for n in known if n is not None and n not in layout]
            hints.append(f"{y}: add {'/'.join(lacking)} to the extract")
        else:
            hints.append(f"{y}: add the individual's {y} interview/sequence/relationship variables")
    return (
        f"{data_path}: the wave(s) {years} have occupation variables but the layout{_of(layout)} lacks the "
        f"individual variables that say who was head or spouse that wave ({'; '.join(hints)}), or pass "
        "wave_ids={year: (interview, sequence, relationship)}; survey-formats.md lists them for 1968-1970 and "
        "1993-2011 only, other waves need their labels ('YYYY INTERVIEW NUMBER', 'SEQUENCE NUMBER yy', "
        "'RELATION TO HEAD yy')"
    )
