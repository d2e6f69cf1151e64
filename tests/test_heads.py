"""The shared two-stage (stay / move) head."""

from __future__ import annotations

import numpy as np
import torch

from laborseq.models.two_stage import two_stage_proba
from laborseq.nn.heads import two_stage_log_probs


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
