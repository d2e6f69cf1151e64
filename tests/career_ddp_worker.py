"""Worker of ``test_career_ddp.py``: fit CAREER under ``torchrun`` and write each rank's predictions.

``career_ddp_worker.py OUT`` fits on a small panel; ``career_ddp_worker.py OUT STORE`` pretrains on the token
store ``STORE`` (every rank maps it and reads only its own batches). ``--recall`` fits a network with recall.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from conftest import make_panel

from laborseq.models import CAREER

TINY_DDP = {
    "n_layers": 1,
    "d_model": 16,
    "n_heads": 2,
    "d_ff": 32,
    "dropout": 0.1,
    "lr": 1e-2,
    "warmup_steps": 2,
    "max_steps": 8,
    "max_tokens": 200,
    "device": "cpu",
}


def main(out: Path, store: str | None = None, recall: bool = False) -> None:
    rank = int(os.environ["RANK"])
    train, valid, test = make_panel(200, seed=3).split_persons((0.6, 0.2, 0.2), rng=0)
    model = CAREER(**TINY_DDP, recall=recall, checkpoint_dir=str(out / "ckpt"))
    model = model.fit(train, valid=valid, rng=0) if store is None else model.fit(store, rng=0)
    np.save(out / f"rank{rank}.npy", model.predict_proba(test))
    if rank == 0:
        model.save(out / "model")


if __name__ == "__main__":
    positional = [arg for arg in sys.argv[1:] if arg != "--recall"]
    main(Path(positional[0]), positional[1] if len(positional) > 1 else None, recall="--recall" in sys.argv)
