"""Named configurations of CAREER (plain data: importing them does not import torch)."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "small": {
        "n_layers": 2,
        "d_model": 64,
        "n_heads": 2,
        "d_ff": 256,
        "dropout": 0.1,
        "attn_dropout": 0.1,
        "lr": 1e-3,
        "warmup_steps": 200,
        "max_steps": 20_000,
        "max_tokens": 4_000,
        "patience": 10,
    },
}
"""Named configurations. ``paper``: the architecture and pretraining schedule of the
reference (12 layers, width 192, 3 heads, FFN 768; AdamW 5e-4 with 4,000 warmup
updates, batches of 16,000 tokens). ``small``: 2 layers of width 64 with a faster
schedule and smaller batches, for survey-sized panels and CPU runs."""

AUTO_PRESET = "auto"
"""The name of the recipe below, beside :data:`PRESETS` wherever a CAREER configuration is named."""

AUTO: dict[str, Any] = {"preset": "small", "career_params": {"recall": True}, "members": 2, "mix": "auto"}
"""The ``auto`` recipe, the default ``career`` of the registry and of ``laborseq compare``: the parameters of
:class:`~laborseq.models.CareerEnsemble`. Two ``small`` fits (seeds ``s, s + 1``) with the recall of earlier
jobs (``CAREER(recall=True)``, not in the reference architecture) averaged, mixed with the
two-stage regression (bag-of-jobs on panels of more than 64 states, where the regression is slow), the mixture
weight fitted on the validation persons. More members score better on
validation persons (``CareerEnsemble(members=5)``) at one ``small`` fit each; two keep ``make demo`` within five
minutes. How each ingredient was chosen, and what it buys, is measured by ``analyses/career_recipe.py``
(README, "Choosing CAREER's recipe")."""

PRESET_NAMES: tuple[str, ...] = (AUTO_PRESET, *PRESETS)
"""Every configuration name a command line accepts: ``auto`` and the presets."""
