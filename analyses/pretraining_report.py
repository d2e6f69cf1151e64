"""The report of ``career_pretraining.py``: Markdown, self-contained HTML, figures and ``results.json``.

Built from a finished :class:`pretraining_study.Study` with the library's
document model (:class:`laborseq.report.document.Report`) and interval
formatter (:func:`laborseq._util.format.format_interval`): the finding, the
results table and figures, what was done, and the runtime and machine.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pretraining_figures import loss_figure, ratio_figure
from pretraining_study import BASELINES, CAREER_MODELS, ORACLE, REPO, SEEDS, Study

from laborseq._util.environment import environment
from laborseq._util.format import format_interval
from laborseq._util.io import write_json_atomic
from laborseq.panel.education import EDUCATION_LEVELS
from laborseq.report.document import Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.synthetic import GENDERS, RACES, REGIONS, Population, SyntheticCareers


def model_labels(mnlogit_iter: int) -> dict[str, str]:
    """What each model is, for tables.

    Parameters
    ----------
    mnlogit_iter : int
        L-BFGS iterations of the logit (part of its label).

    Returns
    -------
    dict of str to str
        Label by model name.
    """
    return {
        ORACLE: "Oracle: the true process (survey population)",
        "career_pretrained_finetuned": "CAREER pretrained on resumes, fine-tuned on the survey",
        "career_pretrained_only": "CAREER pretrained on resumes only (no fine-tuning)",
        "career_survey_only": "CAREER trained on the survey only",
        "markov1": "First-order Markov chain",
        "markov2": "Second-order Markov chain",
        "mnlogit": f"Multinomial logit ({mnlogit_iter:,} L-BFGS iterations)",
    }


def excess_sentence(table: pd.DataFrame) -> str:
    """How pretraining changes the survey-only model's excess over the oracle (ratio - 1).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`pretraining_study.ratio_table`.

    Returns
    -------
    str
        A sentence with both excesses and the relative change.
    """
    scratch = table.loc["career_survey_only", "ratio_all"] - 1
    tuned = table.loc["career_pretrained_finetuned", "ratio_all"] - 1
    change = (tuned - scratch) / scratch if scratch > 0 else float("nan")
    verb = "cuts" if tuned < scratch else "raises"
    return (
        f"Pretraining {verb} the survey-only model's excess over the oracle (ratio - 1) from {scratch:.3f} "
        f"to {tuned:.3f} ({abs(change):.0%} {'less' if tuned < scratch else 'more'})."
    )


def headline_table(study: Study) -> pd.DataFrame:
    """The results table of the report: perplexity and ratios to the oracle with intervals, best first."""
    labels = model_labels(study.args.mnlogit_iter)
    rows = {}
    for name, r in study.table.iterrows():
        oracle = name == ORACLE
        rows[name] = {
            "description": labels.get(name, name),
            "test perplexity [95% CI]": format_interval(r.perplexity, r.ci_low, r.ci_high),
            "ratio to oracle [95% CI]": "1 (reference)" if oracle else format_interval(r.ratio_all, *r.ratio_all_ci),
            "ratio to oracle, transitions only [95% CI]": (
                "1 (reference)" if oracle else format_interval(r.ratio_transitions, *r.ratio_transitions_ci)
            ),
        }
    frame = pd.DataFrame(rows).T
    frame.index.name = "model"
    return frame


def opening(study: Study) -> Paragraph:
    """The finding, with its numbers."""
    t, test = study.table, study.panels["survey_test"]
    tuned, scratch, only = (t.loc[name] for name in CAREER_MODELS)
    best_baseline = t.loc[list(BASELINES), "ratio_all"].idxmin()
    best = t.loc[best_baseline]
    return Paragraph(
        f"On {test['persons']:,} fresh survey-like test persons ({test['targets']:,} person-years), CAREER "
        f"pretrained on {study.corpus['persons']:,} synthetic resumes and fine-tuned on "
        f"{study.panels['survey_train']['persons']:,} survey persons reaches test perplexity "
        f"**{format_interval(tuned.perplexity, tuned.ci_low, tuned.ci_high)}**, "
        f"{format_interval(tuned.ratio_all, *tuned.ratio_all_ci)} times the oracle's "
        f"({t.loc[ORACLE, 'perplexity']:.3f}, the true process). The same network trained on the survey alone "
        f"is at {format_interval(scratch.ratio_all, *scratch.ratio_all_ci)} times the oracle, the pretrained model "
        f"without fine-tuning at {format_interval(only.ratio_all, *only.ratio_all_ci)}, and the best baseline, "
        f"{best_baseline}, at {format_interval(best.ratio_all, *best.ratio_all_ci)}. "
        + excess_sentence(t)
        + " Perplexity is the effective number of equally likely next states (lower is better); intervals are "
        "95% person-bootstrap intervals."
    )


def observed(pop: Population) -> str:
    """How often a population is observed, in words."""
    if pop.biennial_from is None:
        return "every year"
    return f"every other year from {pop.biennial_from}, missing each later wave with probability {pop.miss_prob:g}"


def degree_share(pop: Population) -> float:
    """Share of a population attaining a bachelor's degree or more."""
    return float(sum(pop.education[EDUCATION_LEVELS.index("bachelors") :]))


