"""The model-comparison report of a :class:`~laborseq.studies.comparison.ComparisonStudy`: Markdown,
self-contained HTML and ``results.json``.

Sections: the headline (perplexity with person-bootstrap intervals and paired
differences against the best econometric baseline), the data and split, where
the models differ (career position, calendar year, subgroups, stay versus
move, top-k accuracy, calibration), transitions between groups of states, and,
when the study has them, the forecast, wage and rationale sections; then model
cards, the method and the environment. Every number comes from the study
(:func:`~laborseq.evaluation.breakdowns.compute_breakdowns` ran before); this
module formats and draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from laborseq._util.format import format_interval
from laborseq._util.io import write_json_atomic
from laborseq.evaluation.breakdowns import MIN_ROW_TRANSITIONS, Breakdowns
from laborseq.evaluation.comparison import ComparisonResult
from laborseq.models.effects import MarginalEffects
from laborseq.panel import CareerPanel
from laborseq.panel.periods import period_label
from laborseq.report.document import Block, Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.report.figures import (
    breakdown_figure,
    model_colors,
    perplexity_intervals,
    reliability_figure,
    transition_heatmaps,
)
from laborseq.report.forecast import forecast_blocks
from laborseq.report.rationales import rationale_blocks
from laborseq.report.sequences import sequence_blocks
from laborseq.report.wages import wage_blocks, write_fit_summaries
from laborseq.studies.comparison import ComparisonStudy
from laborseq.studies.sequences import SequenceDescription

ORDERED_BREAKDOWNS = ("career position", "calendar year", "birth cohort")
"""Breakdowns whose groups have an order (drawn as lines)."""

LATEX_MODELS = 5
"""Models in the LaTeX tables of perplexity by group: the best ones, the baseline among them."""


def _count(value: int | None) -> str:
    return "" if value is None or pd.isna(value) else f"{int(value):,}"


def comparison_report(study: ComparisonStudy) -> Report:
    """Build the comparison report of ``study`` (see :func:`write_comparison_report`)."""
    result, panel = study.comparison, study.panel
    report = Report(f"Model comparison on {panel.name or 'a career panel'}")
    report.add(*_headline_section(result))
    report.add(*_data_section(panel, study.splits, study.split, study.sequences))
    report.add(*_differences_section(result, study.breakdowns))
    report.add(*_transitions_section(result, study.breakdowns))
    if study.forecast is not None:
        origin = study.forecast.label(study.forecast.origin)
        report.add(Heading(f"Forecasts from {origin}"), *forecast_blocks(study.forecast, panel, level=3))
    if study.wages is not None:
        report.add(*wage_blocks(study.wages, level=2))
    if study.rationales is not None:
        report.add(Heading("Rationales of CAREER's predictions"), *rationale_blocks(study.rationales, level=3))
    if study.effects is not None:
        report.add(*_effects_section(study.effects))
    report.add(*_models_section(result))
    report.add(*_method_section(result, study.command))
    report.latex.update(_latex_tables(study))
    return report


def _latex_tables(study: ComparisonStudy) -> dict[str, str]:
    """The tables a paper would cite, as LaTeX floats, by file name."""
    result = study.comparison
    tables = {"perplexity": result.to_latex()}
    if result.weighted:
        tables["perplexity_unweighted"] = result.to_latex("none", label="tab:laborseq-perplexity-unweighted")
    ranked = list(result.headline().index)  # best first
    shown = (
        ranked[:LATEX_MODELS]
        if result.baseline in ranked[:LATEX_MODELS]
        else [*ranked[: LATEX_MODELS - 1], result.baseline]
    )
    note = (
        f"{result.n_test_persons:,} held-out persons; {result.n_boot:,} bootstrap draws. "
        + (
            f"The {len(shown)} best models; the report and results.json have all {len(ranked)}."
            if len(shown) < len(ranked)
            else ""
        )
    ).strip()
    for name in study.breakdowns.perplexity_by:
        if not study.breakdowns.perplexity_by[name].empty:
            slug = name.replace(" ", "_")
            label = f"tab:laborseq-by-{slug}"
            tables[f"perplexity_by_{slug}"] = study.breakdowns.to_latex(name, shown, label=label, note=note)
    if study.forecast is not None:
        tables["forecast"] = study.forecast.to_latex()
    if study.wages is not None:
        for table in ("heldout", "differences", "subgroups"):
            tables[f"wages_{table}"] = study.wages.to_latex(table)
    if study.effects is not None:
        tables["mnlogit_effects"] = study.effects.to_latex()
        tables["mnlogit_coefficients"] = study.effects.results.to_latex()
    return tables


def _effects_section(effects: MarginalEffects) -> list[Block]:
    """The multinomial logit's average marginal effects on the commonest states."""
    errors = (
        f"delta-method standard errors ({effects.se_type.removeprefix('delta (').rstrip(')')} covariance)"
        if effects.se_note is None
        else f"no standard errors ({effects.se_note})"
    )
    return [
        Heading("What the covariates do: average marginal effects of the multinomial logit"),
        Paragraph(
            "For each covariate of `mnlogit` (each level against its reference level; 0/1 features from 0 to 1; "
            "other numeric features per unit), the average change in the predicted probability of each next "
            f"state over the training transitions, with {errors}. The table shows the commonest states; "
            "`results.json` and `tables/mnlogit_effects.tex` have them too, and "
            "`MNLogit.marginal_effects(train).tidy()` has every state."
        ),
        Preformatted(effects.summary().as_text(), wrap=False),
    ]


