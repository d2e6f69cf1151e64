"""Token-budget batching: group sequences of similar length so that batches hold about the same number of tokens."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class BatchSource(Protocol):
    """A data set of variable-length sequences that the trainer can batch.

    The trainer only ever asks for the sequences' lengths (to plan batches) and for
    a padded batch of given sequences; how sequences are stored and padded is the
    source's business.
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

    order = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    order = order[np.argsort(lengths[order], kind="stable")]
    budget = np.maximum(lengths[order], 1).tolist()

    batches = []
    start = 0
    for i, length in enumerate(budget):
        # the batch [start, i] is padded to `length`, the longest so far
        if i > start and (i - start + 1) * length > max_tokens:
            batches.append(order[start:i])
            start = i
    if start < len(order):
        batches.append(order[start:])

    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def epoch_batches(lengths: np.ndarray, max_tokens: int, *, seed: int, epoch: int) -> list[np.ndarray]:
    """The shuffled batches of one training epoch, a deterministic function of ``(seed, epoch)``.

    Resuming a run mid-epoch rebuilds the epoch's batch list with this function
    and skips the batches already done, so no random state needs to be saved.
    """
    rng = np.random.default_rng([seed, epoch])
    return token_budget_batches(lengths, max_tokens, shuffle=True, rng=rng)