def population_paragraph(process: SyntheticCareers) -> Paragraph:
    """The process and how its two populations differ, from its :class:`Population` objects."""
    survey, resume = process.population("survey"), process.population("resume")
    born = {pop.name: f"{pop.birth_years[0]}-{pop.birth_years[1]}" for pop in (survey, resume)}
    return Paragraph(
        f"Careers are drawn from `SyntheticCareers(seed={process.seed})`, a process with a known likelihood over "
        f"{len(process.states):,} states ({process.n_occupations} occ1990dd occupations"
        f"{' plus unemployment' if process.unemployment else ''}) and {process.n_types} latent types. Its two "
        "populations share the state space and the career dynamics but differ in who is observed, when and how "
        f"often. The resume-like corpus is observed {observed(resume)}, born {born['resume']}, "
        f"{degree_share(resume):.0%} with a bachelor's degree or more, and selected on the latent type (type shift "
        f"{resume.type_shift:g}), so its type mix differs even at equal covariates. The survey-like panel is observed "
        f"{observed(survey)}, born {born['survey']}, {degree_share(survey):.0%} with a bachelor's degree or more, "
        f"type shift {survey.type_shift:g}. The oracle is the true process for the survey population, with the "
        "latent type marginalised by forward filtering: the floor no model can beat in expectation."
    )


def population_table(process: SyntheticCareers) -> pd.DataFrame:
    """The sampling designs of the survey and resume populations, from the process's :class:`Population` objects."""

    def shares(values: Sequence[float]) -> str:
        return " / ".join(f"{v:.2f}" for v in values)

    def design(pop: Population) -> dict[str, str]:
        return {
            "birth years": f"{pop.birth_years[0]}-{pop.birth_years[1]}",
            "age at first observation": f"{pop.entry_age[0]}-{pop.entry_age[1]}",
            "first observed years": f"{pop.first_years[0]}-{pop.first_years[1]}",
            "last calendar year": str(pop.last_year),
            "mean / longest span (years)": f"{pop.mean_span:g} / {pop.max_span}",
            "observed": "every year" if pop.biennial_from is None else f"every other year from {pop.biennial_from}",
            "probability of missing a wave": f"{pop.miss_prob:g}",
            f"education ({' / '.join(EDUCATION_LEVELS)})": shares(pop.education),
            f"gender ({' / '.join(GENDERS)})": shares(pop.gender),
            f"race ({' / '.join(RACES)})": shares(pop.race),
            f"region ({' / '.join(REGIONS)})": shares(pop.region),
            "selection on latent type (type_shift)": f"{pop.type_shift:g}",
        }

    frame = pd.DataFrame({name: design(process.population(name)) for name in ("survey", "resume")})
    frame.index.name = "design"
    return frame


def data_table(study: Study) -> pd.DataFrame:
    """Persons, person-years, targets, years and seeds of every panel."""
    parts = {
        "resume corpus (pretraining)": (study.corpus, SEEDS["resumes"]),
        "held-out resumes (pretraining early stopping)": (study.panels["resume_valid"], SEEDS["resume_valid"]),
        "survey training": (study.panels["survey_train"], SEEDS["survey_train"]),
        "survey validation (early stopping)": (study.panels["survey_valid"], SEEDS["survey_valid"]),
        "survey test": (study.panels["survey_test"], SEEDS["survey_test"]),
    }
    frame = pd.DataFrame(
        {
            name: {
                "persons": f"{c['persons']:,}",
                "person-years": f"{c['person_years']:,}",
                "targets": f"{c['targets']:,}",
                "years": f"{c['first_year']}-{c['last_year']}",
                "seed": seed,
            }
            for name, (c, seed) in parts.items()
        }
    ).T
    frame.index.name = "panel"
    return frame


