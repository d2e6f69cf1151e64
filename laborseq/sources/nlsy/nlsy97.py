"""NLSY97 reader: an NLS Investigator export to a panel of occupations in occ1990dd.

The NLSY97 codes occupations only in the employer roster,
``YEMP_OCCODE-2002.01``, ``.02``, ... per round (annual 1997-2011, biennial
from 2013), in Census 2002 4-digit codes (the 2000 3-digit code times ten;
frame ``occ2000_4digit``) unless the codebook title of a round says 2010
codes (``occ2010``); see ``docs/survey-formats.md``, sections C.1.5 and C.1.7.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from laborseq.occupations.crosswalk import CrosswalkTable, OnUnmapped
from laborseq.occupations.occ1990dd import Variant
from laborseq.panel import CareerPanel
from laborseq.sources.nlsy.columns import Cohort, Role
from laborseq.sources.nlsy.covariates import REGIONS
from laborseq.sources.nlsy.reader import read_investigator

# Person keys seen in a real NLSY97 Investigator codebook (ilundberg/replication,
# continuous_treatments/data/nlsy97/nlsy97.cdb: R00001.00 [PUBID], R05363.00 [KEY!SEX],
# R14826.00 [KEY!RACE_ETHNICITY], all Survey Year 1997). Occupation variables need
# the codebook or a renamed header.
CATALOGUE: dict[str, tuple[str, str]] = {
    "R0000100": ("PUBID", "1997"),
    "R0536300": ("KEY!SEX", "1997"),
    "R1482600": ("KEY!RACE_ETHNICITY", "1997"),
}
"""Built-in NLSY97 reference numbers: reference number -> (question name, survey-year label)."""

RACE_ETHNICITY: dict[int, str] = {
    1: "black",
    2: "hispanic",
    3: "mixed_race_non_hispanic",
    4: "non_black_non_hispanic",
}
"""``KEY!RACE_ETHNICITY`` codes (the mixed-race category is kept, not folded)."""

_ROSTER = re.compile(r"^YEMP_OCCODE_2002_([0-9]{2})$")

_ROLES: dict[str, Role] = {
    "KEY_SEX": Role("sex"),
    "KEY_RACE_ETHNICITY": Role("race"),
    "CV_CENSUS_REGION": Role("region"),
    "CV_HGC_EVER_EDT": Role("education", rank=0),
    "CV_HGC_EVER": Role("education", rank=1),
    "SAMPLING_WEIGHT_CC": Role("weight", rank=0),
    "SAMPLING_PANEL_WEIGHT": Role("weight", rank=1),
}


def _classify(qname: str) -> Role | None:
    if qname in _ROLES:
        return _ROLES[qname]
    m = _ROSTER.match(qname)
    if m and int(m.group(1)) > 0:
        return Role("roster", job=int(m.group(1)))
    return None


COHORT = Cohort(
    name="NLSY97",
    id_name="PUBID",
    catalogue=CATALOGUE,
    classify=_classify,
    default_frame=lambda kind, year: "occ2000_4digit",
    label=lambda kind, job, year: f"YEMP_OCCODE-2002.{job:02d}_{year}",
    categories={
        "sex": ("gender", {1: "male", 2: "female"}),
        "race": ("race", RACE_ETHNICITY),
        "region": ("region", REGIONS),
    },
    occupation_questions="the employer roster YEMP_OCCODE-2002.01, YEMP_OCCODE-2002.02, ... (every round)",
)


def read_nlsy97(
    path: str | os.PathLike[str],
    *,
    codebook: str | os.PathLike[str] | bool | None = None,
    tagset: str | os.PathLike[str] | None = None,
    rounds: Iterable[int] | None = None,
    persons: Iterable[int] | None = None,
    variant: Variant = "dorn2013",
    on_unmapped: OnUnmapped = "drop",
    crosswalk: CrosswalkTable | None = None,
) -> CareerPanel:
    """Read an NLSY97 NLS Investigator export into a panel of occ1990dd occupations.

    Parameters
    ----------
    path : path-like
        The extract's ``.csv`` (header = reference numbers, or question names:
        SAS/R ``YEMP_OCCODE-2002.01_2008`` and ``KEY!SEX_1997``, Stata
        ``YEMP_OCCODE_2002_01_2008`` and ``KEY_SEX_1997``, any case) or its
        ``.dat`` with the tagset.
    codebook : path-like, bool or None
        The extract's ``.cdb`` (default: ``<stem>.cdb`` beside ``path`` if
        there is one; ``True``: require it; ``False``: none). A reference-number header needs it for the
        occupation variables, which are not catalogued; its titles choose
        the code frame (``2010`` codes -> ``occ2010``).
    tagset : path-like, optional
        The ``.NLSY97`` tagset, needed for a ``.dat`` (default: beside it).
    rounds, persons : iterable of int, optional
        Survey years and ``PUBID`` values to keep; the other candidates are
        counted in the lineage ("outside selected rounds", "person not
        selected").
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
        One row per person and survey year. The roster job with the lowest
        number and a valid code gives the year's occupation (job ``j`` has
        priority ``j - 1``; the others are counted as superseded). Covariates
        where present: ``gender`` (``KEY!SEX``), ``race`` (``KEY!RACE_ETHNICITY``:
        black, hispanic, mixed_race_non_hispanic, non_black_non_hispanic),
        ``region`` (``CV_CENSUS_REGION``), ``education`` (``CV_HGC_EVER_EDT``,
        0-20 years; 95 ungraded is missing); weights ``SAMPLING_WEIGHT_CC``
        (else ``SAMPLING_PANEL_WEIGHT``) per round, divided by 100 (two implied
        decimals, or what the codebook states), used as the panel weight only
        when every person-year with a code has one (else covariate
        ``sampling_weight``, see ``metadata["weight"]``).

    Raises
    ------
    FileNotFoundError, NLSYFormatError
        As :func:`~laborseq.sources.nlsy.nlsy79.read_nlsy79`.

    Notes
    -----
    Missing codes -1 to -5 and blanks are counted drops; the 4-digit codes
    9840 (Armed Forces) and 9950 (not in the labor force) become the status
    tokens ``military`` and ``out_of_labor_force``, 9990 (uncodeable) is
    dropped as "no occupation" (see :func:`~laborseq.occupations.crosswalk.crosswalk`).
    """
    return read_investigator(
        path,
        COHORT,
        codebook=codebook,
        tagset=tagset,
        rounds=rounds,
        persons=persons,
        priority=lambda kind, job: job - 1,
        special_codes={},
        variant=variant,
        on_unmapped=on_unmapped,
        crosswalk=crosswalk,
        options={"occupation": "roster"},
    )
