"""Does an exponential moving average of CAREER's weights help on a survey panel? (an ingredient of the recipe search)

The trainer keeps no weight average; this analysis adds one around it: after
every update the average moves toward the weights by ``1 - decay``, and every
evaluation (the early stopping on validation persons) scores the averaged
weights, whose best version is kept. The same seeds are fitted without the
average, so the two runs differ by the average only. Run from the repository root::

    .venv/bin/python analyses/career_weight_averaging.py --decays 0.99,0.995 --seeds 0,1

Prints, per decay and seed, the fit seconds, the best update, and the
validation and test perplexities (on nlswork's 70/10/20 split, seed 0, as in
the reports). The recipe is chosen on the validation column.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

import laborseq.nn.train as trainer
from laborseq.datasets import load_nlswork
from laborseq.models import CAREER
from laborseq.pipeline import split_panel


class WeightAverage:
    """Patches the trainer so that evaluations score, and keep, an exponential moving average of the weights."""

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.shadow: list[torch.Tensor] | None = None
        self.params: list[torch.nn.Parameter] = []
        self.raw: list[torch.Tensor] = []
        self.originals = (trainer._train_step, trainer._evaluate_and_log, trainer._copy_state)

    def __enter__(self) -> WeightAverage:
        step, evaluate, copy = self.originals

        def averaged_step(model: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
            out = step(model, *args, **kwargs)
            self.params = list(model.parameters())
            if self.shadow is None:
                self.shadow = [p.detach().clone() for p in self.params]
            torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1 - self.decay)
            return out

        def averaged_evaluation(model: torch.nn.Module, *args: Any, **kwargs: Any) -> bool:
            self.raw = [p.detach().clone() for p in self.params]
            self._load(self.shadow)
            improved = evaluate(model, *args, **kwargs)
            if not improved:  # the trainer copies the (averaged) weights when they improved, then they go back
                self._load(self.raw)
            return improved

        def averaged_copy(module: torch.nn.Module) -> dict[str, torch.Tensor]:
            out = copy(module)
            self._load(self.raw)
            return out

        trainer._train_step, trainer._evaluate_and_log, trainer._copy_state = (
            averaged_step,
            averaged_evaluation,
            averaged_copy,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        trainer._train_step, trainer._evaluate_and_log, trainer._copy_state = self.originals

    def _load(self, values: list[torch.Tensor] | None) -> None:
        with torch.no_grad():
            for param, value in zip(self.params, values or [], strict=True):
                param.copy_(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decays", default="0.99,0.995", help="decays to try (0: no average)")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    _, parts, _ = split_panel(load_nlswork(), rng=0)
    train, valid, test = parts["train"], parts["valid"], parts["test"]
    print("decay  seed  seconds  best_update  valid_perplexity  test_perplexity")
    for decay in [0.0, *(float(d) for d in args.decays.split(","))]:
        for seed in (int(s) for s in args.seeds.split(",")):
            started = time.perf_counter()
            model = CAREER.preset("small")
            if decay:
                with WeightAverage(decay):
                    model.fit(train, valid=valid, rng=seed)
            else:
                model.fit(train, valid=valid, rng=seed)
            seconds = time.perf_counter() - started
            best = model.training_["best_step"]
            print(
                f"{decay:<6} {seed:<5} {seconds:7.1f}  {best:11}  {model.perplexity(valid):16.4f}  "
                f"{model.perplexity(test):15.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
