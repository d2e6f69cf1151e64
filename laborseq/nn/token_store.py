"""A corpus of careers encoded once to disk and read back through memory maps, for pretraining at scale.

:func:`write_token_store` encodes a panel, or panel files too large for memory
(:func:`~laborseq.panel.chunks.read_parquet_chunks`), chunk by chunk into a
directory of flat arrays:

``offsets.bin``
    int64, ``n_persons + 1``: person ``i`` owns rows ``offsets[i]:offsets[i+1]``.
``lengths.bin``
    int16: person-years of every person, the length index batches are formed from
    (2 bytes a person; a career longer than 32,767 rows is refused).
``states.bin``
    int16 (int32 for more than 32,767 states): the state of every row.
``codes.bin``
    int32, ``n_rows x n_inputs``: the embedding index of every input of every row.
``weight.bin``
    float32: the loss weight of every row (0 for context rows).
``store.json``
    shapes, dtypes, the vocabulary (:class:`~laborseq.nn.encoding.CareerVocabulary`),
    the scheme and the source.

:func:`open_token_store` maps the arrays read-only (``numpy.memmap``): a batch
reads its persons' rows from disk (the operating system caches what is used),
so no process holds the corpus in memory, and the data-parallel ranks of one
node share the page cache. The store is a batch source for
:func:`~laborseq.nn.train.train` like an in-memory
:class:`~laborseq.nn.encoding.EncodedPanel`, with the same vocabulary rules,
so a model pretrained on it fine-tunes on a survey as before.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from laborseq._util.io import atomic_directory
from laborseq.nn.encoding import CareerVocabulary, EncodedPanel
from laborseq.nn.vocabulary_stream import VocabularyBuilder
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel
from laborseq.panel.chunks import panel_chunks, read_parquet_chunks

__all__ = ["STORE_FORMAT", "StoreSubset", "TokenStore", "open_token_store", "write_token_store"]

STORE_FORMAT = 1
"""Version of the store layout; stores of a newer version are refused."""

_MANIFEST = "store.json"

BATCH_BLOCK = 262_144
"""Persons per block of an epoch's batches (:func:`~laborseq.nn.batching.epoch_batches`): a block of a store is
some tens of MB of its arrays (about 50 MB for resume careers of 8 years and four inputs), read once per epoch
instead of page by page across the whole file. Larger blocks pack fuller batches (every block ends its runs of
equal lengths with part-filled batches): on 1 million resume careers with 4,000-token batches, batches hold 0.3%
fewer tokens than one packing of the whole corpus at this size, 1.2% fewer at 65,536. The resident pages stay
within about a block (:data:`RELEASE_EVERY`)."""

RELEASE_EVERY = 256
"""Batches between two releases of the store's mapped pages from the process (they stay in the page cache).
A block's batches read only that block's pages, so what is resident between releases stays within about one
block, while each page is faulted in again only every 256 batches."""
_FILES = ("offsets", "lengths", "states", "codes", "weight")

PanelSource = CareerPanel | str | os.PathLike[str]
"""A panel in memory, or a panel file (or a directory of them) written by :meth:`CareerPanel.to_parquet`."""


@dataclass(frozen=True)
class TokenStore:
    """An encoded corpus on disk (see the module docstring); a batch source for training.

    Attributes
    ----------
    path : pathlib.Path
        The store directory.
    vocabulary : CareerVocabulary
        States and inputs the codes index.
    scheme : OccupationScheme
        The corpus's occupation scheme.
    covariates : tuple of str
        The corpus's covariates.
    encoded : EncodedPanel
        The arrays, memory-mapped.
    person_lengths : LengthIndex
        The length index (person-years of every person), read from its file when asked for.
    batch_block : int
        Persons per block of an epoch's batches (:data:`BATCH_BLOCK`).
    """

    path: Path
    vocabulary: CareerVocabulary
    scheme: OccupationScheme
    covariates: tuple[str, ...]
    encoded: EncodedPanel
    person_lengths: LengthIndex
    batch_block: int = BATCH_BLOCK
    _batches: list[int] = field(default_factory=lambda: [0], repr=False, compare=False)  # batches served, for release

    @property
    def n_persons(self) -> int:
        """Number of careers."""
        return len(self.encoded.offsets) - 1

    @property
    def n_rows(self) -> int:
        """Number of person-years (tokens)."""
        return int(self.encoded.offsets[-1])

    def lengths(self) -> LengthIndex:
        """Person-years of every person (the length index, read from its file when asked for)."""
        return self.person_lengths

    def collate(self, index: np.ndarray, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Padded batch of the persons ``index`` (see :meth:`EncodedPanel.collate`).

        Every :data:`RELEASE_EVERY` batches the mapped pages are released from the
        process (``madvise(MADV_DONTNEED)``: they stay in the page cache), so the
        resident memory of a long run does not grow with the pages it has read.
        """
        self._batches[0] += 1
        if self._batches[0] % RELEASE_EVERY == 0:
            self.release()
        return self.encoded.collate(index, device)

    def release(self) -> None:
        """Drop the store's mapped pages from this process's resident memory (where the system allows)."""
        for array in (self.encoded.offsets, self.encoded.states, self.encoded.codes, self.encoded.weight):
            handle = getattr(array, "_mmap", None)
            if handle is not None and hasattr(handle, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
                handle.madvise(mmap.MADV_DONTNEED)

    def holdout(self, n_held: int, seed: int, *, runs: int = 8) -> tuple[StoreSubset, StoreSubset]:
        """Training and validation persons: ``n_held`` persons held out in at most ``runs`` runs of consecutive
        persons at seeded places, so that evaluating on them reads a few short stretches of the store rather
        than a page for every held-out person across the whole file.

        Returns
        -------
        train, held : StoreSubset
            The rest of the persons and the held-out ones, each a few runs (no per-person array).
        """
        n_held = min(max(n_held, 0), self.n_persons)
        starts = np.zeros(0, dtype=np.int64)
        sizes = np.zeros(0, dtype=np.int64)
        if n_held:
            runs = max(1, min(runs, n_held))
            size = -(-n_held // runs)
            while runs > 1 and self.n_persons // size < runs:  # fewer, longer runs where the store is short
                runs -= 1
                size = -(-n_held // runs)
            slots = self.n_persons // size  # the store as consecutive slots of `size` persons (at least one)
            starts = np.sort(np.random.default_rng(seed).choice(slots, size=runs, replace=False)).astype(np.int64)
            starts *= size
            # exactly n_held, spread over the runs (each at most `size`, so the runs stay in their slots)
            sizes = n_held // runs + (np.arange(runs) < n_held % runs).astype(np.int64)
        held = StoreSubset(self, starts, starts + sizes)
        edges = np.r_[0, np.column_stack([starts, starts + sizes]).ravel(), self.n_persons]
        gaps = edges[1:][::2] > edges[:-1][::2]  # the runs between the held-out ones
        return StoreSubset(self, edges[:-1][::2][gaps], edges[1:][::2][gaps]), held

    def subset(self, persons: np.ndarray) -> StoreSubset:
        """The persons ``persons`` (increasing indices, or a boolean mask over the store) as a batch source.

        The subset is kept as runs of consecutive persons, not one index per
        person: the training persons of a store with a few held-out runs are a
        few runs, whatever the corpus size.
        """
        persons = np.asarray(persons)
        if persons.dtype == bool:
            if len(persons) != self.n_persons:
                raise ValueError(f"a mask over the store needs {self.n_persons} entries, got {len(persons)}")
            edges = np.flatnonzero(np.diff(np.r_[False, persons, False].astype(np.int8)))
            return StoreSubset(self, edges[0::2].astype(np.int64), edges[1::2].astype(np.int64))
        persons = persons.astype(np.int64)
        if len(persons) and (np.any(np.diff(persons) <= 0) or persons[0] < 0 or persons[-1] >= self.n_persons):
            raise ValueError("subset persons must be increasing indices of the store's persons")
        breaks = np.flatnonzero(np.diff(persons) != 1) + 1
        starts = persons[np.r_[0, breaks]] if len(persons) else persons
        stops = persons[np.r_[breaks - 1, len(persons) - 1]] + 1 if len(persons) else persons
        return StoreSubset(self, starts, stops)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r}, persons={self.n_persons:,}, tokens={self.n_rows:,})"


@dataclass(frozen=True)
class StoreSubset:
    """Some persons of a :class:`TokenStore`, as a batch source: the runs ``starts[k] .. stops[k]`` (exclusive).

    The subset's persons are numbered 0, 1, ... through the runs in order, so
    the store's block locality (``batch_block``) is kept; no array holds one
    entry per person.
    """

    store: TokenStore
    starts: np.ndarray
    stops: np.ndarray

    @property
    def batch_block(self) -> int:
        """Persons per block of an epoch's batches, as the store's."""
        return self.store.batch_block

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return int((self.stops - self.starts).sum())

    def store_index(self, index: np.ndarray) -> np.ndarray:
        """The store's indices of the subset's persons ``index``."""
        index = np.asarray(index, dtype=np.int64)
        ends = np.cumsum(self.stops - self.starts)
        run = np.searchsorted(ends, index, side="right")
        return self.starts[run] + index - (ends[run] - (self.stops[run] - self.starts[run]))

    def lengths(self) -> SubsetLengths:
        """Person-years of every person of the subset (read from the store's length index when asked for)."""
        return SubsetLengths(self)

    def collate(self, index: np.ndarray, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Padded batch of the subset's persons ``index``."""
        return self.store.collate(self.store_index(index), device)


class SubsetLengths:
    """The length index of a :class:`StoreSubset`, read from the store's memory map on demand.

    Supports ``len``, slices (``lengths[a:b]``), integer-array indexing and
    ``numpy.asarray`` (which reads it whole).
    """

    def __init__(self, subset: StoreSubset) -> None:
        self._subset = subset
        self._n = subset.n_persons

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        lengths = self._subset.store.person_lengths
        if isinstance(key, slice):
            start, stop, step = key.indices(self._n)
            if step != 1:
                return lengths[self._subset.store_index(np.arange(start, stop, step))]
            pieces = []
            offset = 0
            for first, last in zip(self._subset.starts.tolist(), self._subset.stops.tolist(), strict=True):
                size = last - first
                lo, hi = max(start - offset, 0), min(stop - offset, size)
                if lo < hi:
                    pieces.append(lengths[first + lo : first + hi])
                offset += size
            return np.concatenate(pieces) if pieces else np.zeros(0, dtype=lengths.dtype)
        return lengths[self._subset.store_index(key)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[0 : self._n]
        return whole if dtype is None else whole.astype(dtype)


def write_token_store(
    source: PanelSource,
    directory: str | os.PathLike[str],
    *,
    vocabulary: CareerVocabulary | None = None,
    covariates: Sequence[str] | None = None,
    gap: bool = True,
    max_rows: int = 1_000_000,
) -> TokenStore:
    """Encode ``source`` chunk by chunk into a token store at ``directory`` (written atomically).

    Parameters
    ----------
    source : CareerPanel or path-like
        A panel, or panel files (a file or a directory) written by
        :meth:`CareerPanel.to_parquet`, streamed ``max_rows`` rows at a time.
    directory : path-like
        The store to write; an existing store there is replaced only once the
        new one is complete.
    vocabulary : CareerVocabulary, optional
        Encode with this vocabulary (e.g. a pretrained model's). By default it
        is learnt from ``source`` in a first pass, with the rules of
        :meth:`CareerVocabulary.fit` (:class:`~laborseq.nn.vocabulary_stream.VocabularyBuilder`).
    covariates : sequence of str, optional
        Covariates to encode (default: all); ignored with ``vocabulary``.
    gap : bool
        Encode the years since the previous observation; ignored with ``vocabulary``.
    max_rows : int
        Rows encoded at once (memory is about 100 bytes a row, whatever the corpus size).

    Returns
    -------
    TokenStore
        The store, opened.
    """
    if vocabulary is None:
        builder = VocabularyBuilder(covariates, gap=gap)
        for chunk in _chunks(source, max_rows):
            builder.add(chunk)
        vocabulary = builder.finish()
    scheme, names, n_rows, n_persons = None, (), 0, 0
    state_dtype = np.int16 if len(vocabulary.states) < np.iinfo(np.int16).max else np.int32
    with atomic_directory(directory) as tmp:
        files = {name: open(tmp / f"{name}.bin", "wb") for name in _FILES}
        try:
            files["offsets"].write(np.zeros(1, dtype=np.int64).tobytes())
            for chunk in _chunks(source, max_rows):
                scheme, names = chunk.scheme, chunk.covariates
                weights = chunk.weights if chunk.has_weight else None
                encoded = vocabulary.encode(chunk, weights)
                files["offsets"].write((encoded.offsets[1:] + n_rows).astype(np.int64).tobytes())
                lengths = encoded.lengths()
                if len(lengths) and lengths.max() > np.iinfo(np.int16).max:
                    raise ValueError(f"a career of {lengths.max():,} rows: longer than a token store holds")
                files["lengths"].write(lengths.astype(np.int16).tobytes())
                files["states"].write(encoded.states.astype(state_dtype).tobytes())
                files["codes"].write(encoded.codes.astype(np.int32).tobytes())
                files["weight"].write(encoded.weight.astype(np.float32).tobytes())
                n_rows += len(encoded.states)
                n_persons += len(encoded.offsets) - 1
        finally:
            for handle in files.values():
                handle.close()
        if scheme is None:
            raise ValueError(f"{_describe(source)}: the corpus has no person-years")
        manifest = {
            "format": STORE_FORMAT,
            "n_persons": n_persons,
            "n_rows": n_rows,
            "n_inputs": len(vocabulary.inputs),
            "state_dtype": np.dtype(state_dtype).name,
            "vocabulary": vocabulary.to_dict(),
            "scheme": scheme.to_dict(),
            "covariates": list(names),
            "source": _describe(source),
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return open_token_store(directory)


def open_token_store(directory: str | os.PathLike[str]) -> TokenStore:
    """Map a store written by :func:`write_token_store` (read-only).

    Raises
    ------
    FileNotFoundError
        When ``directory`` holds no store.
    ValueError
        When the store is of a newer format, or an array's size contradicts the manifest.
    """
    path = Path(directory)
    manifest_file = path / _MANIFEST
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{path}: not a token store (no {_MANIFEST}); write one with write_token_store")
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    if manifest.get("format", 0) > STORE_FORMAT:
        raise ValueError(f"{path}: written by a newer laborseq (store format {manifest['format']})")
    n_rows, n_inputs, n_persons = manifest["n_rows"], manifest["n_inputs"], manifest["n_persons"]
    shapes = {
        "offsets": ((n_persons + 1,), np.int64),
        "lengths": ((n_persons,), np.int16),
        "states": ((n_rows,), np.dtype(manifest["state_dtype"])),
        "codes": ((n_rows, n_inputs), np.int32),
        "weight": ((n_rows,), np.float32),
    }
    arrays = {}
    for name, (shape, dtype) in shapes.items():
        file = path / f"{name}.bin"
        expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
        size = file.stat().st_size if file.is_file() else -1
        if size != expected:
            raise ValueError(f"{file}: {size} bytes, but the manifest says {expected}; the store is damaged")
        arrays[name] = np.memmap(file, dtype=dtype, mode="r", shape=shape) if expected else np.zeros(shape, dtype)
    vocabulary = CareerVocabulary.from_dict(manifest["vocabulary"])
    encoded = EncodedPanel(
        offsets=arrays["offsets"],
        states=arrays["states"],
        codes=arrays["codes"],
        weight=arrays["weight"],
        n_states=len(vocabulary.states),
    )
    scheme = OccupationScheme.from_dict(manifest["scheme"])
    lengths = LengthIndex(path / "lengths.bin", n_persons)
    return TokenStore(path, vocabulary, scheme, tuple(manifest["covariates"]), encoded, lengths)


class LengthIndex:
    """A store's length index (int16 person-years per person), read from its file by positioned reads.

    Planning an epoch reads the whole index block by block; through a memory map
    its pages would stay resident in the process (2 bytes a person: 48 MB for
    24 million persons). Positioned reads leave them in the page cache only.
    Supports ``len``, slices (``index[a:b]``), integers, integer arrays (read as
    the one stretch they span: a batch's persons lie in one block) and
    ``numpy.asarray`` (the whole index).
    """

    dtype = np.dtype("<i2")

    def __init__(self, file: Path, n_persons: int) -> None:
        self.file = file
        self._n = int(n_persons)

    def __len__(self) -> int:
        return self._n

    def _read(self, start: int, stop: int) -> np.ndarray:
        if stop <= start:
            return np.zeros(0, dtype=self.dtype)
        return np.fromfile(self.file, dtype=self.dtype, count=stop - start, offset=start * self.dtype.itemsize)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.indices(self._n)
            part = self._read(start, max(start, stop)) if step > 0 else self._read(0, self._n)[key]
            return part if step == 1 or step < 0 else part[::step]
        if isinstance(key, int | np.integer):
            position = int(key) + (self._n if key < 0 else 0)
            if not 0 <= position < self._n:
                raise IndexError(f"person {key} of {self._n}")
            return self._read(position, position + 1)[0]
        index = np.asarray(key, dtype=np.int64)
        if index.size == 0:
            return np.zeros(index.shape, dtype=self.dtype)
        if index.min() < 0 or index.max() >= self._n:
            raise IndexError(f"person indices outside 0-{self._n - 1}")
        first = int(index.min())
        return self._read(first, int(index.max()) + 1)[index - first]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self._read(0, self._n)
        return whole if dtype is None else whole.astype(dtype)


def _chunks(source: PanelSource, max_rows: int) -> Iterable[CareerPanel]:
    if isinstance(source, CareerPanel):
        return panel_chunks(source, max_rows)
    return read_parquet_chunks(source, max_rows)


def _describe(source: PanelSource) -> str:
    return repr(source) if isinstance(source, CareerPanel) else str(source)
