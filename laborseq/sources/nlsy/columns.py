"""What the columns of an NLS Investigator export are: question name, survey year, role, code frame.

Every column is resolved to a question name and survey year through the
codebook, a cohort's built-in catalogue of reference numbers, or the renamed
header itself (``docs/survey-formats.md``, section C.1.2). A :class:`Cohort`
(:mod:`laborseq.sources.nlsy.nlsy79`, :mod:`laborseq.sources.nlsy.nlsy97`) says
which question names are occupations and covariates (a :class:`Role`), and the
codebook title of an occupation variable can name its Census code frame
(:func:`frame_from_title`, section C.1.4).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from laborseq.sources.nlsy.investigator import Codebook
from laborseq.sources.nlsy.names import normalize_qname, normalize_refnum, split_question_name, year_of

# ---------------------------------------------------------------------- occupation frames
_DECADE_FRAMES = {"70": "occ1970", "80": "occ1980", "00": "occ2000", "02": "occ2000", "10": "occ2010"}
_TITLE_DECADE = (
    re.compile(r"\b(?:19|20)?(70|80|00|02|10)\s+(?:CENSUS\s+)?CODES?\b"),
    re.compile(r"\bCENSUS\s+(?:19|20)(70|80|00|02|10)\b"),
    re.compile(r"\b(?:19|20)(70|80|00|02|10)\s+CENSUS\b"),
)
_TITLE_DIGITS = re.compile(r"\b([34])[\s-]+DIGITS?\b")


def frame_from_title(title: str | None, default: str) -> tuple[str, bool]:
    """The code frame a codebook title names, and whether the title decided it.

    ``"OCCUPATION (CENSUS 4 DIGIT, 00 CODES) (ALL) JOB #01"`` gives
    ``("occ2000_4digit", True)``; a title saying ``10 CODES`` or ``2010 CENSUS``
    gives ``occ2010``, ``70``/``80 CODES`` the 1970/1980 frames; ``3 DIGIT``
    with 2000 codes gives ``occ2000``. Without a census year the frame family
    of ``default`` is kept (the digit count still chooses between the 3- and
    4-digit 2000 frames). Only the title line is read: codebook comments are
    sometimes stale (the 2016 NLSY79 roster entry says "1970 CENSUS CODE" in
    its comment).
    """
    if not title:
        return default, False
    text = title.upper()
    family = None
    for pattern in _TITLE_DECADE:
        m = pattern.search(text)
        if m:
            family = _DECADE_FRAMES[m.group(1)]
            break
    digits = _TITLE_DIGITS.search(text)
    if family is None:
        if digits and default in ("occ2000", "occ2000_4digit"):
            frame = "occ2000_4digit" if digits.group(1) == "4" else "occ2000"
            return frame, True
        return default, False
    if family == "occ2000":
        if digits:
            family = "occ2000_4digit" if digits.group(1) == "4" else "occ2000"
        elif default in ("occ2000", "occ2000_4digit"):
            family = default
    return family, True


# ---------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Role:
    """What a question name is to a cohort reader.

    Attributes
    ----------
    kind : str
        ``"id"``; an occupation kind (``"CPSOCC70"``, ``"CPSOCC80"``,
        ``"roster"``); or a covariate kind (``"sex"``, ``"race"``, ``"sample"``,
        ``"region"``, ``"education"``, ``"weight"``).
    rank : int
        Preference among variables of the same kind and year (lower wins).
    job : int
        Employer-roster job number (``.01`` -> 1); 0 otherwise.
    """

    kind: str
    rank: int = 0
    job: int = 0

    @property
    def is_occupation(self) -> bool:
        return self.kind in OCCUPATION_KINDS


OCCUPATION_KINDS = ("CPSOCC70", "CPSOCC80", "roster")
STATIC_KINDS = ("sex", "race", "sample")
ROUND_KINDS = ("region", "education", "weight")


@dataclass(frozen=True)
class Column:
    """One column of the export, resolved to a question name and survey year."""

    position: int
    name: str
    refnum: str | None
    qname: str | None
    year_label: str | None
    title: str | None = None
    implied_decimals: int | None = None
    source: str = "header"
    role: Role | None = None

    @property
    def year(self) -> int | None:
        return year_of(self.year_label)

    @property
    def described(self) -> str:
        """``R0046400 (CPSOCC70_1979)`` or the header name."""
        named = self.qname if self.year_label is None else f"{self.qname}_{self.year_label}"
        if self.refnum and self.refnum != self.name:
            return f"{self.name} ({self.refnum}, {named})"
        return f"{self.name} ({named})" if self.refnum and self.qname else self.name


@dataclass(frozen=True)
class Cohort:
    """What distinguishes NLSY79 from NLSY97 for :func:`~laborseq.sources.nlsy.reader.read_investigator`.

    Attributes
    ----------
    name : str
        ``"NLSY79"`` or ``"NLSY97"`` (also the tagset suffix).
    id_name : str
        Question name of the person id (``CASEID``, ``PUBID``).
    catalogue : mapping of str to (str, str)
        Built-in reference number -> (question name, year label).
    classify : callable
        Normalized question name -> :class:`Role` or ``None``.
    default_frame : callable
        (occupation kind, survey year) -> code frame when the codebook says nothing.
    label : callable
        (occupation kind, job, survey year) -> the variable's name in the lineage.
    categories : mapping of str to (str, dict)
        Covariate kind -> (covariate name, code -> label) for ``sex``, ``race``,
        ``sample``, ``region``.
    """

    name: str
    id_name: str
    catalogue: Mapping[str, tuple[str, str]]
    classify: Callable[[str], Role | None]
    default_frame: Callable[[str, int], str]
    label: Callable[[str, int, int], str]
    categories: Mapping[str, tuple[str, Mapping[int, str]]]

    @property
    def tagset_suffix(self) -> str:
        return "." + self.name


@dataclass(frozen=True)
class OccupationVariable:
    """An occupation column with its frame and priority."""

    column: Column
    kind: str
    job: int
    year: int
    frame: str
    frame_from_codebook: bool
    priority: int
    label: str


def resolve_columns(names: Sequence[str], cohort: Cohort, codebook: Codebook | None) -> list[Column]:
    """Resolve header (or tagset) names to question names, survey years and roles."""
    out = []
    for position, name in enumerate(names):
        ref = normalize_refnum(name)
        entry = None
        if ref is not None:
            entry = codebook.entries.get(ref) if codebook else None
            if entry is not None:
                qname, label, source = normalize_qname(entry.qname), entry.year_label, "codebook"
            elif ref in cohort.catalogue:
                raw, label = cohort.catalogue[ref]
                qname, source = normalize_qname(raw), "catalogue"
            else:
                out.append(Column(position, name, ref, None, None, source="unknown"))
                continue
        else:
            qname, label = split_question_name(name)
            source = "header"
            if codebook is not None and label is not None:
                entry = codebook.by_name.get((qname, label))
        title = entry.title if entry else None
        decimals = entry.implied_decimals if entry else None
        role = Role("id") if qname == cohort.id_name else cohort.classify(qname)
        out.append(Column(position, name, ref, qname, label, title, decimals, source, role))
    return out