def training_table(study: Study) -> pd.DataFrame:
    """Schedule and outcome of pretraining, fine-tuning and survey-only training, from the models' records."""

    def column(record: Mapping[str, Any]) -> dict[str, str]:
        config = record["config"]
        best = record["best_valid_loss"]
        return {
            "peak learning rate": f"{config['lr']:g}",
            "warmup updates": f"{config['warmup_steps']:,}",
            "maximum updates": "none" if config["max_steps"] is None else f"{config['max_steps']:,}",
            "tokens per batch (budget)": f"{config['max_tokens']:,}",
            "validation": "every epoch" if config["eval_every"] is None else f"every {config['eval_every']:,} updates",
            "patience (validations)": "none" if config["patience"] is None else str(config["patience"]),
            "updates made": f"{record['steps']:,}",
            "tokens (person-years) seen": f"{record['tokens']:,}",
            "epochs": f"{record['epochs']:.2f}",
            "wall seconds": f"{record['seconds']:.1f}",
            "tokens per second": f"{record['tokens_per_second']:,.0f}",
            "best validation loss (nats)": "-" if best is None else f"{best:.4f}",
            "at update": "-" if record["best_step"] is None else f"{record['best_step']:,}",
            "stopped by": str(record["stopped"]).replace("_", " "),
        }

    frame = pd.DataFrame(
        {
            "pretraining (resumes)": column(study.pretraining),
            "fine-tuning (survey)": column(study.finetuning),
            "survey only (from scratch)": column(study.survey_only),
        }
    )
    frame.index.name = "setting"
    return frame


def what_was_done(study: Study) -> list[Any]:
    """Blocks of the section on the process, the data, the network and the schedules."""
    process, corpus, shape = study.process, study.corpus, study.shape
    alignment = study.finetuning.get("alignment", {}).get("states", {})
    return [
        Heading("What was done"),
        population_paragraph(process),
        Table(population_table(process), caption="Sampling designs of the two populations (shares in the order named)"),
        Paragraph(
            f"The resume corpus ({corpus['persons']:,} persons, {corpus['person_years']:,} person-years) is streamed "
            f"to parquet ({corpus['parquet_bytes'] / 1e6:.1f} MB) and read back before pretraining; the other panels "
            "are drawn in memory, each with its own seed."
        ),
        Table(data_table(study), caption="Panels (a target is a person-year to predict)"),
        Paragraph(
            f"CAREER is a causal transformer with {shape['n_layers']} layers of width {shape['d_model']}, "
            f"{shape['n_heads']} attention heads and feed-forward width {shape['d_ff']} "
            f"({'the paper preset' if study.args.paper else 'the `small` preset shape'}), {study.n_parameters:,} "
            f"trained parameters. Pretraining runs {study.pretraining['steps']:,} updates "
            f"({study.pretraining['tokens']:,} tokens, {study.pretraining['epochs']:.2f} epochs of the corpus) at "
            f"{study.pretraining['tokens_per_second']:,.0f} tokens per second. Fine-tuning starts from the pretrained "
            f"weights ({alignment.get('shared', 0)} of {alignment.get('shared', 0) + alignment.get('new', 0)} "
            "survey states share a pretrained embedding) and stops early on the survey validation persons; the "
            "survey-only CAREER trains the same shape from scratch with the `small` preset. The Markov chains come "
            f"from the model registry; the logit uses all features with its L-BFGS capped at "
            f"{study.args.mnlogit_iter:,} iterations. Every model is fitted on the same survey training persons."
        ),
        Table(training_table(study), caption="Training schedules and outcomes, as recorded by the models"),
        Paragraph(
            "Perplexity is exp of the mean negative log-likelihood per target person-year of the test panel, the "
            "first observed year included (it is predicted from covariates); *transitions only* drops it. Intervals "
            f"resample test persons with replacement ({study.result.n_boot:,} draws); the ratios to the oracle are "
            "paired: each draw divides a model's perplexity by the oracle's on the same persons."
        ),
    ]