def _headline_section(result: ComparisonResult) -> list[Block]:
    pct = round(100 * result.level)
    best = result.score(result.best)
    transitions = result.score(result.best, subset="transitions")
    weighting = "survey-weighted " if result.weighted else ""
    lead = (
        f"**{result.best}** predicts held-out careers best: {weighting}test perplexity {best.estimate:.3f} "
        f"({pct}% interval {best.low:.3f} to {best.high:.3f}) over "
        f"{result.n_targets:,} person-{result.time_unit}s of {result.n_test_persons:,} test persons; "
        f"{transitions.estimate:.3f} on the {result.n_transitions:,} transitions (first observations "
        "excluded). Lower is better: perplexity is the effective number of equally likely next states."
    )
    if result.best != result.baseline:
        diff = result.score(result.best, "diff_vs_baseline")
        verdict = "the interval excludes zero" if diff.high < 0 or diff.low > 0 else "the interval includes zero"
        lead += (
            f" Against the best econometric baseline, **{result.baseline}** "
            f"({result.score(result.baseline).estimate:.3f}), the difference is "
            f"{format_interval(diff.estimate, diff.low, diff.high, sign=True)}: {verdict}."
        )
    blocks: list[Block] = [
        Paragraph(lead),
        Heading("Headline"),
        Table(
            result.headline_table(),
            caption=f"Test perplexity with {pct}% person-bootstrap intervals"
            + (" (survey-weighted)" if result.weighted else ""),
        ),
    ]
    if result.weighted:
        blocks.append(Table(result.headline_table("none"), caption="The same without survey weights (unweighted)"))
    blocks.append(
        Figure(
            perplexity_intervals(result.headline(), result.level),
            "perplexity",
            caption="Test perplexity by model; bars are person-bootstrap intervals.",
        )
    )
    return blocks


def _data_section(
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    split: Mapping[str, Any],
    sequences: SequenceDescription | None = None,
) -> list[Block]:
    desc = panel.describe()
    source = panel.metadata.get("source")
    unit = panel.time_unit
    first, last = period_label(desc.years[0], unit), period_label(desc.years[-1], unit)
    blocks: list[Block] = [
        Heading("Data"),
        Paragraph(
            f"Panel `{panel.name}`" + (f" from {source}" if source else "") + f": {desc.n_persons:,} persons, "
            f"{desc.n_person_years:,} person-{unit}s, {unit}s {first} to {last} ({len(desc.years)} "
            f"distinct), scheme `{desc.scheme}` with {panel.scheme.n_states} states"
            + ("; survey weights present." if panel.has_weight else "; no survey weights.")
        ),
        Paragraph(
            "Covariates: " + (", ".join(f"`{k}` ({v})" for k, v in desc.covariates.items()) or "none") + ". "
            f"{unit.capitalize()}s between consecutive observations: "
            + ", ".join(f"{k}: {v:,}" for k, v in sorted(desc.gap_counts.items())[:6])
            + (" (longer gaps also occur)." if len(desc.gap_counts) > 6 else ".")
        ),
    ]
    lineage = panel.metadata.get("lineage")
    if lineage:
        dropped = lineage.get("dropped", {})
        drops = "; ".join(f"{reason}: {count:,}" for reason, count in dropped.items()) or "none"
        blocks.append(
            Paragraph(
                f"Lineage: {lineage['rows_read']:,} rows read, {lineage['rows_kept']:,} kept. "
                f"Rows dropped, by reason: {drops}."
            )
        )
    shares = pd.DataFrame(
        {
            "title": [panel.scheme.title(s) for s in desc.state_shares.index],
            "share": desc.state_shares.map(lambda v: f"{v:.4f}").to_numpy(),
        },
        index=pd.Index(desc.state_shares.index.astype(str), name="state"),
    )
    if len(shares) > 20:
        shares = shares.iloc[:20]
        caption = "The 20 commonest states (share of all person-years)"
    else:
        caption = "State shares (all person-years)"
    blocks.append(Table(shares, caption=caption))
    if sequences is not None:
        blocks += [Heading("Sequences", 3), *sequence_blocks(sequences)]
    split_rows = pd.DataFrame(
        {
            name: {"persons": f"{p.n_persons:,}", f"person-{unit}s": f"{len(p):,}", "targets": f"{p.n_targets:,}"}
            for name, p in splits.items()
        }
    ).T
    split_rows.index.name = "part"
    blocks += [
        Heading("Split"),
        Paragraph(
            f"The panel is split {split.get('method', 'by person')} with fractions "
            f"{tuple(split.get('fractions', ()))} and seed {split.get('seed')}; every model is fitted on the "
            "training part (CAREER and bag-of-jobs stop early on the validation part) and scores exactly the "
            "same test person-years."
        ),
        Table(split_rows),
    ]
    return blocks


