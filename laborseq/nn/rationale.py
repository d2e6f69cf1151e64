"""Greedy rationalization of one CAREER prediction (Vafa et al., 2021; the CAREER reference, section 6.3).

A rationale of the prediction at position ``t`` is a set of input positions
``<= t`` from which the network, attending to nothing else, still ranks the
observed state among its ``top`` predictions. The search starts from the most
recent job (position ``t`` itself, always included) and adds, one at a time,
the earlier position that raises the probability of the observed state most,
until the observed state is among the ``top`` most likely or every position is in.

Position ``s >= 1`` holds the job of the ``s``-th observed year and the
covariates of year ``s + 1``; position 0 holds the start-of-career token and
the covariates of the first year. A subset is scored by masking the other
positions as attention keys in every layer
(:func:`~laborseq.nn.transformer.key_subset_mask`), which is the same as running
the network on the subset alone with its original positions, as the reference does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from laborseq.nn.career_net import CareerNet
from laborseq.nn.transformer import key_subset_mask


@dataclass(frozen=True)
class RationaleSearch:
    """The steps of one greedy search.

    Attributes
    ----------
    added : numpy.ndarray
        Input position added at each step (the first is the target position:
        the most recent job).
    probabilities : numpy.ndarray
        Shape ``(steps, K)``: the predicted distribution after each step.
    full : numpy.ndarray
        Shape ``(K,)``: the prediction from every position (the whole career).
    observed : int
        The observed state.
    top : int
        The search stops once the observed state ranks within this many.
    """

    added: np.ndarray
    probabilities: np.ndarray
    full: np.ndarray
    observed: int
    top: int

    @property
    def ranks(self) -> np.ndarray:
        """Rank of the observed state after each step (1: the most likely; ties count in its favour)."""
        return rank_of(self.probabilities, self.observed)

    @property
    def reached(self) -> bool:
        """Whether the observed state ranks within ``top`` at the end."""
        return bool(self.ranks[-1] <= self.top)


def rank_of(probabilities: np.ndarray, state: int) -> np.ndarray:
    """Rank of ``state`` in each row of ``probabilities``: 1 + the number of states strictly more likely."""
    probabilities = np.atleast_2d(probabilities)
    return 1 + (probabilities > probabilities[:, [state]]).sum(axis=1)


@torch.no_grad()
def greedy_rationale(net: CareerNet, batch: dict[str, torch.Tensor], target: int, *, top: int = 2) -> RationaleSearch:
    """Greedily rationalize the prediction at position ``target`` of a one-person batch.

    Parameters
    ----------
    net : CareerNet
        The network, in evaluation mode (best fine-tuned with word dropout).
    batch : dict of torch.Tensor
        :meth:`~laborseq.nn.encoding.EncodedPanel.collate` of one person.
    target : int
        Position to explain (``>= 1``: there is at least one earlier job).
    top : int, default 2
        Stop when the observed state is among this many most likely states.

    Returns
    -------
    RationaleSearch
    """
    if batch["inputs"].shape[0] != 1:
        raise ValueError(f"greedy_rationale explains one person at a time, got a batch of {batch['inputs'].shape[0]}")
    length = int((batch["targets"][0] >= 0).sum())
    if not 1 <= target < length:
        raise ValueError(f"target position must be in 1..{length - 1} (a year with an earlier job), got {target}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    observed = int(batch["targets"][0, target])
    inputs = batch["inputs"][:, : target + 1]
    covariates = batch["covariates"][:, : target + 1]
    prev = batch["prev"][:, target : target + 1]

    def predict(keep: torch.Tensor) -> np.ndarray:
        rows, mask = keep.shape[0], key_subset_mask(keep)
        hidden = net.hidden(inputs.expand(rows, -1), covariates.expand(rows, -1, -1), mask)
        recall = net.recall_weights(inputs.expand(rows, -1), mask)
        logits = net.head(hidden[:, -1:])
        log_probs = net.output_log_probs(logits, prev.expand(rows, -1), None if recall is None else recall[:, -1:])
        return log_probs[:, 0].exp().double().cpu().numpy()

    keep = torch.zeros(1, target + 1, dtype=torch.bool, device=inputs.device)
    full = predict(~keep)[0]
    keep[0, target] = True
    added, probabilities = [target], [predict(keep)[0]]
    while rank_of(probabilities[-1], observed)[0] > top and not bool(keep.all()):
        candidates = torch.nonzero(~keep[0]).flatten()
        trial = keep.repeat(len(candidates), 1)
        trial[torch.arange(len(candidates)), candidates] = True
        scored = predict(trial)
        best = int(np.argmax(scored[:, observed]))
        keep[0, candidates[best]] = True
        added.append(int(candidates[best]))
        probabilities.append(scored[best])
    return RationaleSearch(np.asarray(added), np.vstack(probabilities), full, observed, top)
