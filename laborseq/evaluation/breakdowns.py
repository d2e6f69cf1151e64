"""Where models differ: held-out breakdowns of a model comparison.

:func:`laborseq.evaluation.comparison.compare` keeps, for every model and test target, a
compact summary of the predicted distribution
(:class:`~laborseq.evaluation.predictions.TargetPredictions`); its headline
(perplexities, intervals, paired differences) is ``result.scores``.
The functions here turn a :class:`~laborseq.evaluation.comparison.ComparisonResult` into
tables:

* :func:`perplexity_by`: perplexity with person-bootstrap intervals by career
  position, calendar year or any subgroup (:func:`breakdowns` finds the usual
  ones: gender, race, education, birth cohort);
* :func:`stay_move`: the stay-versus-move decision (accuracy, log-loss, AUC);
* :func:`top_k_accuracy`: share of targets whose observed state is among the
  model's ``k`` most likely states;
* :func:`reliability`: calibration of predicted stay probabilities and of the
  top predicted state, with the expected calibration error;
* :func:`transition_rates`: observed and predicted transition rates between
  (major) groups of states.

:func:`compute_breakdowns` runs them all once, for reports
(:class:`Breakdowns`, with the tables a report shows and ``results.json`` records).

Every function uses the survey weights of the comparison when ``weighted=True``
(and the comparison was weighted), unweighted counts otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from laborseq._util.json import json_records
from laborseq._util.latex import latex_table
from laborseq.evaluation.bootstrap import perplexity_draws
from laborseq.evaluation.metrics import roc_auc
from laborseq.evaluation.predictions import MAX_GROUPS
from laborseq.panel.periods import calendar_year

if TYPE_CHECKING:
    from laborseq.evaluation.comparison import ComparisonResult

__all__ = [
    "MAX_GROUPS",
    "MIN_ROW_TRANSITIONS",
    "Breakdowns",
    "breakdowns",
    "compute_breakdowns",
    "perplexity_by",
    "reliability",
    "stay_move",
    "top_k_accuracy",
    "transition_rates",
]

MIN_ROW_TRANSITIONS = 20
"""Transition tables leave out previous groups with fewer observed transitions."""

TOP_K = (1, 5)
"""Default ``k`` of :func:`top_k_accuracy`."""


# ---------------------------------------------------------------------------- perplexity by group
def breakdowns(result: ComparisonResult) -> dict[str, pd.Series]:
    """The standard breakdowns of the test targets, as labels aligned with ``result.targets``.

    Always: ``career position`` (1st observation, 2nd, ..., ``10+``) and
    ``calendar year`` (of a monthly panel's months too). When the panel has them: ``gender`` (a covariate named
    gender, sex or female), ``race``, ``education`` and ``birth cohort``
    (5-year bands of ``birth_year``). Missing values are labelled ``missing``.
    """
    targets = result.targets
    position = targets["position"].to_numpy() + 1
    out = {
        "career position": pd.Series(
            np.where(position >= 10, "10+", position.astype(str)), index=targets.index, dtype="object"
        ),
        "calendar year": pd.Series(
            calendar_year(targets["year"].to_numpy(), result.time_unit).astype(str), index=targets.index
        ),
    }
    columns = {c.lower(): c for c in targets.columns}
    for label, names in (("gender", ("gender", "sex", "female")), ("race", ("race",)), ("education", ("education",))):
        found = next((columns[n] for n in names if n in columns), None)
        if found is not None:
            out[label] = targets[found].astype("object").where(targets[found].notna(), "missing").astype(str)
    if "birth_year" in columns:
        born = pd.to_numeric(targets[columns["birth_year"]], errors="coerce")
        band = (np.floor(born / 5) * 5).astype("Int64")
        out["birth cohort"] = band.map(lambda b: f"{b}-{b + 4}", na_action="ignore").fillna("missing").astype(str)
    return out


def perplexity_by(
    result: ComparisonResult, labels: pd.Series, *, weighted: bool = True, min_targets: int = 30
) -> pd.DataFrame:
    """Perplexity of every model within each group of targets, with person-bootstrap intervals.

    Parameters
    ----------
    result : ComparisonResult
        A comparison.
    labels : pandas.Series
        Group label of every target (aligned with ``result.targets``), e.g. one
        of :func:`breakdowns`.
    weighted : bool
        Use the comparison's survey weights (when it has them).
    min_targets : int
        Groups with fewer targets are left out (their perplexities are noise).

    Returns
    -------
    pandas.DataFrame
        One row per ``(group, model)``: ``perplexity``, ``low``, ``high``,
        ``n_targets``, ``n_persons``. Groups are in natural order (numbers sorted
        as numbers).
    """
    values = np.asarray(labels.astype(str))
    groups = [g for g in _natural_order(np.unique(values)) if (values == g).sum() >= min_targets]
    columns = ["group", "model", "perplexity", "low", "high", "n_targets", "n_persons"]
    if not groups:
        return pd.DataFrame(columns=columns)
    draws = perplexity_draws(
        {name: p.log_likelihood for name, p in result.predictions.items()},
        result.person_codes,
        {g: values == g for g in groups},
        weights=result.weights if weighted else None,
        n_boot=result.n_boot,
        gen=np.random.default_rng(result.bootstrap_seed),
    )
    rows = []
    for group in groups:
        for name in result.predictions:
            low, high = draws.interval(group, name, result.level)
            rows.append(
                {
                    "group": group,
                    "model": name,
                    "perplexity": draws.point[group, name],
                    "low": low,
                    "high": high,
                    "n_targets": draws.n_targets[group],
                    "n_persons": draws.n_persons[group],
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _natural_order(values: np.ndarray) -> list[str]:
    def key(value: str) -> tuple[int, float, str]:
        head = value.split("-")[0].rstrip("+")
        try:
            return (0, float(head), value)
        except ValueError:
            return (1, 0.0, value)

    return sorted((str(v) for v in values), key=key)


# ---------------------------------------------------------------------------- stay / move, top-k
def _weights(result: ComparisonResult, weighted: bool) -> np.ndarray:
    if weighted and result.weights is not None:
        return result.weights
    return np.ones(len(result.targets))


def _mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean; ``nan`` when there is nothing to average (e.g. a test part without transitions)."""
    total = float(np.sum(weights))
    return float(np.sum(np.asarray(values, dtype=float) * weights) / total) if total > 0 else float("nan")


