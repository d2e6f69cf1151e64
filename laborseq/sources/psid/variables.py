"""Which variable of a PSID extract belongs to which wave and role.

The identifiers and occupation variables of
:mod:`laborseq.sources.psid.reference_tables` are built in (``docs/survey-formats.md``,
sections C.2.4 to C.2.7). The waves they do not list (the individual triples of
1971-1992 and 2013 on, most spouse occupations) are never guessed; they come
from

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

Section C.2.9 of ``docs/survey-formats.md`` describes these rules for users.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from laborseq.occupations.crosswalk import FRAMES
from laborseq.sources.psid.layout import Layout, PSIDFormatError, of_setup_file
from laborseq.sources.psid.reference_tables import (
    BUILT_IN,
    FAMILY_INTERVIEW,
    OCCUPATION_VARIABLES,
    WAVE_IDS,
    OccupationVariable,
    Role,
    WaveIds,
    frame_for_year,
    next_wave,
)

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
                    f"wave_ids[{year}] names {n}, which is not in the layout{of_setup_file(layout)}",
                    variable=n,
                    path=layout.path,
                )
        out[int(year)] = WaveIds(int(year), interview, sequence, relation, "user")  # type: ignore[arg-type]
    for year, (interview, sequence, relation) in WAVE_IDS.items():
        if year not in out and all(n in layout for n in (interview, sequence, relation) if n is not None):
            out[year] = WaveIds(year, interview, sequence, relation, BUILT_IN)
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
                    f"{name} is labelled {parsed.label!r}{of_setup_file(layout)}, but the built-in PSID table lists "
                    f"it as the {known.role}'s {known.year} occupation in {known.frame} codes; pass occupation_vars= "
                    "to settle it",
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
            f"occupation variable(s) {', '.join(unplaced)}{of_setup_file(layout)} cannot be placed in a wave: they "
            "are not in the built-in PSID table of occupation variables, and no family interview numbers in the "
            "extract bound their family file. Add the family interview (ID) numbers of the waves to the extract "
            "(e.g. ER25002 for 2005, ER36002 for 2007), or pass occupation_vars={name: "
            "{'year': ..., 'role': 'head' | 'spouse'}} (or {name: None} to leave one out)",
            path=layout.path,
            variable=unplaced[0].split(" ", 1)[0],
        )
    for name, spec in user.items():
        if spec is None:
            continue
        if name not in layout:
            raise PSIDFormatError(
                f"occupation_vars names {name}, which is not in the layout{of_setup_file(layout)}",
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
                f"{of_setup_file(layout)}; pass occupation_vars= to say which is which (or {{name: None}} to drop one)",
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
        return year if above[0][1] == next_wave(year) else None
    if prefix == "V":  # V numbers end with the 1993 family file
        return year if year == 1993 else None
    return year if present and (latest_wave is None or latest_wave <= year) else None
