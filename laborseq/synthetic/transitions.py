"""Per-type transition tables and per-person career histories: the state the sampler and the oracle share.

:class:`TransitionTables` holds the move and first-state distributions of every
(education, gender, calendar year, type) cell of a synthetic process, with the
fresh-move probabilities :math:`q_z` and exact inverse-CDF samplers;
:class:`CareerHistory` tracks, for a block of persons, the current state, its
tenure and the earlier states with their counts and last positions, from
which the return weights come.
"""

from __future__ import annotations

import numpy as np

from laborseq.synthetic._math import search_rows


class TransitionTables:
    """Move and initial distributions for every (education, gender, year, type), with samplers.

    Parameters
    ----------
    year0 : int
        Calendar year of year index 0.
    move, init : numpy.ndarray
        :math:`p_z(s)` and :math:`p^0_z(s)`, shape (E, 2, Y, Z, K); gender index 0 is female.
    group : numpy.ndarray
        Group id of every state, shape (K,).
    boost : float
        :math:`\\beta`, log-odds bonus of fresh moves within the current group.
    """

    def __init__(self, year0: int, move: np.ndarray, init: np.ndarray, group: np.ndarray, boost: float) -> None:
        self.year0 = year0
        self.move = move
        self.init = init
        self.group = group
        self.boost = float(np.exp(boost))
        n_groups = int(group.max()) + 1
        onehot = np.zeros((len(group), n_groups))
        onehot[np.arange(len(group)), group] = 1.0
        self.group_mass = move @ onehot  # (E, 2, Y, Z, G)
        # samplers: states sorted by group so that each group is one segment of the cumulative sums
        self.order = np.argsort(group, kind="stable")
        self.position = np.argsort(self.order)
        sorted_group = group[self.order]
        self.seg_start = np.searchsorted(sorted_group, np.arange(n_groups), side="left")
        self.seg_end = np.searchsorted(sorted_group, np.arange(n_groups), side="right")
        k = len(group)
        self.move_cum = np.cumsum(move[..., self.order], axis=-1).reshape(-1, k)
        self.init_cum = np.cumsum(init, axis=-1).reshape(-1, k)
        self.shape = move.shape[:4]

    def _cell(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index((e, g, yi, z), self.shape)

    def _denominator(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, current: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{s' \\ne c} p(s') e^{\\beta 1[g(s')=g(c)]}` for every type, (m, Z)."""
        mass = self.group_mass[e, g, yi, :, self.group[current]]
        p_c = self.move[e, g, yi, :, current]
        return (1.0 - mass) + self.boost * (mass - p_c)

    def fresh(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, current: np.ndarray, y: np.ndarray) -> np.ndarray:
        """:math:`q_z(y)` for every type, (m, Z) (0 where ``y`` is the current state)."""
        p_y = self.move[e, g, yi, :, y]
        factor = np.where(self.group[y] == self.group[current], self.boost, 1.0) * (y != current)
        return p_y * factor[:, None] / self._denominator(e, g, yi, current)

    def fresh_all(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: int, current: np.ndarray) -> np.ndarray:
        """:math:`q_z(\\cdot)` of type ``z`` for m rows, shape (m, K)."""
        p = self.move[e, g, yi, z]
        factor = np.where(self.group[None, :] == self.group[current][:, None], self.boost, 1.0)
        factor[np.arange(len(current)), current] = 0.0
        return p * factor / self._denominator(e, g, yi, current)[:, z, None]

    def sample_initial(self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Draw first states by inverse CDF."""
        cell = self._cell(e, g, yi, z)
        return search_rows(self.init_cum, cell, u * self.init_cum[cell, -1])

    def sample_move(
        self, e: np.ndarray, g: np.ndarray, yi: np.ndarray, z: np.ndarray, current: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Draw fresh moves from :math:`q_z` by inverse CDF over group-sorted states, skipping the current one.

        The boosted cumulative distribution is the monotone map
        :math:`T(x) = x + (e^\\beta - 1)(\\mathrm{clip}(x, lo, hi) - lo)` of the
        plain one, where ``[lo, hi)`` is the current group's segment; the current
        state's interval is cut out of the target and the draw mapped back by
        :math:`T^{-1}`. One uniform per draw, no rejection.
        """
        if len(current) == 0:
            return np.zeros(0, dtype=np.int32)
        cell = self._cell(e, g, yi, z)
        cum = self.move_cum
        grp = self.group[current]
        start, end = self.seg_start[grp], self.seg_end[grp]
        lo = np.where(start > 0, cum[cell, np.maximum(start - 1, 0)], 0.0)
        hi = cum[cell, end - 1]
        pos = self.position[current]
        c_lo = np.where(pos > 0, cum[cell, np.maximum(pos - 1, 0)], 0.0)
        c_hi = cum[cell, pos]
        b = self.boost

        def boosted(x: np.ndarray) -> np.ndarray:
            return x + (b - 1.0) * (np.clip(x, lo, hi) - lo)

        cut_lo, cut_hi = boosted(c_lo), boosted(c_hi)
        v = u * (boosted(cum[cell, -1]) - (cut_hi - cut_lo))
        shifted = v >= cut_lo
        v = np.where(shifted, v + (cut_hi - cut_lo), v)
        x = np.where(v < lo, v, np.where(v < lo + b * (hi - lo), lo + (v - lo) / b, v - (b - 1.0) * (hi - lo)))
        x = np.where(shifted, np.maximum(x, c_hi), x)
        y = self.order[search_rows(cum, cell, x)]
        stuck = np.flatnonzero(y == current)  # only by rounding at the very top of the distribution
        for i in stuck:
            q = self.fresh_all(e[i : i + 1], g[i : i + 1], yi[i : i + 1], int(z[i]), current[i : i + 1])[0]
            y[i] = min(int(np.searchsorted(np.cumsum(q), u[i] * q.sum(), side="right")), len(q) - 1)
        return y


class CareerHistory:
    """Per-person career history: current state, tenure and the distinct earlier states."""

    def __init__(self, n: int, width: int) -> None:
        self.current = np.full(n, -1, dtype=np.int32)
        self.tenure = np.zeros(n, dtype=np.int64)
        self.states = np.full((n, width), -1, dtype=np.int32)
        self.counts = np.zeros((n, width), dtype=np.int32)
        self.last = np.zeros((n, width), dtype=np.int32)
        self.size = np.zeros(n, dtype=np.int64)

    def return_weights(self, idx: np.ndarray, t: int, recency: float) -> tuple[np.ndarray, np.ndarray]:
        """Candidate states and weights :math:`n_h e^{-\\mu (t-1-l_h)}` (0 for the current state and padding)."""
        cand = self.states[idx]
        weights = self.counts[idx] * np.exp(-recency * (t - 1 - self.last[idx]))
        weights[(cand < 0) | (cand == self.current[idx][:, None])] = 0.0
        return cand, weights

    def update(self, idx: np.ndarray, y: np.ndarray, t: int) -> None:
        """Record state ``y`` at position ``t`` for persons ``idx``."""
        same = self.current[idx] == y
        self.tenure[idx] = np.where(same, self.tenure[idx] + 1, 1)
        self.current[idx] = y
        match = self.states[idx] == y[:, None]
        found = match.any(axis=1)
        slot = np.where(found, match.argmax(axis=1), self.size[idx])
        self.states[idx, slot] = y
        self.counts[idx, slot] += 1
        self.last[idx, slot] = t
        self.size[idx] += ~found
