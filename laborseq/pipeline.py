"""The flagship studies end to end, as library calls: what ``laborseq compare``, ``forecast``, ``wages`` and
``rationalize`` run, for Python users and for ``analyses/``.

:func:`run_comparison` splits a panel by person, fits and scores every model on
the same held-out person-years, breaks the comparison down, and adds forecast,
wage and rationale sections; :func:`write_report` renders the resulting
:class:`~laborseq.studies.comparison.ComparisonStudy`. Every model is cloned
before it is fitted, so the models passed in are never changed, and a
pretrained CAREER is pretrained once (:func:`career_model`) and shared by the
comparison and the forecast section.

Examples
--------
>>> from laborseq.datasets import load_wage_panel
>>> from laborseq.pipeline import run_comparison, write_report
>>> study = run_comparison(load_wage_panel(), ["markov1", "markov2"], n_boot=200)  # doctest: +SKIP
>>> write_report(study, "compare-wage_panel")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from laborseq._util.io import atomic_file
from laborseq._util.random import RNGLike, seed_record
from laborseq.evaluation.breakdowns import compute_breakdowns
from laborseq.evaluation.comparison import compare
from laborseq.evaluation.predictions import TOP_K, predict_table
from laborseq.forecast.comparison import ForecastComparison, forecast_compare
from laborseq.models.base import SequenceModel, clone
from laborseq.models.career.ensemble import CareerEnsemble
from laborseq.models.career.model import CAREER
from laborseq.models.career.presets import AUTO, AUTO_PRESET
from laborseq.models.effects import MarginalEffects
from laborseq.models.mnlogit import MNLogit
from laborseq.models.registry import MODEL_NAMES, make_model
from laborseq.nn.token_store import TokenStore, open_token_store, write_token_store
from laborseq.panel import WEIGHT, CareerPanel
from laborseq.panel.descriptives import SortRule, TimeAxis
from laborseq.panel.periods import parse_period, period_label
from laborseq.report.comparison import write_comparison_report
from laborseq.report.sequences import sequence_report
from laborseq.studies.comparison import ComparisonStudy
from laborseq.studies.rationale_study import FINETUNE_STEPS, RationaleStudy, rationale_study
from laborseq.studies.rationales import Rationale, rationalize_many, target_rows
from laborseq.studies.representations import one_hot_history, previous_occupation
from laborseq.studies.sequences import describe_sequences
from laborseq.studies.wages import WageStudy, wage_study

__all__ = [
    "AUTO_FORECAST_YEARS",
    "DEFAULT_FORECAST_MODELS",
    "Split",
    "career_model",
    "check_forecast_origin",
    "default_forecast_origin",
    "forecast_section_models",
    "make_models",
    "run_comparison",
    "run_forecast",
    "run_rationales",
    "run_wage_study",
    "run_wages",
    "split_panel",
    "write_report",
]

AUTO_FORECAST_YEARS = 5
"""``forecast_origin="auto"``: the latest year followed by at least this many panel years."""

DEFAULT_FORECAST_MODELS = ("markov1", "markov2", "mnlogit", "career")
"""Models of the forecast section, among those compared (all compared models when none of these is)."""

Split = tuple[CareerPanel, dict[str, CareerPanel], dict[str, Any]]
"""A panel (subsampled when asked), its ``train`` / ``valid`` / ``test`` parts, and how they were made."""


def make_models(models: Mapping[str, SequenceModel] | Sequence[str] | None) -> dict[str, SequenceModel]:
    """Models by name: a mapping is taken as is, names come from the registry (``None``: every registered model)."""
    if isinstance(models, Mapping):
        return dict(models)
    return {name: make_model(name) for name in (MODEL_NAMES if models is None else models)}


def split_panel(
    panel: CareerPanel,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    *,
    sample_persons: int | None = None,
    rng: RNGLike = 0,
) -> Split:
    """Split ``panel`` by person into training, validation and test parts (a random subset of persons first).

    Returns
    -------
    (panel, parts, record)
        The panel (subsampled when ``sample_persons`` is given), ``{"train", "valid", "test"}`` and the record
        of the split kept in reports (``method``, ``fractions``, ``seed``, ``sample_persons``).
    """
    if len(fractions) != 3:
        raise ValueError(f"fractions needs three shares (train, valid, test), got {tuple(fractions)}")
    if sample_persons:
        panel = panel.sample_persons(sample_persons, rng=rng)
    train, valid, test = panel.split_persons(tuple(fractions), rng=rng)
    record: dict[str, Any] = {"method": "by person", "fractions": list(fractions), "seed": seed_record(rng)}
    if sample_persons:
        record["sample_persons"] = sample_persons
    return panel, {"train": train, "valid": valid, "test": test}, record


def default_forecast_origin(panel: CareerPanel) -> int | None:
    """The latest year followed by at least :data:`AUTO_FORECAST_YEARS` panel years (``None``: too few years)."""
    years = np.unique(panel.years)
    if len(years) <= AUTO_FORECAST_YEARS:
        return None
    return int(years[-AUTO_FORECAST_YEARS - 1])


def forecast_section_models(compared: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """The compared models the forecast section forecasts: those ``wanted`` (``None``: all), in the compared
    order; every compared model when none of the wanted ones is compared."""
    chosen = [name for name in compared if wanted is None or name in wanted]
    return chosen or list(compared)


CareerModel = CAREER | CareerEnsemble
"""A CAREER network, or the ``auto`` recipe's ensemble of them."""


