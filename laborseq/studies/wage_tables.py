"""The wage study's tables, formatted: held-out scores, differences with and without representations, subgroups.

The report (:mod:`laborseq.report.wages`) shows them; :func:`wage_latex` sets them as
LaTeX floats for a paper, which :meth:`WageStudy.to_latex
<laborseq.studies.wages.WageStudy.to_latex>` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from laborseq._util.format import format_interval
from laborseq._util.latex import latex_table
from laborseq.studies.wage_equation import HELDOUT_KINDS

if TYPE_CHECKING:
    from laborseq.studies.wages import WageStudy

__all__ = ["ESTIMATORS", "components_table", "difference_table", "heldout_table", "subgroup_table", "wage_latex"]

ESTIMATORS = {"pooled": "pooled OLS", "random": "random effects", "fixed": "fixed effects"}
"""Display names of the linearmodels estimators."""

WageTable = Literal["heldout", "differences", "subgroups"]


def _interval(values: Any, marks: bool = False) -> str:
    """An (estimate, low, high) triple with four decimals; ``marks``: ``*`` where the interval excludes zero."""
    estimate, low, high = values
    text = format_interval(estimate, low, high, digits=4, sign=marks)
    return text.replace(" [", "* [", 1) if marks and (high < 0 or low > 0) else text


def heldout_table(study: WageStudy) -> pd.DataFrame:
    """Held-out RMSE and R-squared with intervals: one row per specification, columns per estimator."""
    table = study.table
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(table.index.get_level_values(0))), name="specification"))
    for kind in HELDOUT_KINDS:
        rows = table.xs(kind, level="estimator").reindex(out.index)
        out[f"{ESTIMATORS[kind]}: RMSE"] = [
            _interval(v) for v in rows[["rmse", "rmse_low", "rmse_high"]].itertuples(index=False)
        ]
        out[f"{ESTIMATORS[kind]}: R²"] = [
            _interval(v) for v in rows[["r2", "r2_low", "r2_high"]].itertuples(index=False)
        ]
    return out


def difference_table(study: WageStudy, *, marks: bool = False) -> pd.DataFrame:
    """With minus without each representation: RMSE and R-squared differences with paired intervals
    (``marks``: ``*`` where the interval excludes zero)."""
    diffs = study.differences
    out = pd.DataFrame(index=pd.Index(study.representations, name="representation"))
    for kind in HELDOUT_KINDS:
        rows = diffs.xs(kind, level="estimator").reindex(out.index)
        columns = {
            "ΔRMSE": ["rmse_diff", "rmse_diff_low", "rmse_diff_high"],
            "ΔR²": ["r2_diff", "r2_diff_low", "r2_diff_high"],
        }
        for label, names in columns.items():
            out[f"{ESTIMATORS[kind]}: {label}"] = [_interval(v, marks) for v in rows[names].itertuples(index=False)]
    return out


def components_table(study: WageStudy) -> pd.DataFrame:
    """Columns, principal components kept, variance explained and components collinear with the Mincer regressors."""
    comps = study.components
    return pd.DataFrame(
        {
            "columns": comps["n_columns"].astype(int),
            "components kept": comps["n_components"].astype(int),
            "variance explained": comps["explained_variance"].map(lambda v: f"{v:.1%}"),
            "left out as collinear": comps["n_collinear"].astype(int),
        },
        index=comps.index,
    )


def subgroup_table(study: WageStudy) -> pd.DataFrame:
    """Pooled OLS RMSE with and without each representation per subgroup of held-out person-years."""
    sub = study.subgroups.reset_index()
    return pd.DataFrame(
        {
            "subgroup": sub["subgroup"],
            "person-years": sub["n_person_years"].astype(int),
            "share": sub["share"].map(lambda v: f"{v:.1%}"),
            "RMSE without": sub["rmse_without"].map(lambda v: f"{v:.4f}"),
            "RMSE with": sub["rmse_with"].map(lambda v: f"{v:.4f}"),
            "ΔRMSE": [
                _interval(v) for v in sub[["rmse_diff", "rmse_diff_low", "rmse_diff_high"]].itertuples(index=False)
            ],
            "contribution to ΔMSE": sub["mse_contribution"].map(lambda v: f"{v:.5f}"),
        }
    ).set_axis(pd.Index(sub["representation"], name="representation"))


def wage_latex(study: WageStudy, table: WageTable = "heldout", *, label: str | None = None) -> str:
    """One of the wage study's tables as a LaTeX float (``booktabs``), intervals in brackets below.

    Parameters
    ----------
    study : WageStudy
        The study.
    table : {"heldout", "differences", "subgroups"}
        Held-out RMSE and R-squared by specification; with minus without each
        representation (paired differences, ``*`` where the interval excludes zero); or
        pooled OLS by subgroup of held-out person-years.
    label : str, optional
        The table's ``\\label`` (default ``tab:laborseq-wages-<table>``).

    Returns
    -------
    str
        A ``table`` float with notes on the persons and bootstrap draws.
    """
    pct = f"{100 * study.level:g}%"
    sample = (
        f"Estimated on {study.n_train_persons:,} persons ({study.n_train_person_years:,} person-years with a "
        f"wage), scored on {study.n_test_persons:,} held-out persons ({study.n_test_person_years:,} person-years)."
    )
    boot = f"{pct} person-bootstrap intervals in brackets ({study.n_boot:,} draws)"
    frames = {
        "heldout": (heldout_table(study), "Held-out log-wage RMSE and R² by specification", [sample, boot + "."]),
        "differences": (
            difference_table(study, marks=True),
            "Held-out log wages: with minus without each career representation",
            [sample, boot + ", paired. * The interval excludes zero."],
        ),
        "subgroups": (
            subgroup_table(study),
            "Held-out log wages by subgroup (pooled OLS)",
            [sample, boot + "; contributions to the change in mean squared error sum to the overall change."],
        ),
    }
    if table not in frames:
        raise ValueError(f"table must be one of {list(frames)}, got {table!r}")
    frame, caption, notes = frames[table]
    return latex_table(frame, caption=caption, label=label or f"tab:laborseq-wages-{table}", notes=notes)