def stay_move(result: ComparisonResult, *, weighted: bool = True) -> pd.DataFrame:
    """How well each model predicts staying in the previous state (transitions only).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``stay rate`` (observed), ``mean p(stay)``,
        ``accuracy`` (predict *stay* when p(stay) >= 0.5), ``log-loss`` (binary
        cross-entropy of stay versus move, natural log) and ``AUC`` (ranking of
        movers above stayers by 1 - p(stay)), all survey-weighted when ``weighted``.
    """
    transitions = ~result.targets["is_first"].to_numpy()
    stayed = (result.targets["occ"].astype(str) == result.targets["prev_occ"].astype(str)).to_numpy()[transitions]
    w = _weights(result, weighted)[transitions]
    rows = {}
    for name, pred in result.predictions.items():
        p = np.clip(pred.p_stay[transitions], 1e-12, 1 - 1e-12)
        loss = -(stayed * np.log(p) + (~stayed) * np.log1p(-p))
        rows[name] = {
            "stay rate": _mean(stayed, weights=w),
            "mean p(stay)": _mean(p, weights=w),
            "accuracy": _mean((p >= 0.5) == stayed, weights=w),
            "log-loss": _mean(loss, weights=w),
            "AUC": roc_auc(~stayed, 1 - p, sample_weight=w),
            "transitions": int(transitions.sum()),
        }
    return pd.DataFrame(rows).T.rename_axis("model")


def top_k_accuracy(result: ComparisonResult, ks: tuple[int, ...] = TOP_K, *, weighted: bool = True) -> pd.DataFrame:
    """Share of targets whose observed state is among each model's ``k`` most likely states.

    Columns ``top-k (all)`` over all targets and ``top-k (transitions)`` over
    transitions only, for every ``k`` in ``ks``.
    """
    transitions = ~result.targets["is_first"].to_numpy()
    w = _weights(result, weighted)
    rows = {}
    for name, pred in result.predictions.items():
        row = {}
        for k in ks:
            hit = pred.rank <= k
            row[f"top-{k} (all)"] = _mean(hit, weights=w)
            row[f"top-{k} (transitions)"] = _mean(hit[transitions], weights=w[transitions])
        rows[name] = row
    return pd.DataFrame(rows).T.rename_axis("model")