def career_model(
    preset: str = AUTO_PRESET,
    *,
    pretrain: CareerPanel | TokenStore | None = None,
    pretrained: CAREER | str | None = None,
    max_steps: int | None = None,
    rng: RNGLike = 0,
    **params: Any,
) -> CareerModel:
    """An unfitted CAREER of ``preset`` (an ensemble for ``"auto"``), fine-tuning from pretrained weights.

    The weights are given, or pretrained here once on ``pretrain``.

    Parameters
    ----------
    preset : str
        ``"auto"`` (the recipe of :data:`laborseq.models.career.AUTO`, a
        :class:`~laborseq.models.CareerEnsemble` whose members take the other arguments) or a
        :data:`laborseq.models.career.PRESETS` name.
    pretrain : CareerPanel or TokenStore, optional
        Pretrain on this (resume) panel or token store now, once; the model returned fine-tunes from it.
    pretrained : CAREER or str, optional
        A fitted CAREER or a saved one's directory to fine-tune from (not with ``pretrain``).
    max_steps : int, optional
        Cap on training updates, from scratch and when fine-tuning.
    rng : int or numpy.random.Generator
        Seed of the pretraining.
    **params
        Any other CAREER parameter (``device``, ``progress``, ...).
    """
    if pretrain is not None and pretrained is not None:
        raise ValueError("give pretrain (a panel to pretrain on) or pretrained (a fitted or saved model), not both")
    if max_steps is not None:
        params.update(max_steps=max_steps, finetune_max_steps=max_steps)
    if preset == AUTO_PRESET:
        params = {**AUTO["career_params"], **params}
    network = AUTO["preset"] if preset == AUTO_PRESET else preset
    if pretrain is not None:
        pretrained = CAREER.preset(network, **params).fit(pretrain, rng=rng)
    if preset == AUTO_PRESET:
        return CareerEnsemble(**{**AUTO, "career_params": params, "pretrained": pretrained})
    return CAREER.preset(preset, pretrained=pretrained, **params)


def run_pretraining(
    model: CAREER,
    store: str | Path,
    *,
    source: CareerPanel | str | Path | None = None,
    max_rows: int = 1_000_000,
    rng: RNGLike = 0,
) -> tuple[CAREER, TokenStore]:
    """The study of ``laborseq pretrain``: encode a corpus into a token store on disk, then pretrain on it.

    Parameters
    ----------
    model : CAREER
        The (unfitted) model to pretrain; it is fitted in place.
    store : path-like
        The token store: written from ``source`` when given (replacing one
        there), reused otherwise.
    source : CareerPanel or path-like, optional
        The corpus: a panel, or panel files (a file or a directory) streamed
        ``max_rows`` rows at a time (:func:`~laborseq.nn.token_store.write_token_store`).
    rng : int or numpy.random.Generator
        Seed of the initialisation, the hold-out and the batch order.
    """
    if source is None:
        opened = open_token_store(store)
    else:
        opened = run_store(store, source, covariates=model.covariates, gap=model.gap_input, max_rows=max_rows)
    return model.fit(opened, rng=rng), opened


