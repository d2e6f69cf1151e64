"""The forecast report: per-horizon perplexity, binary events, projected against observed shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.figure
import matplotlib.ticker
import pandas as pd

from laborseq._util.environment import environment
from laborseq._util.format import format_interval
from laborseq._util.io import write_json_atomic
from laborseq.forecast.comparison import ForecastComparison
from laborseq.panel import CareerPanel
from laborseq.report.document import Block, Figure, Heading, Paragraph, Preformatted, Report, Table

TOP_STATES = 6
"""States shown in the share tables and fan charts."""


def horizon_figure(comparison: ForecastComparison) -> matplotlib.figure.Figure:
    """Forecast perplexity by forecast year, one line per model."""
    fig = matplotlib.figure.Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for name, score in comparison.scores.items():
        table = score.by_horizon
        ax.plot(table["year"], table["perplexity"], marker="o", label=name)
    unit = comparison.time_unit
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: comparison.label(int(x))))
    ax.set_xlabel(f"forecast {unit}")
    ax.set_ylabel("forecast perplexity")
    ax.set_title(f"Forecast perplexity by {unit} after {comparison.label(comparison.origin)}")
    ax.legend(frameon=False)
    return fig


def share_table(comparison: ForecastComparison, panel: CareerPanel, year: int) -> pd.DataFrame:
    """Projected (with simulation interval) and observed shares of the most common states in ``year``."""
    first = next(iter(comparison.results.values()))
    observed = first.observed_shares(panel)
    observed = observed[observed["year"] == year].set_index("state")["share"]
    top = observed.sort_values(ascending=False).index[:TOP_STATES]
    out = pd.DataFrame({"observed": observed.reindex(top).map(lambda v: f"{v:.3f}")})
    for name, result in comparison.results.items():
        shares = result.shares()
        shares = shares[shares["year"] == year].set_index("state").reindex(top)
        out[name] = [
            format_interval(s, lo, hi) for s, lo, hi in zip(shares["share"], shares["low"], shares["high"], strict=True)
        ]
    out.index = pd.Index([f"{s} {first.scheme.title(s)}".strip() for s in top], name="state")
    return out


def event_table(comparison: ForecastComparison) -> pd.DataFrame:
    """Binary events over all forecast years: observed rate, mean predicted probability, ROC AUC."""
    rows = {}
    for name, score in comparison.scores.items():
        row = {}
        for event in score.events:
            row[f"{event}: rate"] = f"{score.overall[f'{event}_rate']:.3f}"
            row[f"{event}: predicted"] = f"{score.overall[f'{event}_predicted']:.3f}"
            row[f"{event}: AUC"] = f"{score.overall[f'{event}_auc']:.3f}"
        rows[name] = row
    return pd.DataFrame(rows).T.rename_axis("model")


def _interval_note(comparison: ForecastComparison) -> str:
    score = next(iter(comparison.scores.values()))
    note = "; survey-weighted" if score.weighted else ""
    if score.n_boot:
        note += f"; {round(100 * score.level)}% person-bootstrap intervals ({score.n_boot:,} draws)"
    return note


def _uniform_warning(comparison: ForecastComparison) -> list[Block]:
    """A note on models that forecast some year worse than a uniform guess over the states."""
    n_states = next(iter(comparison.results.values())).scheme.n_states
    table = comparison.by_horizon().drop(columns="horizon", errors="ignore")
    table = table.drop(index=f"all {comparison.time_unit}s", errors="ignore")
    worse = {name: [comparison.label(y) for y in table.index[table[name] > n_states]] for name in table.columns}
    worse = {name: years for name, years in worse.items() if years}
    if not worse:
        return []
    listed = "; ".join(f"**{name}** in {', '.join(years)}" for name, years in worse.items())
    return [
        Paragraph(
            f"Worse than a uniform guess over the {n_states} states (perplexity above {n_states}): {listed}. "
            "This usually means the model extrapolates beyond its training years, for example linear duration "
            "terms (years in state, years observed) that simulated careers push past any value seen before "
            "the origin."
        )
    ]


def forecast_blocks(comparison: ForecastComparison, panel: CareerPanel, *, level: int = 2) -> list[Block]:
    """The forecast sections: summary, perplexity by year, binary events, shares and fan charts.

    Parameters
    ----------
    comparison : ForecastComparison
        Fitted models' forecasts and scores.
    panel : CareerPanel
        The panel forecast (observed shares come from it).
    level : int
        Heading level of the sections (3 inside the comparison report).
    """
    years, unit = comparison.years, comparison.time_unit
    best = min(comparison.scores, key=lambda n: comparison.scores[n].overall["perplexity"])
    overall = comparison.scores[best].overall
    blocks: list[Block] = [
        Paragraph(
            f"Models are fitted on the {unit}s up to **{comparison.label(comparison.origin)}** "
            f"({comparison.train_persons:,} training and {comparison.valid_persons:,} validation persons) and "
            f"forecast the {unit}s {', '.join(comparison.label(y) for y in years)} by simulating "
            f"{comparison.n_samples:,} careers per person (future covariates: `{comparison.covariates}`). "
            f"**{best}** forecasts best: perplexity {overall['perplexity']:.3f} over "
            f"{overall['n_person_years']:,} person-{unit}s of {overall['n_persons']:,} persons observed through "
            f"{comparison.label(years[-1])}."
        ),
        Heading(f"Forecast perplexity by {unit}", level=level),
        Table(
            comparison.horizon_table(),
            caption="exp of the mean -log p̄(observed state); p̄ averages the model's distribution over simulated paths"
            + _interval_note(comparison),
        ),
        *_uniform_warning(comparison),
        Figure(horizon_figure(comparison), "forecast_perplexity", caption=f"Forecast perplexity by forecast {unit}."),
        Heading("Binary events", level=level),
        Paragraph(
            "*moves*: the observed state differs from the person's state at the origin (predicted probability: "
            "1 - p̄ of that state); *not_employed*: unemployed or out of the labour force, where the scheme has "
            "those states. AUC is the probability that a person-year with the event gets a higher predicted "
            "probability than one without (ties count half)."
        ),
        Table(event_table(comparison)),
        Heading(f"Projected and observed shares in {comparison.label(years[-1])}", level=level),
        Table(
            share_table(comparison, panel, int(years[-1])),
            caption="Expected share of forecast persons in each state, with the 90% simulation interval",
        ),
    ]
    for name, result in comparison.results.items():
        blocks.append(
            Figure(
                result.plot(observed=panel, top=TOP_STATES),
                f"fan_{name}",
                caption=f"{name}: projected shares (line, 90% simulation band) against observed shares (markers).",
            )
        )
    timing = pd.DataFrame(
        {
            "fit seconds": {n: f"{s:.1f}" for n, s in comparison.fit_seconds.items()},
            "forecast seconds": {n: f"{s:.1f}" for n, s in comparison.forecast_seconds.items()},
        }
    ).rename_axis("model")
    blocks.append(Table(timing, caption="Forecast models: fit and simulation time"))
    return blocks


def forecast_report(comparison: ForecastComparison, panel: CareerPanel, command: str | None = None) -> Report:
    """Build the forecast report (see :func:`write_forecast_report`)."""
    report = Report(f"Forecasts on {panel.name or 'a career panel'} from {comparison.label(comparison.origin)}")
    report.add(
        *forecast_blocks(comparison, panel),
        Heading("Environment"),
        Preformatted(
            "\n".join(f"{k}: {v}" for k, v in environment().items()) + (f"\ncommand: {command}" if command else "")
        ),
    )
    return report


def write_forecast_report(
    comparison: ForecastComparison, panel: CareerPanel, out_dir: str | Path, command: str | None = None
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``figures/``, ``results.json`` and ``forecasts/<model>/`` (paths).

    Each ``forecasts/<model>/`` directory is a saved
    :class:`~laborseq.forecast.result.ForecastResult` (its ``paths.parquet``
    holds every simulated path).
    """
    out = Path(out_dir)
    paths: dict[str, Any] = forecast_report(comparison, panel, command).write(out)
    for name, result in comparison.results.items():
        result.save(out / "forecasts" / name)
    results = {"data": panel.name, **comparison.to_dict(), "environment": environment(), "command": command}
    paths["results"] = write_json_atomic(out / "results.json", results)
    paths["forecasts"] = out / "forecasts"
    return paths
