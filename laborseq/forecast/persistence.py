"""Saving and loading forecasts: a directory of JSON, npz and parquet files, nothing pickled.

A saved :class:`~laborseq.forecast.result.ForecastResult` is a directory with
``forecast.json`` (classes, persons, years, origin, model, method, covariates,
seed, scheme), ``probabilities.npz`` (p̄, ``last_state``, ``last_year``; read
with ``allow_pickle=False``), ``groups.parquet`` and, when there are paths,
``paths.parquet``: the long paths table with compact columns ``person_index``
(int32 position in ``persons``), ``sample``, ``year`` and ``state`` (int16
where they fit), zstd-compressed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from laborseq._util.io import atomic_directory, write_json_atomic
from laborseq._util.json import to_jsonable
from laborseq._version import __version__
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import PERSON, YEAR

if TYPE_CHECKING:
    from laborseq.forecast.result import ForecastResult

FORMAT_VERSION = 1
"""Version of the saved-forecast format; directories of a newer version are refused."""
_JSON = "forecast.json"
_PATHS = "paths.parquet"
_ARRAYS = "probabilities.npz"
_GROUPS = "groups.parquet"
_PERSON_INDEX = "person_index"


def save_forecast(result: ForecastResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` to the directory ``path``, atomically; see :meth:`ForecastResult.save`."""
    config = {
        "format_version": FORMAT_VERSION,
        "laborseq_version": __version__,
        "model": result.model,
        "method": result.method,
        "covariates": result.covariates,
        "seed": result.seed,
        "time_unit": result.time_unit,
        "origin": result.origin,
        "years": [int(y) for y in result.years],
        "classes": list(result.classes),
        "persons": to_jsonable(result.persons.tolist()),
        "n_samples": result.n_samples,
        "scheme": result.scheme.to_dict(),
    }
    with atomic_directory(path) as tmp:
        write_json_atomic(tmp / _JSON, config)
        np.savez(
            tmp / _ARRAYS,
            probabilities=result.probabilities,
            last_state=result.last_state,
            last_year=result.last_year,
        )
        groups = result.groups.reset_index(drop=True)
        groups.insert(0, _PERSON_INDEX, np.arange(result.n_persons, dtype=np.int32))
        groups.to_parquet(tmp / _GROUPS, index=False)
        if result.paths is not None:
            pq.write_table(_paths_table(result), tmp / _PATHS, compression="zstd")
    return Path(path)


def load_forecast_fields(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The fields of the forecast saved in ``path``, as keyword arguments of :class:`ForecastResult`.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a saved forecast.
    ValueError
        When it was written by a newer format version, or its paths table is incomplete.
    """
    path = Path(path)
    if not (path / _JSON).exists():
        raise FileNotFoundError(f"{path} is not a saved forecast (no {_JSON})")
    config = json.loads((path / _JSON).read_text())
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path}: written by a newer laborseq (format {config['format_version']})")
    with np.load(path / _ARRAYS, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    persons = np.asarray(config["persons"]) if config["persons"] else np.array([], dtype=np.int64)
    years = np.asarray(config["years"], dtype=np.int64)
    groups = pd.read_parquet(path / _GROUPS)
    order = groups.pop(_PERSON_INDEX).to_numpy()
    groups.index = pd.Index(persons[order], name=PERSON)
    paths = None
    if (path / _PATHS).exists():
        paths = _paths_from_table(pq.read_table(path / _PATHS), len(persons), config["n_samples"], years)
    return {
        "classes": tuple(config["classes"]),
        "persons": persons,
        "years": years,
        "origin": config["origin"],
        "last_state": arrays["last_state"],
        "last_year": arrays["last_year"],
        "probabilities": arrays["probabilities"],
        "paths": paths,
        "groups": groups,
        "scheme": OccupationScheme.from_dict(config["scheme"]),
        "model": config["model"],
        "method": config["method"],
        "covariates": config["covariates"],
        "seed": config["seed"],
        "time_unit": config.get("time_unit", "year"),  # (forecasts saved before monthly panels are annual)
    }


def small_int(n: int) -> type[np.signedinteger[Any]]:
    """The smallest of int16 / int32 that holds ``0 .. n - 1``."""
    return np.int16 if n <= np.iinfo(np.int16).max else np.int32


def _paths_table(result: ForecastResult) -> pa.Table:
    """The paths as a compact long Arrow table (person position, sample, year, state)."""
    p, s, h = result.paths.shape
    k = len(result.classes)
    return pa.table(
        {
            _PERSON_INDEX: np.repeat(np.arange(p, dtype=np.int32), s * h),
            "sample": np.tile(np.repeat(np.arange(s, dtype=small_int(s)), h), p),
            YEAR: np.tile(result.years.astype(np.int16), p * s),
            "state": result.paths.reshape(-1).astype(small_int(k), copy=False),
        }
    )


def _paths_from_table(table: pa.Table, p: int, s: int, years: np.ndarray) -> np.ndarray:
    """Rebuild the ``(P, S, H)`` paths array from the long table, whatever its row order."""
    h = len(years)
    if table.num_rows != p * s * h:
        raise ValueError(f"{_PATHS}: {table.num_rows} rows, expected P*S*H = {p}*{s}*{h}")
    person = table.column(_PERSON_INDEX).to_numpy().astype(np.int64)
    sample = table.column("sample").to_numpy().astype(np.int64)
    year = np.searchsorted(years, table.column(YEAR).to_numpy().astype(np.int64))
    state = table.column("state").to_numpy()
    paths = np.full(p * s * h, -1, dtype=state.dtype)
    paths[(person * s + sample) * h + year] = state
    if (paths < 0).any():
        raise ValueError(f"{_PATHS}: some person-sample-years are missing")
    return paths.reshape(p, s, h)
