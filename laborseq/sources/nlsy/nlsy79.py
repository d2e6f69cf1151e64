"""NLSY79 reader: an NLS Investigator export to a panel of occupations in occ1990dd.

Occupation variables and code frames (``docs/survey-formats.md``, section
C.1.5; the built-in reference numbers are listed in section C.1.6):

=================  ==========================  ==========  =====================================
question name      level                       rounds      code frame
=================  ==========================  ==========  =====================================
``CPSOCC70``       CPS job (current/last)      1979-1993   1970 Census (990, 995, 996 special)
``CPSOCC80``       CPS job (``.01`` in 2000)   1982-2000   1980 Census (999 not reported)
``OCCALL-EMP.xx``  employer roster, job xx     1980-2000   1970 Census
``OCCALL-EMP.xx``  employer roster             2002        2000 Census, 3 digits
``OCCALL-EMP.xx``  employer roster             2004+       2000-based 4 digits (9840, 9950, 9990)
=================  ==========================  ==========  =====================================

A codebook title naming other codes (``10 CODES``, ``2010 CENSUS``) overrides
the table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Literal

from laborseq.occupations.crosswalk import CrosswalkTable, OnUnmapped
from laborseq.occupations.occ1990dd import Variant
from laborseq.panel import CareerPanel
from laborseq.sources.harmonize import SpecialCode
from laborseq.sources.nlsy.columns import Cohort, Role
from laborseq.sources.nlsy.covariates import REGIONS
from laborseq.sources.nlsy.reader import read_investigator

Occupation = Literal["cps", "roster"]
DidNotWork = Literal["out_of_labor_force", "unemployed", "drop"]

# NLSY79 reference numbers cross-checked in two independent sources (the Deming 2017 replication
# do-files and a user's do-file; docs/survey-formats.md, section C.1.6): reference number, question
# name, survey year. Used when an export has a reference-number header and no codebook.
_CATALOGUE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("R0000100", "CASEID", "1979"),
    ("R0173600", "SAMPLE_ID", "1979"),
    ("R0214700", "SAMPLE_RACE", "78SCRN"),
    ("R0214800", "SAMPLE_SEX", "1979"),
    # CPSOCC70, 1970 Census codes
    ("R0046400", "CPSOCC70", "1979"),
    ("R0263400", "CPSOCC70", "1980"),
    ("R0446400", "CPSOCC70", "1981"),
    ("R0702100", "CPSOCC70", "1982"),
    ("R0945000", "CPSOCC70", "1983"),
    ("R1255400", "CPSOCC70", "1984"),
    ("R1650200", "CPSOCC70", "1985"),
    ("R1922800", "CPSOCC70", "1986"),
    ("R2317600", "CPSOCC70", "1987"),
    ("R2525400", "CPSOCC70", "1988"),
    ("R2924400", "CPSOCC70", "1989"),
    ("R3127100", "CPSOCC70", "1990"),
    ("R3522800", "CPSOCC70", "1991"),
    ("R3727800", "CPSOCC70", "1992"),
    ("R4182100", "CPSOCC70", "1993"),
    # CPSOCC80, 1980 Census codes (CPSOCC80.01 in 2000)
    ("R0828000", "CPSOCC80", "1982"),
    ("R0945300", "CPSOCC80", "1983"),
    ("R1255700", "CPSOCC80", "1984"),
    ("R1650500", "CPSOCC80", "1985"),
    ("R1923100", "CPSOCC80", "1986"),
    ("R2317900", "CPSOCC80", "1987"),
    ("R2525700", "CPSOCC80", "1988"),
    ("R2924700", "CPSOCC80", "1989"),
    ("R3127400", "CPSOCC80", "1990"),
    ("R3523100", "CPSOCC80", "1991"),
    ("R3728100", "CPSOCC80", "1992"),
    ("R4193700", "CPSOCC80", "1993"),
    ("R4587901", "CPSOCC80", "1994"),
    ("R5270900", "CPSOCC80", "1996"),
    ("R6473700", "CPSOCC80", "1998"),
    ("R6592900", "CPSOCC80.01", "2000"),
    # OCCALL-EMP.01 (employer roster, job 1), and the later jobs where listed
    ("R0338300", "OCCALL-EMP.01", "1980"),
    ("R0546000", "OCCALL-EMP.01", "1981"),
    ("R0840500", "OCCALL-EMP.01", "1982"),
    ("R1087700", "OCCALL-EMP.01", "1983"),
    ("R1463400", "OCCALL-EMP.01", "1984"),
    ("R1810200", "OCCALL-EMP.01", "1985"),
    ("R2171900", "OCCALL-EMP.01", "1986"),
    ("R2376700", "OCCALL-EMP.01", "1987"),
    ("R2771500", "OCCALL-EMP.01", "1988"),
    ("R3013300", "OCCALL-EMP.01", "1989"),
    ("R3340700", "OCCALL-EMP.01", "1990"),
    ("R3605000", "OCCALL-EMP.01", "1991"),
    ("R3955200", "OCCALL-EMP.01", "1992"),
    ("R4587904", "OCCALL-EMP.01", "1994"),
    ("R5270600", "OCCALL-EMP.01", "1996"),
    ("R6472600", "OCCALL-EMP.01", "1998"),
    ("R6591800", "OCCALL-EMP.01", "2000"),
    ("R7209600", "OCCALL-EMP.01", "2002"),
    ("R7898000", "OCCALL-EMP.01", "2004"),
    ("T0138400", "OCCALL-EMP.01", "2006"),
    ("T1298000", "OCCALL-EMP.01", "2008"),
    ("T1298100", "OCCALL-EMP.02", "2008"),
    ("T1298200", "OCCALL-EMP.03", "2008"),
    ("T1298300", "OCCALL-EMP.04", "2008"),
    ("T1298400", "OCCALL-EMP.05", "2008"),
    ("T2326500", "OCCALL-EMP.01", "2010"),
    ("T3308700", "OCCALL-EMP.01", "2012"),
    ("T4282800", "OCCALL-EMP.01", "2014"),
    ("T4282900", "OCCALL-EMP.02", "2014"),
    ("T5256900", "OCCALL-EMP.01", "2016"),
    ("T7818600", "OCCALL-EMP.01", "2018"),
    ("T8428300", "OCCALL-EMP.01", "2020"),
    ("T8982400", "OCCALL-EMP.01", "2022"),
)

CATALOGUE: dict[str, tuple[str, str]] = {ref: (qname, year) for ref, qname, year in _CATALOGUE_ROWS}
"""Built-in NLSY79 reference numbers: reference number -> (question name, survey-year label)."""

SAMPLES: dict[int, str] = {
    **dict.fromkeys(range(1, 9), "cross_section"),
    **dict.fromkeys(range(9, 15), "supplemental"),
    **dict.fromkeys(range(15, 21), "military"),
}
"""``SAMPLE_ID`` 1-8 cross-sectional, 9-14 supplemental, 15-20 military sample."""

_ROSTER = re.compile(r"^OCCALL_EMP_([0-9]{2})$")
_HGCREV = re.compile(r"^HGCREV[0-9]{2}$")

_ROLES: dict[str, Role] = {
    "CPSOCC70": Role("CPSOCC70"),
    "CPSOCC80": Role("CPSOCC80"),
    "CPSOCC80_01": Role("CPSOCC80"),
    "SAMPLE_SEX": Role("sex"),
    "SAMPLE_RACE": Role("race"),
    "SAMPLE_RACE_78SCRN": Role("race"),
    "SAMPLE_ID": Role("sample"),
    "REGION": Role("region"),
    "HGC": Role("education", rank=1),
    "C_SAMPWEIGHT": Role("weight", rank=0),
    "SAMPWEIGHT": Role("weight", rank=1),
}


def _classify(qname: str) -> Role | None:
    if qname in _ROLES:
        return _ROLES[qname]
    m = _ROSTER.match(qname)
    if m and int(m.group(1)) > 0:
        return Role("roster", job=int(m.group(1)))
    if _HGCREV.match(qname):
        return Role("education", rank=0)
    return None


def _default_frame(kind: str, year: int) -> str:
    if kind == "CPSOCC70":
        return "occ1970"
    if kind == "CPSOCC80":
        return "occ1980"
    if year <= 2000:
        return "occ1970"
    return "occ2000" if year <= 2002 else "occ2000_4digit"


def _label(kind: str, job: int, year: int) -> str:
    return f"OCCALL-EMP.{job:02d}_{year}" if kind == "roster" else f"{kind}_{year}"


COHORT = Cohort(
    name="NLSY79",
    id_name="CASEID",
    catalogue=CATALOGUE,
    classify=_classify,
    default_frame=_default_frame,
    label=_label,
    categories={
        "sex": ("gender", {1: "male", 2: "female"}),
        "race": ("race", {1: "hispanic", 2: "black", 3: "non_black_non_hispanic"}),
        "sample": ("sample", SAMPLES),
        "region": ("region", REGIONS),
    },
    occupation_questions="CPSOCC70 (1979-1993), CPSOCC80 (1982-1998; CPSOCC80.01 in 2000) and the employer roster "
    "OCCALL-EMP.01, OCCALL-EMP.02, ... (1980 on)",
)


def priorities(occupation: Occupation) -> dict[str, int]:
    """Priority of the CPS variables and of roster job 1 (job ``j`` > 1 gets ``j + 1``)."""
    if occupation == "cps":
        return {"CPSOCC80": 0, "CPSOCC70": 1, "roster": 2}
    return {"roster": 0, "CPSOCC80": 1, "CPSOCC70": 2}


def special_codes(did_not_work: DidNotWork) -> dict[tuple[str, int], SpecialCode]:
    """The 1970 and 1980 Census codes of the NLSY79 that are not occupations."""
    state = None if did_not_work == "drop" else did_not_work
    return {
        ("occ1970", 990): SpecialCode("990 same as present job"),
        ("occ1970", 995): SpecialCode("995 did not work", state),
        ("occ1970", 996): SpecialCode("996 never worked", state),
        ("occ1980", 999): SpecialCode("999 not reported"),
    }


def read_nlsy79(
    path: str | os.PathLike[str],
    *,
    codebook: str | os.PathLike[str] | bool | None = None,
    tagset: str | os.PathLike[str] | None = None,
    rounds: Iterable[int] | None = None,
    persons: Iterable[int] | None = None,
    occupation: Occupation = "cps",
    did_not_work: DidNotWork = "out_of_labor_force",
    variant: Variant = "dorn2013",
    on_unmapped: OnUnmapped = "drop",
    crosswalk: CrosswalkTable | None = None,
) -> CareerPanel:
    """Read an NLSY79 NLS Investigator export into a panel of occ1990dd occupations.

    Parameters
    ----------
    path : path-like
        The extract's ``.csv`` (header = reference numbers such as ``R0046400``,
        or question names renamed in the Stata ``CPSOCC80_01_2000``, SAS/R
        ``CPSOCC80.01_2000`` or lower-case style) or its space-separated
        ``.dat`` (no header; needs the tagset).
    codebook : path-like, bool or None
        The extract's ``.cdb``. ``None`` (default) uses ``<stem>.cdb`` beside
        ``path`` if there is one; ``True`` requires it; ``False`` uses none. It maps reference numbers
        to question names and survey years, and its title lines choose the code
        frame of occupation variables (``(CENSUS 4 DIGIT, 00 CODES)`` ->
        ``occ2000_4digit``, ``10 CODES`` -> ``occ2010``, ...). Without it,
        reference numbers are resolved through :data:`CATALOGUE`.
    tagset : path-like, optional
        The ``.NLSY79`` tagset: the column order of a ``.dat`` (default:
        ``<stem>.NLSY79`` beside ``path``). A CSV's header names its columns.
    rounds : iterable of int, optional
        Survey years to keep. Candidates of other rounds are counted in the
        lineage as "outside selected rounds".
    persons : iterable of int, optional
        ``CASEID`` values to keep; the others' candidates are counted as
        "person not selected".
    occupation : {"cps", "roster"}
        Which variable gives a person-year's occupation when several do.
        ``"cps"``: ``CPSOCC80`` (priority 0), then ``CPSOCC70`` (1), then the
        employer roster job 01 (2), job ``j`` (``j + 1``). ``"roster"``:
        roster job 01 (0), then ``CPSOCC80`` (1), ``CPSOCC70`` (2), then roster
        jobs 02+ (``j + 1``). The lowest priority number with a valid code
        wins; the others are counted as superseded (see
        :func:`~laborseq.sources.harmonize.harmonize`).
    did_not_work : {"out_of_labor_force", "unemployed", "drop"}
        What the 1970 codes 995 "did not work" and 996 "never worked" become:
        a status token, or a counted drop.
    variant : {"dorn2013", "deming2017"}
        occ1990dd family of the result.
    on_unmapped : {"drop", "raise"}
        Codes the crosswalk does not know: counted drops, or
        :class:`~laborseq.occupations.crosswalk.UnmappedCodeError`.
    crosswalk : DataFrame or path, optional
        Your own crosswalk rows (``from_code``, ``occ1990dd``, and ``frame`` when
        the input has several code frames), added over the built-in crosswalks;
        the codes they map are counted as "your crosswalk" in the lineage.

    Returns
    -------
    CareerPanel
        One row per person and survey year with an occupation (or status),
        ``panel.lineage`` accounting for every candidate (person x occupation
        variable). Covariates where the export has them: ``gender``, ``race``
        (``SAMPLE_RACE``: hispanic, black, non_black_non_hispanic) and
        ``sample`` (cross_section, supplemental, military) per person;
        ``region`` (``REGION``) and ``education`` (``HGCREV``yy, else ``HGC``,
        0-20 years; 95 "ungraded" is missing) per round. Negative values
        (NLS missing codes) are missing. ``panel.metadata`` lists the
        occupation variables with frame and priority, and the columns that
        were ignored (``ignored_columns``: reference numbers neither in the
        codebook nor in the catalogue) or not used (``unused_columns``).

    Raises
    ------
    FileNotFoundError
        If ``path``, the codebook or the tagset is missing.
    NLSYFormatError
        On an empty file, a missing id column (``R0000100``/``CASEID``), no
        occupation variable, a non-numeric value (column and row named), a
        repeated person id (ids named), or a ``.dat`` line whose field count
        differs from the tagset (line named).

    Notes
    -----
    Missing codes -1 refusal, -2 don't know, -3 invalid skip, -4 valid skip,
    -5 non-interview, and blanks, are counted drops. 999 "not reported"
    (1980 codes) is dropped with its reason. 990 "same as present job" (1970
    codes) does not name an occupation by itself: the candidate is dropped
    with that reason, and the person-year takes the occupation of the same
    round's next-priority variable (the employer roster's job 01, which in
    1980-1993 is also coded in 1970 codes) when that has a valid code; the
    lineage shows both the 990 drop and which variable filled the year.

    Weights: ``C_SAMPWEIGHT`` (else ``SAMPWEIGHT``) of a round weighs that
    round's person-years. NLSY weights carry two implied decimals; they are
    divided by 100 (or by ``10**d`` when the codebook entry states ``d``
    implied decimal places). The panel weight is set only when every
    person-year with an occupation code has a valid weight of its round;
    otherwise the weights are kept as covariate ``sampling_weight`` and
    ``metadata["weight"]`` says why.
    """
    if occupation not in ("cps", "roster"):
        raise ValueError(f"occupation must be 'cps' or 'roster', got {occupation!r}")
    if did_not_work not in ("out_of_labor_force", "unemployed", "drop"):
        raise ValueError(f"did_not_work must be 'out_of_labor_force', 'unemployed' or 'drop', got {did_not_work!r}")
    base = priorities(occupation)

    def priority(kind: str, job: int) -> int:
        return base[kind] if kind != "roster" or job == 1 else job + 1

    return read_investigator(
        path,
        COHORT,
        codebook=codebook,
        tagset=tagset,
        rounds=rounds,
        persons=persons,
        priority=priority,
        special_codes=special_codes(did_not_work),
        variant=variant,
        on_unmapped=on_unmapped,
        crosswalk=crosswalk,
        options={"occupation": occupation, "did_not_work": did_not_work},
    )
