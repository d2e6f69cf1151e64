"""What each ingredient of CAREER's ``auto`` recipe buys: search, seeds, mixture, on one panel, chosen on validation.

Splits a panel as the committed reports do (by person, 70/10/20, seed 0; a
synthetic panel as ``analyses/career_oracle.py`` draws it), then fits once:
the ``small`` preset (seed 0, the reference), ``--seeds`` fits of the recipe's member
(``small`` with ``AUTO["career_params"]``, that is with recall; seeds 0, 1, ...), one fit per ``--search``
candidate (seed 0), and the ``--mix`` models. Every choice is made on the
validation persons: the search winner, and the mixture weights of each
combination (:meth:`laborseq.models.CareerEnsemble.from_fitted`). The combinations are then
scored on the test persons together (``compare``, paired person-bootstrap):

- ``small``: the ``small`` preset, seed 0 (the ``career`` of earlier releases; ``--no-reference`` skips it);
- ``member``: one member of the recipe, seed 0 (``small`` with recall);
- ``search``: the candidate with the lowest validation perplexity;
- ``ensemble_k``: the first k seeds averaged;
- ``member+mix``, ``ensemble_k+mix``: with the mixture; ``auto`` is the default recipe
  (:data:`laborseq.models.career.AUTO`; ``--mix auto`` mixes what it mixes: the two-stage regression up to
  64 states, bag-of-jobs beyond).

``--member`` changes the configuration of the seeds (e.g. ``n_layers=4,dropout=0.2``, or ``recall=False``
for the recipe without recall) to measure another setting.

Run from the repository root::

    .venv/bin/python analyses/career_recipe.py --data nlswork
    .venv/bin/python analyses/career_recipe.py --data wage_panel
    .venv/bin/python analyses/career_recipe.py --synthetic 10000 --mix mnlogit_two_stage,bag_of_jobs

Prints, per combination, the validation perplexity (what choices see), the
test perplexity with its interval, the difference against ``small`` and
against the best econometric model with paired intervals, the fit seconds
(sum of the fits it uses) and, for a synthetic panel, the ratio to the oracle.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from career_oracle import oracle_ratios

from laborseq import datasets
from laborseq.evaluation.comparison import compare
from laborseq.models import CAREER, CareerEnsemble, SequenceModel, TrueProcessModel, load_model, make_model
from laborseq.models.career import AUTO
from laborseq.models.career.ensemble import auto_mix
from laborseq.pipeline import split_panel
from laborseq.synthetic import SyntheticCareers

SEARCH = ("dropout=0.2,attn_dropout=0.2", "d_model=128,d_ff=512", "weight_decay=0.1", "lr=0.0005")


def overrides(spec: str) -> dict[str, Any]:
    """``"dropout=0.2,d_model=128,recall=False"`` as CAREER parameter overrides."""
    out: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, value = item.split("=")
        if value in ("True", "False"):
            out[key] = value == "True"
        else:
            out[key] = float(value) if "." in value or "e" in value else int(value)
    return out


def timed_fit(model: SequenceModel, train: Any, valid: Any, seed: int) -> tuple[SequenceModel, float]:
    started = time.perf_counter()
    model.fit(train, valid=valid, rng=seed)
    return model, time.perf_counter() - started


def paired_differences(result: Any, reference: str, n_boot: int) -> tuple[list[float], list[tuple[float, float]]]:
    """Each model's test perplexity minus ``reference``'s, with paired person-bootstrap 95% intervals."""
    persons = pd.factorize(result.targets["person_id"])[0]
    n = persons.max() + 1
    draws = np.random.default_rng(1).multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)
    count = draws @ np.bincount(persons, minlength=n).astype(float)
    base = result.log_likelihoods[reference]
    base_boot = np.exp(-(draws @ np.bincount(persons, base, minlength=n)) / count)
    estimates, intervals = [], []
    for ll in result.log_likelihoods.values():
        boot = np.exp(-(draws @ np.bincount(persons, ll, minlength=n)) / count) - base_boot
        estimates.append(float(np.exp(-ll.mean()) - np.exp(-base.mean())))
        intervals.append(tuple(np.quantile(boot, [0.025, 0.975]).round(4).tolist()))
    return estimates, intervals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="nlswork", help="bundled panel (ignored with --synthetic)")
    parser.add_argument("--synthetic", type=int, default=None, help="persons of a synthetic survey-like panel")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--search", default=";".join(SEARCH), help="candidates, ';'-separated ('' for none)")
    parser.add_argument("--mix", default="auto", help="models to mix, comma-separated (auto: the recipe's choice)")
    parser.add_argument("--member", default="", help="overrides of the seeds' configuration, e.g. n_layers=4")
    parser.add_argument("--baselines", default="markov2,mnlogit_two_stage", help="econometric models to report")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--no-reference", action="store_true", help="skip the small preset (a costly fit)")
    parser.add_argument("--members-dir", default=None, help="save each member fit here, and reuse those found")
    args = parser.parse_args()

    process = None
    if args.synthetic:
        process = SyntheticCareers(seed=0)
        panel = process.sample(args.synthetic, population="survey", rng=1)
        train, valid, test = panel.split_persons((0.7, 0.1, 0.2), rng=0)
        name = f"synthetic survey, {args.synthetic:,} persons"
    else:
        panel, parts, _ = split_panel(datasets.load(args.data), rng=0)
        train, valid, test = parts["train"], parts["valid"], parts["test"]
        name = args.data
    print(f"{name}: {train.n_targets:,} training, {valid.n_targets:,} validation, {test.n_targets:,} test targets")
    if process is not None:
        print(f"oracle validation perplexity {process.oracle_perplexity(valid):.4f}", flush=True)

    seconds: dict[str, float] = {}
    combos: dict[str, tuple[SequenceModel, float]] = {}
    if not args.no_reference:
        combos["small"] = timed_fit(CAREER.preset("small"), train, valid, 0)
        print(f"small (reference) seed 0: {combos['small'][1]:.1f} s", flush=True)
    member = {**AUTO["career_params"], **overrides(args.member)}
    seeds = []
    for seed in range(args.seeds):
        saved = None if args.members_dir is None else Path(args.members_dir) / f"seed-{seed}"
        if saved is not None and (saved / "config.json").exists():
            model, seconds[f"seed {seed}"] = load_model(saved), json.loads((saved / "fit_seconds.json").read_text())
        else:
            model, seconds[f"seed {seed}"] = timed_fit(CAREER.preset(AUTO["preset"], **member), train, valid, seed)
            if saved is not None:
                model.save(saved)
                (saved / "fit_seconds.json").write_text(json.dumps(seconds[f"seed {seed}"]))
        seeds.append(model)
        print(
            f"member seed {seed}: {seconds[f'seed {seed}']:.1f} s, validation {model.perplexity(valid):.4f}", flush=True
        )
    candidates = {"member": (seeds[0], seconds["seed 0"])}
    for spec in filter(None, args.search.split(";")):
        candidates[spec] = timed_fit(CAREER.preset(AUTO["preset"], **member, **overrides(spec)), train, valid, 0)
        print(f"candidate {spec}: {candidates[spec][1]:.1f} s", flush=True)
    mixed: dict[str, SequenceModel] = {}
    recipe_mix = auto_mix(len(train.states))
    for mix in recipe_mix if args.mix == "auto" else filter(None, args.mix.split(",")):
        mixed[mix], seconds[mix] = timed_fit(make_model(mix), train, valid, 0)
    baselines = {}
    for base in filter(None, args.baselines.split(",")):
        baselines[base] = mixed[base] if base in mixed else timed_fit(make_model(base), train, valid, 0)[0]

    def valid_perplexity(model: SequenceModel) -> float:
        return model.perplexity(valid)

    search_scores = {spec: valid_perplexity(m) for spec, (m, _) in candidates.items()}
    winner = min(search_scores, key=search_scores.__getitem__)
    members = AUTO["members"]
    mix_cost = sum(seconds[m] for m in mixed)
    combos["member"] = (seeds[0], seconds["seed 0"])
    combos[f"search ({winner})"] = (candidates[winner][0], sum(s for _, s in candidates.values()))
    for k in range(2, args.seeds + 1):
        combos[f"ensemble_{k}"] = (
            CareerEnsemble.from_fitted(seeds[:k], valid=valid),
            sum(seconds[f"seed {i}"] for i in range(k)),
        )
    for k in sorted({1, min(members, args.seeds), args.seeds} if mixed else ()):
        is_auto = k == members and tuple(mixed) == recipe_mix and not args.member
        label = "auto" if is_auto else f"ensemble_{k}+mix"
        combos["member+mix" if k == 1 else label] = (
            CareerEnsemble.from_fitted(seeds[:k], mixed, valid=valid),
            sum(seconds[f"seed {i}"] for i in range(k)) + mix_cost,
        )
    if len(mixed) > 1 and args.seeds >= members:
        for mix in mixed:
            combos[f"ensemble_{members}+{mix}"] = (
                CareerEnsemble.from_fitted(seeds[:members], {mix: mixed[mix]}, valid=valid),
                sum(seconds[f"seed {i}"] for i in range(members)) + seconds[mix],
            )
    models: dict[str, SequenceModel] = {**baselines, **{label: m for label, (m, _) in combos.items()}}
    if process is not None:
        models["oracle"] = TrueProcessModel.from_process(process, population="survey").fit(train)
    result = compare(models, train, test, valid=valid, refit=False, n_boot=args.n_boot, rng=0)

    head = result.headline().reindex(list(models))
    table = pd.DataFrame(index=head.index)
    table["valid_perplexity"] = [valid_perplexity(m) for m in models.values()]
    table["perplexity"] = head["perplexity"]
    table["ci"] = list(zip(head["low"].round(4), head["high"].round(4), strict=True))
    table["diff_vs_best_econometric"] = head["diff_vs_baseline"]
    table["diff_ci"] = list(zip(head["diff_low"].round(4), head["diff_high"].round(4), strict=True))
    if "small" in models:
        table["diff_vs_small"], table["diff_vs_small_ci"] = paired_differences(result, "small", args.n_boot)
    table["fit_seconds"] = [combos[label][1] if label in combos else np.nan for label in models]
    if process is not None:
        table = table.join(oracle_ratios(result, "oracle", n_boot=args.n_boot)[["ratio_all", "ratio_all_ci"]])
    scores = ", ".join(f"{k}: {v:.4f}" for k, v in search_scores.items())
    print(f"\n{name}: best econometric model {result.baseline}; search chose {winner!r} on validation ({scores})")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 40):
        print(table.round(4).to_string())
    print(json.dumps({"data": name, "table": json.loads(table.to_json(orient="index")), "winner": winner}))


if __name__ == "__main__":
    main()
