"""From command-line arguments to library objects: the data, the models, and errors a user can act on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from laborseq import datasets
from laborseq.models.base import load_model
from laborseq.models.career.ensemble import CareerEnsemble
from laborseq.models.career.model import CAREER
from laborseq.panel import OCC, PERSON, YEAR, CareerPanel, PanelValidationError
from laborseq.panel.chunks import read_panel_dataset
from laborseq.pipeline import (
    CareerModel,
    career_model,
    make_models,
)
from laborseq.sources.tables import is_panel_parquet, read_table

READERS: dict[str, tuple[str, str]] = {
    "nlsy79": ("laborseq.sources.nlsy.nlsy79", "read_nlsy79"),
    "nlsy97": ("laborseq.sources.nlsy.nlsy97", "read_nlsy97"),
    "psid": ("laborseq.sources.psid.reader", "read_psid"),
    "resumes": ("laborseq.sources.resumes.reader", "read_resumes"),
}
"""``laborseq harmonize`` sources: module and reader function (imported when used)."""

READER_OPTIONS = {
    "psid": {"layout", "crosswalk"},
    "nlsy79": {"codebook", "tagset", "crosswalk"},
    "nlsy97": {"codebook", "tagset", "crosswalk"},
    "resumes": {
        "frame",
        "person",
        "start",
        "end",
        "occ",
        "education",
        "location",
        "rule",
        "current_year",
        "engine",
        "memory_limit",
        "temp_directory",
    },
}
"""The reader options of ``laborseq harmonize`` each source takes."""


class CommandError(Exception):
    """An expected user error at the command line: printed as one line, exit status 2."""


def load_data(
    spec: str, option: str = "--data", args: argparse.Namespace | None = None, hint: str = "", **table: Any
) -> CareerPanel:
    """A bundled panel by name, or a user's file (CSV/TSV, Stata .dta, parquet) by path.

    ``args`` carries the parser's column options (``--person``, ``--year``, ...); ``table`` passes further arguments to
    :func:`~laborseq.sources.tables.read_table` (e.g. a saved model's ``scheme``).
    ``option`` names the argument in errors, and ``hint`` is added to an error about
    states the panel's scheme lacks. Column options given for a bundled panel or a
    panel written by laborseq (whose columns are named) are refused, not ignored.
    """
    given = column_options(args)
    path = Path(spec)
    if spec in datasets.LOADERS or is_panel_file(path):
        if given:
            what = "a bundled panel" if spec in datasets.LOADERS else "a panel written by laborseq"
            raise CommandError(
                f"{', '.join(given)} name the columns of your own file, but {option} {spec} is {what}, whose columns "
                "are named already; leave them out"
            )
        if spec in datasets.LOADERS:
            return datasets.load(spec)
        try:
            return read_panel_dataset(path)
        except ValueError as err:
            raise CommandError(f"{option} {spec}: {strip_path(err, path)}") from err
    if not path.exists():
        raise CommandError(
            f"{option} {spec}: no such file, and not a bundled panel ({', '.join(sorted(datasets.LOADERS))})"
        )
    if args is not None:
        table.update(
            person=args.person,
            year=args.year,
            occ=args.occ,
            covariates=split_names(args.covariates),
            static=split_names(args.static) if args.static is not None else None,
            weight=args.weight,
            from_scheme=args.from_scheme,
            variant=args.variant,
            crosswalk=args.crosswalk,
        )
    try:
        return read_table(path, **table)
    except (ValueError, OSError) as err:
        about_states = isinstance(err.__cause__, PanelValidationError) and "not in scheme" in str(err)
        raise CommandError(f"{option} {spec}: {strip_path(err, path)}{hint if about_states else ''}") from err


def is_panel_file(path: Path) -> bool:
    """A parquet panel written by laborseq, or a directory of them (a file that is no parquet at all is left to
    read_table's error)."""
    if path.is_dir():
        first = next(iter(sorted(path.rglob("*.parquet"))), None)
        return first is not None and is_panel_file(first)
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    try:
        return is_panel_parquet(path)
    except ValueError:
        return False


def column_options(args: argparse.Namespace | None) -> list[str]:
    """The column options of the parser (``--person``, ``--year``, ...) given other than their defaults."""
    if args is None:
        return []
    defaults = {"person": PERSON, "year": YEAR, "occ": OCC, "variant": "dorn2013"}
    names = ("person", "year", "occ", "covariates", "static", "weight", "from_scheme", "variant", "crosswalk")
    return [f"--{n.replace('_', '-')}" for n in names if getattr(args, n, None) != defaults.get(n)]


def split_names(text: str | None) -> list[str]:
    """Comma-separated column names."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def strip_path(err: BaseException, path: Path) -> str:
    """The error's message without a leading ``<path>: `` or ``<path> `` (the caller names the file already)."""
    message = " ".join(str(err).split())
    for prefix in (f"{path}: ", f"{path} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def model_names(value: str) -> list[str] | None:
    """Comma-separated model names (``"all"``: ``None``, every registered model)."""
    return None if value == "all" else [n.strip() for n in value.split(",") if n.strip()]


def models_of(args: argparse.Namespace) -> dict[str, Any]:
    """The models of ``--models``, with CAREER built (and pretrained, once) from the CAREER options."""
    try:
        models = make_models(model_names(args.models))
    except ValueError as err:
        raise CommandError(f"--models: {err}") from None
    if "career" in models:
        models["career"] = career_of(args)
    return models


def career_of(args: argparse.Namespace) -> CareerModel:
    """The CAREER of the CAREER options; ``--career-pretrain`` pretrains here, once for the whole run."""
    if args.career_pretrain and args.career_pretrained:
        raise CommandError("give --career-pretrain or --career-pretrained, not both")
    resumes = None
    if args.career_pretrained:  # checked here; the model records the directory it starts from
        saved_career(args.career_pretrained, "--career-pretrained")
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


def saved_career(path: str, option: str, *, ensemble: bool = False) -> CareerModel:
    """A saved CAREER model (or, with ``ensemble``, a saved ``auto`` ensemble), or a one-line exit naming ``option``."""
    try:
        model = load_model(path)
    except (OSError, ValueError) as err:
        raise CommandError(f"{option} {path}: {strip_path(err, Path(path))}") from err
    kinds = (CAREER, CareerEnsemble) if ensemble else (CAREER,)
    if not isinstance(model, kinds):
        wanted = "CAREER model or ensemble" if ensemble else "CAREER model"
        raise CommandError(f"{option} {path} holds a {type(model).__name__}, not a {wanted}")
    return model


def forecast_origin(value: str) -> str | None:
    """``--forecast-origin``: a period (checked against the panel by ``check_forecast_origin``), ``"auto"``,
    or ``None`` for ``"none"``."""
    return None if value == "none" else value
