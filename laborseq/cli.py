"""The ``laborseq`` command line: argparse, then one library call per sub-command.

The studies themselves live in :mod:`laborseq.pipeline`; a bad argument or input
ends the command with one line on standard error and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from laborseq import datasets
from laborseq._util.io import write_text_atomic
from laborseq._version import __version__
from laborseq.evaluation.predictions import TOP_K
from laborseq.models.base import load_model
from laborseq.models.career.model import CAREER
from laborseq.models.career.presets import PRESETS as CAREER_PRESETS
from laborseq.models.registry import MODEL_NAMES
from laborseq.occupations.crosswalk import FRAMES
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel, PanelValidationError
from laborseq.pipeline import (
    AUTO_FORECAST_YEARS,
    DEFAULT_FORECAST_MODELS,
    career_model,
    check_forecast_origin,
    make_models,
    run_comparison,
    run_forecast,
    run_predict,
    run_pretraining,
    run_rationales,
    run_wages,
    save_models,
    write_predictions,
    write_report,
)
from laborseq.report.forecast import write_forecast_report
from laborseq.report.rationales import write_rationale_report
from laborseq.report.wages import write_wage_report
from laborseq.sources.tables import is_panel_parquet, read_table
from laborseq.studies.rationale_study import FINETUNE_STEPS
from laborseq.studies.rationales import target_rows

READERS: dict[str, tuple[str, str]] = {
    "nlsy79": ("laborseq.sources.nlsy.nlsy79", "read_nlsy79"),
    "nlsy97": ("laborseq.sources.nlsy.nlsy97", "read_nlsy97"),
    "psid": ("laborseq.sources.psid.reader", "read_psid"),
    "resumes": ("laborseq.sources.resumes.reader", "read_resumes"),
}
"""``laborseq harmonize`` sources: module and reader function (imported when used)."""

_READER_OPTIONS = {
    "psid": {"layout", "crosswalk"},
    "nlsy79": {"codebook", "tagset", "crosswalk"},
    "nlsy97": {"codebook", "tagset", "crosswalk"},
    "resumes": {"frame"},
}


class CommandError(Exception):
    """An expected user error at the command line: printed as one line, exit status 2."""


def load_data(
    spec: str, option: str = "--data", args: argparse.Namespace | None = None, hint: str = "", **table: Any
) -> CareerPanel:
    """A bundled panel by name, or a user's file (CSV/TSV, Stata .dta, parquet) by path.

    ``args`` carries the column options of :func:`_add_data_option` (``--person``,
    ``--year``, ...); ``table`` passes further arguments to
    :func:`~laborseq.sources.tables.read_table` (e.g. a saved model's ``scheme``).
    ``option`` names the argument in errors, and ``hint`` is added to an error about
    states the panel's scheme lacks. Column options given for a bundled panel or a
    panel written by laborseq (whose columns are named) are refused, not ignored.
    """
    given = _column_options(args)
    path = Path(spec)
    if spec in datasets.LOADERS or _is_panel_file(path):
        if given:
            what = "a bundled panel" if spec in datasets.LOADERS else "a panel written by laborseq"
            raise CommandError(
                f"{', '.join(given)} name the columns of your own file, but {option} {spec} is {what}, whose columns "
                "are named already; leave them out"
            )
        return datasets.load(spec) if spec in datasets.LOADERS else CareerPanel.read_parquet(path)
    if not path.exists():
        raise CommandError(
            f"{option} {spec}: no such file, and not a bundled panel ({', '.join(sorted(datasets.LOADERS))})"
        )
    if args is not None:
        table.update(
            person=args.person,
            year=args.year,
            occ=args.occ,
            covariates=_list(args.covariates),
            static=_list(args.static) if args.static is not None else None,
            weight=args.weight,
            from_scheme=args.from_scheme,
            variant=args.variant,
            crosswalk=args.crosswalk,
        )
    try:
        return read_table(path, **table)
    except (ValueError, OSError) as err:
        about_states = isinstance(err.__cause__, PanelValidationError) and "not in scheme" in str(err)
        raise CommandError(f"{option} {spec}: {_strip_path(err, path)}{hint if about_states else ''}") from err


def _is_panel_file(path: Path) -> bool:
    """A parquet panel written by laborseq (a file that is no parquet at all is left to read_table's error)."""
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    try:
        return is_panel_parquet(path)
    except ValueError:
        return False


def _column_options(args: argparse.Namespace | None) -> list[str]:
    """The column options of :func:`_add_data_option` given other than their defaults."""
    if args is None:
        return []
    defaults = {"person": PERSON, "year": YEAR, "occ": OCC, "variant": "dorn2013"}
    names = ("person", "year", "occ", "covariates", "static", "weight", "from_scheme", "variant", "crosswalk")
    return [f"--{n.replace('_', '-')}" for n in names if getattr(args, n, None) != defaults.get(n)]


def _list(text: str | None) -> list[str]:
    """Comma-separated column names."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _strip_path(err: BaseException, path: Path) -> str:
    """The error's message without a leading ``<path>: `` or ``<path> `` (the caller names the file already)."""
    message = " ".join(str(err).split())
    for prefix in (f"{path}: ", f"{path} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"fractions must be comma-separated numbers, got {text!r}") from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"fractions needs three shares train,valid,test, got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``laborseq <command>: error: ...``, exit status 2) and no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all sub-commands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--traceback", action="store_true", default=argparse.SUPPRESS, help="show the full Python trace of an error"
    )
    parser = _Parser(prog="laborseq", description="Careers as sequences of occupations.", parents=[common])
    parser.add_argument("--version", action="version", version=f"laborseq {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    cmp_ = add(
        "compare",
        help="fit models, compare held-out perplexity and forecasts in a report",
        description=(
            "Without arguments: every model on nlswork, with forecast, wage and rationale sections "
            "(about 6 minutes on 2 cores)."
        ),
    )
    _add_data_option(cmp_)
    cmp_.add_argument(
        "--models", default="all", help=f"'all' or comma-separated model names from: {', '.join(MODEL_NAMES)}"
    )
    _add_split_options(cmp_)
    cmp_.add_argument("--out", default=None, help="output directory (default: compare-<data>)")
    cmp_.add_argument("--n-boot", type=int, default=1000, help="person-bootstrap draws for intervals")
    cmp_.add_argument(
        "--unweighted", action="store_true", help="ignore the panel's survey weights (used by default when present)"
    )
    forecast = cmp_.add_argument_group("forecast section")
    forecast.add_argument(
        "--forecast-origin",
        default="auto",
        help="last year of history for the forecast section: a year, 'auto' (the latest year followed by at "
        f"least {AUTO_FORECAST_YEARS} panel years) or 'none'",
    )
    forecast.add_argument(
        "--forecast-models",
        default=",".join(DEFAULT_FORECAST_MODELS),
        help="models of the forecast section, among those compared ('all': every compared model; when none of "
        "these is compared, all compared models are forecast)",
    )
    forecast.add_argument("--forecast-samples", type=int, default=1_000, help="simulated careers per person")
    downstream = cmp_.add_argument_group("wage and rationale sections")
    downstream.add_argument(
        "--wages",
        choices=("auto", "none"),
        default="auto",
        help="auto: the wage section when the bundled panel has wages (nlswork, wage_panel)",
    )
    downstream.add_argument(
        "--rationales",
        type=int,
        default=100,
        metavar="N",
        help="rationalize N held-out CAREER predictions (0: no section; needs career among the models)",
    )
    keep = cmp_.add_argument_group("keep what was computed")
    keep.add_argument(
        "--save-models", default=None, metavar="DIR", help="save each fitted model to DIR/<model> (load_model reads it)"
    )
    keep.add_argument(
        "--save-predictions",
        action="store_true",
        help="write <out>/predictions.parquet: every scored test person-year of every model with its top states",
    )
    _add_quiet_and_career_options(cmp_)

    fc = add("forecast", help="fit up to an origin year, forecast later years, score against what happened")
    _add_data_option(fc)
    fc.add_argument("--origin", type=int, required=True, help="last year of history (the forecast origin)")
    fc.add_argument("--horizon", type=int, default=5, help="forecast up to origin + horizon")
    fc.add_argument("--models", default="markov1,markov2", help=f"comma-separated names from: {', '.join(MODEL_NAMES)}")
    fc.add_argument(
        "--years", choices=("waves", "annual"), default="waves", help="forecast the survey's wave years or every year"
    )
    fc.add_argument("--n-samples", type=int, default=1_000, help="simulated careers per person")
    fc.add_argument(
        "--future-covariates",
        choices=("hold", "observed"),
        default="hold",
        help="future covariates: last value at the origin, or the observed ones (leaks the future)",
    )
    fc.add_argument("--seed", type=int, default=0, help="seed of the split, the fits and the simulations")
    fc.add_argument("--out", default=None, help="output directory (default: forecast-<data>-<origin>)")
    _add_quiet_and_career_options(fc)

    rat = add(
        "rationalize",
        help="explain CAREER's held-out predictions by the few past jobs that drive them",
        description=(
            "Fit CAREER on the training persons (or load --model), fine-tune a copy with word dropout, and "
            "rationalize random held-out predictions greedily; writes a report with example rationales."
        ),
    )
    _add_data_option(rat)
    rat.add_argument("--model", default=None, metavar="DIR", help="a saved CAREER model fitted on this split")
    rat.add_argument("--n", type=int, default=100, help="held-out predictions to rationalize")
    rat.add_argument("--mixture", type=float, default=0.5, help="word-dropout probability per batch")
    rat.add_argument(
        "--finetune-steps",
        type=int,
        default=None,
        help=f"word-dropout fine-tuning updates (default {FINETUNE_STEPS:,}, or --career-max-steps when given)",
    )
    rat.add_argument("--top", type=int, default=2, help="stop once the observed job ranks within this many")
    rat.add_argument(
        "--explain", action="append", default=[], metavar="PERSON:YEAR", help="also rationalize this person-year"
    )
    _add_split_options(rat)
    rat.add_argument("--out", default=None, help="output directory (default: rationales-<data>)")
    _add_quiet_and_career_options(rat)

    wag = add(
        "wages",
        help="do career representations improve held-out wage predictions? (Mincer equations, linearmodels)",
        description=(
            "Fit CAREER on the training persons, add its career representations and the one-hot history to the "
            "Mincer equation, and compare held-out RMSE and R-squared with and without them."
        ),
    )
    wag.add_argument("--data", default="nlswork", choices=sorted(datasets.WAGE_LOADERS), help="bundled panel")
    wag.add_argument("--components", type=int, default=10, help="principal components of each representation")
    wag.add_argument("--n-boot", type=int, default=1000, help="person-bootstrap draws for intervals")
    _add_split_options(wag)
    wag.add_argument("--out", default=None, help="output directory (default: wages-<data>)")
    _add_quiet_and_career_options(wag)

    harm = add("harmonize", help="read a survey export or resume spells into an occ1990dd panel")
    harm.add_argument("source", choices=sorted(READERS), help="kind of input")
    harm.add_argument("input", help="the export (CSV / DAT / TXT / parquet)")
    harm.add_argument("--out", required=True, help="output panel (.parquet)")
    harm.add_argument("--lineage", default=None, help="also write the lineage report here (.json)")
    harm.add_argument("--layout", default=None, help="PSID setup file (.do, .sps or .sas)")
    harm.add_argument("--codebook", default=None, help="NLS Investigator codebook (.cdb)")
    harm.add_argument("--tagset", default=None, help="NLS Investigator tagset (.NLSY79 / .NLSY97)")
    harm.add_argument("--frame", default=None, help="resumes: code frame of the occupation column (default occ1990dd)")
    harm.add_argument("--variant", choices=("dorn2013", "deming2017"), default="dorn2013", help="occ1990dd family")
    harm.add_argument(
        "--crosswalk", default=None, metavar="CSV", help="your own crosswalk rows: from_code,occ1990dd[,frame]"
    )
    harm.add_argument(
        "--on-unmapped", choices=("drop", "raise"), default="drop", help="unknown codes: count and drop, or fail"
    )

    desc = add("describe", help="summarise a panel")
    _add_data_option(desc)
    desc.add_argument("--top", type=int, default=15, help="most common states listed")

    pre = add(
        "pretrain",
        help="pretrain CAREER on a resume corpus through a token store on disk",
        description=(
            "Encode the corpus (--data: a panel file or a directory of them, streamed, or any --data input) into a "
            "token store (--store), or reuse the store when --data is left out, then pretrain CAREER on it and save "
            "the model (--out); fine-tune it on a survey with --career-pretrained OUT."
        ),
    )
    _add_data_option(pre, default=None)
    pre.add_argument("--store", required=True, metavar="DIR", help="the token store to write (or reuse)")
    pre.add_argument("--out", required=True, metavar="DIR", help="where to save the pretrained model")
    pre.add_argument("--max-rows", type=int, default=1_000_000, help="rows encoded at once (memory ~100 bytes a row)")
    pre.add_argument("--seed", type=int, default=0, help="seed of the initialisation, hold-out and batch order")
    pre.add_argument("--quiet", action="store_true", help="no progress bar")
    pre.add_argument("--career-preset", choices=sorted(CAREER_PRESETS), default="small", help="model configuration")
    pre.add_argument("--career-max-steps", type=int, default=None, help="cap on training updates")
    pre.add_argument("--career-device", default="auto", help="torch device (auto: CUDA when available)")
    pre.add_argument(
        "--log-dir", default=None, metavar="DIR", help="append the training progress to DIR/train_log.jsonl"
    )
    pre.add_argument("--tensorboard", action="store_true", help="with --log-dir: TensorBoard scalars too (extra)")

    pred = add(
        "predict",
        help="score persons with a saved model: every person-year's predicted states",
        description=(
            "Load a model saved by 'laborseq compare --save-models' (or model.save) and write, for every person-year "
            "of --data, the log-likelihood of the observed state and the most likely states with their probabilities."
        ),
    )
    pred.add_argument("--model", required=True, metavar="DIR", help="a saved laborseq model")
    _add_data_option(pred)
    pred.add_argument("--out", required=True, metavar="FILE.parquet", help="the predictions table")
    pred.add_argument("--top", type=int, default=TOP_K, help="most likely states kept per person-year")
    return parser


def _add_data_option(parser: argparse.ArgumentParser, default: str | None = "nlswork") -> None:
    parser.add_argument(
        "--data",
        default=default,
        help="bundled panel (nlswork, wage_panel) or your file: .csv, .tsv, Stata .dta or .parquet",
    )
    columns = parser.add_argument_group(
        "your file's columns", "one row per person and year; a panel written by laborseq needs none of these"
    )
    columns.add_argument("--person", default=PERSON, help=f"person key column (default {PERSON})")
    columns.add_argument("--year", default=YEAR, help=f"year column (default {YEAR})")
    columns.add_argument(
        "--occ", default=OCC, help=f"occupation column: states, or codes with --from-scheme (default {OCC})"
    )
    columns.add_argument("--covariates", default=None, metavar="COL,COL", help="covariate columns to keep")
    columns.add_argument(
        "--static", default=None, metavar="COL,COL", help="covariates constant within persons (default: those that are)"
    )
    columns.add_argument("--weight", default=None, metavar="COL", help="survey-weight column")
    columns.add_argument(
        "--from-scheme",
        default=None,
        choices=FRAMES,
        help="the --occ column holds codes of this Census frame: harmonise them to occ1990dd (lineage in the report)",
    )
    columns.add_argument(
        "--variant", choices=("dorn2013", "deming2017"), default="dorn2013", help="occ1990dd family for --from-scheme"
    )
    columns.add_argument(
        "--crosswalk", default=None, metavar="CSV", help="with --from-scheme: your own rows from_code,occ1990dd"
    )


def _add_split_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of the person split, the fits and the bootstrap")
    parser.add_argument("--fractions", type=_fractions, default=(0.7, 0.1, 0.2), help="train,valid,test shares")
    parser.add_argument("--sample-persons", type=int, default=None, help="use a random subset of persons (quick runs)")


def _add_quiet_and_career_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    career = parser.add_argument_group("CAREER options")
    career.add_argument("--career-preset", choices=sorted(CAREER_PRESETS), default="small", help="model configuration")
    career.add_argument(
        "--career-pretrain", default=None, metavar="PANEL.parquet", help="pretrain on this resume panel, then fine-tune"
    )
    career.add_argument(
        "--career-pretrained", default=None, metavar="DIR", help="fine-tune a saved (pretrained) CAREER model"
    )
    career.add_argument("--career-max-steps", type=int, default=None, help="cap on training updates")
    career.add_argument("--career-device", default="auto", help="torch device (auto: CUDA when available)")


def _names(value: str) -> list[str] | None:
    """Comma-separated model names (``"all"``: ``None``, every registered model)."""
    return None if value == "all" else [n.strip() for n in value.split(",") if n.strip()]


def _models(args: argparse.Namespace) -> dict[str, Any]:
    """The models of ``--models``, with CAREER built (and pretrained, once) from the CAREER options."""
    try:
        models = make_models(_names(args.models))
    except ValueError as err:
        raise CommandError(f"--models: {err}") from None
    if "career" in models:
        models["career"] = _career(args)
    return models


def _career(args: argparse.Namespace) -> CAREER:
    """The CAREER of the CAREER options; ``--career-pretrain`` pretrains here, once for the whole run."""
    if args.career_pretrain and args.career_pretrained:
        raise CommandError("give --career-pretrain or --career-pretrained, not both")
    resumes = None
    if args.career_pretrained:  # checked here; the model records the directory it starts from
        _saved_career(args.career_pretrained, "--career-pretrained")
    if args.career_pretrain:
        resumes = load_data(args.career_pretrain, "--career-pretrain")
        print(f"pretraining CAREER on {resumes}")
    return career_model(
        args.career_preset,
        pretrain=resumes,
        pretrained=args.career_pretrained,
        max_steps=args.career_max_steps,
        rng=getattr(args, "seed", 0),
        device=args.career_device,
        progress=not args.quiet,
    )


def _saved_career(path: str, option: str) -> CAREER:
    """A saved CAREER model, or a one-line exit naming ``option``."""
    try:
        model = load_model(path)
    except (OSError, ValueError) as err:
        raise CommandError(f"{option} {path}: {_strip_path(err, Path(path))}") from err
    if not isinstance(model, CAREER):
        raise CommandError(f"{option} {path} holds a {type(model).__name__}, not a CAREER model")
    return model


def _forecast_origin(value: str) -> int | str | None:
    if value in ("auto", "none"):
        return None if value == "none" else value
    try:
        return int(value)
    except ValueError:
        raise CommandError(f"--forecast-origin must be a year, 'auto' or 'none', got {value!r}") from None


def _command(argv: Sequence[str]) -> str:
    """The command line as typed, for the record in reports."""
    return "laborseq " + " ".join(shlex.quote(a) for a in argv)


def _finished(paths: dict[str, Path], started: float, *names: str) -> None:
    shown = ", ".join(str(paths[n]) for n in names if n in paths)
    print(f"\nwrote {shown} in {time.perf_counter() - started:.1f} s")


def run_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq compare``: :func:`laborseq.pipeline.run_comparison`, then :func:`~laborseq.pipeline.write_report`."""
    started = time.perf_counter()
    panel = load_data(args.data, args=args)
    wages = datasets.load_wages(args.data) if args.wages == "auto" and args.data in datasets.WAGE_LOADERS else None
    origin = _forecast_origin(args.forecast_origin)
    try:
        check_forecast_origin(origin, panel)
    except ValueError as err:
        raise CommandError(f"--forecast-origin: {err}") from None
    models = _models(args)  # after the inputs are checked: CAREER may pretrain here
    study = run_comparison(
        panel,
        models,
        fractions=args.fractions,
        sample_persons=args.sample_persons,
        n_boot=args.n_boot,
        weighted=not args.unweighted,
        forecast_origin=origin,
        forecast_models=_names(args.forecast_models),
        forecast_samples=args.forecast_samples,
        wages=wages,
        rationales=args.rationales,
        finetune_steps=args.career_max_steps or FINETUNE_STEPS,
        rng=args.seed,
        command=_command(argv),
        progress=not args.quiet,
    )
    out = Path(args.out or f"compare-{panel.name or 'panel'}")
    paths = write_report(study, out)
    if args.save_predictions:
        paths["predictions"] = write_predictions(study.comparison.prediction_table(), out / "predictions.parquet")
    if args.save_models:
        saved = save_models(study.comparison.models, args.save_models)
        print(f"saved {len(saved)} fitted models to {args.save_models}/: {', '.join(saved)}")
    print(study.comparison)
    if study.forecast is not None:
        table = study.forecast.by_horizon().round(4).to_string()
        print(f"\nForecast perplexity from {study.forecast.origin}:\n{table}")
    _finished(paths, started, "html", "markdown", "results", "predictions")
    return 0


def run_forecast_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq forecast``: :func:`laborseq.pipeline.run_forecast`, then the forecast report and the paths."""
    started = time.perf_counter()
    if args.covariates in ("hold", "observed"):
        raise CommandError(
            f"--covariates names your file's covariate columns; the future covariates of a forecast are "
            f"--future-covariates {args.covariates}"
        )
    panel = load_data(args.data, args=args)
    models = _models(args)
    comparison = run_forecast(
        panel,
        models,
        origin=args.origin,
        horizon=args.horizon,
        years=args.years,
        n_samples=args.n_samples,
        covariates=args.future_covariates,
        rng=args.seed,
        progress=not args.quiet,
    )
    out = Path(args.out or f"forecast-{panel.name or 'panel'}-{args.origin}")
    paths = write_forecast_report(comparison, panel, out, command=_command(argv))
    print(comparison.by_horizon().round(4).to_string())
    _finished(paths, started, "html", "results", "forecasts")
    return 0


def run_wages_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq wages``: :func:`laborseq.pipeline.run_wages`, then the wage report."""
    started = time.perf_counter()
    study = run_wages(
        load_data(args.data),
        datasets.load_wages(args.data),
        _career(args),
        fractions=args.fractions,
        sample_persons=args.sample_persons,
        n_components=args.components,
        n_boot=args.n_boot,
        rng=args.seed,
    )
    out = Path(args.out or f"wages-{args.data}")
    title = f"Wages and career representations on {args.data}"
    paths = write_wage_report(study, out, title=title, command=_command(argv))
    print(study.table.round(4).to_string())
    print(study.differences.round(4).to_string())
    _finished(paths, started, "html", "results")
    return 0


def run_rationalize(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq rationalize``: :func:`laborseq.pipeline.run_rationales`, then the rationale report."""
    started = time.perf_counter()
    panel = load_data(args.data, args=args)
    explain = _person_years(args.explain, panel)
    try:  # a person-year missing from a --sample-persons subset is refused by run_rationales
        target_rows(panel, explain)
    except ValueError as err:
        raise CommandError(f"--explain: {err}") from None
    model = _saved_career(args.model, "--model") if args.model else _career(args)
    study, extra = run_rationales(
        panel,
        model,
        fractions=args.fractions,
        sample_persons=args.sample_persons,
        n=args.n,
        mixture=args.mixture,
        top=args.top,
        explain=explain,
        finetune_steps=args.finetune_steps or args.career_max_steps or FINETUNE_STEPS,
        rng=args.seed,
    )
    out = Path(args.out or f"rationales-{panel.name or 'panel'}")
    title = f"Rationales of CAREER's predictions on {panel.name or 'a career panel'}"
    paths = write_rationale_report(study, out, title=title, command=_command(argv), extra=extra)
    print(study.summary.round(4).to_string())
    for rationale in extra:
        print("\n" + rationale.to_text())
    _finished(paths, started, "html", "results")
    return 0


def _person_years(specs: Sequence[str], panel: CareerPanel) -> pd.DataFrame:
    """``PERSON:YEAR`` strings as a ``(person_id, year)`` table, person ids typed as in ``panel``."""
    rows = []
    for spec in specs:
        person, sep, year = spec.rpartition(":")
        if not sep or not year.strip().isdigit():
            raise CommandError(f"--explain wants PERSON:YEAR, got {spec!r}")
        rows.append((person, int(year)))
    frame = pd.DataFrame(rows, columns=[PERSON, YEAR])
    try:
        frame[PERSON] = frame[PERSON].astype(panel.data[PERSON].dtype)
    except (TypeError, ValueError):
        raise CommandError(f"--explain person ids must look like the panel's ({panel.data[PERSON].dtype})") from None
    return frame


def run_harmonize(args: argparse.Namespace) -> int:
    """``laborseq harmonize``: read, harmonise, write the panel and its lineage."""
    module, function = READERS[args.source]
    reader = getattr(importlib.import_module(module), function)
    options: dict[str, object] = {"variant": args.variant, "on_unmapped": args.on_unmapped}
    extra = {
        "layout": args.layout,
        "codebook": args.codebook,
        "tagset": args.tagset,
        "frame": args.frame,
        "crosswalk": args.crosswalk,
    }
    for key, value in extra.items():
        if value is None:
            continue
        if key not in _READER_OPTIONS[args.source]:
            raise CommandError(f"--{key} does not apply to {args.source}")
        options[key] = value
    started = time.perf_counter()
    panel = reader(args.input, **options)
    out = panel.to_parquet(args.out)
    lineage = panel.lineage
    if args.lineage and lineage is not None:
        write_text_atomic(args.lineage, lineage.to_json() + "\n")
    print(panel)
    if lineage is not None:
        print(lineage)
    wrote = f"{out}" + (f" and {args.lineage}" if args.lineage else "")
    print(f"\nwrote {wrote} in {time.perf_counter() - started:.1f} s")
    return 0


def run_pretrain_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq pretrain``: :func:`laborseq.pipeline.run_pretraining`, then save the model."""
    started = time.perf_counter()
    source: CareerPanel | Path | None = None
    if args.data is not None:
        path = Path(args.data)
        streamed = path.is_dir() or _is_panel_file(path)
        if streamed and _column_options(args):
            raise CommandError(
                f"{', '.join(_column_options(args))} name the columns of your own file, but --data "
                f"{args.data} holds panel files written by laborseq; leave them out"
            )
        source = path if streamed else load_data(args.data, args=args)
    elif not (Path(args.store) / "store.json").is_file():
        raise CommandError(f"--store {args.store}: no token store there; give --data to write one")
    params: dict[str, Any] = {"device": args.career_device, "progress": not args.quiet, "log_dir": args.log_dir}
    params["log_tensorboard"] = args.tensorboard
    if args.career_max_steps is not None:
        params["max_steps"] = args.career_max_steps
    model = CAREER.preset(args.career_preset, **params)
    model, store = run_pretraining(model, args.store, source=source, max_rows=args.max_rows, rng=args.seed)
    model.save(args.out)
    summary = model.training_
    print(f"{store}")
    print(
        f"pretrained {args.career_preset} CAREER: {summary['steps']:,} updates, {summary['tokens']:,} tokens, "
        f"{summary['tokens_per_second']:,.0f} tokens/s, best validation loss {summary['best_valid_loss']}"
    )
    print(f"\nwrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def run_predict_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq predict``: a saved model's predictions for every person-year of ``--data``."""
    started = time.perf_counter()
    try:
        model = load_model(args.model)
    except (OSError, ValueError) as err:
        raise CommandError(f"--model {args.model}: {_strip_path(err, Path(args.model))}") from err
    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    known = f"; the model in {args.model} knows {len(model.classes_)} states of scheme {model.scheme_.name!r}"
    panel = load_data(args.data, args=args, hint=known, scheme=model.scheme_)
    if panel.n_targets == 0:
        lineage = panel.lineage
        dropped = f": {lineage.rows_read:,} rows read, dropped {lineage.dropped_by_reason()}" if lineage else ""
        raise CommandError(f"--data {args.data}: no person-years to score{dropped}")
    try:
        table = run_predict(model, panel, name=Path(args.model).name, top=args.top)
    except ValueError as err:
        raise CommandError(f"--data {args.data} does not fit the model in {args.model}: {err}") from None
    out = write_predictions(table, args.out)
    print(f"{type(model).__name__} from {args.model}: {len(table):,} person-years of {panel.n_persons:,} persons")
    impossible = int(np.isneginf(table["log_likelihood"]).sum())
    if impossible:
        print(f"{impossible:,} observed state(s) have probability 0 under the model: the perplexity is infinite")
    else:
        print(f"perplexity {float(np.exp(-table['log_likelihood'].mean())):.4f} (unweighted)")
    print(f"\nwrote {out} in {time.perf_counter() - started:.1f} s")
    return 0


def _describe(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    panel = load_data(args.data, args=args)
    print(panel.describe().format(top=args.top))
    if panel.lineage is not None:
        print(panel.lineage)
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    "compare": run_compare,
    "forecast": run_forecast_command,
    "wages": run_wages_command,
    "rationalize": run_rationalize,
    "harmonize": lambda args, argv: run_harmonize(args),
    "describe": _describe,
    "predict": run_predict_command,
    "pretrain": run_pretrain_command,
}


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (CommandError, ValueError, OSError)
"""Errors that come from the user's input or files (bad values, unreadable or missing files), not from a bug."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborseq`` console script.

    An expected error (a bad option value, a file that cannot be read, input
    the library refuses: :data:`EXPECTED_ERRORS`) ends the command with one
    line, ``laborseq: error: <what is wrong and how to fix it>``, on standard
    error and exit status 2, as argparse does for a bad option; ``--traceback``
    shows the full trace instead. Anything else is a bug and keeps its trace.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, argv)
    except EXPECTED_ERRORS as err:
        if getattr(args, "traceback", False):
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"laborseq: error: {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
