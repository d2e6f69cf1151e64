"""The ``laborseq`` sub-commands: each parses nothing, calls the library once and reports what it wrote."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborseq import datasets
from laborseq._util.io import write_text_atomic
from laborseq.cli.inputs import (
    READER_OPTIONS,
    READERS,
    CommandError,
    career_of,
    column_options,
    forecast_origin,
    is_panel_file,
    load_data,
    model_names,
    models_of,
    saved_career,
    strip_path,
)
from laborseq.models.base import load_model
from laborseq.models.career.model import CAREER
from laborseq.nn.distributed import launched_by_torchrun
from laborseq.panel import PERSON, YEAR, CareerPanel
from laborseq.pipeline import (
    check_forecast_origin,
    run_comparison,
    run_forecast,
    run_predict,
    run_pretraining,
    run_rationales,
    run_store,
    run_wages,
    save_models,
    write_predictions,
    write_report,
    write_sequence_report,
)
from laborseq.report.forecast import write_forecast_report
from laborseq.report.rationales import write_rationale_report
from laborseq.report.wages import write_wage_report
from laborseq.studies.rationale_study import FINETUNE_STEPS
from laborseq.studies.rationales import target_rows


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
    origin = forecast_origin(args.forecast_origin)
    try:
        check_forecast_origin(origin, panel)
    except ValueError as err:
        raise CommandError(f"--forecast-origin: {err}") from None
    models = models_of(args)  # after the inputs are checked: CAREER may pretrain here
    study = run_comparison(
        panel,
        models,
        fractions=args.fractions,
        sample_persons=args.sample_persons,
        n_boot=args.n_boot,
        weighted=not args.unweighted,
        forecast_origin=origin,
        forecast_models=model_names(args.forecast_models),
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
        table = study.forecast.by_horizon().round(4)
        table.index = [study.forecast.label(y) if isinstance(y, int | np.integer) else y for y in table.index]
        table = table.rename_axis(study.forecast.time_unit).to_string()
        print(f"\nForecast perplexity from {study.forecast.label(study.forecast.origin)}:\n{table}")
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
    models = models_of(args)
    try:
        origin = check_forecast_origin(args.origin, panel)
    except ValueError as err:
        raise CommandError(f"--origin: {err}") from None
    comparison = run_forecast(
        panel,
        models,
        origin=origin,
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
        career_of(args),
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
    model = saved_career(args.model, "--model", ensemble=True) if args.model else career_of(args)
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
    extra = {name: getattr(args, name) for name in sorted(set().union(*READER_OPTIONS.values()))}
    for key, value in extra.items():
        if value is None:
            continue
        if key not in READER_OPTIONS[args.source]:
            raise CommandError(f"--{key.replace('_', '-')} does not apply to {args.source}")
        options[key] = value
    if options.get("engine") == "duckdb":
        return _harmonize_out_of_core(args, options)
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


def _harmonize_out_of_core(args: argparse.Namespace, options: dict[str, object]) -> int:
    """``laborseq harmonize resumes --engine duckdb``: spells to a directory of panel files, out of core."""
    from laborseq.sources.resumes.reader import write_resumes  # noqa: PLC0415 - the readers load when used

    options.pop("engine")
    started = time.perf_counter()
    written = write_resumes(args.input, args.out, **options)  # type: ignore[arg-type]
    if args.lineage:
        write_text_atomic(args.lineage, written.lineage.to_json() + "\n")
    print(written.lineage)
    wrote = f"{written.path} ({len(written.files)} panel files)" + (f" and {args.lineage}" if args.lineage else "")
    print(
        f"\n{written.n_persons:,} persons, {written.n_rows:,} person-years; wrote {wrote} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


def run_pretrain_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq pretrain``: :func:`laborseq.pipeline.run_pretraining`, then save the model."""
    started = time.perf_counter()
    source: CareerPanel | Path | None = None
    if args.store_only and args.data is None:
        raise CommandError("--store-only writes the store from --data; give --data")
    if args.out is None and not args.store_only:
        raise CommandError("--out: where to save the pretrained model (or --store-only to write the store only)")
    if args.data is not None and launched_by_torchrun():
        raise CommandError(
            "under torchrun every process would write the store: write it once first (laborseq pretrain --data "
            f"{args.data} --store {args.store} --store-only), then launch torchrun without --data"
        )
    if args.data is not None:
        path = Path(args.data)
        streamed = path.is_dir() or is_panel_file(path)
        if streamed and column_options(args):
            raise CommandError(
                f"{', '.join(column_options(args))} name the columns of your own file, but --data "
                f"{args.data} holds panel files written by laborseq; leave them out"
            )
        source = path if streamed else load_data(args.data, args=args)
    elif not (Path(args.store) / "store.json").is_file():
        raise CommandError(f"--store {args.store}: no token store there; give --data to write one")
    if args.store_only:
        store = run_store(args.store, source, max_rows=args.max_rows)  # type: ignore[arg-type]
        print(f"{store}\n\nwrote {args.store} in {time.perf_counter() - started:.1f} s")
        return 0
    params: dict[str, Any] = {"device": args.career_device, "progress": not args.quiet, "log_dir": args.log_dir}
    params |= {"log_tensorboard": args.tensorboard, "precision": args.precision, "compile": args.compile}
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if args.career_max_steps is not None:
        params["max_steps"] = args.career_max_steps
    model = CAREER.preset(args.career_preset, **params)
    model, store = run_pretraining(model, args.store, source=source, max_rows=args.max_rows, rng=args.seed)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun the first process saves and reports
        return 0
    model.save(args.out)
    summary = model.training_
    print(f"{store}")
    print(
        f"pretrained {args.career_preset} CAREER: {summary['steps']:,} updates, {summary['tokens']:,} tokens, "
        f"{summary['tokens_per_second']:,.0f} tokens/s in {summary['precision']}, best validation loss "
        f"{summary['best_valid_loss']}"
    )
    print(f"\nwrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def run_predict_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq predict``: a saved model's predictions for every person-year of ``--data``."""
    started = time.perf_counter()
    try:
        model = load_model(args.model)
    except (OSError, ValueError) as err:
        raise CommandError(f"--model {args.model}: {strip_path(err, Path(args.model))}") from err
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


def describe(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    panel = load_data(args.data, args=args)
    print(panel.describe().format(top=args.top))
    if panel.lineage is not None:
        print(panel.lineage)
    if args.plots is not None:
        weighted = panel.has_weight and not args.unweighted
        try:
            written = write_sequence_report(panel, args.plots, by=args.by, sort=args.sort, weighted=weighted)
        except ValueError as err:
            raise CommandError(f"--by {args.by}: {err}") from None
        print(f"\nwrote {written['markdown']}, {written['html']} and the figures in {written['figures']}")
    return 0
