"""Token-budget batching: group sequences of similar length so that batches hold about the same number of tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class BatchSource(Protocol):
    """A data set of variable-length sequences that the trainer can batch.

    The trainer only ever asks for the sequences' lengths (to plan batches) and for
    a padded batch of given sequences; how sequences are stored and padded is the
    source's business. A source read from disk may also have an integer attribute
    ``batch_block``: the trainer then forms each epoch's batches block by block
    (:func:`epoch_batches`).
    """

    def lengths(self) -> np.ndarray:
        """Tokens per sequence, an integer array with one entry per sequence."""
        ...

    def collate(self, index: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
        """A padded batch of the sequences ``index`` (positions into :meth:`lengths`), on ``device``."""
        ...


def token_budget_batches(
    lengths: np.ndarray, max_tokens: int, *, shuffle: bool, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Split sequences into batches of at most ``max_tokens`` padded tokens.

    Sequences are sorted by length (stable sort, so ties keep their order) and
    consecutive ones are packed greedily while ``n_sequences * longest_length <=
    max_tokens``. A sequence longer than ``max_tokens`` gets a batch of its own.

    Parameters
    ----------
    lengths : numpy.ndarray
        Tokens per sequence. Empty sequences are budgeted as one token.
    max_tokens : int
        Padded-token budget of a batch.
    shuffle : bool
        If true, sequences of equal length are shuffled before packing (so batches
        differ from epoch to epoch) and the order of the batches is shuffled.
    rng : numpy.random.Generator, optional
        Source of randomness; required when ``shuffle``. The result is a
        deterministic function of ``lengths``, ``max_tokens`` and the state of ``rng``.

    Returns
    -------
    list of numpy.ndarray
        Each array holds the positions of a batch's sequences, shortest first;
        together they contain every sequence exactly once.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be a 1-d integer array, got dtype {lengths.dtype} and shape {lengths.shape}")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    if shuffle and rng is None:
        raise ValueError("token_budget_batches: shuffle=True needs an rng")
    if lengths.size and lengths.min() < 0:
        raise ValueError("lengths must be non-negative")

    index_dtype = np.int32 if len(lengths) < 2**31 else np.int64  # 4 bytes a sequence: corpora of millions
    order = np.arange(len(lengths), dtype=index_dtype)
    if shuffle:
        rng.shuffle(order)
    order = _stable_sort_by_length(order, lengths)
    batches = [order[a:b] for a, b in _greedy_bounds(np.maximum(lengths[order], 1), max_tokens)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _stable_sort_by_length(order: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``order`` sorted by ``lengths[order]``, ties in their order: a counting sort over the few distinct lengths
    (no 8-byte index per sequence, as an argsort would make)."""
    keyed = lengths[order]
    values = np.unique(keyed)
    if len(values) > 256:  # many distinct lengths: an argsort is cheaper than one pass per length
        return order[np.argsort(keyed, kind="stable")]
    return np.concatenate([order[keyed == value] for value in values]) if len(values) else order