# ---------------------------------------------------------------------------- calibration
def reliability(result: ComparisonResult, kind: str = "stay", *, bins: int = 10, weighted: bool = True) -> pd.DataFrame:
    """Reliability table: predicted probability against observed frequency in equal-width bins.

    Parameters
    ----------
    result : ComparisonResult
        A comparison.
    kind : {"stay", "top"}
        ``"stay"``: the predicted probability of staying in the previous state
        (transitions only) against whether the person stayed; ``"top"``: the
        probability of the most likely state against whether it was observed.
    bins : int
        Equal-width bins on [0, 1].
    weighted : bool
        Use the comparison's survey weights.

    Returns
    -------
    pandas.DataFrame
        One row per ``(model, bin)`` with targets: ``bin_low``, ``bin_high``,
        ``predicted`` (mean predicted probability), ``observed`` (frequency),
        ``n_targets`` and the model's ``ece`` (expected calibration error: the
        target-weighted mean of ``|observed - predicted|`` over bins).
    """
    if kind not in ("stay", "top"):
        raise ValueError(f"reliability: kind must be 'stay' or 'top', got {kind!r}")
    targets = result.targets
    w_all = _weights(result, weighted)
    if kind == "stay":
        keep = ~targets["is_first"].to_numpy()
        outcome = (targets["occ"].astype(str) == targets["prev_occ"].astype(str)).to_numpy()
    else:
        keep = np.ones(len(targets), dtype=bool)
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for name, pred in result.predictions.items():
        p = (pred.p_stay if kind == "stay" else pred.top_proba)[keep]
        hit = (outcome if kind == "stay" else pred.top_correct)[keep]
        w = w_all[keep]
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        total = np.bincount(which, weights=w, minlength=bins)
        predicted = np.bincount(which, weights=w * p, minlength=bins)
        observed = np.bincount(which, weights=w * hit, minlength=bins)
        count = np.bincount(which, minlength=bins)
        filled = total > 0
        gap = np.abs(observed[filled] - predicted[filled]) / total[filled]
        ece = float((gap * total[filled]).sum() / total.sum())
        for b in np.flatnonzero(filled):
            rows.append(
                {
                    "model": name,
                    "bin_low": edges[b],
                    "bin_high": edges[b + 1],
                    "predicted": predicted[b] / total[b],
                    "observed": observed[b] / total[b],
                    "n_targets": int(count[b]),
                    "ece": ece,
                }
            )
    return pd.DataFrame(rows, columns=["model", "bin_low", "bin_high", "predicted", "observed", "n_targets", "ece"])


# ---------------------------------------------------------------------------- transitions
def transition_rates(
    result: ComparisonResult, *, weighted: bool = True, min_transitions: int = MIN_ROW_TRANSITIONS
) -> dict[str, pd.DataFrame]:
    """Observed and predicted transition rates between groups of states (transitions only).

    Parameters
    ----------
    result : ComparisonResult
        A comparison.
    weighted : bool
        Use the comparison's survey weights.
    min_transitions : int
        Rows (previous groups) with fewer observed transitions are dropped:
        their observed rates are too noisy to judge a model by.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"observed"`` and one entry per model: rows the group of the previous
        state, columns the group of the next state, each row summing to 1.
        Predicted rates average the models' predicted group probabilities over
        the targets of each row group.
    """
    labels = result.group_labels
    targets = result.targets
    transitions = ~targets["is_first"].to_numpy()
    state_index = {s: i for i, s in enumerate(result.states)}
    group_of = result.group_of_state
    prev = group_of[targets["prev_occ"].astype(str).map(state_index).fillna(0).astype(int).to_numpy()]
    nxt = group_of[targets["occ"].astype(str).map(state_index).astype(int).to_numpy()]
    w = _weights(result, weighted)
    n = len(labels)
    observed = np.zeros((n, n))
    np.add.at(observed, (prev[transitions], nxt[transitions]), w[transitions])
    predicted = {}
    for name, pred in result.predictions.items():
        sums = np.zeros((n, n))
        np.add.at(sums, prev[transitions], w[transitions, None] * pred.group_proba[transitions])
        predicted[name] = sums
    out = {"observed": observed, **predicted}
    present = np.bincount(prev[transitions], minlength=n) >= max(min_transitions, 1)
    frames = {}
    for name, matrix in out.items():
        rates = matrix[present] / matrix[present].sum(axis=1, keepdims=True)
        frames[name] = pd.DataFrame(
            rates, index=pd.Index(np.asarray(labels)[present], name="from"), columns=pd.Index(labels, name="to")
        )
    return frames


