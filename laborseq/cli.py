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

from laborseq.panel import CareerPanel

if TYPE_CHECKING:
    from laborseq.models import CAREER, SequenceModel


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
    from laborseq.models import MODEL_NAMES
    from laborseq.models.career import PRESETS as CAREER_PRESETS

    parser = argparse.ArgumentParser(prog="laborseq", description="Careers as sequences of occupations.")
    sub = parser.add_subparsers(dest="command", required=True)

    cmp_ = sub.add_parser(
        "compare",
        help="fit models, compare held-out perplexity and forecasts in a report",
        description="Without arguments: every model on nlswork, with a forecast section (about 5 minutes on 2 cores).",
    )
    cmp_.add_argument("--data", default="nlswork", help="bundled panel (nlswork, wage_panel) or PANEL.parquet")
    cmp_.add_argument(
        "--models",
        default="all",
        help=f"'all' or comma-separated model names from: {', '.join(MODEL_NAMES)}",
    )
    cmp_.add_argument("--seed", type=int, default=0, help="seed of the person split and the bootstrap")
    cmp_.add_argument("--out", default=None, help="output directory (default: compare-<data>)")
    cmp_.add_argument("--fractions", type=_fractions, default=(0.7, 0.1, 0.2), help="train,valid,test shares")
    cmp_.add_argument("--n-boot", type=int, default=1000, help="person-bootstrap draws for intervals")
    cmp_.add_argument("--sample-persons", type=int, default=None, help="use a random subset of persons (quick runs)")
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
    command = "laborseq " + " ".join(shlex.quote(a) for a in argv)
    paths = write_forecast_report(comparison, panel, out, command=command)
    print(comparison.by_horizon().round(4).to_string())
    seconds = time.perf_counter() - started
    print(f"\nwrote {paths['html']}, {paths['results']} and {paths['forecasts']}/ in {seconds:.1f} s")
    return 0


def run_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``laborseq compare``: split, fit, score, forecast when asked, write the report."""
    from tqdm.auto import tqdm

    from laborseq.evaluate import compare
    from laborseq.report import write_comparison_report

    models = _models(args)
    if len(args.fractions) != 3:
        raise SystemExit("laborseq: --fractions needs three shares: train,valid,test")
    started = time.perf_counter()
    steps = tqdm(total=5, desc="compare", disable=args.quiet, unit="step")
    steps.set_postfix_str("load data")
    panel = load_data(args.data)
    if args.sample_persons:
        panel = panel.sample_persons(args.sample_persons, rng=args.seed)
    cutoff = _forecast_cutoff(args.forecast_cutoff, panel)
    steps.update()
    steps.set_postfix_str("split")
    train, valid, test = panel.split_persons(args.fractions, rng=args.seed)
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
    steps.set_postfix_str("write report")
    out = Path(args.out or f"compare-{panel.name or 'panel'}")
    split = {"method": "by person", "fractions": list(args.fractions), "seed": args.seed}
    if args.sample_persons:
        split["sample_persons"] = args.sample_persons
    command = "laborseq " + " ".join(shlex.quote(a) for a in argv)
    paths = write_comparison_report(
        result,
        panel,
        {"train": train, "valid": valid, "test": test},
        out,
        split=split,
        command=command,
        forecast=forecast,
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

    from laborseq._io import write_text_atomic

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
    if args.command == "harmonize":
        return run_harmonize(args)
    if args.command == "describe":
        print(load_data(args.data).describe())
        return 0
    raise AssertionError(args.command)  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
