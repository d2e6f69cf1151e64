"""From valid resume spells to one occupation state per person-year: the year-assignment rules.

Every (spell, calendar year it overlaps) is a candidate; ongoing spells run to
31 December of ``current_year`` or to the latest date of the file; exact
duplicates and years outside ``years=`` are counted and dropped;
``rule="longest"`` or ``rule="last"`` ranks the candidates of a person-year
(ties: later start, then earlier file row); and
:func:`~laborseq.sources.harmonize.harmonize` keeps the best-ranked candidate
whose code maps. :mod:`laborseq.sources.resumes.reader` documents the rules in
full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from laborseq._util.dates import year_start
from laborseq.occupations.crosswalk import (
    FILLED,
    MAPPED,
    NOT_IN_FRAME,
    UNMAPPED,
    OnUnmapped,
    UnmappedCodeError,
    crosswalk,
    unmapped_message,
)
from laborseq.occupations.occ1990dd import Variant
from laborseq.panel import CareerPanel
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import harmonize
from laborseq.sources.resumes.column_values import is_text, year_of
from laborseq.sources.resumes.spells import EXAMPLES, INVALID_REASONS, REASON_ROLE, ResumeFormatError, SpellRecords

Rule = Literal["longest", "last"]
RULES: tuple[str, ...] = ("longest", "last")

LINEAGE_UNIT = "spell-year"
"""What one lineage row is: a (spell, calendar year) candidate; an invalid spell counts once."""

CANONICAL_INT_PATTERN = r"^(0|-?[1-9][0-9]{0,17})$"
"""Text person keys that become integers when every key of the input matches (``"12"``, not ``"012"``)."""


@dataclass(frozen=True)
class ResumeRules:
    """The checked rules of one read (see :func:`~laborseq.sources.resumes.reader.read_resumes`).

    ``year_filter`` is what :func:`parse_year_filter` returns.
    """

    rule: str
    year_filter: tuple[str, Any] | None
    variant: Variant
    on_unmapped: OnUnmapped
    current_year: int | None
    name: str

    def ceiling(self, max_start: int, max_end: int | None) -> int:
        """The day ongoing spells run to: 31 December of ``current_year``, else the latest date of a valid spell."""
        if self.current_year is not None:
            return int(year_start(np.array([self.current_year + 1]))[0] - 1)
        return int(max_start if max_end is None else max(max_start, max_end))

    def metadata(self, records: SpellRecords, ceiling: int) -> dict[str, Any]:
        """The panel's ``metadata`` (besides the lineage), the same for both engines."""
        meta = {
            "source": "resumes",
            "path": str(records.path),
            "frame": records.frame,
            "rule": self.rule,
            "years": None if self.year_filter is None else _describe_years(self.year_filter),
            "ongoing_until": str(np.datetime64(ceiling, "D")),
            "current_year": self.current_year,
            "columns": dict(records.roles),
        }
        if len(records.files) > 1:
            meta["files"] = [[str(path), first] for path, first, _ in records.files]
        return meta


def no_valid_spells(records: SpellRecords) -> ResumeFormatError:
    """The error for an input none of whose spells is valid."""
    counts = {r: c for r, c in records.invalid.items() if c}
    first = next(r for r, c in records.invalid.items() if c)
    return ResumeFormatError(
        f"{records.path}: none of the {records.n_rows} spell(s) is valid: {counts}; e.g. {first} at "
        f"{records.where(records.invalid_rows[first])}",
        path=records.path,
        column=records.roles[REASON_ROLE[first]],
        rows=records.invalid_rows[first],
    )


def spell_lineage(
    records: SpellRecords, spell_years: int, duplicate_years: int, duplicate_spells: int, duplicate_rows: list[int]
) -> Lineage:
    """The lineage up to the candidates: invalid spells and exact duplicates.

    ``spell_years`` counts the years of every valid spell, duplicates included.
    """
    rows_read = sum(records.invalid.values()) + int(spell_years)
    lineage = Lineage(source=str(records.path), rows_read=rows_read, unit=LINEAGE_UNIT)
    for reason in INVALID_REASONS:
        lineage.drop("read", reason, records.invalid[reason], rows=records.invalid_rows[reason])
    lineage.drop(
        "spells",
        "exact duplicate of an earlier spell",
        int(duplicate_years),
        spells=int(duplicate_spells),
        rows=[int(r) for r in duplicate_rows[:EXAMPLES]],
    )
    return lineage


