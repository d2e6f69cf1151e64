"""The ``laborseq`` command line: thin wrappers over the Python API."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from laborseq.panel import CareerPanel

if TYPE_CHECKING:
    from laborseq.models import CAREER, SequenceModel
    from laborseq.studies.wages import WageStudy


def load_data(spec: str) -> CareerPanel:
    """A bundled panel by name, or a panel parquet file by path."""
    from laborseq import datasets

    if spec in datasets.LOADERS:
        return datasets.load(spec)
    path = Path(spec)
    if path.suffix == ".parquet" or path.exists():
        return CareerPanel.read_parquet(path)
    raise SystemExit(
        f"laborseq: --data {spec!r} is neither a bundled panel {sorted(datasets.LOADERS)} nor a parquet file"
    )


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"fractions must be comma-separated numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all sub-commands."""
    from laborseq.datasets import WAGE_LOADERS
    from laborseq.models import MODEL_NAMES
    from laborseq.models.career import PRESETS as CAREER_PRESETS
    from laborseq.studies.rationale_study import FINETUNE_STEPS

    parser = argparse.ArgumentParser(prog="laborseq", description="Careers as sequences of occupations.")
    sub = parser.add_subparsers(dest="command", required=True)

    cmp_ = sub.add_parser(
        "compare",
        help="fit models, compare held-out perplexity and forecasts in a report",
        description=(
            "Without arguments: every model on nlswork, with forecast, wage and rationale sections "
            "(about 8 minutes on 2 cores)."
        ),
    )
    cmp_.add_argument("--data", default="nlswork", help="bundled panel (nlswork, wage_panel) or PANEL.parquet")
    cmp_.add_argument(
        "--models",
        default="all",
        help=f"'all' or comma-separated model names from: {', '.join(MODEL_NAMES)}",
    )
    _add_split_options(cmp_)
    cmp_.add_argument("--out", default=None, help="output directory (default: compare-<data>)")
    cmp_.add_argument("--n-boot", type=int, default=1000, help="person-bootstrap draws for intervals")
    cmp_.add_argument(
        "--unweighted", action="store_true", help="ignore the panel's survey weights (used by default when present)"
    )
    forecast = cmp_.add_argument_group("forecast section")
    forecast.add_argument(
        "--forecast-cutoff",
        default="auto",
        help="last year of history for the forecast section: a year, 'auto' (the latest year followed by at "
        f"least {AUTO_FORECAST_YEARS} panel years) or 'none'",
    )
    forecast.add_argument(
        "--forecast-models",
        default="markov1,markov2,mnlogit,career",
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
    cmp_.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_career_options(cmp_, CAREER_PRESETS)

    fc = sub.add_parser("forecast", help="fit up to a cut-off year, forecast later years, score against what happened")
    fc.add_argument("--data", default="nlswork", help="bundled panel (nlswork, wage_panel) or PANEL.parquet")
    fc.add_argument("--cutoff", type=int, required=True, help="last year of history (the forecast origin)")
    fc.add_argument("--horizon", type=int, default=5, help="forecast up to cutoff + horizon")
    fc.add_argument("--models", default="markov1,markov2", help=f"comma-separated names from: {', '.join(MODEL_NAMES)}")
    fc.add_argument(
        "--years", choices=("waves", "annual"), default="waves", help="forecast the survey's wave years or every year"
    )
    fc.add_argument("--n-samples", type=int, default=1_000, help="simulated careers per person")
    fc.add_argument(
        "--covariates",
        choices=("hold", "observed"),
        default="hold",
        help="future covariates: last value at the cut-off, or the observed ones (leaks the future)",
    )
    fc.add_argument("--seed", type=int, default=0, help="seed of the split, the fits and the simulations")
    fc.add_argument("--out", default=None, help="output directory (default: forecast-<data>-<cutoff>)")
    fc.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_career_options(fc, CAREER_PRESETS)

    rat = sub.add_parser(
        "rationalize",
        help="explain CAREER's held-out predictions by the few past jobs that drive them",
        description=(
            "Fit CAREER on the training persons (or load --model), fine-tune a copy with word dropout, and "
            "rationalize random held-out predictions greedily; writes a report with example rationales."
        ),
    )
    rat.add_argument("--data", default="nlswork", help="bundled panel (nlswork, wage_panel) or PANEL.parquet")
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
        "--explain",
        action="append",
        default=[],
        metavar="PERSON:YEAR",
        help="also rationalize this person-year (repeatable)",
    )
    _add_split_options(rat)
    rat.add_argument("--out", default=None, help="output directory (default: rationales-<data>)")
    rat.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_career_options(rat, CAREER_PRESETS)

    wag = sub.add_parser(
        "wages",
        help="do career representations improve held-out wage predictions? (Mincer equations, linearmodels)",
        description=(
            "Fit CAREER and a Markov chain on the training persons, add their career representations to the "
            "Mincer equation, and compare held-out RMSE and R-squared with and without them."
        ),
    )
    wag.add_argument("--data", default="nlswork", choices=sorted(WAGE_LOADERS), help="bundled panel with wages")
    wag.add_argument("--components", type=int, default=10, help="principal components of each representation")
    wag.add_argument("--n-boot", type=int, default=1000, help="person-bootstrap draws for intervals")
    _add_split_options(wag)
    wag.add_argument("--out", default=None, help="output directory (default: wages-<data>)")
    wag.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_career_options(wag, CAREER_PRESETS)

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
    desc.add_argument("--data", default="nlswork", help="bundled panel or PANEL.parquet")
    return parser


