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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from laborseq.sources.nlsy.investigator import Codebook, NLSYFormatError
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
    occupation_questions : str
        The occupation question names the reader recognises, for messages.
    """

    name: str
    id_name: str
    catalogue: Mapping[str, tuple[str, str]]
    classify: Callable[[str], Role | None]
    default_frame: Callable[[str, int], str]
    label: Callable[[str, int, int], str]
    categories: Mapping[str, tuple[str, Mapping[int, str]]]
    occupation_questions: str

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


def bare_names(names: Sequence[str]) -> list[int]:
    """Positions of header names that are question names without a survey year (``YINC-1700``, not ``R0000100``
    or ``YINC-1700_2019``)."""
    return [i for i, n in enumerate(names) if normalize_refnum(n) is None and split_question_name(n)[1] is None]


def resolve_bare_names(
    where: str,
    names: Sequence[str],
    codebook: Codebook | None,
    tagset: Sequence[str] | None,
    catalogue: Mapping[str, tuple[str, str]],
) -> tuple[list[str], str | None]:
    """Reference numbers for the columns of a header of question names without survey years.

    NLS Investigator can write the CSV header as bare question names, so a
    question asked in several rounds repeats (``YINC-1700`` once per round).
    Such columns are resolved, in order, from the export's own companion files:

    * the tagset lists the reference number of every column, one for one; a
      column takes its reference number when the codebook or the cohort's
      built-in catalogue names it (the tagset alone says nothing of survey
      years), and its question name must be the codebook's name of it;
    * otherwise the codebook: the ``k``-th column named ``Q`` is the ``k``-th
      codebook entry named ``Q`` (Investigator writes both in the same order),
      which needs as many entries named ``Q`` as columns.

    Parameters
    ----------
    where : str
        The file, for messages.
    names : sequence of str
        The header.
    codebook : Codebook, optional
        The extract's ``.cdb``.
    tagset : sequence of str, optional
        Reference numbers of the extract's tagset.
    catalogue : mapping
        The cohort's built-in reference numbers (-> question name, year label).

    Returns
    -------
    names : list of str
        The header with every bare question name replaced by its reference number
        (unchanged when no name is bare).
    resolved_by : str or None
        ``"tagset"``, ``"codebook"`` or ``None`` (nothing to resolve).

    Raises
    ------
    NLSYFormatError
        When bare names repeat and neither companion file can resolve them,
        saying which file to add; or when a companion file disagrees with the header.
    """
    bare = bare_names(names)
    if not bare:
        return list(names), None
    counts = Counter(normalize_qname(n) for n in names)
    repeated = list(dict.fromkeys(names[i] for i in bare if counts[normalize_qname(names[i])] > 1))
    if tagset is not None and len(tagset) == len(names):
        out = list(names)
        for i in bare:
            ref = tagset[i]
            entry = codebook.entries.get(ref) if codebook else None
            if entry is not None and normalize_qname(entry.qname) != normalize_qname(names[i]):
                raise NLSYFormatError(
                    f"{where}: column {i + 1} is {names[i]!r} but the tagset's reference number there, {ref}, "
                    f"is {entry.qname!r} in the codebook; the tagset belongs to another extract: give this one's"
                )
            if entry is not None or ref in catalogue:
                out[i] = ref
            elif names[i] in repeated:
                raise NLSYFormatError(
                    f"{where}: column {i + 1} ({names[i]!r}) repeats across rounds and its reference number in the "
                    f"tagset, {ref}, is neither in a codebook nor built in; put the extract's codebook (<name>.cdb) "
                    "beside the file or pass codebook= (--codebook), so that each column gets its round"
                )
        return out, "tagset"
    if codebook is not None:
        return _by_codebook(where, names, bare, codebook), "codebook"
    if not repeated:
        return list(names), None
    count = "" if tagset is None else f" (the tagset has {len(tagset)} reference numbers for {len(names)} columns)"
    raise NLSYFormatError(
        f"{where}: the header names questions without survey years, and {_preview_names(repeated)} repeat, one "
        f"column per round{count}; put the extract's codebook (<name>.cdb), with or without its tagset "
        "(<name>.NLSY79 / <name>.NLSY97), beside the file, or pass codebook= / tagset= (--codebook / --tagset), so "
        "that each column gets its round"
    )


def _by_codebook(where: str, names: Sequence[str], bare: Sequence[int], codebook: Codebook) -> list[str]:
    entries: dict[str, list[str]] = {}
    for ref, entry in codebook.entries.items():  # in the codebook's order
        entries.setdefault(normalize_qname(entry.qname), []).append(ref)
    wanted: dict[str, list[int]] = {}
    for i in bare:
        wanted.setdefault(normalize_qname(names[i]), []).append(i)
    out = list(names)
    for qname, positions in wanted.items():
        refs = entries.get(qname, [])
        if not refs:
            continue  # a column the codebook does not describe stays unresolved (listed as ignored)
        if len(refs) != len(positions):
            raise NLSYFormatError(
                f"{where}: {len(positions)} column(s) are named {qname!r} but the codebook {codebook.path} has "
                f"{len(refs)} entries of that question; give the codebook of this extract, or its tagset"
            )
        for i, ref in zip(positions, refs, strict=True):
            out[i] = ref
    return out


def _preview_names(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown}{f' and {len(items) - limit} more' if len(items) > limit else ''}"