def _differences_section(result: ComparisonResult, breakdowns: Breakdowns) -> list[Block]:
    names = result.names
    colors = model_colors(names)
    pct = round(100 * result.level)
    blocks: list[Block] = [
        Heading("Where the models differ"),
        Paragraph(
            f"Perplexity within groups of test person-years, with {pct}% person-bootstrap intervals "
            "(groups with fewer than 30 person-years are left out)" + (", survey-weighted." if result.weighted else ".")
        ),
    ]
    for name, frame in breakdowns.perplexity_by.items():
        if frame.empty:
            continue
        slug = name.replace(" ", "_")
        blocks += [
            Heading(f"By {name}", level=3),
            Table(breakdowns.perplexity_table(name, names), caption=f"Test perplexity by {name}"),
            Figure(
                breakdown_figure(
                    frame,
                    xlabel=name,
                    title=f"Test perplexity by {name}",
                    colors=colors,
                    ordered=name in ORDERED_BREAKDOWNS,
                ),
                f"perplexity_by_{slug}",
                caption=f"Test perplexity by {name}; bars are {pct}% person-bootstrap intervals.",
            ),
        ]
    blocks += [
        Heading("Staying or moving", level=3),
        Paragraph(
            "On transitions (a previous observation exists), *p(stay)* is the predicted probability of the "
            "previous state. Accuracy predicts *stay* when p(stay) is at least 0.5; log-loss is the binary "
            "cross-entropy (natural log) of stay versus move; AUC is the probability that a mover gets a "
            "higher predicted probability of moving than a stayer."
        ),
        Table(
            _format(breakdowns.stay_move, {"transitions": "{:,.0f}"}), caption="Stay versus move on test transitions"
        ),
        Heading("Top-k accuracy", level=3),
        Table(
            _format(breakdowns.top_k),
            caption="Share of test person-years whose observed state is among the k most likely",
        ),
        Heading("Calibration", level=3),
        Paragraph(
            "Reliability diagrams: test person-years are binned by predicted probability (10 equal-width bins) "
            "and the mean prediction of each bin is plotted against the observed frequency; a calibrated model "
            "lies on the diagonal. ECE (expected calibration error) is the person-year-weighted mean distance "
            "from the diagonal."
        ),
        Figure(
            reliability_figure(breakdowns.calibration["stay"], breakdowns.calibration["top"], colors=colors),
            "calibration",
            caption="Calibration of the predicted probability of staying and of the most likely state "
            "(bins with fewer than 20 person-years are not drawn; ECE uses all bins).",
        ),
        Table(_format(breakdowns.ece), caption="Expected calibration error (lower is better)"),
    ]
    return blocks


