"""Which files a resume input names: one file, a directory, a glob pattern, or a list of them.

A resume corpus often comes as many files (one per export batch or per
country). :func:`spell_files` resolves what the user gave into the files to read,
in a fixed order (the order of a list; name order within a directory or a
glob), so that row numbers, examples in the lineage and the panel never depend
on the file system's listing order.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from laborseq.sources.resumes.spells import ResumeFormatError, SpellRecords, SpellSink

SpellInput = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
"""A file, a directory, a glob pattern (``*``, ``?``, ``[``) or a list of them."""

DATA_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq", ".parq")
"""Suffixes of the files taken from a directory (before a compression suffix such as ``.gz``)."""

_COMPRESSION = (".gz", ".bz2", ".zst", ".lz4")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def spell_files(path: SpellInput) -> tuple[str, list[Path]]:
    """The files of a resume input and a name for it.

    Parameters
    ----------
    path : path-like, glob pattern or sequence of them
        A file; a directory (its CSV/TSV/parquet files, recursively, in name
        order; hidden files, files in hidden or ``_`` folders and others are skipped); a glob
        pattern (the matching files in name order); or a list of any of these
        (in the list's order).

    Returns
    -------
    source : str
        The input as given (for the lineage and messages).
    files : list of pathlib.Path
        The files to read, each once.

    Raises
    ------
    FileNotFoundError
        When a file does not exist, or a directory or pattern yields no file.
    """
    if isinstance(path, str | os.PathLike):
        source, items = str(path), [path]
    else:
        items = list(path)
        if not items:
            raise FileNotFoundError("no resume files given (an empty list)")
        source = str(items[0]) if len(items) == 1 else "; ".join(str(p) for p in items)
    files: dict[Path, None] = {}  # in order, each once
    for item in items:
        files.update(dict.fromkeys(_expand(item)))
    return source, list(files)


def _expand(item: str | os.PathLike[str]) -> list[Path]:
    text = str(item)
    path = Path(item)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and _is_data_file(p.relative_to(path)))
        if not found:
            raise FileNotFoundError(f"{path}: the directory holds no CSV, TSV or parquet files ({DATA_SUFFIXES})")
        return found
    if not path.exists() and glob.has_magic(text):
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not found:
            raise FileNotFoundError(f"no resume files match the pattern {text!r}")
        return found
    if not path.exists():
        raise FileNotFoundError(f"resume file {path} does not exist")
    if not path.is_file():
        raise ResumeFormatError(f"{path}: not a regular file", path=path)
    return [path]


def read_spells(
    path: SpellInput, roles: dict[str, str], frame: str, batch_size: int, sink: SpellSink | None = None
) -> SpellRecords:
    """Parse and check every spell of the input, file by file and ``batch_size`` rows at a time.

    Parameters
    ----------
    path : path-like, glob pattern or sequence of them
        See :func:`spell_files`.
    roles : dict
        Column of each role (``person``, ``start``, ``end``, ``occ``, optionally
        ``education`` and ``location``).
    frame : str
        Code frame of the ``occ`` column.
    batch_size : int
        Rows read at a time.
    sink : callable, optional
        Receives each batch's valid spells instead of the records keeping them.

    Returns
    -------
    SpellRecords
        With the invalid spells counted and, without a sink, the valid ones kept.
    """
    source, files = spell_files(path)
    records = SpellRecords(source, roles, frame, sink)
    columns = list(dict.fromkeys(roles.values()))
    for file in files:
        is_csv, batches = _open(file, columns, batch_size)
        records.begin_file(file, is_csv)
        for batch in batches:
            records.add(batch)
    return records


def input_stem(path: SpellInput) -> str:
    """A default panel name for the input: the file or directory name without its suffixes."""
    first = Path(path) if isinstance(path, str | os.PathLike) else Path(next(iter(path)))
    if glob.has_magic(str(first)) and not first.exists():
        first = first.parent
    return _stem(first)


def _is_data_file(path: Path) -> bool:
    """A CSV/TSV/parquet file, not hidden nor under a hidden or ``_``-prefixed folder (``.ipynb_checkpoints``,
    Spark's ``_temporary``) of the directory given."""
    if any(part.startswith((".", "_")) for part in path.parts):
        return False
    name = path.name.lower()
    for suffix in _COMPRESSION:
        name = name.removesuffix(suffix)
    return Path(name).suffix in DATA_SUFFIXES


def _stem(path: Path) -> str:
    stem = path.name
    for suffix in _COMPRESSION:
        stem = stem.removesuffix(suffix)
    return Path(stem).stem


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    names = [s.lower() for s in path.suffixes]
    if any(s in (".csv", ".tsv", ".txt", ".tab") for s in names):
        return False
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _open(path: Path, columns: list[str], batch_size: int) -> tuple[bool, Iterator[pa.RecordBatch]]:
    """Check the file and its columns; return whether it is a CSV and its batches of ``columns``."""
    if path.stat().st_size == 0:
        raise ResumeFormatError(f"{path}: empty file (no header, no spells)", path=path)
    if _is_parquet(path):
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as err:
            raise ResumeFormatError(f"{path}: not a readable parquet file ({err})", path=path) from err
        _check_columns(path, parquet.schema_arrow.names, columns)
        if parquet.metadata.num_rows == 0:
            raise ResumeFormatError(f"{path}: no spells (the file has no rows)", path=path)
        return False, parquet.iter_batches(batch_size=batch_size, columns=columns)
    suffixes = [s.lower() for s in path.suffixes]
    parse = pacsv.ParseOptions(delimiter="\t" if (".tsv" in suffixes or ".tab" in suffixes) else ",")
    try:
        probe = pacsv.open_csv(path, parse_options=parse)
        header = probe.schema.names
        probe.close()
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            raise ResumeFormatError(f"{path}: empty file (no header, no spells)", path=path) from err
        raise ResumeFormatError(f"{path}: cannot parse CSV ({err})", path=path) from err
    _check_columns(path, header, columns)
    return True, _csv_batches(path, columns, batch_size, parse)


def _csv_batches(
    path: Path, columns: list[str], batch_size: int, parse: pacsv.ParseOptions
) -> Iterator[pa.RecordBatch]:
    """CSV record batches of at most ``batch_size`` rows, every column read as text."""
    read = pacsv.ReadOptions(block_size=int(min(max(batch_size * 128, 1 << 20), 1 << 28)))
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns}, include_columns=columns, strings_can_be_null=True
    )
    n_rows = 0
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        for block in reader:
            for offset in range(0, block.num_rows, batch_size):
                piece = block.slice(offset, batch_size)
                n_rows += piece.num_rows
                yield piece
    except pa.ArrowInvalid as err:
        raise ResumeFormatError(f"{path}: cannot parse CSV after data row {n_rows} ({err})", path=path) from err
    if n_rows == 0:
        raise ResumeFormatError(f"{path}: no spells (the file has a header only)", path=path)


def _check_columns(path: Path, present: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise ResumeFormatError(
            f"{path}: column(s) {missing} not found; the file has columns {present}", path=path, column=missing[0]
        )