@dataclass(frozen=True)
class Breakdowns:
    """Every breakdown of a comparison, computed once (:func:`compute_breakdowns`); reports only render these.

    Attributes
    ----------
    perplexity_by : dict of str to pandas.DataFrame
        :func:`perplexity_by` for each of :func:`breakdowns` (groups too small are left out).
    stay_move, top_k : pandas.DataFrame
        :func:`stay_move` and :func:`top_k_accuracy`.
    calibration : dict of str to pandas.DataFrame
        :func:`reliability` of ``"stay"`` and ``"top"``.
    ece : pandas.DataFrame
        Expected calibration error of both, one row per model.
    transition_rates : dict of str to pandas.DataFrame
        :func:`transition_rates` (``"observed"`` and one per model).
    transition_errors : pandas.Series
        Mean absolute error of each model's predicted transition rates (empty without transitions to show).
    """

    perplexity_by: dict[str, pd.DataFrame]
    stay_move: pd.DataFrame
    top_k: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    ece: pd.DataFrame
    transition_rates: dict[str, pd.DataFrame]
    transition_errors: pd.Series

    def perplexity_table(self, name: str, models: list[str], *, intervals: bool = False) -> pd.DataFrame:
        """Perplexity by the groups of breakdown ``name``, formatted: groups as rows (with their person-years),
        or as columns when there are fewer groups than models.

        Parameters
        ----------
        name : str
            A key of :attr:`perplexity_by` (``"career position"``, ``"gender"``, ...).
        models : list of str
            The models, in order.
        intervals : bool
            Add each perplexity's person-bootstrap interval in brackets.

        Returns
        -------
        pandas.DataFrame
            Cells as strings.
        """
        frame = self.perplexity_by[name]
        groups = list(dict.fromkeys(frame["group"]))
        counts = frame.drop_duplicates("group").set_index("group")["n_targets"]
        cells = [
            f"{r.perplexity:.3f} [{r.low:.3f}, {r.high:.3f}]" if intervals else f"{r.perplexity:.3f}"
            for r in frame.itertuples()
        ]
        wide = frame.assign(cell=cells).pivot(index="group", columns="model", values="cell")
        table = wide.reindex(index=groups, columns=models)
        table.columns.name = None
        if len(groups) < len(models):
            table = table.T
            table.columns = [f"{g} ({counts[g]:,} person-years)" for g in groups]
            table.index.name = "model"
            return table
        table.insert(0, "person-years", [f"{counts[g]:,}" for g in groups])
        table.index.name = name
        return table

    def to_latex(self, name: str, models: list[str], *, label: str | None = None, note: str = "") -> str:
        """Perplexity by the groups of breakdown ``name`` as a LaTeX float, with intervals (``booktabs``).

        Parameters
        ----------
        name : str
            A key of :attr:`perplexity_by`.
        models : list of str
            The models, in order.
        label : str, optional
            The table's ``\\label``.
        note : str
            A note set below the table (e.g. the persons and bootstrap draws).

        Returns
        -------
        str
            A ``table`` float.
        """
        table = self.perplexity_table(name, models, intervals=True)
        notes = ["Test perplexity by group, person-bootstrap intervals in brackets.", *filter(None, [note])]
        return latex_table(table, caption=f"Held-out perplexity by {name}", label=label, notes=notes)

    def to_dict(self) -> dict[str, Any]:
        """The ``diagnostics`` entry of ``results.json``."""
        return {
            "perplexity_by": {name: json_records(frame, index=False) for name, frame in self.perplexity_by.items()},
            "stay_move": json_records(self.stay_move),
            "top_k": json_records(self.top_k),
            "calibration": {kind: json_records(frame, index=False) for kind, frame in self.calibration.items()},
            "transition_rates": {
                name: {"from": list(frame.index), "to": list(frame.columns), "rates": frame.to_numpy().tolist()}
                for name, frame in self.transition_rates.items()
            },
        }


def compute_breakdowns(result: ComparisonResult) -> Breakdowns:
    """Run every breakdown of :mod:`laborseq.evaluation.breakdowns` on ``result`` (survey-weighted when it is)."""
    names = list(result.predictions)
    calibration = {kind: reliability(result, kind) for kind in ("stay", "top")}
    ece = pd.DataFrame(
        {
            "ECE, p(stay)": calibration["stay"].groupby("model", sort=False)["ece"].first(),
            "ECE, top state": calibration["top"].groupby("model", sort=False)["ece"].first(),
        }
    ).reindex(names)
    rates = transition_rates(result)
    observed = rates["observed"]
    errors = pd.Series(
        {
            name: float(np.abs(rates[name].reindex_like(observed).to_numpy() - observed.to_numpy()).mean())
            for name in names
        }
        if not observed.empty
        else {},
        name="mean |predicted - observed|",
        dtype=float,
    ).rename_axis("model")
    by = {name: perplexity_by(result, labels) for name, labels in breakdowns(result).items()}
    return Breakdowns(
        perplexity_by=by,
        stay_move=stay_move(result),
        top_k=top_k_accuracy(result),
        calibration=calibration,
        ece=ece.rename_axis("model"),
        transition_rates=rates,
        transition_errors=errors,
    )
