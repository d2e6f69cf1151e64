"""Rationales of CAREER's predictions: the few past jobs that drive a prediction, readable.

:func:`rationalize` runs the greedy search of :mod:`laborseq.nn.rationale`
on a fitted CAREER model and returns a :class:`Rationale`: the steps of
the search (which earlier job was added, how likely the observed job became,
its rank and the two most likely jobs), rendered as text
(:meth:`Rationale.to_text`) and as a small figure (:meth:`Rationale.plot`).
:func:`rationale_targets` draws predictions to explain and
:func:`summarize_rationales` gives the figures of many rationales (size, share
reaching the top two, time per rationale).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from laborseq._util.json import to_jsonable
from laborseq._util.random import check_random_state
from laborseq.models.career.model import CAREER, torch_device
from laborseq.nn.rationale import RationaleSearch, greedy_rationale, rank_of
from laborseq.panel import PERSON, YEAR, CareerPanel

__all__ = [
    "START",
    "Rationale",
    "rationale_targets",
    "rationalize",
    "rationalize_many",
    "summarize_rationales",
    "target_rows",
]

START = "start of career"
"""Label of input position 0 (the start token, with the first year's covariates)."""


@dataclass(frozen=True)
class Rationale:
    """Why CAREER predicts a person's job in a year: the smallest greedy set of earlier jobs.

    Attributes
    ----------
    person, year
        The prediction explained.
    observed : str
        The job observed that year.
    history : pandas.DataFrame
        The person's earlier person-years (``year``, ``state``, ``title``),
        with ``in_rationale`` and ``step`` (when it was added; NaN if never).
    steps : pandas.DataFrame
        One row per step: ``size`` (positions in the rationale), ``added``
        (``"<year>: <state>"`` or :data:`START`), ``p_observed``, ``rank`` of
        the observed job, and the two most likely jobs ``top1``, ``p_top1``,
        ``top2``, ``p_top2``.
    p_full, rank_full : float, int
        Probability and rank of the observed job given the whole career.
    top : int
        The search stopped once the observed job ranked within this many.
    seconds : float
        Time the search took.
    titles : dict of str to str
        Titles of the jobs that appear (for rendering).
    """

    person: Any
    year: int
    observed: str
    history: pd.DataFrame
    steps: pd.DataFrame
    p_full: float
    rank_full: int
    top: int
    seconds: float
    titles: dict[str, str]

    @classmethod
    def from_search(
        cls,
        search: RationaleSearch,
        *,
        person: Any,
        year: int,
        earlier: pd.DataFrame,
        states: Sequence[str],
        titles: dict[str, str],
        seconds: float,
    ) -> Rationale:
        """Label a :class:`~laborseq.nn.rationale.RationaleSearch` with years and jobs.

        ``earlier`` holds the person's earlier person-years (``year``, ``state``)
        in order: input position ``s >= 1`` is its row ``s - 1``.
        """
        labels = [START] + [f"{y}: {s}" for y, s in zip(earlier["year"], earlier["state"], strict=True)]
        order = np.argsort(-search.probabilities, axis=1, kind="stable")
        steps = pd.DataFrame(
            {
                "size": np.arange(1, len(search.added) + 1),
                "added": [labels[p] for p in search.added],
                "p_observed": search.probabilities[:, search.observed],
                "rank": search.ranks,
                "top1": [states[i] for i in order[:, 0]],
                "p_top1": np.take_along_axis(search.probabilities, order[:, :1], axis=1)[:, 0],
                "top2": [states[i] for i in order[:, 1]],
                "p_top2": np.take_along_axis(search.probabilities, order[:, 1:2], axis=1)[:, 0],
            }
        )
        step_of = {int(p): i + 1 for i, p in enumerate(search.added)}
        history = earlier.reset_index(drop=True).assign(
            title=[titles.get(s, "") for s in earlier["state"]],
            step=[step_of.get(s + 1, np.nan) for s in range(len(earlier))],
        )
        history["in_rationale"] = history["step"].notna()
        used = {*steps["top1"], *steps["top2"], states[search.observed], *earlier["state"]}
        return cls(
            person=person,
            year=int(year),
            observed=states[search.observed],
            history=history,
            steps=steps,
            p_full=float(search.full[search.observed]),
            rank_full=int(rank_of(search.full, search.observed)[0]),
            top=search.top,
            seconds=seconds,
            titles={s: titles[s] for s in used if s in titles},
        )

    @property
    def size(self) -> int:
        """Number of positions in the rationale (the most recent job included)."""
        return len(self.steps)

    @property
    def n_positions(self) -> int:
        """Number of positions the prediction could draw on (earlier jobs and the start)."""
        return len(self.history) + 1

    @property
    def reached(self) -> bool:
        """Whether the observed job ranks within ``top`` given the rationale."""
        return bool(self.steps["rank"].iloc[-1] <= self.top)

    @property
    def is_move(self) -> bool:
        """Whether the observed job differs from the most recent one."""
        return self.observed != self.history["state"].iloc[-1]

    def _job(self, state: str) -> str:
        title = self.titles.get(state, "")
        return f"{state} ({title})" if title and title != state else state

    def to_text(self) -> str:
        """A readable account of the search."""
        kind = "a move" if self.is_move else "a stay"
        lines = [
            f"Person {self.person}, {self.year}: observed {self._job(self.observed)}, {kind}.",
            f"Given the whole career ({self.n_positions} positions): P = {self.p_full:.3f}, rank {self.rank_full}.",
        ]
        for step in self.steps.itertuples():
            verb = "most recent job" if step.size == 1 else "add"
            lines.append(
                f"  {step.size}. {verb} {step.added}: P = {step.p_observed:.3f}, rank {step.rank}; "
                f"most likely {self._job(step.top1)} {step.p_top1:.3f}, then {self._job(step.top2)} {step.p_top2:.3f}"
            )
        outcome = "reaches" if self.reached else "never reaches"
        lines.append(
            f"The rationale ({self.size} of {self.n_positions} positions) {outcome} the top {self.top}: "
            + ", ".join(self.steps["added"])
            + "."
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "person": to_jsonable(self.person),
            "year": int(self.year),
            "observed": self.observed,
            "move": self.is_move,
            "size": self.size,
            "n_positions": self.n_positions,
            "reached": self.reached,
            "top": self.top,
            "p_full": self.p_full,
            "rank_full": self.rank_full,
            "seconds": self.seconds,
            "steps": [{k: to_jsonable(v) for k, v in row.items()} for row in self.steps.to_dict("records")],
        }

    def plot(self, ax: Axes | None = None) -> Figure:
        """Probability of the observed job as the rationale grows, against the whole career's."""
        if ax is None:
            fig = Figure(figsize=(6.0, 2.2 + 0.25 * self.size), layout="constrained")
            ax = fig.subplots()
        else:
            fig = ax.figure
        steps = self.steps
        y = np.arange(len(steps))[::-1]
        colors = np.where(steps["rank"] <= self.top, "#1b7837", "#b2182b")
        ax.barh(y, steps["p_observed"], color=colors, height=0.6)
        ax.axvline(self.p_full, color="#333333", linestyle="--", linewidth=1, label="whole career")
        ax.set_yticks(y, [f"+ {a}" if i else a for i, a in enumerate(steps["added"])], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"P(observed job {self.observed})")
        for yi, p, rank in zip(y, steps["p_observed"], steps["rank"], strict=True):
            ax.text(min(p + 0.01, 0.85), yi, f"{p:.2f} (rank {rank})", va="center", fontsize=8)
        ax.set_title(f"Person {self.person}, {self.year}", fontsize=10, loc="left")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        return fig


def rationale_targets(panel: CareerPanel, n: int, *, rng: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Draw ``n`` predictions to explain: target person-years with at least one earlier observation.

    Returns
    -------
    pandas.DataFrame
        ``person_id`` and ``year``, in panel order.
    """
    candidates = panel.data.loc[panel.target_mask & (panel.lagged_states(1) >= 0), [PERSON, YEAR]]
    if n > len(candidates):
        raise ValueError(f"asked for {n} predictions to explain; the panel has {len(candidates)} with an earlier job")
    chosen = np.sort(check_random_state(rng).choice(len(candidates), size=n, replace=False))
    return candidates.iloc[chosen].reset_index(drop=True)


def target_rows(panel: CareerPanel, targets: pd.DataFrame) -> np.ndarray:
    """Panel rows of the ``(person_id, year)`` rows of ``targets``, each with an earlier job to explain it by.

    Raises
    ------
    ValueError
        Naming person-years absent from the panel, or a person's first observed year.
    """
    wanted = pd.MultiIndex.from_frame(targets[[PERSON, YEAR]])
    rows = panel.person_year_index().get_indexer(wanted)
    if (rows < 0).any():
        raise ValueError(f"no such person-years in the panel: {list(wanted[rows < 0][:3])}")
    first = panel.lagged_states(1)[rows] < 0
    if first.any():
        raise ValueError(
            f"{wanted[first][0]} is the person's first observed year: there is no earlier job to explain it by"
        )
    return rows


def summarize_rationales(rationales: Sequence[Rationale]) -> pd.DataFrame:
    """Figures of many rationales, for all predictions and for stays and moves.

    Returns
    -------
    pandas.DataFrame
        Per group (``all``, ``stays``, ``moves``): ``n``, ``mean_size``,
        ``median_size``, ``mean_positions`` (available), ``share_reached``
        (the observed job within the top), ``share_top1`` (first at the end),
        ``share_top2_full`` (within the top two given the whole career) and
        ``mean_seconds`` per rationale.
    """
    if not rationales:
        raise ValueError("no rationales to summarize")
    frame = pd.DataFrame(
        {
            "size": [r.size for r in rationales],
            "positions": [r.n_positions for r in rationales],
            "reached": [r.reached for r in rationales],
            "top1": [int(r.steps["rank"].iloc[-1]) == 1 for r in rationales],
            "top2_full": [r.rank_full <= 2 for r in rationales],
            "nll_recent": [-np.log(r.steps["p_observed"].iloc[0]) for r in rationales],
            "nll_full": [-np.log(r.p_full) for r in rationales],
            "seconds": [r.seconds for r in rationales],
            "move": [r.is_move for r in rationales],
        }
    )
    groups = {"all": frame, "stays": frame[~frame["move"]], "moves": frame[frame["move"]]}
    rows = {
        name: {
            "n": len(g),
            "mean_size": g["size"].mean(),
            "median_size": g["size"].median(),
            "mean_positions": g["positions"].mean(),
            "share_reached": g["reached"].mean(),
            "share_top1": g["top1"].mean(),
            "share_top2_full": g["top2_full"].mean(),
            "perplexity_recent": np.exp(g["nll_recent"].mean()),
            "perplexity_full": np.exp(g["nll_full"].mean()),
            "mean_seconds": g["seconds"].mean(),
        }
        for name, g in groups.items()
        if len(g)
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")


def rationalize(model: CAREER, panel: CareerPanel, person: Any, year: int, *, top: int = 2) -> Rationale:
    """The smallest greedy set of earlier jobs that makes the observed job of ``year`` a top-``top`` prediction.

    Starting from the most recent job, the earlier job (or the start of the
    career) that raises the probability of the observed job most is added, one
    at a time, until the observed job is among the ``top`` most likely (the
    reference stops at the top two) or the whole career is in
    (:func:`~laborseq.nn.rationale.greedy_rationale`). The covariates of the
    predicted year and static covariates always count; an earlier job brings
    the covariates of the year after it, as in the reference.

    The model should be fine-tuned with word dropout
    (:meth:`CAREER.finetune_word_dropout <laborseq.models.CAREER.finetune_word_dropout>`):
    a model trained on whole careers only has never predicted from a subset, so
    its probabilities along the way mean little (a warning says so).

    Parameters
    ----------
    model : CAREER
        A fitted CAREER model.
    panel : CareerPanel
        Panel holding the person's career.
    person, year
        The person-year to explain (a target of ``panel`` with an earlier job).
    top : int
        Stop once the observed job ranks within this many.

    Returns
    -------
    Rationale
        With :meth:`Rationale.to_text` and :meth:`Rationale.plot`.
    """
    return rationalize_many(model, panel, pd.DataFrame({PERSON: [person], YEAR: [year]}), top=top)[0]


def rationalize_many(model: CAREER, panel: CareerPanel, targets: pd.DataFrame, *, top: int = 2) -> list[Rationale]:
    """:func:`rationalize` for every ``(person_id, year)`` row of ``targets``, encoding the panel once."""
    if not isinstance(model, CAREER):
        raise TypeError(f"rationales explain CAREER's predictions; got a {type(model).__name__}")
    model._check_panel(panel)
    if not model.word_dropout:
        warnings.warn(
            "this CAREER model was not trained with word dropout; rationales need a model that has learnt "
            "to predict from incomplete careers (use finetune_word_dropout first)",
            stacklevel=2,
        )
    rows = target_rows(panel, targets)
    data = model.vocabulary_.encode(panel)
    owner = np.searchsorted(data.offsets, rows, side="right") - 1
    device = torch_device(model.device)
    net = model.net_.to(device).eval()
    years, states = panel.data[YEAR].to_numpy(), np.asarray(panel.states)[panel.state_index()]
    titles = {s: model.scheme_.title(s) for s in model.classes_}
    out = []
    try:
        for person, year, row, i in zip(targets[PERSON], targets[YEAR], rows, owner, strict=True):
            started = time.perf_counter()
            search = greedy_rationale(net, data.collate(np.array([i]), device), row - data.offsets[i], top=top)
            seconds = time.perf_counter() - started
            earlier = pd.DataFrame({"year": years[data.offsets[i] : row], "state": states[data.offsets[i] : row]})
            out.append(
                Rationale.from_search(
                    search,
                    person=person,
                    year=year,
                    earlier=earlier,
                    states=model.classes_,
                    titles=titles,
                    seconds=seconds,
                )
            )
    finally:
        model.net_ = net.cpu()
    return out
