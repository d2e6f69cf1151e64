"""The shared two-stage (stay / move) head and the recall of earlier jobs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from laborseq.models.two_stage import two_stage_proba
from laborseq.nn.heads import recall_log_probs, recall_weights, two_stage_log_probs
from laborseq.nn.transformer import key_subset_mask


def test_two_stage_matches_the_formula():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    prev = torch.tensor([0, 1, 2, 3, -1, 1])
    out = two_stage_log_probs(logits, prev).exp()
    torch.testing.assert_close(out.sum(-1), torch.ones(6, dtype=torch.float64))
    for r in range(6):
        move, stay = logits[r, :4], logits[r, 4]
        p = prev[r].item()
        if p < 0:
            torch.testing.assert_close(out[r], torch.softmax(move, 0))
            continue
        assert torch.isclose(out[r, p], torch.sigmoid(stay))
        others = [j for j in range(4) if j != p]
        expected = (1 - torch.sigmoid(stay)) * torch.softmax(move[others], 0)
        torch.testing.assert_close(out[r, others], expected)


def test_two_stage_has_finite_gradients():
    logits = torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True)
    prev = torch.tensor([[0, 1], [-1, 2], [2, 2]])
    targets = torch.tensor([[0, 2], [1, 2], [0, 2]])
    loss = -two_stage_log_probs(logits, prev).gather(-1, targets.unsqueeze(-1)).sum()
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_two_stage_proba_recovers_stay_and_moves():
    stay = np.array([0.7, 0.2])
    move = np.array([[0.0, 1.0, 3.0], [2.0, 5.0, 2.0]])
    prev = np.array([0, 1])
    proba = two_stage_proba(stay, move, prev)
    np.testing.assert_allclose(proba[0], [0.7, 0.3 * 0.25, 0.3 * 0.75])
    np.testing.assert_allclose(proba[1], [0.4, 0.2, 0.4])


# ---------------------------------------------------------------------------------------------- recall


def test_recall_weights_are_decayed_counts_of_earlier_inputs():
    n_states, mu = 4, 0.7
    inputs = torch.tensor([[4, 0, 2, 0, 1], [4, 3, 3, 4, 4]])  # 4: start token / padding
    weights = recall_weights(inputs, n_states, torch.tensor(mu)).numpy()
    for b in range(2):
        for t in range(5):
            expected = np.zeros(n_states)
            for s in range(t + 1):
                if inputs[b, s] < n_states:
                    expected[inputs[b, s]] += np.exp(-mu * (t - s))
            np.testing.assert_allclose(weights[b, t], expected, rtol=1e-6)
    # a key mask hides jobs: position 4 keeps only keys 0 and 2 (and itself)
    keep = torch.tensor([[True, False, True, False, False]] * 2)
    masked = recall_weights(inputs, n_states, torch.tensor(mu), key_subset_mask(keep)).numpy()
    expected = np.zeros(n_states)
    expected[2] += np.exp(-mu * 2)
    expected[1] += 1.0
    np.testing.assert_allclose(masked[0, 4], expected, rtol=1e-6)


@pytest.mark.parametrize("two_stage", [True, False])
def test_recall_mixes_fresh_moves_with_returns_as_the_formula_says(two_stage):
    gen = torch.Generator().manual_seed(1)
    n_states = 5
    logits = torch.randn(4, n_states + 1, generator=gen, dtype=torch.float64)
    gate = torch.randn(4, generator=gen, dtype=torch.float64)
    prev = torch.tensor([0, 1, -1, 3])
    weights = torch.tensor(
        [[2.0, 0.5, 0.0, 1.0, 0.0], [0.0, 3.0, 0.0, 0.0, 0.0], [0.0] * 5, [0.0, 0.2, 0.0, 1.0, 0.3]],
        dtype=torch.float64,
    )
    base = two_stage_log_probs(logits, prev) if two_stage else torch.log_softmax(logits[:, :n_states], -1)
    out = recall_log_probs(base, gate, weights, prev, two_stage).exp()
    torch.testing.assert_close(out.sum(-1), torch.ones(4, dtype=torch.float64))
    for r in range(4):
        p, g, w, b = int(prev[r]), torch.sigmoid(gate[r]), weights[r].clone(), base[r].exp()
        if two_stage and p >= 0:
            w[p] = 0.0
        if w.sum() == 0:  # nobody to return to: unchanged
            torch.testing.assert_close(out[r], b)
            continue
        if two_stage:
            stay = torch.sigmoid(logits[r, -1])
            assert torch.isclose(out[r, p], stay)
            q = b.clone()
            q[p] = 0.0
            expected = (1 - g) * q + (1 - stay) * g * w / w.sum()
            expected[p] = stay
        else:
            expected = (1 - g) * b + g * w / w.sum()
        torch.testing.assert_close(out[r], expected)


def test_recall_has_finite_gradients_where_nobody_can_be_returned_to():
    logits = torch.randn(2, 4, 5, dtype=torch.float64, requires_grad=True)
    gate = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    decay = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    inputs = torch.tensor([[4, 0, 0, 0], [4, 1, 2, 3]])
    prev = torch.tensor([[-1, 0, 0, 0], [-1, 1, 2, 3]])
    weights = recall_weights(inputs, 4, decay)
    log_probs = recall_log_probs(two_stage_log_probs(logits, prev), gate, weights, prev)
    targets = torch.tensor([[0, 0, 1, 0], [1, 2, 3, 1]])
    (-log_probs.gather(-1, targets.unsqueeze(-1)).sum()).backward()
    assert torch.isfinite(logits.grad).all() and torch.isfinite(gate.grad).all() and torch.isfinite(decay.grad)
    # the last position returns to state 1 (two observations back) rather than 2 (one back): a slower decay helps
    assert decay.grad > 0
