"""A panel in person-aligned chunks, from memory or from parquet files, so that large corpora stream.

A chunk never splits a person: every chunk holds whole careers, in the file's
(person, year) order. :func:`panel_chunks` cuts an in-memory panel;
:func:`read_parquet_chunks` reads one or many panel files written by
:meth:`~laborseq.panel.core.CareerPanel.to_parquet` batch by batch, so that no
more than about ``max_rows`` rows are in memory at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq.panel.columns import PERSON
from laborseq.panel.core import CareerPanel
from laborseq.panel.parquet import METADATA_KEY, panel_arguments

__all__ = ["panel_chunks", "panel_files", "read_panel_dataset", "read_parquet_chunks"]


def panel_chunks(panel: CareerPanel, max_rows: int) -> Iterator[CareerPanel]:
    """Consecutive slices of ``panel`` of whole persons, each of at most ``max_rows`` rows (or one person).

    The chunks share the panel's scheme, covariate roles, name and metadata.
    """
    _check_rows(max_rows)
    offsets = panel.person_offsets()
    start = 0
    while start < len(offsets) - 1:
        stop = int(np.searchsorted(offsets, offsets[start] + max_rows, side="right")) - 1
        stop = max(stop, start + 1)  # a person longer than max_rows is a chunk of its own
        yield panel.person_range(start, stop)
        start = stop


def panel_files(path: str | os.PathLike[str]) -> list[Path]:
    """The panel files of ``path``: the file itself, or the ``*.parquet`` files of a directory in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise FileNotFoundError(f"{path}: the directory holds no .parquet files")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"panel file {path} does not exist")
    return [path]


def read_parquet_chunks(path: str | os.PathLike[str], max_rows: int = 1_000_000) -> Iterator[CareerPanel]:
    """Person-aligned chunks of panel files written by :meth:`CareerPanel.to_parquet`, read in batches.

    Parameters
    ----------
    path : path-like
        A panel file, or a directory of them (read in name order; a person's
        rows must be in one file, or at the end of one and the start of the next).
    max_rows : int
        Rows read per batch; a chunk holds the batch's whole persons (the last
        person of a batch waits for the next batch).

    Raises
    ------
    ValueError
        When a file is not a laborseq panel file, or the files disagree on the
        scheme or the covariates.
    """
    _check_rows(max_rows)
    files = panel_files(path)
    arguments = None
    carry: pd.DataFrame | None = None
    for file in files:
        reader = pq.ParquetFile(file)
        file_arguments = _arguments(file, reader.schema_arrow)
        if arguments is None:
            arguments = file_arguments
        elif _signature(file_arguments) != _signature(arguments):
            raise ValueError(f"{file}: its scheme or covariates differ from those of {files[0]}")
        as_float = _nullable_integers(reader)
        for batch in reader.iter_batches(batch_size=max_rows):
            frame = batch.to_pandas()
            for column in as_float:
                frame[column] = frame[column].astype(float)
            if carry is not None:
                frame = pd.concat([carry, frame], ignore_index=True)
            persons = frame[PERSON].to_numpy()
            last = np.flatnonzero(persons != persons[-1])
            cut = int(last[-1]) + 1 if len(last) else 0
            carry = frame.iloc[cut:]
            if cut:
                yield CareerPanel(frame.iloc[:cut].reset_index(drop=True), **arguments)
    if carry is not None and len(carry):
        yield CareerPanel(carry.reset_index(drop=True), **arguments)  # type: ignore[arg-type]


def read_panel_dataset(path: str | os.PathLike[str]) -> CareerPanel:
    """A directory of panel files (or one file) read whole into one panel, for data that fit in memory.

    The files must agree on the scheme, the covariates and the time unit; the panel takes the
    name and metadata of the first.
    """
    files = panel_files(path)
    panels = [CareerPanel.read_parquet(file) for file in files]
    first = panels[0]
    for file, panel in zip(files[1:], panels[1:], strict=True):
        if (panel.scheme.to_dict(), panel.covariates, panel.has_weight, panel.time_unit) != (
            first.scheme.to_dict(),
            first.covariates,
            first.has_weight,
            first.time_unit,
        ):
            raise ValueError(f"{file}: its scheme, covariates or time unit differ from those of {files[0]}")
    if len(panels) == 1:
        return first
    frame = pd.concat([p.data for p in panels], ignore_index=True)
    return CareerPanel(
        frame,
        covariates=list(first.covariates),
        static=list(first.static_covariates),
        weight="weight" if first.has_weight else None,
        scheme=first.scheme,
        name=first.name,
        metadata=first.metadata,
        time_unit=first.time_unit,
    )


def _arguments(file: Path, schema: pa.Schema) -> dict:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{file}: not a laborseq panel file (write it with CareerPanel.to_parquet)")
    return panel_arguments(json.loads(raw), schema.names, where=str(file))


def _signature(arguments: dict) -> tuple:
    return (arguments["scheme"].to_dict(), tuple(arguments["covariates"]), arguments["weight"])


def _nullable_integers(reader: pq.ParquetFile) -> list[str]:
    """Integer columns with nulls anywhere in the file: read as floats in every batch, as a whole read would."""
    schema = reader.schema_arrow
    columns = [f.name for f in schema if pa.types.is_integer(f.type) and f.name != PERSON]
    out = []
    for name in columns:
        index = schema.get_field_index(name)
        for group in range(reader.num_row_groups):
            stats = reader.metadata.row_group(group).column(index).statistics
            if stats is None or not stats.has_null_count or stats.null_count > 0:
                out.append(name)
                break
    return out


def _check_rows(max_rows: int) -> None:
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
