"""The model-comparison report: Markdown, self-contained HTML and ``results.json``.

Sections: the headline (perplexity with person-bootstrap intervals and paired
differences against the best econometric baseline), the data and split, where
the models differ (career position, calendar year, subgroups, stay versus
move, top-k accuracy, calibration), transitions between groups of states,
forecasts when a :class:`~laborseq.forecast.compare.ForecastComparison` is
given, model cards, the method and the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq._util.io import write_json_atomic
from laborseq.evaluation import breakdowns as diagnostics
from laborseq.evaluation.compare import ComparisonResult
from laborseq.panel import CareerPanel
from laborseq.report.document import Block, Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.report.figures import (
    breakdown_figure,
    model_colors,
    perplexity_intervals,
    reliability_figure,
    transition_heatmaps,
)

if TYPE_CHECKING:
    from laborseq.forecast.compare import ForecastComparison
    from laborseq.studies.rationale_study import RationaleStudy
    from laborseq.studies.wages import WageStudy

ORDERED_BREAKDOWNS = ("career position", "calendar year", "birth cohort")
"""Breakdowns whose groups have an order (drawn as lines)."""


def _interval(centre: float, low: float, high: float, sign: bool = False) -> str:
    spec = "+.3f" if sign else ".3f"
    return f"{centre:{spec}} [{low:{spec}}, {high:{spec}}]"


def headline_table(result: ComparisonResult, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Perplexities with intervals and differences against the baseline, as formatted strings, best first.

    ``table`` is :func:`laborseq.evaluation.breakdowns.headline` of ``result`` (computed when not given).
    """
    table = diagnostics.headline(result) if table is None else table
    out = pd.DataFrame(
        {
            "perplexity (all person-years)": [_interval(r.perplexity, r.low, r.high) for r in table.itertuples()],
            "perplexity (transitions only)": [
                _interval(r.transitions, r.transitions_low, r.transitions_high) for r in table.itertuples()
            ],
            f"difference vs {result.baseline}": [
                "-" if name == result.baseline else _interval(r.diff_vs_baseline, r.diff_low, r.diff_high, sign=True)
                for name, r in zip(table.index, table.itertuples(), strict=True)
            ],
            "parameters": [_count(result.scores[name].n_parameters) for name in table.index],
            "fit seconds": [f"{result.scores[name].fit_seconds:.1f}" for name in table.index],
        },
        index=pd.Index(table.index, name="model"),
    )
    return out


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def results_dict(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    split: Mapping[str, Any],
    command: str | None = None,
    forecast: ForecastComparison | None = None,
    wages: WageStudy | None = None,
    rationales: RationaleStudy | None = None,
) -> dict[str, Any]:
    """The content of ``results.json``.

    Keys: ``data`` (panel name), ``split`` (method, fractions, seed and, per
    part, persons, person-years and targets), ``models`` (per model: perplexity,
    interval, transitions-only perplexity, differences against the best model
    and the baseline, targets, parameters, fit seconds, ...), ``best``,
    ``baseline``, ``bootstrap``, ``weighted``, ``unweighted`` (the headline
    without weights, for weighted comparisons), ``diagnostics`` (perplexity by
    breakdown, stay/move, top-k, calibration, transition rates), ``forecast``,
    ``wages`` and ``rationales`` (when given), ``panel``
    (:meth:`CareerPanel.describe`), ``lineage``, ``environment`` and ``command``.
    """
    summary = result.to_dict()
    parts = {
        name: {"persons": p.n_persons, "person_years": len(p), "targets": p.n_targets} for name, p in splits.items()
    }
    out = {
        "data": panel.name,
        "split": {**split, **parts},
        "models": summary["models"],
        "best": summary["best"],
        "baseline": result.baseline,
        "bootstrap": summary["bootstrap"],
        "weighted": summary["weighted"],
        "diagnostics": _diagnostics_dict(result),
        "panel": panel.describe().to_dict(),
        "lineage": panel.metadata.get("lineage"),
        "environment": summary["environment"],
        "command": command,
    }
    if result.weighted:
        out["unweighted"] = _records(diagnostics.headline(result, weighted=False).reset_index())
    if forecast is not None:
        out["forecast"] = forecast.to_dict()
    if wages is not None:
        out["wages"] = wages.to_dict()
    if rationales is not None:
        out["rationales"] = rationales.to_dict()
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.to_dict("records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()} for row in rows]


def _diagnostics_dict(result: ComparisonResult) -> dict[str, Any]:
    rates = diagnostics.transition_rates(result)
    return {
        "perplexity_by": {
            name: _records(diagnostics.perplexity_by(result, labels))
            for name, labels in diagnostics.breakdowns(result).items()
        },
        "stay_move": _records(diagnostics.stay_move(result).reset_index()),
        "top_k": _records(diagnostics.top_k_accuracy(result).reset_index()),
        "calibration": {kind: _records(diagnostics.reliability(result, kind)) for kind in ("stay", "top")},
        "transition_rates": {
            name: {"from": list(frame.index), "to": list(frame.columns), "rates": frame.to_numpy().tolist()}
            for name, frame in rates.items()
        },
    }


def comparison_report(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    split: Mapping[str, Any],
    command: str | None = None,
    forecast: ForecastComparison | None = None,
    wages: WageStudy | None = None,
    rationales: RationaleStudy | None = None,
) -> Report:
    """Build the comparison report (see :func:`write_comparison_report`)."""
    report = Report(f"Model comparison on {panel.name or 'a career panel'}")
    report.add(*_headline_section(result))
    report.add(*_data_section(panel, splits, split))
    report.add(*_differences_section(result))
    report.add(*_transitions_section(result))
    if forecast is not None:
        from laborseq.report.forecast import forecast_blocks

        report.add(Heading(f"Forecasts from {forecast.cutoff}"), *forecast_blocks(forecast, panel, level=3))
    if wages is not None:
        from laborseq.report.wages import wage_blocks

        report.add(*wage_blocks(wages, level=2))
    if rationales is not None:
        from laborseq.report.rationales import rationale_blocks

        report.add(Heading("Rationales of CAREER's predictions"), *rationale_blocks(rationales, level=3))
    report.add(*_models_section(result))
    report.add(*_method_section(result, command))
    return report


def _headline_section(result: ComparisonResult) -> list[Block]:
    pct = round(100 * result.level)
    best = result.scores[result.best]
    baseline = result.scores[result.baseline]
    weighting = "survey-weighted " if result.weighted else ""
    lead = (
        f"**{result.best}** predicts held-out careers best: {weighting}test perplexity {best.perplexity:.3f} "
        f"({pct}% interval {best.perplexity_ci[0]:.3f} to {best.perplexity_ci[1]:.3f}) over "
        f"{best.n_targets:,} person-years of {result.n_test_persons:,} test persons; "
        f"{best.perplexity_transitions:.3f} on the {best.n_transitions:,} transitions (first observed years "
        "excluded). Lower is better: perplexity is the effective number of equally likely next states."
    )
    if result.best != result.baseline:
        low, high = best.diff_vs_baseline_ci
        verdict = "the interval excludes zero" if high < 0 or low > 0 else "the interval includes zero"
        lead += (
            f" Against the best econometric baseline, **{result.baseline}** ({baseline.perplexity:.3f}), the "
            f"difference is {best.diff_vs_baseline:+.3f} [{low:+.3f}, {high:+.3f}]: {verdict}."
        )
    table = diagnostics.headline(result)
    blocks: list[Block] = [
        Paragraph(lead),
        Heading("Headline"),
        Table(
            headline_table(result, table),
            caption=f"Test perplexity with {pct}% person-bootstrap intervals"
            + (" (survey-weighted)" if result.weighted else ""),
        ),
    ]
    if result.weighted:
        blocks.append(
            Table(
                headline_table(result, diagnostics.headline(result, weighted=False)),
                caption="The same without survey weights (unweighted)",
            )
        )
    blocks.append(
        Figure(
            perplexity_intervals(table, result.level),
            "perplexity",
            caption="Test perplexity by model; bars are person-bootstrap intervals.",
        )
    )
    return blocks


def _data_section(panel: CareerPanel, splits: Mapping[str, CareerPanel], split: Mapping[str, Any]) -> list[Block]:
    desc = panel.describe()
    source = panel.metadata.get("source")
    blocks: list[Block] = [
        Heading("Data"),
        Paragraph(
            f"Panel `{panel.name}`" + (f" from {source}" if source else "") + f": {desc.n_persons:,} persons, "
            f"{desc.n_person_years:,} person-years, years {desc.years[0]}-{desc.years[-1]} ({len(desc.years)} "
            f"distinct), scheme `{desc.scheme}` with {panel.scheme.n_states} states"
            + ("; survey weights present." if panel.has_weight else "; no survey weights.")
        ),
        Paragraph(
            "Covariates: " + (", ".join(f"`{k}` ({v})" for k, v in desc.covariates.items()) or "none") + ". "
            "Years between consecutive observations: "
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
    split_rows = pd.DataFrame(
        {
            name: {"persons": f"{p.n_persons:,}", "person-years": f"{len(p):,}", "targets": f"{p.n_targets:,}"}
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


def _differences_section(result: ComparisonResult) -> list[Block]:
    colors = model_colors(list(result.scores))
    pct = round(100 * result.level)
    blocks: list[Block] = [
        Heading("Where the models differ"),
        Paragraph(
            f"Perplexity within groups of test person-years, with {pct}% person-bootstrap intervals "
            "(groups with fewer than 30 person-years are left out)" + (", survey-weighted." if result.weighted else ".")
        ),
    ]
    for name, labels in diagnostics.breakdowns(result).items():
        frame = diagnostics.perplexity_by(result, labels)
        if frame.empty:
            continue
        table = _breakdown_table(frame, name, list(result.scores))
        slug = name.replace(" ", "_")
        blocks += [
            Heading(f"By {name}", level=3),
            Table(table, caption=f"Test perplexity by {name}"),
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
    stay = diagnostics.stay_move(result)
    top_k = diagnostics.top_k_accuracy(result)
    blocks += [
        Heading("Staying or moving", level=3),
        Paragraph(
            "On transitions (a previous observation exists), *p(stay)* is the predicted probability of the "
            "previous state. Accuracy predicts *stay* when p(stay) is at least 0.5; log-loss is the binary "
            "cross-entropy (natural log) of stay versus move; AUC is the probability that a mover gets a "
            "higher predicted probability of moving than a stayer."
        ),
        Table(_format(stay, {"transitions": "{:,.0f}"}), caption="Stay versus move on test transitions"),
        Heading("Top-k accuracy", level=3),
        Table(_format(top_k), caption="Share of test person-years whose observed state is among the k most likely"),
    ]
    stay_cal = diagnostics.reliability(result, "stay")
    top_cal = diagnostics.reliability(result, "top")
    ece = pd.DataFrame(
        {
            "ECE, p(stay)": stay_cal.groupby("model", sort=False)["ece"].first(),
            "ECE, top state": top_cal.groupby("model", sort=False)["ece"].first(),
        }
    ).reindex(list(result.scores))
    blocks += [
        Heading("Calibration", level=3),
        Paragraph(
            "Reliability diagrams: test person-years are binned by predicted probability (10 equal-width bins) "
            "and the mean prediction of each bin is plotted against the observed frequency; a calibrated model "
            "lies on the diagonal. ECE (expected calibration error) is the person-year-weighted mean distance "
            "from the diagonal."
        ),
        Figure(
            reliability_figure(stay_cal, top_cal, colors=colors),
            "calibration",
            caption="Calibration of the predicted probability of staying and of the most likely state "
            "(bins with fewer than 20 person-years are not drawn; ECE uses all bins).",
        ),
        Table(_format(ece.rename_axis("model")), caption="Expected calibration error (lower is better)"),
    ]
    return blocks


def _breakdown_table(frame: pd.DataFrame, name: str, models: list[str]) -> pd.DataFrame:
    """Perplexity by group as a table: groups as rows, or as columns when there are fewer groups than models."""
    groups = list(dict.fromkeys(frame["group"]))
    counts = frame.drop_duplicates("group").set_index("group")["n_targets"]
    wide = frame.pivot(index="group", columns="model", values="perplexity").reindex(index=groups, columns=models)
    table = wide.map(lambda v: f"{v:.3f}")
    if len(groups) < len(models):
        table = table.T
        table.columns = [f"{g} ({counts[g]:,} person-years)" for g in groups]
        table.index.name = "model"
        return table
    table.insert(0, "person-years", [f"{counts[g]:,}" for g in groups])
    table.index.name = name
    return table


def _format(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    formats = dict(formats or {})
    out = frame.copy().astype(object)
    for column in frame.columns:
        spec = formats.get(column, "{:.3f}")
        out[column] = [spec.format(v) if pd.notna(v) else "" for v in frame[column]]
    return out


def _transitions_section(result: ComparisonResult) -> list[Block]:
    rates = diagnostics.transition_rates(result)
    shown = list(dict.fromkeys([result.best, result.baseline]))
    observed = rates["observed"]
    if observed.empty:
        return [
            Heading("Transitions between groups"),
            Paragraph(
                f"No group of states has {diagnostics.MIN_ROW_TRANSITIONS} or more observed test transitions, "
                "too few to compare transition rates."
            ),
        ]
    gaps = pd.Series(
        {
            name: float(np.abs(rates[name].reindex_like(observed).to_numpy() - observed.to_numpy()).mean())
            for name in result.scores
        },
        name="mean |predicted - observed|",
    ).rename_axis("model")
    return [
        Heading("Transitions between groups"),
        Paragraph(
            f"Rates of moving between the {len(result.group_labels)} groups of states ("
            + ("major occupation groups" if len(result.group_labels) < len(result.states) else "the states")
            + ") on test transitions: observed, and predicted minus observed for "
            + " and ".join(f"**{m}**" for m in shown)
            + ". Predicted rates average each model's predicted group probabilities over the person-years "
            f"that start in the row's group. Groups left with fewer than {diagnostics.MIN_ROW_TRANSITIONS} "
            "observed transitions are not shown as rows (their observed rates are noise)."
        ),
        Figure(
            transition_heatmaps(rates, shown),
            "transitions",
            caption="Observed transition rates (rows sum to 1) and the models' errors (red: predicted too often).",
        ),
        Table(_format(gaps.to_frame()), caption="Mean absolute error of predicted transition rates, all cells"),
    ]


def _models_section(result: ComparisonResult) -> list[Block]:
    cards = pd.DataFrame(
        {
            name: {
                "family": score.family,
                "parameters": _count(score.n_parameters),
                "fit seconds": f"{score.fit_seconds:.2f}",
                "score seconds": f"{score.score_seconds:.2f}",
                "seed": str(result.seed),
            }
            for name, score in result.scores.items()
        }
    ).T.rename_axis("model")
    configuration = "\n".join(
        f"{name}: " + ", ".join(f"{k}={v!r}" for k, v in score.params.items()) for name, score in result.scores.items()
    )
    return [
        Heading("Models"),
        Paragraph(
            "*parameters*: trained network parameters for neural models; for the others the fitted values "
            "they store (count tables, coefficients), of which fewer are free since distributions sum to one."
        ),
        Table(cards, caption="Model cards"),
        Preformatted(configuration),
    ]


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


def write_comparison_report(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    out_dir: str | Path,
    *,
    split: Mapping[str, Any],
    command: str | None = None,
    forecast: ForecastComparison | None = None,
    wages: WageStudy | None = None,
    rationales: RationaleStudy | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` (self-contained), ``figures/`` and ``results.json``.

    Parameters
    ----------
    result : ComparisonResult
        Output of :func:`laborseq.evaluation.compare.compare`.
    panel : CareerPanel
        The full panel before splitting (described in the report).
    splits : mapping of str to CareerPanel
        The parts (``train``, ``valid``, ``test``).
    out_dir : path-like
        Output directory (created).
    split : mapping
        How the split was made (``method``, ``fractions``, ``seed``).
    command : str, optional
        The command line that produced the report.
    forecast : ForecastComparison, optional
        Adds the forecast section (and ``forecasts/<model>/`` with the simulated paths).
    wages : WageStudy, optional
        Adds the wage section (and ``linearmodels/`` with the in-sample fits' summaries).
    rationales : RationaleStudy, optional
        Adds the section on rationales of CAREER's predictions.
    """
    out = Path(out_dir)
    paths = comparison_report(result, panel, splits, split, command, forecast, wages, rationales).write(out)
    if wages is not None:
        from laborseq.report.wages import write_fit_summaries

        paths["linearmodels"] = write_fit_summaries(wages, out / "linearmodels")
    if forecast is not None:
        for name, forecast_result in forecast.results.items():
            forecast_result.save(out / "forecasts" / name)
        paths["forecasts"] = out / "forecasts"
    results = results_dict(result, panel, splits, split, command, forecast, wages, rationales)
    paths["results"] = write_json_atomic(out / "results.json", results)
    return paths
