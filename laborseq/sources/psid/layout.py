"""The column layout of a PSID fixed-width file: its variables' column ranges and labels.

PSID data files (``J<jobid>.txt``, ``FAM2003ER.txt``, ...) hold fixed-width
numeric fields whose positions are only in the setup programs shipped beside
them (``docs/survey-formats.md``, sections C.2.1 and C.2.2).
:mod:`laborseq.sources.psid.setup_files` reads a :class:`Layout` from those
programs; :mod:`laborseq.sources.psid.fixed_width` reads the data with it. A
layout is validated when it is built: unique names, positive widths, column
ranges in order and disjoint, and the record length and variable count that the
setup program's header declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SetupKind = Literal["do", "dct", "sps", "sas", "given"]


class PSIDFormatError(ValueError):
    """A PSID data or setup file that cannot be read as it stands.

    Attributes
    ----------
    path : pathlib.Path or None
        The offending file.
    line : int or None
        1-based line number in that file.
    variable : str or None
        The offending variable.
    """

    def __init__(
        self, message: str, *, path: Path | str | None = None, line: int | None = None, variable: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.line = line
        self.variable = variable


@dataclass(frozen=True)
class Field:
    """One variable of a fixed-width record.

    Attributes
    ----------
    name : str
        Variable name (upper case, e.g. ``"ER30001"``).
    start, end : int
        First and last column, 1-based and inclusive.
    line : int or None
        Line of the setup file that defines it (for error messages).
    """

    name: str
    start: int
    end: int
    line: int | None = None

    @property
    def width(self) -> int:
        """Number of columns."""
        return self.end - self.start + 1


@dataclass(frozen=True)
class Layout:
    """The column layout of a PSID fixed-width file.

    Attributes
    ----------
    fields : tuple of Field
        Variables in column order.
    labels : dict of str to str
        Variable labels from the setup file (whitespace as written).
    path : pathlib.Path or None
        The setup file it was read from.
    kind : {"do", "dct", "sps", "sas", "given"}
        Its format (``"given"`` for layouts built in code).
    record_length : int or None
        Record length the setup file declares (``MAX_REC_LENGTH`` of the header,
        ``LRECL``), when it does.
    n_observations, n_variables : int or None
        Row and variable counts the Data Center header declares.
    header : dict of str to str
        All ``KEY : value`` lines of the header block.
    """

    fields: tuple[Field, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None
    kind: SetupKind = "given"
    record_length: int | None = None
    n_observations: int | None = None
    n_variables: int | None = None
    header: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.name: f for f in self.fields})
        _validate(self)

    @classmethod
    def from_fields(cls, fields: Iterable[tuple[str, int, int]], labels: Mapping[str, str] | None = None) -> Layout:
        """A layout from ``(name, start, end)`` triples (1-based, inclusive)."""
        items = tuple(Field(str(n).upper(), int(s), int(e)) for n, s, e in fields)
        return cls(items, {str(k).upper(): v for k, v in (labels or {}).items()})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.upper() in self._index  # type: ignore[attr-defined]

    def __getitem__(self, name: str) -> Field:
        try:
            return self._index[name.upper()]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"variable {name!r} is not in the layout{of_setup_file(self)}") from None

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in column order."""
        return tuple(f.name for f in self.fields)

    @property
    def width(self) -> int:
        """Last column the layout covers."""
        return max((f.end for f in self.fields), default=0)

    def label(self, name: str) -> str | None:
        """The variable's label with runs of blanks collapsed, or ``None``."""
        text = self.labels.get(name.upper())
        return None if text is None else " ".join(text.split())

    def colspecs(self, names: Iterable[str] | None = None) -> list[tuple[int, int]]:
        """Half-open 0-based ``(start - 1, end)`` pairs for :func:`pandas.read_fwf`."""
        chosen = self.fields if names is None else [self[n] for n in names]
        return [(f.start - 1, f.end) for f in chosen]


def of_setup_file(layout: Layout) -> str:
    """`` of <setup file>`` for messages about ``layout`` (empty for a layout built in code)."""
    return f" of {layout.path}" if layout.path is not None else ""


def _validate(layout: Layout) -> None:
    """Names unique, widths positive, ranges in order and disjoint, record length covered."""
    where = layout.path
    if not layout.fields:
        raise PSIDFormatError(f"{where or 'layout'}: no variables with column ranges were found", path=where)
    seen: dict[str, Field] = {}
    previous: Field | None = None
    for f in layout.fields:
        at = f" (line {f.line})" if f.line else ""
        if f.name in seen:
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} is defined twice{at}", path=where, line=f.line, variable=f.name
            )
        seen[f.name] = f
        if f.start < 1 or f.end < f.start:
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} has columns {f.start} - {f.end}{at}: "
                f"width {f.end - f.start + 1} is not positive",
                path=where,
                line=f.line,
                variable=f.name,
            )
        if previous is not None and f.start <= previous.end:
            kind = "overlaps" if f.start >= previous.start else "comes before"
            raise PSIDFormatError(
                f"{where or 'layout'}: variable {f.name} (columns {f.start} - {f.end}){at} {kind} "
                f"{previous.name} (columns {previous.start} - {previous.end}); column ranges must be in order "
                "and must not overlap",
                path=where,
                line=f.line,
                variable=f.name,
            )
        previous = f
    if layout.record_length is not None and layout.width != layout.record_length:
        raise PSIDFormatError(
            f"{where or 'layout'}: the layout covers columns 1 - {layout.width} but the header declares a record "
            f"length of {layout.record_length} (MAX_REC_LENGTH/LRECL); the setup file is truncated or is not the "
            "one of this extract",
            path=where,
        )
    if layout.n_variables is not None and layout.n_variables != len(layout.fields):
        raise PSIDFormatError(
            f"{where or 'layout'}: the layout defines {len(layout.fields)} variables but the header declares "
            f"N_OF_VARIABLES {layout.n_variables}",
            path=where,
        )
