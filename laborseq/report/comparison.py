"""The model-comparison report: Markdown, self-contained HTML and ``results.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from laborseq._io import write_json_atomic
from laborseq.evaluate import ComparisonResult
from laborseq.panel import CareerPanel
from laborseq.report.document import Figure, Heading, Paragraph, Preformatted, Report, Table
from laborseq.report.figures import perplexity_intervals


def results_dict(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    split: Mapping[str, Any],
    command: str | None = None,
) -> dict[str, Any]:
    """The content of ``results.json``.

    Keys: ``data`` (panel name), ``split`` (method, fractions, seed and, per
    part, persons, person-years and targets), ``models`` (per model: perplexity,
    interval, transitions-only perplexity, targets, fit seconds, ...), ``best``,
    ``bootstrap``, ``panel`` (:meth:`CareerPanel.describe`), ``lineage``,
    ``environment`` and ``command``.
    """
    summary = result.to_dict()
    parts = {
        name: {"persons": p.n_persons, "person_years": len(p), "targets": p.n_targets} for name, p in splits.items()
    }
    return {
        "data": panel.name,
        "split": {**split, **parts},
        "models": summary["models"],
        "best": summary["best"],
        "bootstrap": summary["bootstrap"],
        "weighted": summary["weighted"],
        "panel": panel.describe().to_dict(),
        "lineage": panel.metadata.get("lineage"),
        "environment": summary["environment"],
        "command": command,
    }


def headline_table(result: ComparisonResult) -> pd.DataFrame:
    """Perplexities with intervals as formatted strings, best model first."""
    table = result.table()

    def fmt(centre: float, lo: float, hi: float, sign: bool = False) -> str:
        spec = "+.3f" if sign else ".3f"
        return f"{centre:{spec}} [{lo:{spec}}, {hi:{spec}}]"

    out = pd.DataFrame(
        {
            "perplexity (all person-years)": [fmt(r.perplexity, r.ci_low, r.ci_high) for r in table.itertuples()],
            "perplexity (transitions only)": [
                fmt(r.perplexity_transitions, r.transitions_ci_low, r.transitions_ci_high) for r in table.itertuples()
            ],
            f"difference vs {result.best}": [
                "-" if name == result.best else fmt(r.diff_vs_best, r.diff_ci_low, r.diff_ci_high, sign=True)
                for name, r in zip(table.index, table.itertuples(), strict=True)
            ],
            "targets": [f"{int(n):,}" for n in table["n_targets"]],
            "fit seconds": [f"{s:.2f}" for s in table["fit_seconds"]],
        },
        index=pd.Index(table.index, name="model"),
    )
    return out


def comparison_report(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    split: Mapping[str, Any],
    command: str | None = None,
) -> Report:
    """Build the comparison report (see :func:`write_comparison_report`)."""
    desc = panel.describe()
    pct = round(100 * result.level)
    report = Report(f"Model comparison on {panel.name or 'a career panel'}")
    best = result.scores[result.best]
    report.add(
        Paragraph(
            f"**{result.best}** predicts held-out careers best: test perplexity {best.perplexity:.3f} "
            f"({pct}% interval {best.perplexity_ci[0]:.3f} to {best.perplexity_ci[1]:.3f}) over "
            f"{best.n_targets:,} person-years of {result.n_test_persons:,} test persons; "
            f"{best.perplexity_transitions:.3f} on the {best.n_transitions:,} transitions "
            "(first observed years excluded). Lower is better: perplexity is the effective number of "
            "equally likely next states."
        ),
        Heading("Headline"),
        Table(headline_table(result), caption=f"Test perplexity with {pct}% person-bootstrap intervals"),
        Figure(
            perplexity_intervals(result),
            "perplexity",
            caption="Test perplexity by model; bars are person-bootstrap intervals.",
        ),
        Heading("Data"),
    )
    source = panel.metadata.get("source")
    data_lines = [
        f"Panel `{panel.name}`" + (f" from {source}" if source else "") + ".",
        f"{desc.n_persons:,} persons, {desc.n_person_years:,} person-years, years "
        f"{desc.years[0]}-{desc.years[-1]} ({len(desc.years)} distinct), scheme `{desc.scheme}` with "
        f"{panel.scheme.n_states} states.",
        "Gaps between consecutive observations: "
        + ", ".join(f"{k} yr {v:,}" for k, v in sorted(desc.gap_counts.items())[:6])
        + ("; longer gaps also occur." if len(desc.gap_counts) > 6 else "."),
        "Covariates: " + (", ".join(f"`{k}` ({v})" for k, v in desc.covariates.items()) or "none") + ".",
    ]
    report.add(Paragraph(" ".join(data_lines)))
    lineage = panel.metadata.get("lineage")
    if lineage:
        drops = ", ".join(f"{reason}: {count:,}" for reason, count in lineage.get("dropped", {}).items()) or "none"
        report.add(
            Paragraph(
                f"Lineage: {lineage['rows_read']:,} rows read, {lineage['rows_kept']:,} kept; "
                f"dropped rows by reason: {drops}."
            )
        )
    shares = pd.DataFrame(
        {
            "title": [panel.scheme.title(s) for s in desc.state_shares.index],
            "share": desc.state_shares.map(lambda v: f"{v:.4f}").to_numpy(),
        },
        index=pd.Index(desc.state_shares.index.astype(str), name="state"),
    )
    report.add(Table(shares, caption="State shares (all person-years)"))
    report.add(Heading("Split"))
    split_rows = pd.DataFrame(
        {
            name: {"persons": f"{p.n_persons:,}", "person-years": f"{len(p):,}", "targets": f"{p.n_targets:,}"}
            for name, p in splits.items()
        }
    ).T
    split_rows.index.name = "part"
    report.add(
        Paragraph(
            f"The panel is split {split.get('method', 'by person')} with fractions {tuple(split.get('fractions', ()))} "
            f"and seed {split.get('seed')}; every model is fitted on the training part and scores exactly the "
            "same test person-years."
        ),
        Table(split_rows),
        Heading("Method"),
        Paragraph(
            "Perplexity is exp of the mean negative log-likelihood per target person-year (a micro-average over "
            "person-years, as in the CAREER evaluation). *All person-years* includes each person's first observed "
            "year, which every model predicts from covariates; *transitions only* drops it. Intervals resample "
            f"test persons with replacement ({result.n_boot:,} draws, seed {result.seed}) and recompute every "
            "model on each draw, so the differences against the best model are paired."
        ),
        Heading("Models"),
        Table(_model_cards(result), caption="Configuration and timing"),
        Heading("Environment"),
        Preformatted(
            "\n".join(f"{k}: {v}" for k, v in result.environment.items()) + (f"\ncommand: {command}" if command else "")
        ),
    )
    return report


def write_comparison_report(
    result: ComparisonResult,
    panel: CareerPanel,
    splits: Mapping[str, CareerPanel],
    out_dir: str | Path,
    *,
    split: Mapping[str, Any],
    command: str | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` (self-contained), ``figures/`` and ``results.json``.

    Parameters
    ----------
    result : ComparisonResult
        Output of :func:`laborseq.evaluate.compare`.
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
    """
    out = Path(out_dir)
    paths = comparison_report(result, panel, splits, split, command).write(out)
    paths["results"] = write_json_atomic(out / "results.json", results_dict(result, panel, splits, split, command))
    return paths


def _model_cards(result: ComparisonResult) -> pd.DataFrame:
    rows = {}
    for name, score in result.scores.items():
        params = ", ".join(f"{k}={v!r}" for k, v in score.params.items())
        rows[name] = {
            "parameters": params,
            "fit seconds": f"{score.fit_seconds:.2f}",
            "score seconds": f"{score.score_seconds:.2f}",
        }
    frame = pd.DataFrame(rows).T
    frame.index.name = "model"
    return frame