def drop_outside_years(lineage: Lineage, year_filter: tuple[str, Any] | None, count: int) -> None:
    """Record the spell-years outside ``years=``."""
    if year_filter is not None:
        lineage.drop("years", f"year outside years={_describe_years(year_filter)}", int(count))


def build_panel(records: SpellRecords, rules: ResumeRules) -> CareerPanel:
    """The panel of the spells in ``records`` (after their last batch), with its lineage, in memory.

    See :func:`~laborseq.sources.resumes.reader.read_resumes` for the rules.
    """
    rule, year_filter, variant = rules.rule, rules.year_filter, rules.variant
    on_unmapped, current_year = rules.on_unmapped, rules.current_year
    start = np.concatenate(records.start) if records.start else np.zeros(0, np.int64)
    end = np.concatenate(records.end) if records.end else np.zeros(0, np.int64)
    ongoing = np.concatenate(records.ongoing) if records.ongoing else np.zeros(0, bool)
    code = np.concatenate(records.code) if records.code else np.zeros(0)
    row = np.concatenate(records.row) if records.row else np.zeros(0, np.int64)
    cov_ids = {role: np.concatenate(ids) for role, ids in records.covariate_ids.items()}
    person_values, person_key = person_keys(records.person)
    records.person = []

    # ongoing spells end on 31 December of current_year, or at the latest date of a valid spell
    if current_year is not None:
        ceiling = rules.ceiling(0, None)
        late = ongoing & (start > ceiling)
        records.count_invalid(INVALID_REASONS[5], row[late])
        if late.any():
            keep = ~late
            start, end, ongoing, code, row = start[keep], end[keep], ongoing[keep], code[keep], row[keep]
            person_values, person_key = person_values[keep], person_key[keep]
            cov_ids = {role: ids[keep] for role, ids in cov_ids.items()}
    else:
        closed = end[~ongoing]
        ceiling = rules.ceiling(int(start.max()), int(closed.max()) if len(closed) else None) if len(start) else 0
    end = np.where(ongoing, ceiling, end)
    if len(start) == 0:
        raise no_valid_spells(records)

    # exact duplicates: same parsed spell as an earlier row
    key = pd.DataFrame({"p": person_key, "s": start, "e": end, "o": ongoing, "c": code, **cov_ids})
    duplicate = key.duplicated(keep="first").to_numpy()
    del key

    # one candidate per (spell, calendar year)
    first_year = year_of(start)
    n_years = year_of(end) - first_year + 1
    lineage = spell_lineage(
        records, int(n_years.sum()), int(n_years[duplicate].sum()), int(duplicate.sum()), row[duplicate].tolist()
    )
    live = np.flatnonzero(~duplicate)
    spell = np.repeat(live, n_years[live])
    offsets = np.cumsum(n_years[live]) - n_years[live]
    year = (first_year[spell] + (np.arange(len(spell)) - np.repeat(offsets, n_years[live]))).astype(np.int32)
    del offsets
    if year_filter is not None:
        inside = _in_years(year, year_filter)
        drop_outside_years(lineage, year_filter, int((~inside).sum()))
        spell, year = spell[inside], year[inside]

    # rank the candidates of each person-year under the rule; candidates are in file order, so a
    # stable sort breaks the last ties by the earlier row
    order, group = _rank_order(rule, person_key[spell], year, start[spell], end[spell])
    priority = np.empty(len(spell), dtype=np.int32)
    priority[order] = _ranks(group[order])

    # which candidate harmonize keeps: the best-ranked one whose code maps
    maps, unmapped = _mapping(records.frame, code, variant)
    reaching = np.zeros(len(code), dtype=bool)
    reaching[spell] = True
    if on_unmapped == "raise" and (unmapped & reaching).any():
        _raise_unmapped(records, code, row, np.flatnonzero(unmapped & reaching), variant)
    mapped_order = order[maps[spell[order]]]
    del order
    chosen = mapped_order[_ranks(group[mapped_order]) == 0]
    del mapped_order, group

    n = len(spell)
    candidates = pd.DataFrame(
        {
            "person_id": take_persons(person_values, spell),
            "year": year,
            "variable": pd.Series(_constant(records.roles["occ"], n), dtype=object),
            "frame": pd.Series(_constant(records.frame, n), dtype=object),
            "code": code[spell],
            "priority": priority,
        }
    )
    covariates = None
    if records.covariates:
        index = pd.MultiIndex.from_arrays(
            [np.asarray(take_persons(person_values, spell[chosen])), year[chosen]],
            names=["person_id", "year"],
        )
        covariates = pd.DataFrame(
            {role: dictionary.values(cov_ids[role][spell[chosen]]) for role, dictionary in records.covariates.items()},
            index=index,
        )
    del spell, year, priority, start, end, ongoing, row, person_key, person_values, cov_ids
    metadata = rules.metadata(records, ceiling)
    panel = harmonize(
        candidates,
        source=str(records.path),
        variant=variant,
        on_unmapped=on_unmapped,
        covariates=covariates,
        name=rules.name,
        metadata=metadata,
        lineage=lineage,
    )
    if len(panel) != len(chosen):  # pragma: no cover - guards the agreement with harmonize's rules
        raise AssertionError(
            f"read_resumes: harmonize kept {len(panel)} person-years, the reader expected {len(chosen)}"
        )
    return panel


