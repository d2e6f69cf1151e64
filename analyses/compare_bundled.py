"""Regenerate the committed comparison reports on the bundled real panels.

Run from the repository root::

    .venv/bin/python analyses/compare_bundled.py [--data nlswork,wage_panel,mvad]

For each panel it runs the study of ``laborseq compare`` with its defaults
(:func:`laborseq.pipeline.run_comparison`): every model of
the registry (the marginal, Markov chains of order 1 and 2 with and without
the two-stage head, the multinomial logit with the paper's hand-built features
with and without the two-stage head, bag-of-jobs and CAREER with its ``auto``
recipe: two ``small`` networks with recall trained from scratch, averaged and mixed with
the two-stage regression on the validation persons), seed 0, a 70/10/20 person split, 1,000
bootstrap draws, and a forecast section from the latest year followed by five
panel periods (1,000 simulated careers per person), the wage section (panels with wages) and the
rationale section. It writes
``reports/<panel>/`` and prints the wall time of each run and the machine.

Runtime and machine: on 2026-12-06, on a 2-core AMD EPYC CPU (torch 2.13.0
CPU, 2 threads, no GPU), with the ``auto`` recipe (members with recall), nlswork took 169 s
(as ``make demo``, on a fresh clone), wage_panel 65.0 s and mvad 153.6 s (members without recall: 198 s and 205 s,
75.1 s and 72.5 s; with one ``small`` network: 120 s and 62.9 s; before issue 17's speed-ups 322 s
and 99.5 s), with
the wage section (CAREER's hidden state, one-hot histories and the previous
occupation in the Mincer equation) and the rationale section (1,000
word-dropout fine-tuning updates, 100 rationales); on 2026-11-22 the same runs
took 468 s and 143 s on a busier machine. The committed reports come from the run of
2026-12-06 that added the logit's average marginal effects and the LaTeX tables:
nlswork 176.4 s, wage_panel 64.8 s, mvad 154.8 s. Each report's "Environment" section
records the machine and every model's fit time.
"""

from __future__ import annotations

import argparse
import time

from laborseq import datasets
from laborseq._util.environment import environment
from laborseq.pipeline import run_comparison, write_report

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="nlswork,wage_panel,mvad", help="comma-separated bundled panels")
    args = parser.parse_args()
    machine = environment()
    print(f"machine: {machine['processor']}, {machine['cpus']} CPUs, CUDA: {machine.get('cuda', 'none')}")
    for data in args.data.split(","):
        start = time.perf_counter()
        study = run_comparison(
            datasets.load(data),
            wages=datasets.load_wages(data) if data in datasets.WAGE_LOADERS else None,
            rationales=100,
            rng=0,
            command=f"analyses/compare_bundled.py --data {data}",
        )
        write_report(study, f"reports/{data}")
        print(study.comparison)
        print(f"{data}: {time.perf_counter() - start:.1f} s wall\n")
