"""PSID Data Center extracts (J-files) as panels of occupations.

A Data Center extract of "All Individuals Data" is one fixed-width row per
individual ever in the study (``J<jobid>.txt``) with a setup program beside it
(``.do``, ``.sps`` or ``.sas``, parsed by :mod:`laborseq.sources.psid.setup_files`).
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

Which variable belongs to which wave and role is settled by
:mod:`laborseq.sources.psid.variables`, from the built-in tables of
:mod:`laborseq.sources.psid.reference_tables`, the setup file's labels and the
caller's ``wave_ids=`` / ``occupation_vars=``. The layouts and tables are
described in ``docs/survey-formats.md``, section C.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborseq.occupations.crosswalk import CrosswalkTable, OnUnmapped, user_crosswalks
from laborseq.occupations.occ1990dd import Variant, check_variant
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import SpecialCode, harmonize
from laborseq.sources.psid.fixed_width import read_fixed_width
from laborseq.sources.psid.layout import Layout, PSIDFormatError, of_setup_file
from laborseq.sources.psid.reference_tables import (
    ROLES,
    SPECIAL_OCCUPATION_CODES,
    WAVE_IDS,
    OccupationVariable,
    WaveIds,
    relationship_codes,
)
from laborseq.sources.psid.setup_files import SETUP_SUFFIXES, read_layout
from laborseq.sources.psid.variables import resolve_occupation_variables, resolve_wave_ids

# lineage reasons of the cells that never reach the crosswalk (besides "wave/role/person not selected")
NOT_IN_FAMILY_UNIT = "not in a family unit this wave"
OTHER_PARTNER = "occupation variable of the other partner"
_RULES = {
    NOT_IN_FAMILY_UNIT: "interview number 0 (or blank) or sequence number outside 1-20",
    OTHER_PARTNER: "family variables are on every member's row: the head's occupation on the spouse's row and "
    "the spouse's on the head's",
}


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
    crosswalk: CrosswalkTable | None = None,
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
    crosswalk : DataFrame or path, optional
        Your own crosswalk rows (``from_code``, ``occ1990dd``, and ``frame`` when
        the input has several code frames), added over the built-in crosswalks;
        the codes they map are counted as "your crosswalk" in the lineage.

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
                f"the layout{of_setup_file(layout)} has no {name} ({meaning}); person ids are ER30001 * 1000 + "
                "ER30002, so the extract must be an 'All Individuals Data' file that includes both",
                path=layout.path,
                variable=name,
            )
    ids = resolve_wave_ids(layout, wave_ids)
    occ = resolve_occupation_variables(layout, occupation_vars, ids)
    if not occ:
        raise PSIDFormatError(
            f"no head or spouse occupation variable found in the layout{of_setup_file(layout)} (neither a built-in "
            "one, such as ER21145 for the head in 2003, nor one labelled like 'BC20 MAIN OCC FOR JOB 1: 2000 CODE "
            "(HD)'); pass occupation_vars=",
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
        crosswalks=None if crosswalk is None else user_crosswalks(crosswalk, variant, frames),
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
        f"{data_path}: the wave(s) {years} have occupation variables but the layout{of_setup_file(layout)} lacks the "
        f"individual variables that say who was head or spouse that wave ({'; '.join(hints)}), or pass "
        "wave_ids={year: (interview, sequence, relationship)}; they are built in for 1968-1970 and "
        "1993-2011 only, other waves need their labels ('YYYY INTERVIEW NUMBER', 'SEQUENCE NUMBER yy', "
        "'RELATION TO HEAD yy')"
    )
