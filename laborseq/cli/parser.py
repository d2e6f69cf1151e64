"""The argument parser of every ``laborseq`` sub-command (one-line usage errors, exit status 2)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from laborseq import datasets
from laborseq._version import __version__
from laborseq.cli.inputs import READERS
from laborseq.evaluation.predictions import TOP_K
from laborseq.models.career.presets import AUTO_PRESET, PRESET_NAMES
from laborseq.models.career.presets import PRESETS as CAREER_PRESETS
from laborseq.models.registry import MODEL_NAMES
from laborseq.occupations.crosswalk import FRAMES
from laborseq.panel import OCC, PERSON, YEAR
from laborseq.panel.descriptives import SORT_RULES, TIME_AXES
from laborseq.pipeline import (
    AUTO_FORECAST_YEARS,
    DEFAULT_FORECAST_MODELS,
)
from laborseq.studies.rationale_study import FINETUNE_STEPS


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
            "(about 3 minutes on 2 cores)."
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
    fc.add_argument(
        "--origin", required=True, help="last period of history (the forecast origin): 1988, or 1999-01 when monthly"
    )
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
    harm.add_argument(
        "input", help="the export (CSV / DAT / TXT / parquet); resumes: a file, a directory of them or a quoted glob"
    )
    harm.add_argument(
        "--out", required=True, help="output panel (.parquet); resumes with --engine duckdb: a directory of panel files"
    )
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

    spells = harm.add_argument_group("resume spells (harmonize resumes)")
    for role, default in (("person", "person_id"), ("start", "start_date"), ("end", "end_date"), ("occ", "occ")):
        spells.add_argument(f"--{role}", default=None, help=f"column of the spell's {role} (default {default})")
    spells.add_argument("--education", default=None, help="column of a per-spell education covariate")
    spells.add_argument("--location", default=None, help="column of a per-spell location covariate")
    spells.add_argument(
        "--rule", choices=("longest", "last"), default=None, help="job of a year: held longest (default) or last"
    )
    spells.add_argument("--current-year", type=int, default=None, help="ongoing spells run to 31 December of it")
    spells.add_argument(
        "--engine",
        choices=("memory", "duckdb"),
        default=None,
        help="memory (default): build the panel in RAM; duckdb: out of core into a directory of panel files",
    )
    spells.add_argument("--memory-limit", default=None, help="duckdb engine: DuckDB's memory limit (default 2GB)")
    spells.add_argument(
        "--temp-directory", default=None, help="duckdb engine: where its work files go (default: next to --out)"
    )

    desc = add("describe", help="summarise a panel")
    _add_data_option(desc)
    desc.add_argument("--top", type=int, default=15, help="most common states listed")
    desc.add_argument(
        "--plots",
        default=None,
        metavar="DIR",
        help="also write the sequence figures (chronogram, index plot, entropy) and tables to DIR",
    )
    desc.add_argument(
        "--by", choices=TIME_AXES, default="period", help="time axis of the figures (age needs a birth_year)"
    )
    desc.add_argument("--sort", choices=SORT_RULES, default="first_state", help="order of the index plot's rows")
    desc.add_argument("--unweighted", action="store_true", help="ignore the panel's survey weights in the figures")

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
    pre.add_argument("--out", default=None, metavar="DIR", help="where to save the pretrained model")
    pre.add_argument(
        "--store-only", action="store_true", help="write the store from --data and stop (before a torchrun launch)"
    )
    pre.add_argument("--max-rows", type=int, default=1_000_000, help="rows encoded at once (memory ~100 bytes a row)")
    pre.add_argument("--seed", type=int, default=0, help="seed of the initialisation, hold-out and batch order")
    pre.add_argument("--quiet", action="store_true", help="no progress bar")
    pre.add_argument("--career-preset", choices=sorted(CAREER_PRESETS), default="small", help="model configuration")
    pre.add_argument("--career-max-steps", type=int, default=None, help="cap on training updates")
    pre.add_argument("--career-device", default="auto", help="torch device (auto: CUDA when available)")
    pre.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp16", "fp32"),
        default="auto",
        help=(
            "auto: bf16 on CUDA with native bfloat16, fp16 with loss scaling on older CUDA; "
            "on the CPU bf16 where it is native (AVX512-BF16, AMX), else fp32"
        ),
    )
    pre.add_argument("--compile", action="store_true", help="train through torch.compile (long GPU runs)")
    pre.add_argument(
        "--max-tokens", type=int, default=None, help="tokens per update and process (default: the preset's, 16,000)"
    )
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
    career.add_argument(
        "--career-preset",
        choices=PRESET_NAMES,
        default=AUTO_PRESET,
        help="model configuration (auto: an ensemble of small CAREERs mixed with the two-stage regression, "
        "chosen on the validation persons; small, paper: one network)",
    )
    career.add_argument(
        "--career-pretrain", default=None, metavar="PANEL.parquet", help="pretrain on this resume panel, then fine-tune"
    )
    career.add_argument(
        "--career-pretrained", default=None, metavar="DIR", help="fine-tune a saved (pretrained) CAREER model"
    )
    career.add_argument("--career-max-steps", type=int, default=None, help="cap on training updates")
    career.add_argument("--career-device", default="auto", help="torch device (auto: CUDA when available)")
