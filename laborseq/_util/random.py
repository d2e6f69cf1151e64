"""The one normaliser of random seeds: every ``rng=`` argument of laborseq goes through here."""

from __future__ import annotations

from typing import Any

import numpy as np

RNGLike = int | np.random.Generator | np.random.SeedSequence | None
"""What every ``rng=`` argument accepts: a seed, a generator, a seed sequence, or ``None`` (fresh entropy)."""


def check_random_state(rng: RNGLike) -> np.random.Generator:
    """A numpy Generator from ``rng`` (a generator is returned as is, so draws continue its stream)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def seed_sequence(rng: RNGLike) -> np.random.SeedSequence:
    """A seed sequence from ``rng``, to spawn independent child streams (a generator contributes one draw)."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    return np.random.SeedSequence(rng)


def seed_int(rng: RNGLike, *, high: int = 2**63 - 1, none: int | None = None) -> int:
    """An integer seed from ``rng``, for what wants one (torch, a recorded forecast seed).

    Parameters
    ----------
    rng : int, Generator, SeedSequence or None
        A non-negative int is returned as is; a generator contributes one draw
        in ``[0, high)``; a seed sequence its first state word; ``None`` gives
        ``none`` when set, else a draw from fresh entropy.
    high : int
        Upper bound (exclusive) of drawn seeds.
    none : int, optional
        The seed of ``rng=None``.
    """
    if rng is None:
        return none if none is not None else int(np.random.default_rng().integers(0, high))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, high))
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, dtype=np.uint64)[0] % high)
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise TypeError(f"rng must be a non-negative int, a numpy Generator, a SeedSequence or None, got {rng!r}")
    return int(rng)


def seed_record(rng: Any) -> int | str | None:
    """How a seed is recorded with results (JSON-ready): an integer or ``None`` as is, anything else ``"generator"``."""
    if rng is None:
        return None
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return int(rng)
    return "generator"
