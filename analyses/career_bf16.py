"""Does bf16 autocast on the CPU train CAREER to the same held-out perplexity as fp32? (nlswork)

The evidence behind ``precision="auto"`` choosing bf16 autocast on CPUs that
compute bfloat16 natively (AVX512-BF16 or AMX;
:func:`laborseq.nn.accelerator.precision_policy`). On nlswork's 70/10/20 person
split (seed 0, the split of ``laborseq compare``), CAREER is fitted twice per
configuration, once in fp32 and once in bf16 (same seed, same batches, early
stopping on the validation persons), and both are scored on the same test
person-years with person-bootstrap intervals (1,000 draws) of each perplexity
and of their paired difference (bf16 minus fp32):

* the ``small`` preset, the ``career`` of ``laborseq compare`` (2 layers, width 64);
* the ``paper`` configuration (12 layers, width 192) with 2,000-token batches
  for ``--paper-steps`` updates.

Run from the repository root on a CPU with native bfloat16 (the script refuses
otherwise: bf16 would then be emulated)::

    .venv/bin/python analyses/career_bf16.py [--paper-steps 600]

Prints each perplexity with its interval, the difference with its interval and
the fit seconds.
"""

from __future__ import annotations

import argparse

import torch

from laborseq.datasets import load_nlswork
from laborseq.evaluation import compare
from laborseq.models import CAREER
from laborseq.nn.accelerator import cpu_computes_bf16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper-steps", type=int, default=600)
    parser.add_argument("--configs", default="small,paper")
    args = parser.parse_args()
    if not cpu_computes_bf16():
        raise SystemExit("this CPU has neither AVX512-BF16 nor AMX: bf16 would be emulated, not measured")
    train, valid, test = load_nlswork().split_persons((0.7, 0.1, 0.2), rng=0)
    print(f"nlswork: {train.n_persons:,} training, {valid.n_persons:,} validation, {test.n_persons:,} test persons")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    settings = {
        "small": {"preset": "small"},
        "paper": {"preset": "paper", "max_tokens": 2_000, "warmup_steps": 200, "max_steps": args.paper_steps},
    }
    for name in args.configs.split(","):
        params = dict(settings[name])
        preset = params.pop("preset")
        models = {
            f"{name} {precision}": CAREER.preset(preset, device="cpu", precision=precision, **params)
            for precision in ("fp32", "bf16")
        }
        result = compare(models, train, test, valid=valid, rng=0, n_boot=1000)
        fp32, bf16 = (result.score(m, "perplexity") for m in models)
        for label, score in zip(models, (fp32, bf16), strict=True):
            model = result.models[label]
            seconds = model.training_["seconds"]
            print(
                f"{label:<12} perplexity {score['estimate']:.4f} [{score['low']:.4f}, {score['high']:.4f}]  "
                f"{model.training_['steps']} updates, {seconds:.1f} s training, {model.training_['precision']}"
            )
        first, second = models
        if result.best == first:  # differences are paired against the best model: bf16 - fp32 either way
            d = result.score(second, "diff_vs_best")
            estimate, low, high = d["estimate"], d["low"], d["high"]
        else:
            d = result.score(first, "diff_vs_best")
            estimate, low, high = -d["estimate"], -d["high"], -d["low"]
        print(f"{name}: bf16 - fp32 = {estimate:+.4f} [{low:+.4f}, {high:+.4f}]", flush=True)


if __name__ == "__main__":
    main()
