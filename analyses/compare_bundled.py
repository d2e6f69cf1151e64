"""Regenerate the committed comparison reports on the bundled real panels.

Run from the repository root::

    .venv/bin/python analyses/compare_bundled.py

It runs ``laborseq compare`` with the count models, the multinomial logit,
bag-of-jobs and CAREER (``small`` preset, trained from scratch) on ``nlswork``
and ``wage_panel`` (seed 0, 70/10/20 person split, 1,000 bootstrap draws) and
writes ``reports/<panel>/``. It prints the wall time of each run (the README
gives the times measured on the 2-core CPU development machine).
"""

from __future__ import annotations

import time

from laborseq.cli import main

MODELS = "marginal,markov1,markov2,mnlogit,bag_of_jobs,career"

if __name__ == "__main__":
    for data in ("nlswork", "wage_panel"):
        start = time.perf_counter()
        main(["compare", "--data", data, "--models", MODELS, "--seed", "0", "--out", f"reports/{data}", "--quiet"])
        print(f"{data}: {time.perf_counter() - start:.1f} s wall\n")