def run_store(
    store: str | Path,
    source: CareerPanel | str | Path,
    *,
    covariates: Sequence[str] | None = None,
    gap: bool = True,
    max_rows: int = 1_000_000,
) -> TokenStore:
    """Encode a corpus into a token store on disk (``laborseq pretrain --store-only``), with CAREER's defaults:
    every covariate of the corpus and the gap input."""
    return write_token_store(source, store, covariates=covariates, gap=gap, max_rows=max_rows)


def run_wage_study(
    panel: CareerPanel,
    train: CareerPanel,
    test: CareerPanel,
    wages: pd.DataFrame,
    *,
    career: CareerModel | None = None,
    n_components: int = 10,
    n_boot: int = 1000,
    rng: RNGLike = 0,
) -> WageStudy:
    """The wage study of the reports: CAREER's representations (when given; fitted on ``train``), the one-hot
    history and the previous occupation alone, each added to the Mincer equation
    (:func:`~laborseq.studies.wages.wage_study`). ``panel`` holds ``train`` and ``test``."""
    onehot = one_hot_history(panel)
    representations = {"one-hot history": onehot, "previous occupation": previous_occupation(onehot)}
    if career is not None:
        representations = {"CAREER": career.representations(panel), **representations}
    return wage_study(train, test, wages, representations, n_components=n_components, n_boot=n_boot, rng=rng)


def run_comparison(
    panel: CareerPanel,
    models: Mapping[str, SequenceModel] | Sequence[str] | None = None,
    *,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    sample_persons: int | None = None,
    n_boot: int = 1000,
    weighted: bool = True,
    forecast_origin: int | str | None = "auto",
    forecast_models: Sequence[str] | None = DEFAULT_FORECAST_MODELS,
    forecast_samples: int = 1_000,
    wages: pd.DataFrame | None = None,
    rationales: int = 0,
    finetune_steps: int = FINETUNE_STEPS,
    sequences: bool = True,
    rng: RNGLike = 0,
    command: str | None = None,
    progress: bool = False,
) -> ComparisonStudy:
    """The comparison study of ``laborseq compare``: split, fit, score, break down, forecast, wages, rationales.

    Parameters
    ----------
    panel : CareerPanel
        The whole panel.
    models : mapping of name to model, sequence of names, or None
        Unfitted models (each is cloned before fitting), or registry names
        (:data:`laborseq.models.MODEL_NAMES`; ``None``: all of them).
    fractions, sample_persons
        The person split (:func:`split_panel`).
    n_boot : int
        Person-bootstrap draws.
    weighted : bool
        Use the panel's survey weights when it has them (the unweighted scores are kept beside).
    forecast_origin : int, "auto" or None
        The last year of history of the forecast section (``"auto"``: :func:`default_forecast_origin`;
        ``None``: no forecast section).
    forecast_models : sequence of str, optional
        Models of the forecast section among those compared (``None``: all; when none of these is
        compared, all compared models are forecast).
    forecast_samples : int
        Simulated careers per person.
    wages : pandas.DataFrame, optional
        Log wages, experience and schooling per ``(person_id, year)`` (:func:`laborseq.datasets.load_wages`):
        adds the wage section.
    rationales : int
        Rationalize this many held-out CAREER predictions (0: no section; needs a model named ``career``).
    finetune_steps : int
        Word-dropout fine-tuning updates of the rationale section.
    sequences : bool
        Describe the panel's sequences before any model (chronogram, index plot, entropy; weighted when
        ``weighted`` and the panel has weights).
    rng : int or numpy.random.Generator
        Seed of the split, the fits, the bootstrap and the simulations.
    command : str, optional
        The command line, recorded in the report.
    progress : bool
        Show progress bars.
    """
    started = time.perf_counter()
    named = make_models(models)
    panel, parts, record = split_panel(panel, fractions, sample_persons=sample_persons, rng=rng)
    described = describe_sequences(panel, weighted=weighted and panel.has_weight) if sequences else None
    origin = check_forecast_origin(forecast_origin, panel)
    steps = tqdm(total=3, desc="compare", disable=not progress, unit="step")
    steps.set_postfix_str("fit and score")
    train, valid, test = parts["train"], parts["valid"], parts["test"]
    weights = "weight" if weighted and panel.has_weight else None
    result = compare(named, train, test, valid=valid, rng=rng, n_boot=n_boot, weights=weights, progress=progress)
    breakdowns = compute_breakdowns(result)
    effects = logit_effects(result.models.get("mnlogit"), train)
    steps.update()
    forecast = None
    if origin is not None:
        steps.set_postfix_str(f"forecast from {origin}")
        forecast = forecast_compare(
            {name: named[name] for name in forecast_section_models(list(named), forecast_models)},
            panel,
            origin=origin,
            horizon=int(panel.years.max()) - origin,
            n_samples=forecast_samples,
            weighted=weighted,
            n_boot=n_boot,
            rng=rng,
            progress=progress,
        )
    steps.update()
    steps.set_postfix_str("wages and rationales")
    career = result.models.get("career")
    career = career if isinstance(career, CAREER | CareerEnsemble) else None
    wage_section = None
    if wages is not None:
        wage_section = run_wage_study(panel, train, test, wages, career=career, n_boot=n_boot, rng=rng)
    rationale_section: RationaleStudy | None = None
    if rationales and career is not None:
        rationale_section = rationale_study(
            career, train, test, valid=valid, n=rationales, rng=rng, max_steps=finetune_steps
        )
    steps.update()
    steps.close()
    return ComparisonStudy(
        panel=panel,
        splits=parts,
        split=record,
        comparison=result,
        breakdowns=breakdowns,
        forecast=forecast,
        wages=wage_section,
        rationales=rationale_section,
        sequences=described,
        effects=effects,
        command=command,
        seconds=time.perf_counter() - started,
    )


