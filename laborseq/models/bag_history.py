"""What :class:`~laborseq.models.BagOfJobs` sees of each predicted row: its previous state and its bag of
earlier states, as tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from laborseq.models.features import EncodedFeatures
from laborseq.models.first_year_logit import split_targets
from laborseq.panel import CareerPanel

DENSE_CONTEXT = 4_000_000
"""Up to this many rows x states the context shares are a dense matrix, sparse above."""


def context_shares_matrix(
    panel: CareerPanel, rows: np.ndarray, *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The bag of earlier states of each predicted row, as a (possibly sparse) matrix.

    Parameters
    ----------
    panel : CareerPanel
        The panel (all rows, context included, form the histories).
    rows : numpy.ndarray
        Boolean mask over ``panel`` of the predicted rows; each must have a
        previous observation.

    Returns
    -------
    shares : torch.Tensor
        Shape ``(n, K)``: row ``r`` (a row at position :math:`p` of its person)
        holds the share of each state among the person's observations at
        positions :math:`0..p-2` (all but the previous one); zero where there
        are none. Dense when ``n * K`` is small, sparse COO otherwise.
    empty : torch.Tensor
        Shape ``(n,)``, bool: rows with no observation before the previous one.

    Notes
    -----
    Built without a loop over persons: every predicted row is paired with its
    earlier observations by offsets into the person's segment (a vectorised
    expansion of size :math:`\\sum_r (p_r - 1)`), and the pairs are summed per
    (row, state). This equals the difference of per-person cumulative counts of
    the states at :math:`p-2` and before the person's start, without their
    :math:`N \\times K` memory.
    """
    states = panel.state_index().astype(np.int64)
    n_states = panel.scheme.n_states
    seqs = panel.sequences()
    person_of_row = np.repeat(np.arange(len(seqs)), seqs.lengths)
    start_of_row = seqs.offsets[:-1][person_of_row]
    idx = np.flatnonzero(rows)
    position = idx - start_of_row[idx]
    if (position < 1).any():
        raise ValueError("every predicted row needs a previous observation")
    count = position - 1
    pair_row = np.repeat(np.arange(len(idx)), count)
    pair_offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    pair_state = states[np.repeat(start_of_row[idx], count) + pair_offset]
    pair_value = np.repeat(1.0 / np.maximum(count, 1), count)
    shape = (len(idx), n_states)
    if len(idx) * n_states <= DENSE_CONTEXT:
        dense = np.bincount(pair_row * n_states + pair_state, weights=pair_value, minlength=shape[0] * shape[1])
        shares = torch.as_tensor(dense.reshape(shape), dtype=dtype, device=device)
    else:
        indices = torch.as_tensor(np.stack([pair_row, pair_state]), dtype=torch.long)
        values = torch.as_tensor(pair_value, dtype=dtype)
        shares = torch.sparse_coo_tensor(indices, values, shape, check_invariants=False).coalesce().to(device)
    return shares, torch.as_tensor(count == 0, device=device)


@dataclass(frozen=True)
class HistoryBatch:
    """Predicted rows of a panel with their histories, as tensors.

    Attributes
    ----------
    codes : dict of str to torch.Tensor
        Covariate level codes of each distinct combination of the rows' covariates
        (survey rows share a few thousand: their effects are computed once each).
    numeric : torch.Tensor
        Shape ``(n_combinations, 0)`` (no numeric covariates; kept for :class:`LogLinear`).
    covariate_row : torch.Tensor
        ``(n,)``, the combination of every row.
    prev, y, weights : torch.Tensor
        Previous state, observed state and weight of each row.
    context : torch.Tensor
        ``(n, K)`` shares of the earlier states (see :func:`context_shares_matrix`).
    empty : torch.Tensor
        ``(n,)`` bool, rows without states before the previous one.
    """

    codes: dict[str, torch.Tensor]
    numeric: torch.Tensor
    covariate_row: torch.Tensor
    prev: torch.Tensor
    y: torch.Tensor
    weights: torch.Tensor
    context: torch.Tensor
    empty: torch.Tensor

    def __len__(self) -> int:
        return self.y.shape[0]

    @classmethod
    def build(
        cls,
        panel: CareerPanel,
        rows: np.ndarray,
        features: EncodedFeatures,
        weights: np.ndarray | None,
        *,
        dtype: torch.dtype,
        device: torch.device | str,
    ) -> HistoryBatch:
        """The rows (boolean mask over ``panel``, each with a previous observation) with their histories."""
        states = panel.state_index().astype(np.int64)
        idx = np.flatnonzero(rows)
        context, empty = context_shares_matrix(panel, rows, dtype=dtype, device=device)
        w = np.ones(len(idx)) if weights is None else np.asarray(weights)[idx]

        def long(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.long, device=device)

        first, row = features.distinct()  # survey rows share a few thousand covariate combinations
        return cls(
            codes={k: long(v[first]) for k, v in features.codes.items()},
            numeric=torch.zeros(len(first), 0, dtype=dtype, device=device),
            covariate_row=long(row),
            prev=long(states[idx - 1]),
            y=long(states[idx]),
            weights=torch.as_tensor(w, dtype=dtype, device=device),
            context=context,
            empty=empty,
        )

    def select(self, index: torch.Tensor) -> HistoryBatch:
        """The rows at ``index``."""
        return HistoryBatch(
            codes=self.codes,
            numeric=self.numeric,
            covariate_row=self.covariate_row[index],
            prev=self.prev[index],
            y=self.y[index],
            weights=self.weights[index],
            context=self.context.index_select(0, index),
            empty=self.empty[index],
        )


def context_shares(panel: CareerPanel) -> np.ndarray:
    """Share of each state among the observations before the previous one, for every target.

    The bag of earlier states that :class:`BagOfJobs` averages. Rows are
    aligned with ``panel.targets()``; a target with fewer than two earlier
    observations gets a row of zeros.
    """
    _, trans = split_targets(panel)
    out = np.zeros((len(panel), panel.scheme.n_states))
    if trans.any():
        shares, _ = context_shares_matrix(panel, trans)
        out[trans] = (shares.to_dense() if shares.is_sparse else shares).numpy()
    return out[panel.target_mask]
