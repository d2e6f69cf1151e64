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
from typing import Any

import pandas as pd

from laborseq import datasets
from laborseq._util.io import write_text_atomic
from laborseq.models.base import load_model
from laborseq.models.career.model import CAREER
from laborseq.models.career.presets import PRESETS as CAREER_PRESETS
from laborseq.models.registry import MODEL_NAMES
from laborseq.panel import PERSON, YEAR, CareerPanel
from laborseq.pipeline import (
    AUTO_FORECAST_YEARS,
    DEFAULT_FORECAST_MODELS,
    career_model,
    check_forecast_origin,
    make_models,
    run_comparison,
    run_forecast,
    run_rationales,
    run_wages,
    write_report,
)
from laborseq.report.forecast import write_forecast_report
from laborseq.report.rationales import write_rationale_report
from laborseq.report.wages import write_wage_report
from laborseq.studies.rationale_study import FINETUNE_STEPS
from laborseq.studies.rationales import target_rows

READERS: dict[str, tuple[str, str]] = {
    "nlsy79": ("laborseq.sources.nlsy.nlsy79", "read_nlsy79"),
    "nlsy97": ("laborseq.sources.nlsy.nlsy97", "read_nlsy97"),
    "psid": ("laborseq.sources.psid.reader", "read_psid"),
    "resumes": ("laborseq.sources.resumes.reader", "read_resumes"),
}
"""``laborseq harmonize`` sources: module and reader function (imported when used)."""

_READER_OPTIONS = {"psid": {"layout"}, "nlsy79": {"codebook", "tagset"}, "nlsy97": {"codebook", "tagset"}}
_READER_OPTIONS["resumes"] = {"frame"}


def load_data(spec: str, option: str = "--data") -> CareerPanel:
    """A bundled panel by name, or a panel parquet file by path (``option`` names the argument in errors)."""
    if spec in datasets.LOADERS:
        return datasets.load(spec)
    path = Path(spec)
    if path.suffix == ".parquet" and not path.exists():
        raise SystemExit(f"laborseq: {option} {spec}: no such file")
    if path.suffix == ".parquet" or path.exists():
        return CareerPanel.read_parquet(path)
    raise SystemExit(
        f"laborseq: {option} {spec!r} is neither a bundled panel {sorted(datasets.LOADERS)} nor a parquet file"
    )


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"fractions must be comma-separated numbers, got {text!r}") from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"fractions needs three shares train,valid,test, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all sub-commands."""
    parser = argparse.ArgumentParser(prog="laborseq", description="Careers as sequences of occupations.")
    sub = parser.add_subparsers(dest="command", required=True)

    cmp_ = sub.add_parser(
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
    _add_quiet_and_career_options(cmp_)

    fc = sub.add_parser("forecast", help="fit up to an origin year, forecast later years, score against what happened")
    _add_data_option(fc)
    fc.add_argument("--origin", type=int, required=True, help="last year of history (the forecast origin)")
    fc.add_argument("--horizon", type=int, default=5, help="forecast up to origin + horizon")
    fc.add_argument("--models", default="markov1,markov2", help=f"comma-separated names from: {', '.join(MODEL_NAMES)}")
    fc.add_argument(
        "--years", choices=("waves", "annual"), default="waves", help="forecast the survey's wave years or every year"
    )
    fc.add_argument("--n-samples", type=int, default=1_000, help="simulated careers per person")
    fc.add_argument(
        "--covariates",
        choices=("hold", "observed"),
        default="hold",
        help="future covariates: last value at the origin, or the observed ones (leaks the future)",
    )
    fc.add_argument("--seed", type=int, default=0, help="seed of the split, the fits and the simulations")
    fc.add_argument("--out", default=None, help="output directory (default: forecast-<data>-<origin>)")
    _add_quiet_and_career_options(fc)

    rat = sub.add_parser(
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

    wag = sub.add_parser(
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

    harm = sub.add_parser("harmonize", help="read a survey export or resume spells into an occ1990dd panel")
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
        "--on-unmapped", choices=("drop", "raise"), default="drop", help="unknown codes: count and drop, or fail"
    )

    desc = sub.add_parser("describe", help="summarise a panel")
    _add_data_option(desc)
    return parser


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="nlswork", help="bundled panel (nlswork, wage_panel) or PANEL.parquet")


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
        raise SystemExit(f"laborseq: --models: {err}") from None
    if "career" in models:
        models["career"] = _career(args)
    return models


def _career(args: argparse.Namespace) -> CAREER:
    """The CAREER of the CAREER options; ``--career-pretrain`` pretrains here, once for the whole run."""
    if args.career_pretrain and args.career_pretrained:
        raise SystemExit("laborseq: give --career-pretrain or --career-pretrained, not both")
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
        raise SystemExit(f"laborseq: {option} {path}: {err}") from None
    if not isinstance(model, CAREER):
        raise SystemExit(f"laborseq: {option} {path} holds a {type(model).__name__}, not a CAREER model")
    return model


def _forecast_origin(value: str) -> int | str | None:
    if value in ("auto", "none"):
        return None if value == "none" else value
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"laborseq: --forecast-origin must be a year, 'auto' or 'none', got {value!r}") from None