def _format(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    formats = dict(formats or {})
    out = frame.copy().astype(object)
    for column in frame.columns:
        spec = formats.get(column, "{:.3f}")
        out[column] = [spec.format(v) if pd.notna(v) else "" for v in frame[column]]
    return out


def _transitions_section(result: ComparisonResult, breakdowns: Breakdowns) -> list[Block]:
    rates = breakdowns.transition_rates
    shown = list(dict.fromkeys([result.best, result.baseline]))
    if rates["observed"].empty:
        return [
            Heading("Transitions between groups"),
            Paragraph(
                f"No group of states has {MIN_ROW_TRANSITIONS} or more observed test transitions, "
                "too few to compare transition rates."
            ),
        ]
    return [
        Heading("Transitions between groups"),
        Paragraph(
            f"Rates of moving between the {len(result.group_labels)} groups of states ("
            + ("major occupation groups" if len(result.group_labels) < len(result.states) else "the states")
            + ") on test transitions: observed, and predicted minus observed for "
            + " and ".join(f"**{m}**" for m in shown)
            + ". Predicted rates average each model's predicted group probabilities over the person-years "
            f"that start in the row's group. Groups left with fewer than {MIN_ROW_TRANSITIONS} "
            "observed transitions are not shown as rows (their observed rates are noise)."
        ),
        Figure(
            transition_heatmaps(rates, shown),
            "transitions",
            caption="Observed transition rates (rows sum to 1) and the models' errors (red: predicted too often).",
        ),
        Table(
            _format(breakdowns.transition_errors.to_frame()),
            caption="Mean absolute error of predicted transition rates, all cells",
        ),
    ]


def _models_section(result: ComparisonResult) -> list[Block]:
    cards = pd.DataFrame(
        {
            name: {
                "family": fit["family"],
                "parameters": _count(fit["n_parameters"]),
                "fit seconds": f"{fit['fit_seconds']:.2f}",
                "score seconds": f"{fit['score_seconds']:.2f}",
                "seed": str(result.seed),
            }
            for name, fit in result.fits.iterrows()
        }
    ).T.rename_axis("model")
    configuration = "\n".join(
        f"{name}: " + ", ".join(f"{k}={v!r}" for k, v in params.items())
        for name, params in result.fits["params"].items()
    )
    blocks: list[Block] = [
        Heading("Models"),
        Paragraph(
            "*parameters*: trained network parameters for neural models (of an ensemble, every network's and "
            "the mixed models' fitted values); for the others the fitted values they store (count tables, "
            "coefficients), of which fewer are free since distributions sum to one."
        ),
        Table(cards, caption="Model cards"),
        Preformatted(configuration),
    ]
    for name, choices in result.fits.get("choices", pd.Series(dtype=object)).items():
        if choices is not None:
            blocks += [
                Paragraph(f"What **{name}** chose on the validation persons (never on test persons):"),
                Preformatted(format_choices(choices)),
            ]
    return blocks


def format_choices(choices: dict[str, Any]) -> str:
    """A model's fit choices as indented ``key: value`` lines (numbers to 4 significant digits)."""

    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
        return str(value)

    return "\n".join(f"{key}: {show(value)}" for key, value in choices.items())


def _method_section(result: ComparisonResult, command: str | None) -> list[Block]:
    return [
        Heading("Method"),
        Paragraph(
            "Perplexity is exp of the mean negative log-likelihood per target person-year (a micro-average over "
            "person-years, as in the CAREER evaluation). *All person-years* includes each person's first observed "
            "year, which every model predicts from covariates; *transitions only* drops it. Intervals resample "
            f"test persons with replacement ({result.n_boot:,} draws, seed {result.seed}) and recompute every "
            "model on each draw, so the differences between models are paired. The baseline of the differences "
            "is the best econometric model (Markov chains, multinomial logits, bag-of-jobs)."
        ),
        Heading("Environment"),
        Preformatted(
            "\n".join(f"{k}: {v}" for k, v in result.environment.items()) + (f"\ncommand: {command}" if command else "")
        ),
    ]


def write_comparison_report(study: ComparisonStudy, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` (self-contained), ``figures/`` and ``results.json`` of ``study``.

    With a forecast section, ``forecasts/<model>/`` holds the simulated paths; with a wage section,
    ``linearmodels/`` holds the in-sample fits' summaries.

    Returns
    -------
    dict of str to pathlib.Path
        ``html``, ``markdown``, ``results``, ``latex`` (``tables/tables.tex``, which inputs every table
        ``tables/*.tex``) and, when present, ``forecasts`` and ``linearmodels``.
    """
    out = Path(out_dir)
    paths = comparison_report(study).write(out)
    if study.wages is not None:
        paths["linearmodels"] = write_fit_summaries(study.wages, out / "linearmodels")
    if study.forecast is not None:
        for name, forecast_result in study.forecast.results.items():
            forecast_result.save(out / "forecasts" / name)
        paths["forecasts"] = out / "forecasts"
    paths["results"] = write_json_atomic(out / "results.json", study.to_dict())
    return paths