def logit_effects(model: SequenceModel | None, train: CareerPanel) -> MarginalEffects | None:
    """Average marginal effects of the compared multinomial logit on its training persons, for the report.

    Weighted as the fit was (the comparison fits without survey weights and weights the scores only).
    Delta-method standard errors, clustered by person, where the model has an analytic covariance
    (:data:`~laborseq.models.covariance.MAX_ANALYTIC_PARAMS`); otherwise the effects alone, with the reason.

    Parameters
    ----------
    model : SequenceModel, optional
        The fitted ``mnlogit`` of the comparison (``None`` or another kind of model: no effects).
    train : CareerPanel
        The panel it was fitted on.

    Returns
    -------
    MarginalEffects or None
    """
    if not isinstance(model, MNLogit):
        return None
    return model.marginal_effects(train, WEIGHT if model.weight_total_ is not None else None)


def write_sequence_report(
    panel: CareerPanel,
    out_dir: str | Path,
    *,
    by: TimeAxis = "period",
    sort: SortRule = "first_state",
    weighted: bool | None = None,
) -> dict[str, Path]:
    """``laborseq describe --plots``: the panel's sequence figures and tables as ``sequences.md`` / ``.html``.

    Writes ``sequences.md``, ``sequences.html`` and ``figures/`` (chronogram, index plot, entropy, as
    PNG and SVG) under ``out_dir`` (:func:`~laborseq.studies.sequences.describe_sequences`; weighted by
    default when the panel has weights).
    """
    description = describe_sequences(panel, by=by, sort=sort, weighted=weighted)
    return sequence_report(description).write(out_dir, stem="sequences")


def one_network(model: CareerModel) -> CAREER:
    """An unfitted copy of ``model`` as one network: of an ``auto`` ensemble, what its first member would be
    (the wage and rationale studies use that member only, so the others are not fitted)."""
    return model.network_model() if isinstance(model, CareerEnsemble) else cast(CAREER, clone(model))


def run_wages(
    panel: CareerPanel,
    wages: pd.DataFrame,
    career: CareerModel,
    *,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    sample_persons: int | None = None,
    n_components: int = 10,
    n_boot: int = 1000,
    rng: RNGLike = 0,
) -> WageStudy:
    """The study of ``laborseq wages``: fit a clone of ``career`` (of an ensemble, its first member:
    :func:`one_network`) on the training persons, then :func:`run_wage_study` on the held-out persons."""
    panel, parts, _ = split_panel(panel, fractions, sample_persons=sample_persons, rng=rng)
    fitted = one_network(career).fit(parts["train"], valid=parts["valid"], rng=rng)
    return run_wage_study(
        panel, parts["train"], parts["test"], wages, career=fitted, n_components=n_components, n_boot=n_boot, rng=rng
    )