def _mapping(frame: str, code: np.ndarray, variant: Variant) -> tuple[np.ndarray, np.ndarray]:
    """Per spell: whether its code yields a state (as in :func:`harmonize`), and whether it does not map at all."""
    outcome = crosswalk(frame, variant).apply(code).outcome  # type: ignore[arg-type]
    return (outcome == MAPPED) | (outcome == FILLED), (outcome == UNMAPPED) | (outcome == NOT_IN_FRAME)


def _raise_unmapped(records: SpellRecords, code: np.ndarray, row: np.ndarray, spells: np.ndarray, variant: str) -> None:
    codes = code[spells].astype(np.int64)
    uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    by_code = spells[np.argsort(inverse, kind="stable")]  # file order within each code
    starts = np.cumsum(counts) - counts
    examples = [row[by_code[a : a + min(k, 20)]].tolist() for a, k in zip(starts, counts, strict=True)]
    raise unmapped_spells_error(records, variant, uniq, counts, examples)


def unmapped_spells_error(
    records: SpellRecords, variant: str, codes: np.ndarray, counts: np.ndarray, examples: list[list[int]]
) -> UnmappedCodeError:
    """The ``on_unmapped="raise"`` error: each code that does not map, its spell count and first file rows."""
    table = crosswalk(records.frame, variant)  # type: ignore[arg-type]
    valid = table.valid_codes
    unmapped = pd.DataFrame(
        {
            "code": np.asarray(codes, dtype=np.int64),
            "count": np.asarray(counts, dtype=np.int64),
            "rows": examples,
            "in_frame": [valid is None or int(c) in valid for c in codes],
        }
    ).sort_values(["count", "code"], ascending=[False, True], ignore_index=True)
    where = f"code {unmapped['code'].iloc[0]} at {records.where(unmapped['rows'].iloc[0])}"
    source = f"{records.path}, column {records.roles['occ']!r}"
    return UnmappedCodeError(unmapped_message(table, unmapped, where=where, source=source), unmapped)