def runtime_section(study: Study) -> list[Any]:
    """Blocks of the runtime and machine section."""
    timings = pd.DataFrame({"wall seconds": {k: f"{v:,.1f}" for k, v in study.timings.items()}})
    timings.index.name = "stage"
    env = {**environment(), **{k: v for k, v in study.machine_start.items() if k != "load_average"}}
    env["load average at start (1, 5, 15 min)"] = study.machine_start["load_average"]
    env["load average at end (1, 5, 15 min)"] = study.machine_end["load_average"]
    lines = [f"{k}: {v}" for k, v in env.items()]
    lines += [f"interpreter: {interpreter()}", f"command (sys.argv): {study.command}"]
    return [
        Heading("Runtime and machine"),
        Paragraph(
            f"The whole run took **{study.timings['total']:,.0f} s** of wall time (writing this report excluded), "
            f"{study.timings['pretrain']:,.0f} s of it pretraining, on {study.machine_start['cpu_model']} with "
            f"{study.machine_start['logical_cpus']} logical CPUs, PyTorch using {study.machine_start['torch_threads']} "
            f"thread(s), CUDA device: {environment()['cuda']}. Timings include whatever else the machine ran "
            "(the load averages below)."
        ),
        Table(timings, caption="Wall seconds per stage"),
        Preformatted("\n".join(lines)),
    ]


def interpreter() -> str:
    """The Python executable, relative to the repository root when it lies inside it (the virtualenv)."""
    executable = Path(sys.executable)
    return str(executable.relative_to(REPO)) if executable.is_relative_to(REPO) else str(executable)


def build_report(study: Study) -> Report:
    """The report: finding, results table and figures, then what was done and the runtime.

    Parameters
    ----------
    study : Study
        The finished run.

    Returns
    -------
    Report
        Ready for :meth:`Report.write`.
    """
    report = Report("Does pretraining help? CAREER on synthetic resumes, fine-tuned on a synthetic survey")
    report.add(
        opening(study),
        Heading("Results"),
        Table(headline_table(study), caption="Survey test perplexity and ratio to the oracle, best first"),
        Figure(
            ratio_figure(study.table),
            "ratio_to_oracle",
            caption="Test perplexity of each model divided by the oracle's; whiskers are paired 95% "
            "person-bootstrap intervals (often narrower than the dot).",
        ),
    )
    histories = {
        "pretrain": study.pretraining["history"],
        "finetune": study.finetuning["history"],
        "survey_only": study.survey_only["history"],
    }
    n_valid = (study.panels[name]["persons"] for name in ("resume_valid", "survey_valid"))
    curves = loss_figure(histories, study.references, *n_valid)
    if curves is not None:
        report.add(
            Heading("Training curves"),
            Figure(
                curves,
                "validation_loss",
                caption="Validation loss against person-years seen. Left: pretraining, scored on held-out resumes. "
                "Right: on the survey validation persons, fine-tuning from the pretrained weights (the first point "
                "is the pretrained model before any update) and the same network trained from scratch. "
                "Dashed: the oracle's loss on the same persons.",
            ),
        )
    report.add(*what_was_done(study), *runtime_section(study))
    return report


def results_dict(study: Study) -> dict[str, Any]:
    """The content of ``results.json``: settings, data, training records and histories, results, runtime."""
    models = {}
    for name, r in study.table.iterrows():
        models[name] = {
            "perplexity": r.perplexity,
            "perplexity_ci": [r.ci_low, r.ci_high],
            "perplexity_transitions": r.perplexity_transitions,
            "ratio_to_oracle": r.ratio_all,
            "ratio_to_oracle_ci": list(r.ratio_all_ci),
            "ratio_to_oracle_transitions": r.ratio_transitions,
            "ratio_to_oracle_transitions_ci": list(r.ratio_transitions_ci),
        }
    return {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(study.args).items()},
        "seeds": SEEDS,
        "process": {"seed": study.process.seed, "states": len(study.process.states), "types": study.process.n_types},
        "populations": {name: study.process.population(name).to_dict() for name in ("survey", "resume")},
        "data": {"resume_corpus": study.corpus, **study.panels},
        "network": {**study.shape, "n_parameters": study.n_parameters},
        "pretraining": study.pretraining,
        "finetuning": study.finetuning,
        "survey_only": study.survey_only,
        "reference_losses": study.references,
        "models": models,
        "comparison": study.result.to_dict(),
        "timings_seconds": study.timings,
        "environment": environment(),
        "machine": {"start": study.machine_start, "end": study.machine_end},
        "command": study.command,
    }


def write_outputs(study: Study, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``figures/`` and ``results.json`` under ``out_dir``.

    Parameters
    ----------
    study : Study
        The finished run.
    out_dir : Path
        Report directory (created).

    Returns
    -------
    dict of str to Path
        The written paths.
    """
    paths = build_report(study).write(out_dir)
    paths["results"] = write_json_atomic(out_dir / "results.json", results_dict(study))
    return paths
