"""Does pretraining help? CAREER pretrained on 1,000,000 synthetic resumes, fine-tuned on a 5,000-person survey.

The synthetic process (:class:`laborseq.sources.SyntheticCareers`, seed 0) has
a resume-like population (annual, younger, far more educated, a different
latent-type mix) and a survey-like one (biennial from 1994, missed waves). The
script streams the resume corpus to parquet, reads it back, pretrains CAREER
on it (early stopping on 10,000 held-out resumes), fine-tunes on 5,000 survey
persons (1,000 more for early stopping) and scores 10,000 fresh survey persons,
next to the same CAREER trained on the survey alone, the pretrained model
without fine-tuning, Markov chains, the multinomial logit, and the oracle.
Run from the repository root::

    .venv/bin/python analyses/career_pretraining.py [--resume-persons 1000000] [--pretrain-steps 1500]

On the 2-core CPU the network is the ``small`` shape (2 layers, width 64, 2
heads, FFN 256) rather than the paper's 12 x 192; ``--paper`` selects the
paper shape (for a GPU). Prints the timings of each stage, tokens per second
of pretraining, and the comparison table with ratios to the oracle.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import pandas as pd
from career_oracle import baseline, oracle_ratios

from laborseq import CareerPanel
from laborseq.evaluate import compare
from laborseq.models import CAREER
from laborseq.models.career import PRESETS
from laborseq.sources import SyntheticCareers

SHAPES = ("n_layers", "d_model", "n_heads", "d_ff")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume-persons", type=int, default=1_000_000)
    parser.add_argument("--survey-persons", type=int, default=5_000)
    parser.add_argument("--test-persons", type=int, default=10_000)
    parser.add_argument("--pretrain-steps", type=int, default=1_500, help="updates of 16,000-token batches")
    parser.add_argument("--paper", action="store_true", help="the paper's 12 x 192 network instead of the small one")
    parser.add_argument("--workdir", default=None, help="where the resume parquet goes (default: a temp dir)")
    parser.add_argument("--n-boot", type=int, default=500)
    args = parser.parse_args()

    shape = {k: PRESETS["paper" if args.paper else "small"].get(k, getattr(CAREER(), k)) for k in SHAPES}
    process = SyntheticCareers(seed=0)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="laborseq-pretrain-"))
    timings = {}

    started = time.perf_counter()
    path = process.write_parquet(workdir / "resumes.parquet", args.resume_persons, population="resume", rng=2)
    resumes = CareerPanel.read_parquet(path)
    timings["generate and read resumes"] = time.perf_counter() - started
    resume_valid = process.sample(10_000, population="resume", rng=3)
    survey_train = process.sample(args.survey_persons, population="survey", rng=4)
    survey_valid = process.sample(1_000, population="survey", rng=5)
    survey_test = process.sample(args.test_persons, population="survey", rng=6)
    print(f"resumes: {resumes} ({path.stat().st_size / 1e6:.0f} MB parquet)")
    print(f"survey: train {survey_train}\n        test {survey_test}")

    pretrain_schedule = {"lr": 1e-3, "warmup_steps": 300, "max_steps": args.pretrain_steps, "max_tokens": 16_000}
    finetune_schedule = {"finetune_lr": 3e-4, "finetune_warmup_steps": 100, "finetune_max_steps": 5_000}
    model = CAREER(**shape, **pretrain_schedule, **finetune_schedule, eval_every=250, patience=None, progress=True)
    started = time.perf_counter()
    model.pretrain(resumes, valid=resume_valid, rng=0)
    timings["pretrain"] = time.perf_counter() - started
    record = model.training_
    print(
        f"pretraining: {record['steps']} updates, {record['tokens']:,} tokens ({record['epochs']:.2f} epochs) "
        f"in {record['seconds']:.0f} s = {record['tokens_per_second']:,.0f} tokens/s; best resume valid loss "
        f"{record['best_valid_loss']:.4f} nats at update {record['best_step']}"
    )
    pretrained_only = copy.deepcopy(model)
    del resumes

    # fine-tune with the small preset's batches and patience (survey-sized data)
    small = PRESETS["small"]
    model.set_params(max_tokens=small["max_tokens"], patience=small["patience"], eval_every=None, progress=False)
    started = time.perf_counter()
    model.fit(survey_train, valid=survey_valid, rng=0)
    timings["fine-tune"] = time.perf_counter() - started

    models = {
        "oracle": process.as_model("survey").fit(survey_train),
        "career_pretrained_finetuned": model,
        "career_survey_only": CAREER.preset("small", **shape).fit(survey_train, valid=survey_valid, rng=0),
        "career_pretrained_only": pretrained_only,
    }
    for name in ("markov1", "markov2", "mnlogit"):
        models[name] = baseline(name, max_iter=300).fit(survey_train, valid=survey_valid, rng=0)
    result = compare(models, survey_train, survey_test, refit=False, rng=0, n_boot=args.n_boot)
    table = result.table()[["perplexity", "ci_low", "ci_high", "perplexity_transitions"]]
    table = table.join(oracle_ratios(result, "oracle", n_boot=args.n_boot))
    print(f"\nnetwork {shape}; timings (s): {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
    print(f"fine-tuning: {model.training_['steps']} updates, stopped by {model.training_['stopped']}")
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(table.round(4).to_string())
    print(
        json.dumps(
            {
                "timings": timings,
                "pretraining": {k: v for k, v in record.items() if k != "history"},
                "table": json.loads(table.to_json(orient="index")),
            }
        )
    )


if __name__ == "__main__":
    main()