def person_keys(chunks: list[pa.Array]) -> tuple[Any, np.ndarray]:
    """Person values per spell (int64 array, or text keys as :class:`TextPersons`) and a dense int64
    key per spell (0, 1, ... in order of first appearance) for grouping.

    Text keys that are all canonical integers (``"12"``, not ``"012"``) become integers.
    """
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len({chunk.type for chunk in chunks}) > 1:  # numbers in some files, text in others: all as text
        chunks = [pc.cast(chunk, pa.large_string()) for chunk in chunks]
    combined = pa.chunked_array(chunks).combine_chunks()
    if is_text(combined):
        if len(combined) and pc.all(pc.match_substring_regex(combined, CANONICAL_INT_PATTERN)).as_py():
            combined = pc.cast(combined, pa.int64())
        else:
            encoded = combined.dictionary_encode()
            keys = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            labels = pd.Index(np.asarray(encoded.dictionary.to_pylist(), dtype=object), dtype=object)
            return TextPersons(labels, keys), keys
    values = np.asarray(combined.to_numpy(zero_copy_only=False), dtype=np.int64)
    return values, pd.factorize(values)[0].astype(np.int64)


class TextPersons:
    """Text person keys as (labels, per-spell index into labels); indexable like an array."""

    def __init__(self, labels: pd.Index, keys: np.ndarray) -> None:
        self.labels = labels
        self.keys = keys

    def __getitem__(self, mask: Any) -> TextPersons:
        return TextPersons(self.labels, self.keys[mask])

    def __len__(self) -> int:
        return len(self.keys)


def take_persons(values: Any, spells: np.ndarray) -> Any:
    if isinstance(values, TextPersons):
        return pd.Categorical.from_codes(values.keys[spells], categories=values.labels)
    return values[spells]


def _rank_order(
    rule: str, person: np.ndarray, year: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates sorted by person-year, then by the rule (best first), then by file order (stable sort).

    Returns the order and a person-year key per candidate (dense person key x year).
    """
    if len(year) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = int(year.min())
    jan1 = year_start(np.arange(lo, int(year.max()) + 2))
    first_day, last_day = jan1[year - lo], jan1[year - lo + 1] - 1
    held_to = np.minimum(end, last_day)
    if rule == "longest":  # days held in the year (1-366): more is better
        worse = 366 - (held_to - np.maximum(start, first_day) + 1)
    else:  # last day held in the year (day 0-365 of the year): later is better
        worse = 365 - (held_to - first_day)
    del held_to, first_day, last_day
    later_start = int(start.max()) - start  # later start is better; < 2**20 days (years 1000-3000)
    group = person * (int(year.max()) - lo + 1) + (year - lo)
    if int(group.max()) < 2**34:  # one int64 key: person-year (34 bits), rule (9 bits), start (20 bits)
        order = np.argsort((group << 29) | (worse << 20) | later_start, kind="stable")
    else:  # pragma: no cover - more than ~10 million persons x 1,700 years
        order = np.lexsort((later_start, worse, group))
    return order, group


def _constant(value: str, n: int) -> np.ndarray:
    """An object array of ``n`` references to one string (``np.full`` would copy the string ``n`` times)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _ranks(key: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal keys (``key`` sorted)."""
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    first = np.ones(n, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return (np.arange(n) - starts).astype(np.int32)


def parse_year_filter(years: Any) -> tuple[str, Any] | None:
    if years is None:
        return None
    if isinstance(years, tuple) and len(years) == 2 and not isinstance(years, range):
        first, last = (int(y) for y in years)
        if first > last:
            raise ValueError(f"years=(first, last) needs first <= last, got {years}")
        return ("range", (first, last))
    if isinstance(years, int | np.integer) and not isinstance(years, bool):
        return ("set", np.array([int(years)], dtype=np.int64))
    values = np.array(sorted({int(y) for y in years}), dtype=np.int64)
    if len(values) == 0:
        raise ValueError("years is empty")
    return ("set", values)


def _in_years(year: np.ndarray, year_filter: tuple[str, Any]) -> np.ndarray:
    kind, value = year_filter
    if kind == "range":
        return (year >= value[0]) & (year <= value[1])
    return np.isin(year, value)


def _describe_years(year_filter: tuple[str, Any]) -> str:
    kind, value = year_filter
    if kind == "range":
        return f"{value[0]}-{value[1]}"
    values = [int(v) for v in value]
    return ",".join(str(v) for v in values[:20]) + ("..." if len(values) > 20 else "")