def run_rationales(
    panel: CareerPanel,
    model: CareerModel,
    *,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    sample_persons: int | None = None,
    n: int = 100,
    mixture: float = 0.5,
    top: int = 2,
    explain: pd.DataFrame | None = None,
    finetune_steps: int = FINETUNE_STEPS,
    rng: RNGLike = 0,
) -> tuple[RationaleStudy, list[Rationale]]:
    """The study of ``laborseq rationalize``.

    ``model`` is fitted on the training persons unless it is fitted already (then it must have been fitted on
    this split; an unfitted ensemble fits its first member only, :func:`one_network`); a word-dropout copy
    rationalizes ``n`` random held-out predictions (:func:`~laborseq.studies.rationale_study.rationale_study`)
    and every ``(person_id, year)`` of ``explain``.
    """
    panel, parts, _ = split_panel(panel, fractions, sample_persons=sample_persons, rng=rng)
    if explain is not None:
        target_rows(panel, explain)  # fail on a bad person-year before any training
    if not hasattr(model, "classes_"):
        model = one_network(model).fit(parts["train"], valid=parts["valid"], rng=rng)
    study = rationale_study(
        model,
        parts["train"],
        parts["test"],
        valid=parts["valid"],
        n=n,
        mixture=mixture,
        top=top,
        rng=rng,
        max_steps=finetune_steps,
    )
    extra = rationalize_many(study.model, panel, explain, top=top) if explain is not None and len(explain) else []
    return study, extra


def write_report(study: ComparisonStudy, out: str | Path) -> dict[str, Path]:
    """Write the comparison report of ``study`` to ``out`` (Markdown, self-contained HTML, figures, results.json)."""
    return write_comparison_report(study, out)


def save_models(models: Mapping[str, SequenceModel], directory: str | Path) -> dict[str, Path]:
    """Save every fitted model to ``directory/<name>/`` (JSON and arrays, no pickle; read back with ``load_model``)."""
    directory = Path(directory)
    return {name: model.save(directory / name) for name, model in models.items()}


def write_predictions(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a predictions table (:func:`~laborseq.evaluation.predictions.prediction_table`) to parquet, atomically."""
    with atomic_file(path) as tmp:
        table.to_parquet(tmp, index=False)
    return Path(path)


def run_predict(model: SequenceModel, panel: CareerPanel, *, name: str = "model", top: int = TOP_K) -> pd.DataFrame:
    """The study of ``laborseq predict``: a saved model's predictions for every target person-year of ``panel``."""
    return predict_table(model, panel, name=name, k=top)


def run_forecast(
    panel: CareerPanel,
    models: Mapping[str, SequenceModel] | Sequence[str],
    *,
    origin: int,
    horizon: int,
    years: str | Sequence[int] = "waves",
    n_samples: int = 1_000,
    covariates: str = "hold",
    rng: RNGLike = 0,
    progress: bool = False,
) -> ForecastComparison:
    """The study of ``laborseq forecast``: fit clones on the years up to ``origin``, forecast, score.

    See :func:`laborseq.forecast.comparison.forecast_compare`.
    """
    return forecast_compare(
        make_models(models),
        panel,
        origin=origin,
        horizon=horizon,
        years=years,
        n_samples=n_samples,
        covariates=covariates,
        rng=rng,
        progress=progress,
    )


def check_forecast_origin(value: int | str | None, panel: CareerPanel) -> int | None:
    """The forecast origin of ``value`` on ``panel``: a period with later panel periods (``1988``, or ``1999-01``
    in a monthly panel), ``"auto"`` (:func:`default_forecast_origin`), or ``None`` / ``"none"`` (no forecast
    section)."""
    if value is None or value == "none":
        return None
    if value == "auto":
        return default_forecast_origin(panel)
    years = np.unique(panel.years)
    origin = parse_period(value, panel.time_unit)
    if not years[0] <= origin < years[-1]:
        first, last = (period_label(y, panel.time_unit) for y in (years[0], years[-1]))
        raise ValueError(
            f"forecast origin {period_label(origin, panel.time_unit)} leaves nothing to forecast: the panel "
            f"covers {first} to {last}"
        )
    return origin
