"""Parquet storage of career panels: the Arrow table, its laborseq schema metadata and atomic writes.

A panel file is a long parquet table (``person_id, year, occ``, covariates,
``weight``, and ``is_target`` when some rows are context only) whose Arrow
schema metadata holds, under the key ``laborseq``, the scheme, the covariate
roles, the name and the free-form metadata. :class:`~laborseq.panel.core.CareerPanel`
writes and reads such files through the functions here
(:meth:`~laborseq.panel.core.CareerPanel.to_parquet`,
:meth:`~laborseq.panel.core.CareerPanel.read_parquet`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.io import atomic_file
from laborseq._util.json import to_jsonable
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel.columns import TARGET, WEIGHT

METADATA_KEY = b"laborseq"
"""Key of the panel's description in the Arrow schema metadata."""
FORMAT_VERSION = 1
"""Version of the panel file format; files of a newer version are refused."""


def arrow_table(frame: pd.DataFrame, metadata: dict[str, Any]) -> pa.Table:
    """``frame`` as an Arrow table with ``metadata`` stored as JSON under :data:`METADATA_KEY`."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(to_jsonable(metadata)).encode()
    return table.replace_schema_metadata(meta)


def write_table_atomic(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` to a parquet file through a temporary file in the same directory.

    The parent directories are created; an interrupted write leaves any old
    file untouched and no temporary file behind.
    """
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def read_panel_table(path: Path) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Read a parquet file as a frame and, for a laborseq panel file, the panel's constructor arguments.

    Returns
    -------
    frame : pandas.DataFrame
        The table.
    arguments : dict or None
        Keyword arguments of :class:`~laborseq.panel.core.CareerPanel`
        (``covariates``, ``static``, ``weight``, ``scheme``, ``name``,
        ``metadata``, ``target``, ``time_unit``) from the schema metadata; ``None`` for a
        file without laborseq metadata.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file was written by a newer format version.
    """
    if not path.exists():
        raise FileNotFoundError(f"panel file {path} does not exist")
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    frame = table.to_pandas()
    if raw is None:
        return frame, None
    return frame, panel_arguments(json.loads(raw), list(frame.columns), where=str(path))


def panel_arguments(meta: dict[str, Any], columns: list[str], *, where: str) -> dict[str, Any]:
    """The :class:`~laborseq.panel.core.CareerPanel` keyword arguments stored in a panel file's metadata.

    Raises
    ------
    ValueError
        When the file was written by a newer format version.
    """
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{where}: written by a newer laborseq (format {meta['format_version']})")
    return {
        "covariates": meta["covariates"],
        "static": meta["static"],
        "weight": WEIGHT if meta["weight"] else None,
        "scheme": OccupationScheme.from_dict(meta["scheme"]),
        "name": meta.get("name"),
        "metadata": meta.get("metadata"),
        "target": TARGET if TARGET in columns else None,
        "time_unit": meta.get("time_unit", "year"),  # (files written before monthly panels are annual)
    }