def _add_split_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of the person split, the fits and the bootstrap")
    parser.add_argument("--fractions", type=_fractions, default=(0.7, 0.1, 0.2), help="train,valid,test shares")
    parser.add_argument("--sample-persons", type=int, default=None, help="use a random subset of persons (quick runs)")


def _add_career_options(parser: argparse.ArgumentParser, presets: Sequence[str]) -> None:
    career = parser.add_argument_group("CAREER options")
    career.add_argument("--career-preset", choices=sorted(presets), default="small", help="model configuration")
    career.add_argument(
        "--career-pretrain", default=None, metavar="PANEL.parquet", help="pretrain on this resume panel, then fine-tune"
    )
    career.add_argument(
        "--career-pretrained", default=None, metavar="DIR", help="fine-tune a saved (pretrained) CAREER model"
    )
    career.add_argument("--career-max-steps", type=int, default=None, help="cap on training updates")
    career.add_argument("--career-device", default="auto", help="torch device (auto: CUDA when available)")


def _models(args: argparse.Namespace) -> dict[str, SequenceModel]:
    from laborseq.models import MODEL_NAMES, make_model

    names = list(MODEL_NAMES) if args.models == "all" else [n.strip() for n in args.models.split(",") if n.strip()]
    try:
        models = {name: make_model(name) for name in names}
    except ValueError as err:
        raise SystemExit(f"laborseq: {err}") from None
    if "career" in models:
        models["career"] = _career_model(args)
    return models