def _greedy_bounds(sorted_lengths: np.ndarray, max_tokens: int) -> list[tuple[int, int]]:
    """Bounds of the greedy packing of ascending lengths: a batch grows while ``size * longest <= max_tokens``.

    Equivalent to adding the sequences one by one, but a run of equal lengths is
    packed at once, so the work is in the number of distinct lengths and batches,
    not of sequences.
    """
    if len(sorted_lengths) == 0:
        return []
    values, starts = np.unique(sorted_lengths, return_index=True)
    ends = np.r_[starts[1:], len(sorted_lengths)]
    bounds: list[tuple[int, int]] = []
    start = 0  # first sequence of the open batch
    for length, run_start, run_end in zip(values.tolist(), starts.tolist(), ends.tolist(), strict=True):
        cap = max(max_tokens // length, 1)  # most sequences of this length in one batch
        position = run_start
        if position - start >= cap:  # the open batch cannot take one more of this length
            bounds.append((start, position))
            start = position
        take = min(run_end, start + cap)  # fill the open batch
        position = take
        while run_end - position >= cap:  # full batches inside the run
            bounds.append((start, position))
            start = position
            position = start + cap
        if position > run_end:
            position = run_end
        if position - start >= cap:
            bounds.append((start, position))
            start = position
    if start < len(sorted_lengths):
        bounds.append((start, len(sorted_lengths)))
    return bounds


def epoch_batches(
    lengths: np.ndarray | Sequence[int], max_tokens: int, *, seed: int, epoch: int, block: int | None = None
) -> list[np.ndarray] | EpochPlan:
    """The shuffled batches of one training epoch, a deterministic function of ``(seed, epoch)``.

    Resuming a run mid-epoch rebuilds the epoch's batches with this function
    and skips the batches already done, so no random state needs to be saved.

    With ``block`` (smaller than the data), the sequences are taken in blocks of
    ``block`` consecutive ones, in a shuffled order of blocks: every batch is
    formed within one block and a block's batches come one after the other
    (shuffled among themselves), so that a corpus read from disk is read block
    by block, not page by page across the whole file. The result is then an
    :class:`EpochPlan`, which forms a block's batches when they are asked for:
    memory holds one block's batches, not the epoch's.
    """
    if block is None or block >= len(lengths):
        rng = np.random.default_rng([seed, epoch])
        return token_budget_batches(np.asarray(lengths), max_tokens, shuffle=True, rng=rng)
    return EpochPlan(lengths, max_tokens, seed=seed, epoch=epoch, block=block)


class EpochPlan(Sequence[np.ndarray]):
    """An epoch's batches formed block by block on demand (see :func:`epoch_batches`).

    Block ``k`` (sequences ``start .. start + block``) is packed by
    :func:`token_budget_batches` with its own generator, seeded by ``(seed,
    epoch, start)``, so any block's batches can be formed without the others;
    the order of the blocks is a permutation seeded by ``(seed, epoch)``.
    Building the plan packs every block once to count its batches (it keeps the
    counts only); indexing forms the batches of the block asked for and keeps
    that block's until another one is asked for.

    Parameters
    ----------
    lengths : array-like of int
        Tokens per sequence; only ``len(lengths)`` and slices ``lengths[a:b]``
        are read, so a memory-mapped or lazily concatenated array serves.
    max_tokens : int
        Padded-token budget of a batch.
    seed, epoch : int
        The epoch's seed.
    block : int
        Sequences per block.
    """

    def __init__(self, lengths: np.ndarray | Sequence[int], max_tokens: int, *, seed: int, epoch: int, block: int):
        if block < 1:
            raise ValueError(f"block must be at least 1, got {block}")
        self._lengths = lengths
        self._max_tokens = max_tokens
        self._seed, self._epoch, self._block = seed, epoch, block
        rng = np.random.default_rng([seed, epoch])
        self._starts = rng.permutation(np.arange(0, len(lengths), block, dtype=np.int64))
        counts = [len(self._pack(int(start))) for start in self._starts]
        self._ends = np.cumsum(np.asarray(counts, dtype=np.int64))
        self._cached: tuple[int, list[np.ndarray]] | None = None

    def _pack(self, start: int) -> list[np.ndarray]:
        part = np.asarray(self._lengths[start : start + self._block])
        rng = np.random.default_rng([self._seed, self._epoch, start])
        return [b + start for b in token_budget_batches(part, self._max_tokens, shuffle=True, rng=rng)]

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, position: int) -> np.ndarray:  # type: ignore[override]
        if isinstance(position, slice):
            raise TypeError("an EpochPlan is indexed one batch at a time (slicing would form the whole epoch)")
        n = len(self)
        if position < 0:
            position += n
        if not 0 <= position < n:
            raise IndexError(f"batch {position} of an epoch of {n}")
        k = int(np.searchsorted(self._ends, position, side="right"))
        if self._cached is None or self._cached[0] != k:
            self._cached = (k, self._pack(int(self._starts[k])))
        first = int(self._ends[k - 1]) if k else 0
        return self._cached[1][position - first]