def _command(argv: Sequence[str]) -> str:
    """The command line as typed, for the record in reports."""
    return "laborseq " + " ".join(shlex.quote(a) for a in argv)


def _finished(paths: dict[str, Path], started: float, *names: str) -> None:
    shown = ", ".join(str(paths[n]) for n in names if n in paths)
    print(f"\nwrote {shown} in {time.perf_counter() - started:.1f} s")


def run_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq compare``: :func:`laborseq.pipeline.run_comparison`, then :func:`~laborseq.pipeline.write_report`."""
    started = time.perf_counter()
    panel = load_data(args.data)
    wages = datasets.load_wages(args.data) if args.wages == "auto" and args.data in datasets.WAGE_LOADERS else None
    origin = _forecast_origin(args.forecast_origin)
    try:
        check_forecast_origin(origin, panel)
    except ValueError as err:
        raise SystemExit(f"laborseq compare: --forecast-origin: {err}") from None
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
    paths = write_report(study, Path(args.out or f"compare-{panel.name or 'panel'}"))
    print(study.comparison)
    if study.forecast is not None:
        table = study.forecast.by_horizon().round(4).to_string()
        print(f"\nForecast perplexity from {study.forecast.origin}:\n{table}")
    _finished(paths, started, "html", "markdown", "results")
    return 0


def run_forecast_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq forecast``: :func:`laborseq.pipeline.run_forecast`, then the forecast report and the paths."""
    started = time.perf_counter()
    panel = load_data(args.data)
    models = _models(args)
    comparison = run_forecast(
        panel,
        models,
        origin=args.origin,
        horizon=args.horizon,
        years=args.years,
        n_samples=args.n_samples,
        covariates=args.covariates,
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
    panel = load_data(args.data)
    explain = _person_years(args.explain, panel)
    try:  # a person-year missing from a --sample-persons subset is refused by run_rationales
        target_rows(panel, explain)
    except ValueError as err:
        raise SystemExit(f"laborseq rationalize: --explain: {err}") from None
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
            raise SystemExit(f"laborseq: --explain wants PERSON:YEAR, got {spec!r}")
        rows.append((person, int(year)))
    frame = pd.DataFrame(rows, columns=[PERSON, YEAR])
    try:
        frame[PERSON] = frame[PERSON].astype(panel.data[PERSON].dtype)
    except (TypeError, ValueError):
        raise SystemExit(
            f"laborseq: --explain person ids must look like the panel's ({panel.data[PERSON].dtype})"
        ) from None
    return frame


def run_harmonize(args: argparse.Namespace) -> int:
    """``laborseq harmonize``: read, harmonise, write the panel and its lineage."""
    module, function = READERS[args.source]
    reader = getattr(importlib.import_module(module), function)
    options: dict[str, object] = {"variant": args.variant, "on_unmapped": args.on_unmapped}
    extra = {"layout": args.layout, "codebook": args.codebook, "tagset": args.tagset, "frame": args.frame}
    for key, value in extra.items():
        if value is None:
            continue
        if key not in _READER_OPTIONS[args.source]:
            raise SystemExit(f"laborseq harmonize: --{key} does not apply to {args.source}")
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


def _describe(args: argparse.Namespace, argv: Sequence[str]) -> int:
    print(load_data(args.data).describe())
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Sequence[str]], int]] = {
    "compare": run_compare,
    "forecast": run_forecast_command,
    "wages": run_wages_command,
    "rationalize": run_rationalize,
    "harmonize": lambda args, argv: run_harmonize(args),
    "describe": _describe,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborseq`` console script.

    Bad input found by the library (a ``ValueError``, or a file that cannot be
    read) ends the command with its message on one line and exit status 1.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, argv)
    except (ValueError, OSError) as err:
        raise SystemExit(f"laborseq {args.command}: {err}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