def run_forecast(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq forecast``: fit up to the cut-off, forecast, score, write the report and the paths."""
    from laborseq.forecast.compare import forecast_compare
    from laborseq.report.forecast import write_forecast_report

    models = _models(args)
    started = time.perf_counter()
    panel = load_data(args.data)
    try:
        comparison = forecast_compare(
            models,
            panel,
            cutoff=args.cutoff,
            horizon=args.horizon,
            years=args.years,
            n_samples=args.n_samples,
            covariates=args.covariates,
            rng=args.seed,
            progress=not args.quiet,
        )
    except ValueError as err:
        raise SystemExit(f"laborseq forecast: {err}") from None
    out = Path(args.out or f"forecast-{panel.name or 'panel'}-{args.cutoff}")
    command = _command(argv)
    paths = write_forecast_report(comparison, panel, out, command=command)
    print(comparison.by_horizon().round(4).to_string())
    seconds = time.perf_counter() - started
    print(f"\nwrote {paths['html']}, {paths['results']} and {paths['forecasts']}/ in {seconds:.1f} s")
    return 0


def run_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq compare``: split, fit, score, forecast when asked, write the report."""
    from tqdm.auto import tqdm

    from laborseq.datasets import WAGE_LOADERS
    from laborseq.evaluation.compare import compare
    from laborseq.report import write_comparison_report

    models = _models(args)
    started = time.perf_counter()
    steps = tqdm(total=5, desc="compare", disable=args.quiet, unit="step")
    steps.set_postfix_str("load and split")
    panel, (train, valid, test) = _load_and_split(args)
    cutoff = _forecast_cutoff(args.forecast_cutoff, panel)
    weights = "weight" if panel.has_weight and not args.unweighted else None
    steps.update()
    steps.set_postfix_str("fit and score")
    result = compare(
        models, train, test, valid=valid, rng=args.seed, n_boot=args.n_boot, weights=weights, progress=not args.quiet
    )
    steps.update()
    forecast = None
    if cutoff is not None:
        from laborseq.forecast.compare import forecast_compare

        steps.set_postfix_str(f"forecast from {cutoff}")
        forecast = forecast_compare(
            _forecast_models(args, list(models)),
            panel,
            cutoff=cutoff,
            horizon=int(panel.years.max()) - cutoff,
            n_samples=args.forecast_samples,
            rng=args.seed,
            progress=not args.quiet,
        )
    steps.update()
    steps.set_postfix_str("wages and rationales")
    wages = rationales = None
    if args.wages == "auto" and args.data in WAGE_LOADERS:
        wages = _wage_study(args, models, panel, train, test)
    if args.rationales and "career" in models:
        from laborseq.studies.rationale_study import rationale_study

        rationales = rationale_study(
            models["career"],
            train,
            test,
            valid=valid,
            n=args.rationales,
            rng=args.seed,
            max_steps=_finetune_steps(args),
        )
    steps.update()
    steps.set_postfix_str("write report")
    out = Path(args.out or f"compare-{panel.name or 'panel'}")
    split = {"method": "by person", "fractions": list(args.fractions), "seed": args.seed}
    if args.sample_persons:
        split["sample_persons"] = args.sample_persons
    command = _command(argv)
    paths = write_comparison_report(
        result,
        panel,
        {"train": train, "valid": valid, "test": test},
        out,
        split=split,
        command=command,
        forecast=forecast,
        wages=wages,
        rationales=rationales,
    )
    steps.update()
    steps.close()
    print(result)
    if forecast is not None:
        print(f"\nForecast perplexity from {cutoff}:\n{forecast.by_horizon().round(4).to_string()}")
    print(
        f"\nwrote {paths['html']}, {paths['markdown']} and {paths['results']} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _forecast_models(args: argparse.Namespace, compared: list[str]) -> dict[str, SequenceModel]:
    """New instances of the models of the forecast section (fitted again, on the years up to the cut-off)."""
    wanted = compared if args.forecast_models == "all" else [n.strip() for n in args.forecast_models.split(",")]
    names = [n for n in compared if n in wanted] or compared
    return _models(argparse.Namespace(**{**vars(args), "models": ",".join(names)}))


def _wage_study(
    args: argparse.Namespace,
    models: dict[str, SequenceModel],
    panel: CareerPanel,
    train: CareerPanel,
    test: CareerPanel,
) -> WageStudy:
    """The wage study of ``compare`` / ``wages``: CAREER's representations (when fitted) and one-hot histories.

    The representations cover ``panel`` (which holds ``train`` and ``test``); the models are fitted on ``train``.
    """
    from laborseq.datasets import load_wages
    from laborseq.models import Markov
    from laborseq.studies.wages import previous_occupation, wage_study

    onehot = Markov(order=1).fit(train).representations(panel)
    representations = {"one-hot history": onehot, "previous occupation": previous_occupation(onehot)}
    if "career" in models:
        representations = {"CAREER": models["career"].representations(panel), **representations}
    components = getattr(args, "components", 10)
    return wage_study(
        train, test, load_wages(args.data), representations, n_components=components, n_boot=args.n_boot, rng=args.seed
    )


def run_wages(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq wages``: fit CAREER on the training persons, run the wage study, write its report."""
    from laborseq.report.wages import write_wage_report

    started = time.perf_counter()
    panel, (train, valid, test) = _load_and_split(args)
    career = _career_model(args).fit(train, valid=valid, rng=args.seed)
    study = _wage_study(args, {"career": career}, panel, train, test)
    out = Path(args.out or f"wages-{args.data}")
    command = _command(argv)
    paths = write_wage_report(study, out, title=f"Wages and career representations on {args.data}", command=command)
    print(study.table.round(4).to_string())
    print(study.differences.round(4).to_string())
    print(f"\nwrote {paths['html']} and {paths['results']} in {time.perf_counter() - started:.1f} s")
    return 0


def run_rationalize(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq rationalize``: fit (or load) CAREER, fine-tune with word dropout, rationalize, write the report."""
    from laborseq.models import CAREER, load_model
    from laborseq.report.rationales import write_rationale_report
    from laborseq.studies.rationale_study import rationale_study
    from laborseq.studies.rationales import target_rows

    started = time.perf_counter()
    panel, (train, valid, test) = _load_and_split(args)
    explain = _person_years(args.explain, panel)
    try:
        target_rows(panel, explain)
    except ValueError as err:
        raise SystemExit(f"laborseq rationalize: --explain: {err}") from None
    if args.model:
        model = load_model(args.model)
        if not isinstance(model, CAREER):
            raise SystemExit(f"laborseq rationalize: --model {args.model} holds a {type(model).__name__}, not CAREER")
    else:
        model = _career_model(args).fit(train, valid=valid, rng=args.seed)
    try:
        study = rationale_study(
            model,
            train,
            test,
            valid=valid,
            n=args.n,
            mixture=args.mixture,
            top=args.top,
            rng=args.seed,
            max_steps=_finetune_steps(args),
        )
        extra = study.model.rationalize_many(panel, explain, top=args.top)
    except ValueError as err:
        raise SystemExit(f"laborseq rationalize: {err}") from None
    out = Path(args.out or f"rationales-{panel.name or 'panel'}")
    command = _command(argv)
    title = f"Rationales of CAREER's predictions on {panel.name or 'a career panel'}"
    paths = write_rationale_report(study, out, title=title, command=command, extra=extra)
    print(study.summary.round(4).to_string())
    for rationale in extra:
        print("\n" + rationale.to_text())
    print(f"\nwrote {paths['html']} and {paths['results']} in {time.perf_counter() - started:.1f} s")
    return 0


def _finetune_steps(args: argparse.Namespace) -> int:
    """Word-dropout fine-tuning updates: ``--finetune-steps``, else ``--career-max-steps``, else the default."""
    from laborseq.studies.rationale_study import FINETUNE_STEPS

    given = getattr(args, "finetune_steps", None)
    return given or args.career_max_steps or FINETUNE_STEPS


def _command(argv: Sequence[str]) -> str:
    """The command line as typed, for the record in reports."""
    return "laborseq " + " ".join(shlex.quote(a) for a in argv)


def _load_and_split(args: argparse.Namespace) -> tuple[CareerPanel, tuple[CareerPanel, ...]]:
    """``--data`` (a random subset of ``--sample-persons`` persons when given) and its train/valid/test split."""
    panel = load_data(args.data)
    if args.sample_persons:
        panel = panel.sample_persons(args.sample_persons, rng=args.seed)
    return panel, _split(panel, args.fractions, args.seed)


def _split(panel: CareerPanel, fractions: tuple[float, ...], seed: int) -> tuple[CareerPanel, ...]:
    if len(fractions) != 3:
        raise SystemExit("laborseq: --fractions needs three shares: train,valid,test")
    return panel.split_persons(fractions, rng=seed)


def _person_years(specs: Sequence[str], panel: CareerPanel) -> pd.DataFrame:
    """``PERSON:YEAR`` strings as a ``(person_id, year)`` table, person ids typed as in ``panel``."""
    from laborseq.panel import PERSON, YEAR

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


AUTO_FORECAST_YEARS = 5
"""``--forecast-cutoff auto``: the latest year followed by at least this many panel years."""


def _forecast_cutoff(value: str, panel: CareerPanel) -> int | None:
    """The forecast cut-off of ``laborseq compare`` (``None``: no forecast section)."""
    if value == "none":
        return None
    years = np.unique(panel.years)
    if value == "auto":
        if len(years) <= AUTO_FORECAST_YEARS:
            return None
        return int(years[-AUTO_FORECAST_YEARS - 1])
    try:
        cutoff = int(value)
    except ValueError:
        raise SystemExit(f"laborseq: --forecast-cutoff must be a year, 'auto' or 'none', got {value!r}") from None
    if not years[0] <= cutoff < years[-1]:
        raise SystemExit(
            f"laborseq: --forecast-cutoff {cutoff} leaves nothing to forecast: the panel covers {years[0]}-{years[-1]}"
        )
    return cutoff


def _career_model(args: argparse.Namespace) -> CAREER:
    """The CAREER model of ``laborseq compare``, pretrained first when asked."""
    from laborseq.models import CAREER

    options: dict[str, object] = {"device": args.career_device, "progress": not args.quiet}
    if args.career_pretrained:
        options["pretrained"] = args.career_pretrained
    if args.career_max_steps is not None:
        options["max_steps"] = options["finetune_max_steps"] = args.career_max_steps
    model = CAREER.preset(args.career_preset, **options)
    if args.career_pretrain:
        if args.career_pretrained:
            raise SystemExit("laborseq: give --career-pretrain or --career-pretrained, not both")
        resumes = load_data(args.career_pretrain)
        print(f"pretraining CAREER on {resumes}")
        model.pretrain(resumes, rng=args.seed)
    return model


READERS: dict[str, tuple[str, str]] = {
    "nlsy79": ("laborseq.sources.nlsy79", "read_nlsy79"),
    "nlsy97": ("laborseq.sources.nlsy97", "read_nlsy97"),
    "psid": ("laborseq.sources.psid", "read_psid"),
    "resumes": ("laborseq.sources.resumes", "read_resumes"),
}
"""``laborseq harmonize`` sources: module and reader function."""


def run_harmonize(args: argparse.Namespace) -> int:
    """``laborseq harmonize``: read, harmonise, write the panel and its lineage."""
    import importlib

    from laborseq._util.io import write_text_atomic

    module, function = READERS[args.source]
    reader = getattr(importlib.import_module(module), function)
    options: dict[str, object] = {"variant": args.variant, "on_unmapped": args.on_unmapped}
    extra = {"layout": args.layout, "codebook": args.codebook, "tagset": args.tagset, "frame": args.frame}
    allowed = {"psid": {"layout"}, "nlsy79": {"codebook", "tagset"}, "nlsy97": {"codebook", "tagset"}}
    allowed["resumes"] = {"frame"}
    for key, value in extra.items():
        if value is None:
            continue
        if key not in allowed[args.source]:
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
    print(
        f"\nwrote {out}"
        + (f" and {args.lineage}" if args.lineage else "")
        + f" in {time.perf_counter() - started:.1f} s"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborseq`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return run_compare(args, argv)
    if args.command == "forecast":
        return run_forecast(args, argv)
    if args.command == "wages":
        return run_wages(args, argv)
    if args.command == "rationalize":
        return run_rationalize(args, argv)
    if args.command == "harmonize":
        return run_harmonize(args)
    if args.command == "describe":
        print(load_data(args.data).describe())
        return 0
    raise AssertionError(args.command)  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
